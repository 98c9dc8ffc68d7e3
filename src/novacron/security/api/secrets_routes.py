"""Secrets of a project (``/api/v1/secrets``) and master keys (``/api/v1/security/keys``).

Who may do what:

- list names and metadata, read one secret's metadata: any member of the project
  (``project:read``);
- create, replace, delete, and read a value (``?reveal=true``): project admins
  (``project:write``). The path alone cannot tell a reveal from a metadata read, so the
  reveal route checks ``project:write`` itself, on top of what ``require_user`` checked.
- master keys (rotate, rewrap, retire, usage): platform admins (``/api/v1/security``).

Every change, and every reveal, is a security event in the audit log; its detail names
the secret and the key, never the value. Values never appear in listings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_serializer

from novacron.core.clock import isoformat
from novacron.core.errors import Forbidden
from novacron.security.api import _events
from novacron.security.auth import require_user
from novacron.security.context import current_project
from novacron.security.rbac import Authorizer, Need, scope_allows
from novacron.security.secrets.rotation import UNREADABLE, RewrapReport
from novacron.security.secrets.service import SecretInfo, SecretsVault
from novacron.security.secrets.wiring import secrets_vault_for
from novacron.security.tokens import Principal

router = APIRouter(dependencies=[Depends(require_user)])

REVEAL_NEED = Need("project", "write")
"""Reading a value takes what writing one takes: listing names is a lesser right."""
MAX_FAILED_SHOWN = 100
REWRAP_BATCH = 100


class _Out(BaseModel):
    # The untyped serializer would leave the schema untyped: describe the fields' types.
    model_config = ConfigDict(json_schema_mode_override="validation")

    @field_serializer("*", when_used="json")
    def _times(self, value: Any) -> Any:
        return isoformat(value) if isinstance(value, datetime) else value


class SecretPut(BaseModel):
    # No whitespace stripping: the value is stored exactly as given.
    model_config = ConfigDict(extra="forbid")

    value: str = Field(description="The secret value (UTF-8, at most 64 KiB)")


class SecretOut(_Out):
    name: str
    project_id: str
    key_id: str | None
    """Master key wrapping the value; None if the record cannot be parsed."""
    revision: int
    created_at: datetime
    updated_at: datetime
    created_by: str


class SecretDetail(SecretOut):
    value: str | None = None
    """Only with ``?reveal=true``."""


class SecretPage(BaseModel):
    items: list[SecretOut]
    next_after: str | None
    """Pass as ``after`` for the next page; None on the last page."""


class KeyOut(BaseModel):
    id: str
    current: bool
    secrets: int
    """Records whose data key this master key wraps: secrets and users' TOTP seeds."""
    in_keyring: bool
    """False: records name a key the provider no longer has (they cannot be read)."""


class KeysOut(BaseModel):
    provider: str
    current: str
    keys: list[KeyOut]
    unreadable: int
    """Records whose sealed text cannot be parsed."""


class RotateOut(BaseModel):
    key_id: str
    previous: str


class RewrapIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(REWRAP_BATCH, ge=1, le=10_000)


class RewrapOut(BaseModel):
    current_key: str
    scanned: int
    rewrapped: int
    already_current: int
    vanished: int
    failed: list[str]
    """``project/name: reason`` (at most 100 shown; ``failed_count`` has them all)."""
    failed_count: int
    batches: int
    complete: bool


def _vault(request: Request) -> SecretsVault:
    return secrets_vault_for(request.app)


def _out(info: SecretInfo) -> SecretOut:
    return SecretOut(
        name=info.name,
        project_id=info.project,
        key_id=info.key_id,
        revision=info.revision,
        created_at=info.created_at,
        updated_at=info.updated_at,
        created_by=info.created_by,
    )


def _check_reveal(request: Request, principal: Principal, project_id: str) -> None:
    if not scope_allows(principal.scopes, REVEAL_NEED.resource, REVEAL_NEED.action):
        raise Forbidden(f"the token's scopes do not allow {REVEAL_NEED.scope} (reveal)")
    authorizer: Authorizer = request.app.state.authorizer
    if principal.user_id is None or not authorizer.allowed(
        principal.user_id, project_id, REVEAL_NEED.resource, REVEAL_NEED.action
    ):
        raise Forbidden(f"{principal.name} may not reveal secrets in this project")


# -- secrets of a project --------------------------------------------------------------


@router.get("/api/v1/secrets", response_model=SecretPage, tags=["secrets"])
def list_secrets(
    request: Request,
    after: str | None = Query(None, max_length=128, description="Names after this one"),
    limit: int = Query(100, ge=1, le=1000),
) -> SecretPage:
    """The project's secrets by name: names and metadata, never values."""
    infos = _vault(request).list(current_project(request), after=after, limit=limit)
    items = [_out(i) for i in infos]
    return SecretPage(items=items, next_after=items[-1].name if len(items) == limit else None)


