"""The pure parts of identity and audit, without a server: password hashing and policy,
lockout back-off, the audit hash chain and its exports, RBAC classification, scopes and
the role matrix, TOTP at fixed times, session cookies and CSRF tokens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pyotp
import pytest
from argon2 import PasswordHasher, Type
from fastapi import Request, Response
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from novacron.core.errors import Conflict, Forbidden, Invalid
from novacron.security import passwords, sessions, totp
from novacron.security.api.login import set_session_cookie
from novacron.security.audit import chain
from novacron.security.audit import log as audit_log
from novacron.security.lockout import LockoutPolicy
from novacron.security.models import AuditRecord, RecoveryCode, User
from novacron.security.rbac import ROLES, classify, new_enforcer, scope_allows, valid_scope
from novacron.security.secrets.errors import SecretCorrupt
from novacron.security.secrets.keys import EnvKeyProvider, generate_env_value
from novacron.security.secrets.service import SecretsVault
from novacron.security.secrets.store import InMemorySecretStore
from novacron.security.totp_seeds import SeedCipher

# -- passwords -------------------------------------------------------------------------------


def test_hashes_are_argon2id_at_owasp_parameters() -> None:
    stored = passwords.hash_password("Tidal-Orchard-9-Lantern")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password(stored, "Tidal-Orchard-9-Lantern")
    assert not passwords.verify_password(stored, "Tidal-Orchard-9-lantern")
    # Same password, new salt.
    assert passwords.hash_password("Tidal-Orchard-9-Lantern") != stored


def test_verify_refuses_missing_hash_overlong_password_and_garbage() -> None:
    assert not passwords.verify_password(None, "anything-at-all")
    assert not passwords.verify_password("not-a-phc-string", "anything-at-all")
    long = "x" * (passwords.MAX_LENGTH + 1)
    assert not passwords.verify_password(passwords.hash_password("y" * 20), long)


def test_weaker_hashes_need_a_rehash_ours_do_not() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    assert passwords.needs_rehash(weak.hash("Tidal-Orchard-9-Lantern"))
    argon2i = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.I)
    assert passwords.needs_rehash(argon2i.hash("Tidal-Orchard-9-Lantern"))
    assert not passwords.needs_rehash(passwords.hash_password("Tidal-Orchard-9-Lantern"))


@pytest.mark.parametrize(
    ("password", "user", "expected"),
    [
        ("short1!", "", ["must be at least 12 characters"]),
        ("Password1234", "", ["is a commonly used password"]),
        ("abababababab", "", ["repeats one or two characters"]),
        ("carol-Orchard-99", "carol", ["must not contain the user name"]),
        ("x" * 257 + "yz", "", ["must be at most 256 characters"]),
        ("Tidal-Orchard-9-Lantern", "carol", []),
        # Names shorter than three letters are too common to refuse.
        ("al-Orchard-9-Lantern", "al", []),
    ],
)
def test_password_policy(password: str, user: str, expected: list[str]) -> None:
    assert passwords.policy_problems(password, user) == expected


def test_policy_errors_name_the_field() -> None:
    with pytest.raises(Invalid) as caught:
        passwords.check_policy("password123", "dave", "new_password")
    assert caught.value.errors == [
        {"loc": ["body", "new_password"], "msg": "must be at least 12 characters"},
        {"loc": ["body", "new_password"], "msg": "is a commonly used password"},
    ]
    assert caught.value.detail.startswith("new_password: ")


# -- lockout -------------------------------------------------------------------------------


def test_lockout_starts_at_the_fifth_failure_and_doubles_to_a_ceiling() -> None:
    policy = LockoutPolicy()
    assert [policy.lock_for(n) for n in range(1, 5)] == [None] * 4
    assert [policy.lock_for(n) for n in (5, 6, 7, 8)] == [
        timedelta(seconds=s) for s in (30, 60, 120, 240)
    ]
    assert policy.lock_for(30) == timedelta(seconds=900)


def test_locked_counts_the_seconds_left() -> None:
    policy = LockoutPolicy()
    now = datetime(2026, 1, 1, 12, 0, 0)
    assert policy.locked(None, now) == 0.0
    assert policy.locked(now - timedelta(seconds=1), now) == 0.0
    assert policy.locked(now, now) == 0.0
    assert policy.locked(now + timedelta(seconds=42), now) == 42.0


# -- the audit chain -------------------------------------------------------------------------


def _records(n: int, start_seq: int = 0, start_hash: str = chain.GENESIS) -> list[dict[str, Any]]:
    out, prev = [], start_hash
    for i in range(start_seq + 1, start_seq + n + 1):
        body: dict[str, Any] = {
            "seq": i,
            "ts": datetime(2026, 1, 1) + timedelta(seconds=i),
            "actor": "admin",
            "actor_kind": "user",
            "action": f"vm.create.{i}",
            "target": f"vm:{i}",
            "project_id": None if i % 2 else "proj-default",
            "source_ip": "127.0.0.1",
            "outcome": "success",
            "status_code": 202,
            "request_id": f"req{i}",
            "detail": {"n": i},
        }
        body["prev_hash"], body["hash"] = prev, chain.link(prev, body)
        prev = body["hash"]
        out.append(body)
    return out


def test_an_intact_chain_verifies() -> None:
    result = chain.verify(_records(5), start_seq=0)
    assert (result.ok, result.checked, result.first_seq, result.last_seq) == (True, 5, 1, 5)
    assert result.summary() == "audit chain intact: 5 records, seq 1–5"
    assert chain.verify([]).summary() == "audit chain intact (no records)"


@pytest.mark.parametrize("field", ["detail", "actor", "ts", "outcome", "project_id"])
def test_a_changed_field_breaks_the_chain_at_that_record(field: str) -> None:
    records = _records(6)
    changed = {
        "detail": {"n": 99},
        "actor": "mallory",
        "ts": datetime(2020, 1, 1),
        "outcome": "failure",
        "project_id": "proj-other",
    }
    records[3] = {**records[3], field: changed[field]}  # seq 4
    result = chain.verify(records)
    assert (result.ok, result.broken_at, result.checked) == (False, 4, 3)
    assert result.reason == "record content was changed"
    assert "BROKEN at seq 4" in result.summary()


def test_a_rehashed_record_still_breaks_the_next_link() -> None:
    records = _records(5)
    forged = {**records[1], "actor": "mallory"}
    forged["hash"] = chain.link(forged["prev_hash"], forged)
    records[1] = forged
    result = chain.verify(records)
    assert (result.ok, result.broken_at) == (False, 3)
    assert result.reason.startswith("previous-hash link does not match")


def test_a_deleted_record_is_named_by_its_missing_seq() -> None:
    records = _records(6)
    del records[2]  # seq 3
    result = chain.verify(records, start_seq=0)
    assert (result.ok, result.broken_at, result.checked) == (False, 3, 2)
    assert result.reason == "record 3 is missing (the next one is 4)"
    # Without knowing where the run starts, deleting the first record is still caught.
    first_gone = chain.verify(_records(3)[1:])
    assert (first_gone.ok, first_gone.broken_at) == (False, 2)
    assert (chain.verify(_records(3)[1:], start_seq=0).broken_at) == 1


def test_a_pruned_chain_resumes_from_its_anchor() -> None:
    records = _records(10)
    anchor = records[5]
    rest = records[6:]
    assert chain.verify(rest, anchor["hash"], anchor["seq"]).ok
    assert chain.verify(rest).broken_at == 7  # from genesis it does not link
    # An anchor one record short: the record between it and the rest is missing.
    wrong = chain.verify(rest, records[4]["hash"], 5)
    assert (wrong.ok, wrong.broken_at, wrong.reason) == (
        False,
        6,
        "record 6 is missing (the next one is 7)",
    )


def _rows(records: list[dict[str, Any]]) -> list[AuditRecord]:
    return [AuditRecord(**r) for r in records]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_exports_round_trip_and_verify_on_their_own(fmt: str) -> None:
    records = _records(7)
    rows = _rows(records[2:])  # an export of seq 3..7
    body = audit_log.export_json(rows) if fmt == "json" else audit_log.export_csv(rows)
    back = audit_log.read_export(body, fmt)
    assert back == [{k: r[k] for k in audit_log.EXPORT_COLUMNS} for r in records[2:]]
    result = audit_log.verify_export(body, fmt)
    assert (result.ok, result.first_seq, result.last_seq) == (True, 3, 7)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_an_edited_export_fails_verification(fmt: str) -> None:
    rows = _rows(_records(4))
    body = audit_log.export_json(rows) if fmt == "json" else audit_log.export_csv(rows)
    edited = body.replace("vm:3", "vm:9")
    assert edited != body
    result = audit_log.verify_export(edited, fmt)
    assert (result.ok, result.broken_at) == (False, 3)
    lines = body.splitlines(keepends=True)
    third = 2 if fmt == "json" else 3  # the csv has a header line
    gone = audit_log.verify_export("".join(lines[:third] + lines[third + 1 :]), fmt)
    assert (gone.ok, gone.broken_at) == (False, 3)


def test_export_verification_of_an_empty_export() -> None:
    assert audit_log.verify_export("", "json").ok
    with pytest.raises(ValueError):
        audit_log.read_export("", "xml")


# -- RBAC ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "resource", "action"),
    [
        ("GET", "/api/v1/vms", "compute", "read"),
        ("POST", "/api/v1/vms", "compute", "write"),
        ("DELETE", "/api/v1/vms/{ref}", "compute", "write"),
        ("HEAD", "/api/v1/images", "compute", "read"),
        ("POST", "/api/v1/corporate/targets/{ref}/valuations/{version}/approve", "corporate",
         "approve"),
        ("POST", "/api/v1/corporate/mdf/{request_id}/approve", "corporate", "approve"),
        ("POST", "/api/v1/corporate/targets", "corporate", "write"),
        ("POST", "/api/v1/corporate/calc/npv", "corporate", "read"),
        ("GET", "/corporate/targets", "corporate", "read"),
        ("PATCH", "/api/v1/hosts/{ref}", "hosts", "write"),
        ("GET", "/api/v1/projects", "platform", "read"),
        ("POST", "/api/v1/projects", "platform", "write"),
        ("GET", "/api/v1/projects/{project_ref}", "project", "read"),
        ("POST", "/api/v1/projects/{project_ref}/members", "project", "write"),
        ("GET", "/api/v1/users", "platform", "read"),
        ("POST", "/api/v1/users/{ref}/unlock", "platform", "write"),
        ("GET", "/api/v1/audit/export", "platform", "read"),
        ("POST", "/api/v1/auth/password", "self", "write"),
        ("POST", "/api/v1/tokens", "self", "write"),
        # A prefix matches whole path segments only.
        ("GET", "/api/v1/usersettings", "compute", "read"),
        ("GET", "/api/v1/hostsx", "compute", "read"),
    ],
)  # fmt: skip
def test_classify(method: str, path: str, resource: str, action: str) -> None:
    need = classify(method, path)
    assert (need.resource, need.action) == (resource, action)
    assert need.scope == f"{resource}:{action}"


@pytest.mark.parametrize(
    ("scopes", "resource", "action", "allowed"),
    [
        (["*"], "platform", "write", True),
        (["compute:*"], "compute", "approve", True),
        (["compute:read"], "compute", "read", True),
        (["compute:read"], "compute", "write", False),
        (["compute:read"], "corporate", "read", False),
        (["*:read"], "corporate", "read", True),
        (["*:read"], "corporate", "write", False),
        (["corporate:write", "corporate:read"], "corporate", "approve", False),
        ([], "compute", "read", False),
    ],
)
def test_scope_allows(scopes: list[str], resource: str, action: str, allowed: bool) -> None:
    assert scope_allows(scopes, resource, action) is allowed


def test_valid_scope() -> None:
    assert all(valid_scope(s) for s in ("*", "compute:read", "corporate:*", "*:read", "self:write"))
    assert not any(valid_scope(s) for s in ("compute", "vm:read", "compute:delete", "", ":read"))


ALL = [(r, a) for r in ("compute", "corporate", "project", "hosts", "platform") for a in
       ("read", "write", "approve")]  # fmt: skip
EXPECTED: dict[str, set[str]] = {
    "admin": {"compute:read", "compute:write", "corporate:read", "corporate:write",
              "corporate:approve", "project:read", "project:write", "hosts:read"},
    "operator": {"compute:read", "compute:write", "corporate:read", "project:read",
                 "hosts:read"},
    "viewer": {"compute:read", "corporate:read", "project:read", "hosts:read"},
    "corp-manager": {"corporate:read", "corporate:write", "corporate:approve", "project:read"},
    "corp-analyst": {"corporate:read", "corporate:write", "project:read"},
    "corp-viewer": {"corporate:read", "project:read"},
}  # fmt: skip


@pytest.mark.parametrize("role", list(ROLES))
def test_role_matrix_in_its_project_only(role: str) -> None:
    enforcer = new_enforcer()
    enforcer.add_grouping_policies([["u1", role, "proj-a"]])
    granted = {f"{r}:{a}" for r, a in ALL if enforcer.enforce("u1", "proj-a", r, a)}
    assert granted == EXPECTED[role]
    assert not any(enforcer.enforce("u1", "proj-b", r, a) for r, a in ALL)


def test_platform_admin_is_allowed_everything_everywhere() -> None:
    enforcer = new_enforcer()
    enforcer.add_grouping_policies([["root", "platform-admin", "*"]])
    assert all(enforcer.enforce("root", p, r, a) for p in ("proj-a", "x") for r, a in ALL)
    assert not enforcer.enforce("someone-else", "proj-a", "compute", "read")


# -- TOTP at fixed times ---------------------------------------------------------------------

T0 = 1_800_000_000.0  # a fixed instant, at a step boundary


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    tables = [User.__table__, RecoveryCode.__table__]
    User.metadata.create_all(engine, tables=tables)  # type: ignore[arg-type]
    with Session(engine) as s:
        yield s
    engine.dispose()


def _cipher() -> SeedCipher:
    """Real sealing: AES-256-GCM under a fresh master key from an environment variable."""
    environ = {"NOVACRON_MASTER_KEY": generate_env_value()}
    provider = EnvKeyProvider("NOVACRON_MASTER_KEY", environ=environ)
    return SeedCipher(SecretsVault(InMemorySecretStore(), provider))


@pytest.fixture(scope="module")
def cipher() -> SeedCipher:
    return _cipher()


def _enrolled(session: Session, cipher: SeedCipher) -> tuple[User, list[str], pyotp.TOTP]:
    user = User(id="usr-1", name="erin", failed_logins=0, platform_admin=False)
    session.add(user)
    enrolment = totp.begin(user, cipher)
    uri = enrolment.uri
    assert uri.startswith("otpauth://totp/NovaCron:erin?secret=") and "issuer=NovaCron" in uri
    assert f"secret={enrolment.secret}" in uri
    otp = pyotp.TOTP(enrolment.secret)
    codes = totp.confirm(session, user, otp.at(T0), cipher, now=T0)
    return user, codes, otp


def test_the_seed_is_stored_sealed_and_bound_to_its_user(
    session: Session, cipher: SeedCipher
) -> None:
    user, _, otp = _enrolled(session, cipher)
    stored = user.totp_secret
    assert stored is not None and stored.startswith("nsec$1$") and otp.secret not in stored
    assert cipher.open(stored, user.id) == otp.secret
    with pytest.raises(SecretCorrupt):  # copied onto another user, it does not open
        cipher.open(stored, "usr-2")
    # A seed an earlier version stored in plaintext works once more, and is sealed then.
    user.totp_secret = otp.secret
    assert totp.verify_second_factor(session, user, otp.at(T0 + 30), cipher, now=T0 + 30)
    assert user.totp_secret.startswith("nsec$1$")
    assert cipher.open(user.totp_secret, user.id) == otp.secret


def test_a_seed_this_server_cannot_open_leaves_the_recovery_codes(
    session: Session, cipher: SeedCipher
) -> None:
    user, codes, otp = _enrolled(session, cipher)
    # Sealed by a replica with other master keys: no TOTP code opens it here (no 500).
    other = _cipher()
    assert user.totp_secret is not None
    assert totp.verify_second_factor(session, user, otp.at(T0 + 30), other, now=T0 + 30) is None
    assert totp.verify_second_factor(session, user, codes[0], other, now=T0) == "recovery"
    store_seed = user.totp_secret
    assert cipher.open(store_seed, user.id) == otp.secret  # untouched


def test_confirm_needs_a_right_code_and_hands_out_ten_recovery_codes(
    session: Session, cipher: SeedCipher
) -> None:
    user = User(id="usr-1", name="erin", failed_logins=0, platform_admin=False)
    session.add(user)
    with pytest.raises(Conflict):
        totp.confirm(session, user, "123456", cipher, now=T0)  # not begun
    otp = pyotp.TOTP(totp.begin(user, cipher).secret)
    window = {otp.at(T0 + d) for d in (-30, 0, 30)}
    wrong = next(c for c in (f"{i:06d}" for i in range(10)) if c not in window)
    with pytest.raises(Invalid) as caught:
        totp.confirm(session, user, wrong, cipher, now=T0)
    assert caught.value.errors[0]["loc"] == ["body", "code"]
    assert user.totp_enabled_at is None
    codes = totp.confirm(session, user, otp.at(T0), cipher, now=T0)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert user.totp_enabled_at is not None and user.totp_last_step == int(T0 // 30)
    assert totp.remaining_recovery_codes(session, user.id) == 10
    with pytest.raises(Conflict):
        totp.begin(user, cipher)  # already on


def test_a_code_is_accepted_once_within_one_step_of_drift(
    session: Session, cipher: SeedCipher
) -> None:
    user, _, otp = _enrolled(session, cipher)

    def verify(code: str, now: float) -> str | None:
        return totp.verify_second_factor(session, user, code, cipher, now=now)

    # The confirming code is spent already.
    assert verify(otp.at(T0), T0) is None
    # The next step's code, seen a step early (clock drift): good, once.
    later = otp.at(T0 + 30)
    assert verify(later, T0) == "totp"
    assert verify(later, T0 + 30) is None
    # Two steps away is too far either way.
    assert verify(otp.at(T0 + 120), T0 + 60) is None
    assert verify(otp.at(T0 + 90), T0 + 60) == "totp"
    # An older step than the last accepted one is a replay even inside the window.
    assert verify(otp.at(T0 + 60), T0 + 90) is None
    assert user.totp_last_step == int((T0 + 90) // 30)


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5"])
def test_malformed_codes_are_refused(session: Session, cipher: SeedCipher, code: str) -> None:
    user, _, _ = _enrolled(session, cipher)
    assert totp.verify_second_factor(session, user, code, cipher, now=T0 + 30) is None


def test_recovery_codes_work_once_in_any_spelling(session: Session, cipher: SeedCipher) -> None:
    user, codes, _ = _enrolled(session, cipher)

    def verify(code: str) -> str | None:
        return totp.verify_second_factor(session, user, code, cipher, now=T0)

    first, second = codes[0], codes[1]
    assert verify(first) == "recovery"
    session.flush()
    assert verify(first) is None
    assert verify(second.replace("-", "").upper()) == "recovery"
    session.flush()
    assert totp.remaining_recovery_codes(session, user.id) == 8
    # New codes replace the old ones.
    fresh = totp.new_recovery_codes(session, user)
    assert verify(codes[2]) is None
    assert verify(fresh[0]) == "recovery"


def test_disable_forgets_the_secret_and_the_codes(session: Session, cipher: SeedCipher) -> None:
    user, codes, _ = _enrolled(session, cipher)
    totp.disable(session, user)
    session.flush()
    assert (user.totp_secret, user.totp_enabled_at, user.totp_last_step) == (None, None, None)
    assert totp.remaining_recovery_codes(session, user.id) == 0
    assert totp.verify_second_factor(session, user, codes[0], cipher, now=T0) is None


# -- session cookies and CSRF ----------------------------------------------------------------


def test_cookie_name_has_the_host_prefix_only_over_https() -> None:
    assert sessions.cookie_name(https=False) == "novacron_session"
    assert sessions.cookie_name(https=True) == "__Host-novacron_session"


def _set_cookie_header(scheme: str) -> str:
    request = Request(
        {"type": "http", "scheme": scheme, "server": ("nova.example", 443), "path": "/",
         "query_string": b"", "headers": [], "method": "POST"}
    )  # fmt: skip
    response = Response()
    new = sessions.NewSession(row=None, cookie="c00kie")  # type: ignore[arg-type]
    set_session_cookie(request, response, new)
    return response.headers["set-cookie"]


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_session_cookie_attributes(scheme: str) -> None:
    header = _set_cookie_header(scheme)
    parts = [p.strip() for p in header.split(";")]
    attrs = {p.split("=", 1)[0].lower(): p for p in parts[1:]}
    assert "httponly" in attrs and attrs["samesite"].lower() == "samesite=strict"
    assert attrs["path"] == "Path=/" and "domain" not in attrs
    assert attrs["max-age"] == f"Max-Age={7 * 24 * 3600}"
    if scheme == "https":
        # __Host-: the browser only keeps it when Secure, Path=/ and no Domain.
        assert parts[0] == "__Host-novacron_session=c00kie" and "secure" in attrs
    else:
        assert parts[0] == "novacron_session=c00kie" and "secure" not in attrs


def test_csrf_token_is_bound_to_the_cookie() -> None:
    token = sessions.csrf_for("cookie-a")
    assert token == sessions.csrf_for("cookie-a") and len(token) == 64
    assert token != sessions.csrf_for("cookie-b")
    sessions.check_csrf("cookie-a", token)
    for provided in (None, "", sessions.csrf_for("cookie-b"), token[:-1]):
        with pytest.raises(Forbidden):
            sessions.check_csrf("cookie-a", provided)
