"""Errors of the secrets package.

    NovaCronError
    ├── SecretCorrupt          a sealed record failed to parse or authenticate (500)
    │   └── UnknownMasterKey   the record names a master key the keyring lacks
    └── KeyProviderError       the master-key source is missing, malformed or down (503)

Messages name records and key ids, never plaintext, data keys or master keys: they
reach logs and problem+json bodies.
"""

from __future__ import annotations

from novacron.core.errors import NovaCronError


class SecretCorrupt(NovaCronError):
    status = 500
    title = "Secret corrupt"
    type_slug = "secret-corrupt"


class UnknownMasterKey(SecretCorrupt):
    """A subclass of SecretCorrupt so one ``except`` covers "this record cannot be opened"."""

    title = "Unknown master key"
    type_slug = "unknown-master-key"

    def __init__(self, key_id: str) -> None:
        super().__init__(
            f"sealed with master key {key_id!r}, which is not in the keyring (retired or missing)"
        )
        self.key_id = key_id


class KeyProviderError(NovaCronError):
    status = 503
    title = "Key provider unavailable"
    type_slug = "key-provider"
