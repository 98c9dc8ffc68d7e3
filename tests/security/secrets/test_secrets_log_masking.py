from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from novacron.security.secrets import SecretMaskingFilter, SecretStr, install_masking_filter
from novacron.security.secrets.redact import MASK, mask_text

TOKEN = "nct_" + "Ab3-_x" * 7


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"issued {TOKEN} to admin", f"issued nct_{MASK} to admin"),
        ("agent nca_QWERTYuiop123456 enrolled", f"agent nca_{MASK} enrolled"),
        ("enrol with nce_zzzzzzzzzzzz", f"enrol with nce_{MASK}"),
        (f"Authorization: Bearer {TOKEN}", f"Authorization: Bearer nct_{MASK}"),
        ("authorization: bearer eyJhbGciOi.eyJzdWIi.sig-nature", f"authorization: bearer {MASK}"),
        ("X-Vault-Token: hvs.CAESIabcdef", f"X-Vault-Token: {MASK}"),
        (
            "postgresql://u:pw@db/x?password=hunter2&sslmode=require",
            f"postgresql://u:{MASK}@db/x?password={MASK}&sslmode=require",
        ),
        ('{"password": "hunter2", "user": "bob"}', f'{{"password": "{MASK}", "user": "bob"}}'),
        ("PASSWD=letmein", f"PASSWD={MASK}"),
        ("api_key: abc123def", f"api_key: {MASK}"),
        ("client_secret='xyzzy'", f"client_secret='{MASK}'"),
        ("redis://:s3cret@cache:6379/0", f"redis://:{MASK}@cache:6379/0"),
        ("https://user:tok@example.org/x", f"https://user:{MASK}@example.org/x"),
        # Left alone: nothing secret-shaped.
        ("http://127.0.0.1:8080/api/v1/vms", "http://127.0.0.1:8080/api/v1/vms"),
        ("missing bearer token", "missing bearer token"),
        ("vm-3f9c started on host-1", "vm-3f9c started on host-1"),
        ("nct_short", "nct_short"),
    ],
)
def test_token_shapes_are_masked(text: str, expected: str) -> None:
    assert mask_text(text) == expected


def test_known_values_are_masked_longest_first() -> None:
    assert mask_text("a=pass pw=password", ["pass", "password"]) == f"a={MASK} pw={MASK}"
    assert mask_text("on and on", ["on"]) == "on and on"  # too short to mask


@pytest.fixture
def stream_logger() -> Iterator[tuple[logging.Logger, io.StringIO, SecretMaskingFilter]]:
    """A private root-like logger with one stream handler, as the server configures."""
    parent = logging.getLogger("masktest")
    parent.propagate = False
    parent.setLevel(logging.DEBUG)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    parent.addHandler(handler)
    mask = SecretMaskingFilter()
    install_masking_filter(mask, parent)
    install_masking_filter(mask, parent)  # idempotent
    assert handler.filters == [mask]
    yield parent, stream, mask
    parent.removeHandler(handler)


def test_filter_on_the_handler_masks_records_from_child_loggers(
    stream_logger: tuple[logging.Logger, io.StringIO, SecretMaskingFilter],
) -> None:
    _, stream, mask = stream_logger
    mask.register("db-pass-9876")
    mask.register(SecretStr("wrapped-value-1"))
    child = logging.getLogger("masktest.compute.worker")
    child.info("dsn uses %s, key %s", "db-pass-9876", "wrapped-value-1")
    child.warning("header was %r", {"Authorization": f"Bearer {TOKEN}"})
    child.info("plain message %d", 42)
    out = stream.getvalue()
    assert "db-pass-9876" not in out and "wrapped-value-1" not in out and TOKEN not in out
    assert f"masktest.compute.worker dsn uses {MASK}, key {MASK}" in out
    assert "plain message 42" in out  # records are never dropped
    mask.forget("db-pass-9876")
    child.info("now %s", "db-pass-9876")
    assert "now db-pass-9876" in stream.getvalue()


def test_tracebacks_and_stacks_are_masked(
    stream_logger: tuple[logging.Logger, io.StringIO, SecretMaskingFilter],
) -> None:
    parent, stream, mask = stream_logger
    mask.register("traceback-secret")
    try:
        raise ValueError("bad value traceback-secret with password=hunter2")
    except ValueError:
        parent.exception("failed")
    parent.info("where", stack_info=True, extra={"note": "traceback-secret"})
    out = stream.getvalue()
    assert "ValueError" in out and "Stack (most recent call last)" in out
    assert "traceback-secret" not in out and "hunter2" not in out


def test_a_bad_format_string_still_logs(
    stream_logger: tuple[logging.Logger, io.StringIO, SecretMaskingFilter],
) -> None:
    parent, stream, mask = stream_logger
    mask.register("fmt-secret-1")
    logging.raiseExceptions, saved = False, logging.raiseExceptions
    try:
        parent.info("broken %d %s fmt-secret-1", "not a number")
    finally:
        logging.raiseExceptions = saved
    assert "broken %d %s" in stream.getvalue()
    assert "fmt-secret-1" not in stream.getvalue()
