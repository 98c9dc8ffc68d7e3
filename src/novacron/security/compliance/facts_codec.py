"""``HostFacts`` on the wire and in the database: plain JSON, validated on the way in.

The agent sends ``host_facts_to_json(facts)``; the server reads it back with
``host_facts_from_json``, which checks every field's type (the body comes from another
process) and raises ``Invalid`` with field paths instead of storing something a check
would trip over later. Pydantic validates the stdlib dataclasses directly, so the wire
format is exactly the dataclasses' fields and cannot drift from them.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from novacron.core.errors import Invalid
from novacron.security.compliance.facts import HostFacts
from novacron.security.compliance.model import naive_utc

MAX_ITEMS = 20_000
"""Most ports, paths or pending updates one report may list (a sane host has far fewer)."""


@cache
def _adapter() -> TypeAdapter[HostFacts]:
    return TypeAdapter(HostFacts)


def host_facts_to_json(facts: HostFacts) -> dict[str, Any]:
    data: dict[str, Any] = _adapter().dump_python(facts, mode="json")
    return data


def host_facts_from_json(data: Any, *, loc: tuple[str, ...] = ("body",)) -> HostFacts:
    """Validate ``data`` into ``HostFacts`` (times naive UTC); ``Invalid`` when it is not."""
    try:
        facts = _adapter().validate_python(data)
    except ValidationError as exc:
        errors = [
            {"loc": [*loc, *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        shown = "; ".join(f"{'.'.join(e['loc'][len(loc) :])}: {e['msg']}" for e in errors[:5])
        raise Invalid(f"invalid host facts: {shown}", errors=errors) from None
    too_long = [
        name
        for name, items in (
            ("listening_ports", facts.listening_ports),
            ("disk_encryption.paths", facts.disk_encryption.paths if facts.disk_encryption else ()),
            (
                "pending_updates.updates",
                facts.pending_updates.updates if facts.pending_updates else (),
            ),
        )
        if items is not None and len(items) > MAX_ITEMS
    ]
    if too_long:
        raise Invalid(
            f"invalid host facts: more than {MAX_ITEMS} items in {', '.join(too_long)}",
            errors=[{"loc": [*loc, *n.split(".")], "msg": "too many items"} for n in too_long],
        )
    if facts.collected_at is not None:
        facts = replace(facts, collected_at=naive_utc(facts.collected_at))
    return facts
