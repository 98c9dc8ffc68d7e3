"""Two-factor sign-in over the real API: set-up and confirmation with an authenticator
(pyotp), codes that work once, recovery codes, wrong codes counting towards lockout, and
turning it off (password required)."""

from __future__ import annotations

import time

import pyotp
from identity_helpers import PASSWORD, Browser, login_response, new_user, ok, problem, sign_in
from sqlalchemy import select

from novacron.core.database import Database
from novacron.security import totp
from novacron.security.models import AuditRecord, User
from novacron.security.secrets.keys import EnvKeyProvider, generate_env_value
from novacron.security.secrets.service import SecretsVault
from novacron.security.secrets.store import InMemorySecretStore
from novacron.security.secrets.wiring import seed_cipher_for
from novacron.security.totp_seeds import (
    SeedCipher,
    UserSeedStore,
    seal_plaintext_seeds,
    warn_of_foreign_seeds,
)
from novacron.testing.cluster import Cluster

MFA_REQUIRED = "https://novacron.dev/problems/mfa-required"


def _enrol(cluster: Cluster, prefix: str) -> tuple[str, pyotp.TOTP, list[str]]:
    """A user with two-factor on; the code of the current step is spent on confirming."""
    name = new_user(cluster, prefix)
    browser = sign_in(cluster, name)
    setup = ok(browser.post("/auth/totp/setup"))
    otp = pyotp.TOTP(setup["secret"])
    assert setup["uri"] == otp.provisioning_uri(name=name, issuer_name="NovaCron")
    # Not on until confirmed: a password still signs in alone.
    ok(login_response(cluster, name))
    codes = ok(browser.post("/auth/totp/confirm", json={"code": otp.now()}))["recovery_codes"]
    assert len(codes) == 10
    me = ok(browser.get("/auth/whoami"))
    assert me["mfa_enabled"] is True
    browser.close()
    return name, otp, codes


def _wrong_code(otp: pyotp.TOTP) -> str:
    """A well-formed code that no step near now produces."""
    near = {otp.at(time.time() + 30 * d) for d in range(-2, 3)}
    return next(c for c in (f"{i:06d}" for i in range(10)) if c not in near)


def _next_code(otp: pyotp.TOTP) -> str:
    """The next step's code: inside the ±1 step window, and newer than the confirming one."""
    return otp.at(time.time() + 30)


def test_two_factor_set_up_then_required_at_sign_in(cluster: Cluster, db: Database) -> None:
    name, otp, _ = _enrol(cluster, "tina")

    need = problem(login_response(cluster, name), 401)
    assert need["type"] == MFA_REQUIRED and need["title"] == "Second factor required"
    assert "set-cookie" not in login_response(cluster, name).headers
    # The right password without the code counts nothing against the user.
    with db.read() as s:
        assert s.scalar(select(User.failed_logins).where(User.name == name)) == 0

    code = _next_code(otp)
    browser = sign_in(cluster, name, code=code)
    assert ok(browser.get("/auth/whoami"))["name"] == name
    browser.close()

    # The same code again (seen over a shoulder): refused.
    replay = problem(login_response(cluster, name, code=code), 401)
    assert replay["detail"] == "wrong or already used code"
    # A wrong password with a good code is still a wrong password.
    assert problem(login_response(cluster, name, "Not-The-Password-1", code), 401)["detail"] == (
        "wrong user name or password"
    )

    with db.read() as s:
        rows = s.scalars(
            select(AuditRecord).where(AuditRecord.actor == name, AuditRecord.action.like("auth.%"))
        ).all()
    events = [(r.action, r.outcome, r.status_code) for r in rows]
    assert ("auth.login.mfa_required", "denied", 401) in events
    # Twice while setting up (before confirming), once with the code.
    assert events.count(("auth.login", "success", 200)) == 3
    assert ("auth.login", "failure", 401) in events


def test_the_confirming_code_cannot_sign_in(cluster: Cluster) -> None:
    name = new_user(cluster, "uma")
    browser = sign_in(cluster, name)
    otp = pyotp.TOTP(ok(browser.post("/auth/totp/setup"))["secret"])
    code = otp.now()
    ok(browser.post("/auth/totp/confirm", json={"code": code}))
    browser.close()
    # Unless the step moved on between confirming and this sign-in, the code is spent.
    if otp.now() == code:
        assert problem(login_response(cluster, name, code=code), 401)["detail"] == (
            "wrong or already used code"
        )


