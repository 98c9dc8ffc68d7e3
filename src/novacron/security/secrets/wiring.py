"""The secrets vault of a running server: built once per app from its settings.

    install(app)            build the vault now and mask secrets in the process's logs
                            (call from the lifespan: a bad key configuration then stops
                            the server at start-up, not at the first request)
    secrets_vault_for(app)  the app's SecretsVault; installs on first use if needed
    seed_cipher_for(app)    seals users' TOTP seeds with the same master keys

The masking filter is one per process (logging is per process), added to the handlers
of the root logger and of uvicorn's loggers; every value the vault stores or returns is
registered with it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from novacron.core.config import Settings
from novacron.core.database import Database
from novacron.security.secrets.keys import KeyProvider, provider_from_settings
from novacron.security.secrets.redact import SecretMaskingFilter, install_masking_filter
from novacron.security.secrets.service import SecretsVault
from novacron.security.secrets.sql_store import SqlSecretStore
from novacron.security.totp_seeds import (
    SeedCipher,
    UserSeedStore,
    seal_plaintext_seeds,
    warn_of_foreign_seeds,
)

log = logging.getLogger(__name__)

MASTER_KEY_FILE = "master-keys.json"
_STATE_ATTR = "secrets_vault"
# Loggers that uvicorn gives handlers of their own (they do not propagate to root).
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")

_build_lock = threading.Lock()
_mask_filter = SecretMaskingFilter()


def mask_filter() -> SecretMaskingFilter:
    """The process's masking filter."""
    return _mask_filter


def key_provider(settings: Settings) -> KeyProvider:
    """The master-key provider the settings name (``secrets_key_provider``)."""
    kind = settings.secrets_key_provider
    options: dict[str, Any]
    if kind == "file":
        options = {"path": settings.secrets_key_file or settings.data_dir / MASTER_KEY_FILE}
    elif kind == "env":
        options = {"var": settings.secrets_master_key_var}
    else:
        options = {
            "url": settings.secrets_vault_url,
            "token": settings.secrets_vault_token,
            "key_name": settings.secrets_vault_key,
            "mount_point": settings.secrets_vault_mount,
        }
    return provider_from_settings(kind, **options)


def install_log_masking() -> SecretMaskingFilter:
    """Add the process's masking filter to the root and uvicorn handlers; idempotent."""
    install_masking_filter(_mask_filter)
    for name in _SERVER_LOGGERS:
        install_masking_filter(_mask_filter, logging.getLogger(name))
    return _mask_filter


def install(app: Any) -> SecretsVault:
    """Build the app's vault (if not yet built) and install log masking."""
    vault: SecretsVault | None = getattr(app.state, _STATE_ATTR, None)
    if vault is not None:
        return vault
    with _build_lock:
        vault = getattr(app.state, _STATE_ATTR, None)
        if vault is None:
            settings: Settings = app.state.settings
            db: Database = app.state.db
            install_log_masking()
            vault = SecretsVault(
                SqlSecretStore(db), key_provider(settings), mask_filter=_mask_filter
            )
            seeds = UserSeedStore(db)
            vault.also_sealed.append(seeds)
            seal_plaintext_seeds(db, SeedCipher(vault))
            warn_of_foreign_seeds(seeds, vault)
            setattr(app.state, _STATE_ATTR, vault)
            log.info("secrets: master keys from %r", vault.provider)
    return vault


def secrets_vault_for(app: Any) -> SecretsVault:
    """The app's SecretsVault, built on first use."""
    vault: SecretsVault | None = getattr(app.state, _STATE_ATTR, None)
    return vault if vault is not None else install(app)


def seed_cipher_for(app: Any) -> SeedCipher:
    """What seals and opens the app's users' TOTP seeds (the vault's master keys)."""
    return SeedCipher(secrets_vault_for(app))
