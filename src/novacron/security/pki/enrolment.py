"""One-time, expiring enrolment tokens: how a new agent earns its first certificate.

An operator issues a token (optionally bound to one agent name) and hands the secret
to the new host; the agent presents it once with its CSR. Only a SHA-256 of the secret
is stored: it carries 256 random bits, so there is nothing a slow hash would protect
(the same reasoning as ``security.tokens``).

Redeeming is one conditional update in the store ("mark used if unused, unrevoked and
unexpired"), so two agents racing with one token cannot both win, on one server or on
several replicas sharing a database. Failures are ``Unauthorized`` with a message that
names the token by its id, never by its secret.

Times are naive UTC, as everywhere the project stores them.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from novacron.core.clock import utcnow
from novacron.core.errors import Invalid, NotFound, Unauthorized
from novacron.core.ids import new_id
from novacron.security.pki.agents import check_agent_name

#: Distinct from the long-lived ``nce_`` enrolment token of ``security.tokens``, so a
#: route can tell at a glance which kind it was given.
TOKEN_PREFIX = "nco_"
MAX_TTL = datetime.timedelta(days=30)


@dataclass(frozen=True)
class EnrolmentToken:
    id: str
    token_hash: str
    created_at: datetime.datetime
    expires_at: datetime.datetime
    for_name: str | None = None  # None: any agent name may use it
    used_at: datetime.datetime | None = None
    used_by: str | None = None
    revoked_at: datetime.datetime | None = None
    created_by: str | None = None  # who issued it, for the listing and the audit trail

    def state(self, now: datetime.datetime) -> str:
        """``revoked``, ``used``, ``expired`` or ``valid`` (in that precedence)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.used_at is not None:
            return "used"
        if now >= self.expires_at:
            return "expired"
        return "valid"


class EnrolmentTokenStore(Protocol):
    """Persistence for enrolment tokens; a table at integration."""

    def add(self, token: EnrolmentToken) -> None: ...

    def get(self, token_id: str) -> EnrolmentToken | None: ...

    def find_by_hash(self, token_hash: str) -> EnrolmentToken | None: ...

    def claim(self, token_id: str, agent_name: str, now: datetime.datetime) -> bool:
        """Atomically mark the token used by ``agent_name`` if it is unused, unrevoked
        and unexpired at ``now``; True when this call did. In SQL: ``UPDATE … SET
        used_at=:now, used_by=:name WHERE id=:id AND used_at IS NULL AND revoked_at IS
        NULL AND expires_at > :now`` and a row count of one."""
        ...

    def revoke(self, token_id: str, now: datetime.datetime) -> bool:
        """Mark revoked unless already revoked; False when there is no such token."""
        ...

    def list(self) -> list[EnrolmentToken]: ...


class InMemoryEnrolmentTokenStore:
    """For tests and single-process use; a lock makes ``claim`` atomic across threads."""

    def __init__(self) -> None:
        self._tokens: dict[str, EnrolmentToken] = {}
        self._lock = threading.Lock()

    def add(self, token: EnrolmentToken) -> None:
        with self._lock:
            self._tokens[token.id] = token

    def get(self, token_id: str) -> EnrolmentToken | None:
        with self._lock:
            return self._tokens.get(token_id)

    def find_by_hash(self, token_hash: str) -> EnrolmentToken | None:
        with self._lock:
            return next((t for t in self._tokens.values() if t.token_hash == token_hash), None)

    def claim(self, token_id: str, agent_name: str, now: datetime.datetime) -> bool:
        with self._lock:
            token = self._tokens.get(token_id)
            if token is None or token.state(now) != "valid":
                return False
            self._tokens[token_id] = replace(token, used_at=now, used_by=agent_name)
            return True

    def revoke(self, token_id: str, now: datetime.datetime) -> bool:
        with self._lock:
            token = self._tokens.get(token_id)
            if token is None:
                return False
            if token.revoked_at is None:
                self._tokens[token_id] = replace(token, revoked_at=now)
            return True

    def list(self) -> list[EnrolmentToken]:
        with self._lock:
            return sorted(self._tokens.values(), key=lambda t: (t.created_at, t.id))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class EnrolmentTokens:
    """Issue, redeem and revoke one-time enrolment tokens."""

    def __init__(
        self,
        store: EnrolmentTokenStore,
        *,
        clock: Callable[[], datetime.datetime] = utcnow,
    ) -> None:
        self.store = store
        self._clock = clock

    def issue(
        self,
        ttl: datetime.timedelta,
        for_name: str | None = None,
        *,
        created_by: str | None = None,
        now: datetime.datetime | None = None,
    ) -> tuple[EnrolmentToken, str]:
        """A new token; returns its record and the only copy of the secret."""
        if ttl <= datetime.timedelta(0):
            raise Invalid("an enrolment token's lifetime must be positive")
        if ttl > MAX_TTL:
            raise Invalid(f"an enrolment token may live at most {MAX_TTL.days} days")
        if for_name is not None:
            check_agent_name(for_name)
        at = self._now(now)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = EnrolmentToken(
            id=new_id("enr"),
            token_hash=hash_secret(secret),
            created_at=at,
            expires_at=at + ttl,
            for_name=for_name,
            created_by=created_by,
        )
        self.store.add(token)
        return token, secret

    def redeem(
        self, secret: str, agent_name: str, *, now: datetime.datetime | None = None
    ) -> EnrolmentToken:
        """Use the token for ``agent_name``, once; ``Unauthorized`` saying why not.

        A token bound to another name is refused without being used up, so the right
        agent can still enrol with it.
        """
        at = self._now(now)
        token = self.check(secret, agent_name, now=at)
        if not self.store.claim(token.id, agent_name, at):
            # Lost a race, or its state changed since we read it: say what it is now.
            latest = self.store.get(token.id) or token
            self._refuse_unusable(latest, at)
            raise Unauthorized(f"enrolment token {token.id} has already been used")
        return self.store.get(token.id) or replace(token, used_at=at, used_by=agent_name)

    def check(
        self, secret: str, agent_name: str, *, now: datetime.datetime | None = None
    ) -> EnrolmentToken:
        """What ``redeem`` checks, without using the token up: a server validates the
        rest of the request (the CSR) between the two, so a bad CSR does not burn it."""
        if not secret:
            raise Unauthorized("missing enrolment token")
        at = self._now(now)
        token = self.store.find_by_hash(hash_secret(secret))
        if token is None:
            raise Unauthorized("unknown enrolment token")
        self._refuse_unusable(token, at)
        if token.for_name is not None and token.for_name != agent_name:
            raise Unauthorized(
                f"enrolment token {token.id} is for agent {token.for_name!r}, not {agent_name!r}"
            )
        return token

    def revoke(self, token_id: str, *, now: datetime.datetime | None = None) -> None:
        if not self.store.revoke(token_id, self._now(now)):
            raise NotFound(f"no enrolment token {token_id}")

    def list(self) -> list[EnrolmentToken]:
        return self.store.list()

    def _refuse_unusable(self, token: EnrolmentToken, now: datetime.datetime) -> None:
        state = token.state(now)
        if state == "revoked":
            raise Unauthorized(f"enrolment token {token.id} has been revoked")
        if state == "used":
            raise Unauthorized(f"enrolment token {token.id} has already been used")
        if state == "expired":
            raise Unauthorized(
                f"enrolment token {token.id} expired at "
                f"{token.expires_at.replace(microsecond=0).isoformat()}Z"
            )

    def _now(self, now: datetime.datetime | None) -> datetime.datetime:
        value = self._clock() if now is None else now
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value