def test_confirm_refuses_a_wrong_code_and_set_up_twice(cluster: Cluster) -> None:
    name = new_user(cluster, "vic")
    browser = sign_in(cluster, name)
    problem(browser.post("/auth/totp/confirm", json={"code": "123456"}), 409)  # not begun
    otp = pyotp.TOTP(ok(browser.post("/auth/totp/setup"))["secret"])
    wrong = _wrong_code(otp)
    bad = problem(browser.post("/auth/totp/confirm", json={"code": wrong}), 422)
    assert bad["errors"] == [{"loc": ["body", "code"], "msg": "wrong code"}]
    assert ok(browser.get("/auth/whoami"))["mfa_enabled"] is False
    ok(browser.post("/auth/totp/confirm", json={"code": otp.now()}))
    problem(browser.post("/auth/totp/setup"), 409)  # already on: turn it off first
    browser.close()


def test_recovery_codes_sign_in_once_each(cluster: Cluster) -> None:
    name, _, codes = _enrol(cluster, "walt")
    browser = sign_in(cluster, name, code=codes[0])
    ok(browser.get("/auth/whoami"))
    browser.close()
    problem(login_response(cluster, name, code=codes[0]), 401)
    # Spelled without the dash and in capitals: the same code.
    browser = sign_in(cluster, name, code=codes[1].replace("-", "").upper())

    # New codes need the password and replace the old ones.
    bad = problem(browser.post("/auth/recovery-codes", json={"password": "nope-nope-nope"}), 422)
    assert bad["errors"][0]["loc"] == ["body", "password"]
    fresh = ok(browser.post("/auth/recovery-codes", json={"password": PASSWORD}))["recovery_codes"]
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    browser.close()
    problem(login_response(cluster, name, code=codes[2]), 401)
    sign_in(cluster, name, code=fresh[0]).close()


def test_wrong_codes_count_towards_lockout_even_with_the_right_password(
    cluster: Cluster, db: Database
) -> None:
    name, otp, _ = _enrol(cluster, "xena")
    wrong = _wrong_code(otp)
    for attempt in range(1, 6):
        problem(login_response(cluster, name, code=wrong), 401)
        with db.read() as s:
            assert s.scalar(select(User.failed_logins).where(User.name == name)) == attempt
    # Locked now: the right password and a right code are refused too.
    locked = problem(login_response(cluster, name, code=_next_code(otp)), 401)
    assert locked["type"].endswith("/locked")


def test_turning_two_factor_off_needs_the_password(cluster: Cluster) -> None:
    name, otp, codes = _enrol(cluster, "yara")
    browser = sign_in(cluster, name, code=_next_code(otp))
    bad = problem(browser.post("/auth/totp/disable", json={"password": "wrong-password-1"}), 422)
    assert bad["errors"] == [{"loc": ["body", "password"], "msg": "wrong password"}]
    assert ok(browser.get("/auth/whoami"))["mfa_enabled"] is True
    assert browser.post("/auth/totp/disable", json={"password": PASSWORD}).status_code == 204
    assert ok(browser.get("/auth/whoami"))["mfa_enabled"] is False
    browser.close()
    # A password alone signs in again; the old recovery codes are gone.
    plain: Browser = sign_in(cluster, name)
    plain.close()
    with_code = login_response(cluster, name, code=codes[3])
    assert with_code.status_code == 200  # the code is ignored once two-factor is off


def _stored_seed(db: Database, name: str) -> str:
    with db.read() as s:
        stored = s.scalar(select(User.totp_secret).where(User.name == name))
    assert stored is not None
    return stored


def test_seeds_are_sealed_and_follow_master_key_rotation(cluster: Cluster, db: Database) -> None:
    name, otp, _ = _enrol(cluster, "uma")
    stored = _stored_seed(db, name)
    assert stored.startswith("nsec$1$") and otp.secret not in stored
    old_key = stored.split("$")[2]

    new_key = ok(cluster.api.post("/security/keys/rotate"))["key_id"]
    # Still on the old key: retiring it would lock the user out.
    refused = problem(cluster.api.delete(f"/security/keys/{old_key}"), 409)
    assert "TOTP seed" in refused["detail"]
    keys = {k["id"]: k["secrets"] for k in ok(cluster.api.get("/security/keys"))["keys"]}
    assert keys[old_key] >= 1

    report = ok(cluster.api.post("/security/keys/rewrap"))
    assert report["complete"] and report["rewrapped"] >= 1
    moved = _stored_seed(db, name)
    assert moved.split("$")[2] == new_key and moved.split("$")[4:] == stored.split("$")[4:]
    assert cluster.api.delete(f"/security/keys/{old_key}").status_code == 204

    browser = sign_in(cluster, name, code=_next_code(otp))
    assert ok(browser.get("/auth/whoami"))["mfa_enabled"] is True
    browser.close()


