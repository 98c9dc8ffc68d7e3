"""Password hashing (Argon2id at OWASP's parameters) and the password policy.

OWASP Password Storage Cheat Sheet: Argon2id with m=19 MiB, t=2, p=1 is the minimum
configuration; hashes made with weaker parameters are upgraded at the next sign-in.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from novacron.core.errors import Invalid

MEMORY_KIB = 19456
TIME_COST = 2
PARALLELISM = 1
MIN_LENGTH = 12
MAX_LENGTH = 256
"""Long enough for any passphrase; bounded so a megabyte password can't tie up a worker."""

_HASHER = PasswordHasher(
    time_cost=TIME_COST,
    memory_cost=MEMORY_KIB,
    parallelism=PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)

_DUMMY_HASH = _HASHER.hash("novacron-dummy-password")
"""Verified against when the user does not exist, so both cases take the same time."""

COMMON_PASSWORDS = frozenset(
    [
        "password",
        "password1",
        "password12",
        "password123",
        "password1234",
        "123456789012",
        "qwertyuiop12",
        "qwertyuiopas",
        "1q2w3e4r5t6y",
        "letmein12345",
        "iloveyou1234",
        "administrator",
        "admin1234567",
        "changeme1234",
        "welcome12345",
        "passw0rd1234",
        "p@ssw0rd1234",
        "trustno11234",
        "novacron1234",
        "novacronadmin",
        "000000000000",
        "111111111111",
        "123123123123",
        "abc123abc123",
        "qwerty123456",
        "monkey123456",
        "dragon123456",
        "football1234",
        "baseball1234",
        "sunshine1234",
        "princess1234",
        "superman1234",
        "whatever1234",
        "correcthorsebatterystaple",
    ]
)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; a missing hash costs the same time and fails."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def policy_problems(password: str, user_name: str = "") -> list[str]:
    """What is wrong with ``password`` (NIST SP 800-63B: length and a block list, no
    composition rules); empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        problems.append("is a commonly used password")
    elif len(set(password)) <= 2:
        problems.append("repeats one or two characters")
    if user_name and len(user_name) >= 3 and user_name.lower() in lowered:
        problems.append("must not contain the user name")
    return problems


def check_policy(password: str, user_name: str = "", field: str = "password") -> None:
    problems = policy_problems(password, user_name)
    if problems:
        raise Invalid(
            f"{field}: " + "; ".join(problems),
            errors=[{"loc": ["body", field], "msg": p} for p in problems],
        )
