"""Regressions for what the OpenAPI fuzzer found (test_openapi_fuzz.py), fast and without
a cluster: the same failures, reproduced at their root."""

from __future__ import annotations

import inspect
import sqlite3
import typing
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from types import ModuleType
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import create_engine, literal, select
from sqlalchemy.orm import Session

from novacron.agent.testing import run_uvicorn_in_thread
from novacron.core import problems
from novacron.core.clock import UtcDateTime
from novacron.core.errors import Invalid
from novacron.corporate.imports.csv_import import decode
from novacron.security import schemas as identity_schemas
from novacron.security.api import threats_routes
from novacron.security.compliance import schemas as compliance_schemas
from novacron.security.pki import schemas as pki_schemas

HUGE = 46007350616553588426908106752  # an ?offset= the fuzzer sent to list routes

# -- overflow: 500 → 422 --------------------------------------------------------------------


def _app() -> FastAPI:
    app = FastAPI()
    problems.install(app)
    engine = create_engine("sqlite://")

    @app.get("/page")
    def page(offset: int = 0) -> list[int]:
        # What paginate() does with ?offset=: SQLite's driver raises a bare OverflowError.
        with Session(engine) as s:
            return list(s.scalars(select(literal(1)).offset(offset)))

    @app.get("/window")
    def window(today: date) -> str:
        # What the partner-health route does with ?today=0001-01-03.
        return (today - timedelta(days=365)).isoformat()

    return app


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with run_uvicorn_in_thread(_app()) as url, httpx.Client(base_url=url, timeout=10) as c:
        yield c


def test_sqlite_refuses_huge_ints_with_a_bare_overflow_error() -> None:
    # The premise of the handler: not a DBAPI error, so no DataError handler sees it.
    with pytest.raises(OverflowError), sqlite3.connect(":memory:") as db:
        db.execute("SELECT ?", (HUGE,))


@pytest.mark.parametrize(
    ("path", "params"),
    [("/page", {"offset": HUGE}), ("/window", {"today": "0001-01-03"})],
)
def test_an_out_of_range_input_is_invalid_not_a_crash(
    client: httpx.Client, path: str, params: dict[str, Any]
) -> None:
    resp = client.get(path, params=params)
    assert resp.status_code == 422
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["type"].endswith("/invalid")
    assert body["detail"] == "a number or date in the request is out of range"
    # In range, the same routes answer.
    assert client.get("/page", params={"offset": 0}).json() == [1]
    assert client.get("/window", params={"today": "2026-01-01"}).json() == "2025-01-01"


# -- CSV import: ?encoding= that is no text encoding ----------------------------------------


@pytest.mark.parametrize(
    "encoding",
    [
        "\U000f423f\x00\U000d195c",  # what the fuzzer sent: a NUL makes codecs raise ValueError
        "base64",  # a codec, but bytes → bytes: bytes.decode raises LookupError
        "rot13",
        "no-such-encoding",
    ],
)
def test_an_import_with_a_bad_encoding_is_invalid(encoding: str) -> None:
    with pytest.raises(Invalid) as err:
        decode(b"name,stage\nAcme,screening\n", encoding)
    assert err.value.detail == f"unknown encoding {encoding!r}"
    assert err.value.errors == [{"loc": ["encoding"], "msg": "not a known text encoding"}]


def test_an_import_with_a_real_encoding_still_decodes() -> None:
    assert decode("name\nCaf\u00e9\n".encode("cp1252"), "cp1252") == "name\nCaf\u00e9\n"


# -- naive database timestamps went out without a zone ---------------------------------------


def test_utc_datetime_marks_naive_values_as_utc() -> None:
    adapter = TypeAdapter(UtcDateTime)
    naive = datetime(2026, 11, 26, 5, 45, 26, 920084)
    assert adapter.dump_json(adapter.validate_python(naive)) == b'"2026-11-26T05:45:26.920084Z"'
    # An aware value keeps its own zone.
    plus2 = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert adapter.dump_json(adapter.validate_python(plus2)) == b'"2026-01-01T12:00:00+02:00"'
    # The documented format is unchanged.
    assert adapter.json_schema(mode="serialization") == {"type": "string", "format": "date-time"}


INPUT_MODELS = {compliance_schemas.MuteCreate}
"""Requests: a naive ``expires_at`` there is read as UTC by the service, not here."""


def _output_models() -> list[type[BaseModel]]:
    modules: list[ModuleType] = [identity_schemas, compliance_schemas, pki_schemas, threats_routes]
    found = {
        obj
        for module in modules
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, BaseModel) and obj.__module__ == module.__name__
    }
    return sorted(found - INPUT_MODELS, key=lambda m: f"{m.__module__}.{m.__name__}")


def _datetime_fields(model: type[BaseModel]) -> dict[str, Any]:
    """Field name → its full annotation (metadata included), for datetime fields."""
    fields = {}
    for name, info in model.model_fields.items():
        annotation = info.annotation
        args = typing.get_args(annotation) or (annotation,)
        if datetime in args or annotation is datetime or _wraps_datetime(args):
            fields[name] = Annotated[(annotation, *info.metadata)] if info.metadata else annotation
    return fields


def _wraps_datetime(args: tuple[Any, ...]) -> bool:
    return any(
        typing.get_origin(a) is Annotated and typing.get_args(a)[0] is datetime for a in args
    )


def test_the_checked_models_have_timestamps() -> None:
    with_times = [m.__name__ for m in _output_models() if _datetime_fields(m)]
    for name in ("TokenOut", "UserOut", "ProjectOut", "AuditOut", "LoginOut"):
        assert name in with_times
    for name in ("RunOut", "MuteOut", "EnrolmentTokenOut", "AgentCertOut", "AlertOut"):
        assert name in with_times


@pytest.mark.parametrize("model", _output_models(), ids=lambda m: m.__name__)
def test_security_answers_carry_utc_timestamps(model: type[BaseModel]) -> None:
    naive = datetime(2026, 11, 26, 5, 45, 26, 920084)
    for name, annotation in _datetime_fields(model).items():
        adapter = TypeAdapter(annotation)
        out = adapter.dump_json(adapter.validate_python(naive))
        assert out == b'"2026-11-26T05:45:26.920084Z"', f"{model.__name__}.{name}: {out!r}"
