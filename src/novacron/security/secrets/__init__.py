"""Encrypted secrets: envelope encryption (AES-256-GCM) under rotatable master keys.

envelope   seal / open_sealed / rewrap_sealed, the Sealed record and its text form
keyring    master keys (KEKs) and the keyring of current + older keys
keys       providers: FileKeyProvider, EnvKeyProvider, VaultKeyProvider (vault.py)
store      SecretStore protocol, SecretRecord, InMemorySecretStore
rotation   rotate_master_key, rewrap, key_usage, retire_master_key
redact     SecretStr and the logging filter that masks secrets
service    SecretsVault, the use cases
models     the ``secrets`` table;  sql_store  SqlSecretStore on it
wiring     the server's vault: install(app), secrets_vault_for(app), key_provider(settings)

The routes are ``novacron.security.api.secrets_routes``, the CLI ``cli_secrets``.
models, sql_store and wiring are not re-exported here, so that importing the package does
not pull in the database and the settings.
"""

from __future__ import annotations

from novacron.security.secrets.envelope import Sealed, open_sealed, rewrap_sealed, seal
from novacron.security.secrets.errors import KeyProviderError, SecretCorrupt, UnknownMasterKey
from novacron.security.secrets.keyring import KeyEncryptionKey, Keyring, LocalKey
from novacron.security.secrets.keys import (
    EnvKeyProvider,
    FileKeyProvider,
    KeyProvider,
    VaultKeyProvider,
    generate_env_value,
    provider_from_settings,
)
from novacron.security.secrets.redact import (
    Redacted,
    SecretMaskingFilter,
    SecretStr,
    install_masking_filter,
)
from novacron.security.secrets.rotation import (
    RewrapReport,
    key_usage,
    retire_master_key,
    rewrap,
    rotate_master_key,
)
from novacron.security.secrets.service import SecretInfo, SecretsVault
from novacron.security.secrets.store import (
    InMemorySecretStore,
    SecretRecord,
    SecretStore,
    record_aad,
)

__all__ = [
    "EnvKeyProvider",
    "FileKeyProvider",
    "InMemorySecretStore",
    "KeyEncryptionKey",
    "KeyProvider",
    "KeyProviderError",
    "Keyring",
    "LocalKey",
    "Redacted",
    "RewrapReport",
    "Sealed",
    "SecretCorrupt",
    "SecretInfo",
    "SecretMaskingFilter",
    "SecretRecord",
    "SecretStore",
    "SecretStr",
    "SecretsVault",
    "UnknownMasterKey",
    "VaultKeyProvider",
    "generate_env_value",
    "install_masking_filter",
    "key_usage",
    "open_sealed",
    "provider_from_settings",
    "record_aad",
    "retire_master_key",
    "rewrap",
    "rewrap_sealed",
    "rotate_master_key",
    "seal",
]
