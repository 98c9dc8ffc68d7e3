"""Every property of every schema in the OpenAPI has a type: clients and the fuzz test's
response checks rely on it (an untyped ``field_serializer("*")`` once left them blank)."""

from __future__ import annotations

from pathlib import Path

from novacron.api import create_app
from novacron.core.config import Settings

TYPED = {"type", "anyOf", "oneOf", "allOf", "$ref", "enum", "const"}
#: FastAPI's own: a validation error echoes whatever input it was given.
FREE_FORM = {"ValidationError.input"}


def test_every_schema_property_is_typed(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, enrolment_token=None), workers=False)
    schemas = app.openapi()["components"]["schemas"]
    untyped = [
        f"{name}.{prop}"
        for name, schema in schemas.items()
        for prop, spec in (schema.get("properties") or {}).items()
        if not TYPED & set(spec) and f"{name}.{prop}" not in FREE_FORM
    ]
    assert len(schemas) > 200
    assert untyped == []
    vm = schemas["VMOut"]["properties"]
    assert vm["vcpus"]["type"] == "integer"
    assert vm["created_at"] == {"type": "string", "format": "date-time", "title": "Created At"}