def test_seeds_an_earlier_version_stored_in_plaintext_are_sealed_at_start(
    cluster: Cluster, db: Database
) -> None:
    name, otp, _ = _enrol(cluster, "vic")
    with db.session() as s:
        user = s.scalar(select(User).where(User.name == name))
        assert user is not None
        user.totp_secret = otp.secret
    assert cluster.server is not None
    assert seal_plaintext_seeds(db, seed_cipher_for(cluster.server.app)) == 1
    assert otp.secret not in _stored_seed(db, name)
    browser = sign_in(cluster, name, code=_next_code(otp))
    assert ok(browser.get("/auth/whoami"))["name"] == name
    browser.close()


def test_a_seed_sealed_with_foreign_keys_is_reported_and_recovery_codes_still_sign_in(
    cluster: Cluster, db: Database
) -> None:
    name, otp, codes = _enrol(cluster, "wes")
    environ = {"NOVACRON_MASTER_KEY": generate_env_value("elsewhere")}
    foreign = SeedCipher(
        SecretsVault(InMemorySecretStore(), EnvKeyProvider("NOVACRON_MASTER_KEY", environ=environ))
    )
    with db.session() as s:  # as if a replica with a key file of its own had sealed it
        user = s.scalar(select(User).where(User.name == name))
        assert user is not None
        user.totp_secret = foreign.seal(otp.secret, user.id)
    assert cluster.server is not None
    vault = seed_cipher_for(cluster.server.app).vault
    assert warn_of_foreign_seeds(UserSeedStore(db), vault) == {"elsewhere": 1}

    refused = problem(login_response(cluster, name, code=_next_code(otp)), 401)
    assert refused["detail"] == "wrong or already used code"
    browser = sign_in(cluster, name, code=codes[0])
    assert ok(browser.get("/auth/whoami"))["name"] == name
    browser.close()
    with db.session() as s:  # leave no foreign seed behind for the module's other tests
        user = s.scalar(select(User).where(User.name == name))
        assert user is not None
        user.totp_secret = user.totp_enabled_at = None


def test_a_platform_admin_resets_a_lost_second_factor(cluster: Cluster, db: Database) -> None:
    name, otp, _ = _enrol(cluster, "xena")
    browser = sign_in(cluster, name, code=_next_code(otp))
    # Not the user's own to do: a platform admin's.
    assert problem(browser.post(f"/users/{name}/two-factor/reset"), 403)
    assert cluster.api.post(f"/users/{name}/two-factor/reset").status_code == 204
    assert problem(browser.get("/auth/whoami"), 401)  # their sessions ended
    browser.close()
    again = sign_in(cluster, name)  # the password alone signs in again
    me = ok(again.get("/auth/whoami"))
    assert me["mfa_enabled"] is False
    again.close()
    with db.read() as s:
        user = s.scalar(select(User).where(User.name == name))
        assert user is not None and user.totp_secret is None
        assert totp.remaining_recovery_codes(s, user.id) == 0  # the recovery codes are void
        resets = s.scalars(select(AuditRecord).where(AuditRecord.action == "user.mfa.reset")).all()
    assert [r.target for r in resets][-1] == f"user:{name}"


def test_deleting_a_seed_from_the_store_turns_two_factor_off_whole(
    cluster: Cluster, db: Database
) -> None:
    name, _, _ = _enrol(cluster, "yara")
    with db.read() as s:
        user_id = s.scalar(select(User.id).where(User.name == name))
    assert user_id is not None
    store = UserSeedStore(db)
    assert store.get("users.totp", user_id) is not None
    assert store.delete("users.totp", user_id) is True
    assert store.delete("users.totp", user_id) is False  # nothing left
    with db.read() as s:
        user = s.get(User, user_id)
        assert user is not None and (user.totp_secret, user.totp_enabled_at) == (None, None)
        assert totp.remaining_recovery_codes(s, user_id) == 0