@router.put("/api/v1/secrets/{name:path}", response_model=SecretOut, tags=["secrets"])
def put_secret(
    request: Request, name: str, body: SecretPut, principal: Principal = Depends(require_user)
) -> SecretOut:
    """Create the secret, or replace its value."""
    info = _vault(request).put(name, body.value, current_project(request), actor=principal.name)
    _events.record(
        request,
        "secret.put",
        target=f"secret:{name}",
        detail={"revision": info.revision, "key_id": info.key_id},
    )
    return _out(info)


@router.get("/api/v1/secrets/{name:path}", response_model=SecretDetail, tags=["secrets"])
def get_secret(
    request: Request,
    response: Response,
    name: str,
    reveal: bool = Query(False, description="Include the value (project admins; audited)"),
    principal: Principal = Depends(require_user),
) -> SecretDetail:
    """One secret's metadata; its value too with ``reveal=true``."""
    vault, project_id = _vault(request), current_project(request)
    if not reveal:
        return SecretDetail(**_out(vault.info(name, project_id)).model_dump())
    _check_reveal(request, principal, project_id)
    info, value = vault.reveal(name, project_id)
    _events.record(
        request, "secret.read", target=f"secret:{name}", detail={"revision": info.revision}
    )
    response.headers["Cache-Control"] = "no-store"
    return SecretDetail(**_out(info).model_dump(), value=value.reveal())


@router.delete("/api/v1/secrets/{name:path}", status_code=204, tags=["secrets"])
def delete_secret(request: Request, name: str) -> None:
    _vault(request).delete(name, current_project(request))
    _events.record(request, "secret.delete", target=f"secret:{name}")


# -- master keys (platform admins) -----------------------------------------------------


@router.get("/api/v1/security/keys", response_model=KeysOut, tags=["secrets"])
def list_keys(request: Request) -> KeysOut:
    """Master keys and how many secrets (and users' TOTP seeds) each wraps; keys that
    records name but the provider lacks are listed with ``in_keyring`` false."""
    vault = _vault(request)
    keyring = vault.provider.keyring(refresh=True)
    usage = vault.key_usage()
    unreadable = usage.pop(UNREADABLE, 0)
    ids = list(keyring.key_ids) + sorted(k for k in usage if k not in keyring)
    keys = [
        KeyOut(
            id=key_id,
            current=key_id == keyring.current_id,
            secrets=usage.get(key_id, 0),
            in_keyring=key_id in keyring,
        )
        for key_id in ids
    ]
    return KeysOut(
        provider=vault.provider.kind, current=keyring.current_id, keys=keys, unreadable=unreadable
    )


@router.post("/api/v1/security/keys/rotate", response_model=RotateOut, tags=["secrets"])
def rotate_key(request: Request) -> RotateOut:
    """A new master key becomes current; older ones keep unwrapping. Run rewrap next."""
    vault = _vault(request)
    previous = vault.provider.keyring(refresh=True).current_id
    key_id = vault.rotate_master_key()
    _events.record(
        request,
        "key.rotate",
        target=f"key:{key_id}",
        detail={"previous": previous, "provider": vault.provider.kind},
    )
    return RotateOut(key_id=key_id, previous=previous)


@router.post("/api/v1/security/keys/rewrap", response_model=RewrapOut, tags=["secrets"])
def rewrap_keys(request: Request, body: RewrapIn | None = None) -> RewrapOut:
    """Move every secret's data key to the current master key (values are untouched);
    idempotent, so run it again after a failure."""
    report: RewrapReport = _vault(request).rewrap(
        batch_size=body.batch_size if body else REWRAP_BATCH
    )
    _events.record(
        request,
        "key.rewrap",
        target=f"key:{report.current_key}",
        detail={
            "scanned": report.scanned,
            "rewrapped": report.rewrapped,
            "failed": len(report.failed),
        },
    )
    return RewrapOut(
        current_key=report.current_key,
        scanned=report.scanned,
        rewrapped=report.rewrapped,
        already_current=report.already_current,
        vanished=report.vanished,
        failed=report.failed[:MAX_FAILED_SHOWN],
        failed_count=len(report.failed),
        batches=report.batches,
        complete=report.complete,
    )


@router.delete("/api/v1/security/keys/{key_id}", status_code=204, tags=["secrets"])
def retire_key(request: Request, key_id: str) -> None:
    """Drop an old master key; refused while it is current or still wraps a secret."""
    _vault(request).retire_master_key(key_id)
    _events.record(request, "key.retire", target=f"key:{key_id}")
