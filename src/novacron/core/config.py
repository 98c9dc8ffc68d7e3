"""One settings object for every process: env vars ``NOVACRON_*``, optional TOML file.

Defaults work on a laptop: SQLite under the data dir, server on 127.0.0.1:8080.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "novacron"


#: The SQLite database file under the data dir when no database URL is set.
SQLITE_FILE = "novacron.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOVACRON_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    """SQLAlchemy URL; default is SQLite at ``<data_dir>/novacron.db``."""

    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    """URL agents use to reach the server; default ``http://<host>:<port>``."""

    # Workers
    executor_threads: int = 8
    """Operations executed concurrently by one server process."""
    operation_lease_s: float = 15.0
    """A running operation whose lease is this old is taken over by another worker."""
    operation_max_attempts: int = 3
    poll_interval_s: float = 0.2

    # Hosts
    heartbeat_interval_s: float = 2.0
    heartbeat_timeout_s: float = 10.0
    """A host that misses heartbeats for this long is marked down, its VMs unknown."""
    agent_request_timeout_s: float = 30.0
    event_retention_hours: float = 72.0
    """Events older than this are pruned (operations keep their own history)."""

    # High availability
    ha_fencing: Literal["watchdog", "manual"] = "watchdog"
    """How a down host counts as fenced before its HA VMs restart elsewhere: ``watchdog``
    — after ``ha_fence_after_s`` of silence, because every agent stops its HA guests
    once it has not reached the server for ``ha_self_fence_s`` (an agent that comes
    back says so); ``manual`` — only when an operator confirms (``host fence``)."""
    ha_fence_after_s: float = 60.0
    ha_self_fence_s: float = 30.0
    """Agents stop their HA guests after this long without a heartbeat answer; must be
    well below ``ha_fence_after_s``."""

    # Restart policies
    restart_max: int = 5
    """Restarts a policy makes within ``restart_window_s`` before it gives up."""
    restart_window_s: float = 600.0

    # Placement
    placement_strategy: str = "spread"
    """``pack`` fills the fullest host that fits; ``spread`` the emptiest."""
    placement_retries: int = 3
    """Alternate hosts tried when an agent fails a create."""
    default_cpu_allocation_ratio: float = 4.0
    default_ram_allocation_ratio: float = 1.0
    default_disk_allocation_ratio: float = 1.0

    reissue_admin_token: bool = False
    """Issue a new admin token when ``<data_dir>/admin-token`` is missing (``novacron up``)."""

    enrolment_token: str | None = None
    """Shared secret agents present to register; generated into the data dir if unset."""

    # Security
    audit_retention_days: float = 365.0
    """Audit records older than this are pruned (the chain stays verifiable); 0 keeps all."""
    session_idle_minutes: float = 480.0
    login_rate_per_minute: int = 30
    """Sign-in attempts one client address may make per minute (on top of the per-account
    lockout)."""
    max_request_bytes: int = 1 << 20
    """Largest JSON or form body accepted; image uploads stream and are not limited here."""

    threat_detection: bool = True
    """Run the threat rules over the audit log and agents' QEMU logs (one replica at a
    time on PostgreSQL)."""

    # Single sign-on (OpenID Connect); off unless an issuer is set
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid email profile"
    oidc_username_claim: str = "preferred_username"
    oidc_display_name: str = "single sign-on"
    """What the sign-in button calls the provider."""
    oidc_default_project: str | None = None
    oidc_default_role: str | None = None
    """New SSO users get this role in ``oidc_default_project`` (else no role until an
    admin grants one)."""
    oidc_admin_group: str | None = None
    """Members of this group (``groups`` claim) are platform admins."""

    # Transport
    tls: bool = False
    """Serve HTTPS with certificates from ``tls_cert_file``/``tls_key_file``, else from
    NovaCron's own CA in ``<data_dir>/tls``."""
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_client_certs: Literal["off", "optional", "required"] = "off"
    """Whether agents present client certificates (mutual TLS)."""

    # Secrets at rest
    secrets_key_provider: Literal["file", "env", "vault"] = "file"
    secrets_key_file: Path | None = None
    """Default ``<data_dir>/master-keys.json``."""
    secrets_master_key_var: str = "NOVACRON_MASTER_KEY"
    secrets_vault_url: str | None = None
    secrets_vault_token: str | None = Field(default=None, repr=False)
    secrets_vault_key: str = "novacron"
    secrets_vault_mount: str = "transit"

    # Compliance
    compliance_schedule: str = "daily 03:00"
    compliance_allowed_ports: list[int] = Field(default_factory=lambda: [22, 8080])

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / SQLITE_FILE}"

    @property
    def resolved_public_url(self) -> str:
        scheme = "https" if self.tls else "http"
        return self.public_url or f"{scheme}://{self.host}:{self.port}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("NOVACRON_CONFIG")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def make_settings(**overrides: Any) -> Settings:
    """Settings with explicit overrides (CLI flags, tests) on top of env and file."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
