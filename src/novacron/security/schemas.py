"""Pydantic types of the security API: sign-in, accounts, tokens, projects, audit."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from novacron.core.clock import UtcDateTime
from novacron.security.passwords import MAX_LENGTH
from novacron.security.rbac import ROLES, valid_scope

USER_NAME = r"^[a-z][a-z0-9._-]{1,62}$"
PROJECT_NAME = r"^[a-z0-9][a-z0-9._-]{0,62}$"
Password = Field(min_length=1, max_length=MAX_LENGTH)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Login(Strict):
    name: str = Field(min_length=1, max_length=64)
    password: str = Password
    code: str | None = Field(None, max_length=32, description="TOTP or recovery code")


class LoginOut(BaseModel):
    user: str
    csrf_token: str
    """Send it as ``X-CSRF-Token`` with every state-changing request made with the cookie."""
    expires_at: UtcDateTime


class ProjectRoles(BaseModel):
    id: str
    name: str
    roles: list[str]


class WhoAmI(BaseModel):
    name: str
    user_id: str | None
    platform_admin: bool
    via: str
    project: str
    """The project this request acted in."""
    projects: list[ProjectRoles]
    scopes: list[str]
    mfa_enabled: bool
    must_change_password: bool


class PasswordChange(Strict):
    current_password: str = Password
    new_password: str = Password


class PasswordReset(Strict):
    new_password: str = Password


class PasswordConfirm(Strict):
    password: str = Password


class TotpSetup(BaseModel):
    secret: str
    uri: str


class TotpCode(Strict):
    code: str = Field(min_length=6, max_length=32)


class RecoveryCodes(BaseModel):
    recovery_codes: list[str]
    """Shown once: each signs in once when the authenticator is lost."""


class TokenCreate(Strict):
    name: str = Field(min_length=1, max_length=128)
    scopes: list[str] = Field(default_factory=lambda: ["*"], min_length=1, max_length=32)
    project: str | None = Field(None, description="Bind the token to this project")
    expires_in_days: int = Field(90, ge=1, le=365)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        bad = [s for s in value if not valid_scope(s)]
        if bad:
            raise ValueError(
                f"unknown scope(s) {', '.join(bad)}: use '*' or <resource>:<action>"
                " (resource compute|corporate|hosts|project|platform|self, "
                "action read|write|approve|*)"
            )
        return value


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    scopes: list[str]
    project_id: str | None
    created_at: UtcDateTime
    expires_at: UtcDateTime | None
    last_used_at: UtcDateTime | None
    last_used_ip: str | None
    revoked_at: UtcDateTime | None


class TokenCreated(TokenOut):
    token: str
    """The secret: shown this once, stored only as a hash."""


class UserCreate(Strict):
    name: str = Field(pattern=USER_NAME)
    password: str | None = Field(None, max_length=MAX_LENGTH)
    display_name: str = Field("", max_length=128)
    email: str = Field("", max_length=256)
    platform_admin: bool = False


class UserUpdate(Strict):
    display_name: str | None = Field(None, max_length=128)
    email: str | None = Field(None, max_length=256)
    platform_admin: bool | None = None
    disabled: bool | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    display_name: str
    email: str
    platform_admin: bool
    mfa_enabled: bool
    has_password: bool
    locked_until: UtcDateTime | None
    failed_logins: int
    last_login_at: UtcDateTime | None
    disabled_at: UtcDateTime | None
    created_at: UtcDateTime


class Quotas(Strict):
    quota_vms: int | None = Field(None, ge=0)
    quota_vcpus: int | None = Field(None, ge=0)
    quota_memory_mib: int | None = Field(None, ge=0)
    quota_disk_gib: int | None = Field(None, ge=0)


class ProjectCreate(Quotas):
    name: str = Field(pattern=PROJECT_NAME)
    description: str = Field("", max_length=512)
    admin: str | None = Field(None, description="A user to make the project's first admin")


class ProjectUpdate(Quotas):
    description: str | None = Field(None, max_length=512)


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str
    quota_vms: int | None
    quota_vcpus: int | None
    quota_memory_mib: int | None
    quota_disk_gib: int | None
    created_at: UtcDateTime


class Usage(BaseModel):
    vms: int
    vcpus: int
    memory_mib: int
    disk_gib: int


class ProjectDetail(ProjectOut):
    usage: Usage


class MemberAdd(Strict):
    user: str = Field(min_length=1, max_length=64)
    role: Literal[tuple(ROLES)]  # type: ignore[valid-type]


class MemberOut(BaseModel):
    user: str
    user_id: str
    role: str


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    ts: UtcDateTime
    actor: str
    actor_kind: str
    action: str
    target: str
    project_id: str | None
    source_ip: str
    outcome: str
    status_code: int | None
    request_id: str
    detail: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_after_seq: int | None


class AuditVerifyOut(BaseModel):
    ok: bool
    checked: int
    first_seq: int | None
    last_seq: int | None
    broken_at: int | None
    reason: str
    summary: str
