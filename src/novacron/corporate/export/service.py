"""Valuations to workbooks: a stored valuation version, or DCF inputs sent as JSON.

Both go through the calc slice's ``evaluate`` first, so a model the engine refuses is
refused here with the same field paths (``["inputs", "terminal", "growth"]``) and no
workbook is ever built from inputs the API would not accept.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.errors import Invalid
from novacron.corporate.calc.runners_models import dcf_inputs
from novacron.corporate.calc.schemas_models import DCFIn
from novacron.corporate.calc.service import evaluate
from novacron.corporate.export.xlsx import ExportMeta, dcf_xlsx
from novacron.corporate.finance.dcf import DCFInputs
from novacron.corporate.ma.service.targets import find_target
from novacron.corporate.ma.service.valuations import get_valuation

DCF_KINDS = ("dcf", "sensitivity", "scenarios", "monte_carlo")
"""Valuation kinds whose inputs hold a whole DCF (the others add their extras to it)."""


def parse_dcf_inputs(inputs: Any) -> DCFInputs:
    """The finance dataclass of JSON DCF inputs; ``Invalid`` with ``["inputs", …]`` paths
    (types from pydantic, meaning from the engine) exactly as ``POST /calc/dcf`` answers."""
    evaluate("dcf", inputs)  # raises the calc API's own errors
    return dcf_inputs(DCFIn.model_validate(inputs))


def slug(text: str) -> str:
    """A file-name-safe ASCII slug (``"Acme Storage/EU"`` → ``"Acme-Storage-EU"``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "valuation"


def content_disposition(filename: str) -> str:
    """An attachment header with an ASCII fallback and the UTF-8 name (RFC 6266)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def inputs_xlsx(inputs: Any, now: datetime | None = None) -> tuple[str, bytes]:
    """A stateless export: ``(filename, xlsx bytes)`` of DCF inputs given as JSON."""
    model = parse_dcf_inputs(inputs)
    meta = ExportMeta(exported_at=now or utcnow())
    return f"dcf-{model.currency}.xlsx", dcf_xlsx(model, meta)


def valuation_xlsx(
    session: Session, ref: str, version: int, now: datetime | None = None, *, project_id: str
) -> tuple[str, bytes]:
    """Version ``version`` of the project's target ``ref``'s valuation as ``(filename,
    xlsx bytes)``.

    DCF-based kinds export their DCF; any other kind (comps, precedents …) is refused
    naming ``version``. Inputs are re-validated: a stored model the current engine refuses
    fails with the engine's field paths rather than producing a wrong workbook.
    """
    target = find_target(session, ref, project_id=project_id)
    row = get_valuation(session, target.id, version, project_id=project_id)
    if row.kind not in DCF_KINDS:
        kinds = ", ".join(DCF_KINDS)
        msg = f"v{version} is a {row.kind} model; only DCF-based valuations ({kinds}) export"
        raise Invalid(msg, errors=[{"loc": ["path", "version"], "msg": msg}])
    fields = {k: v for k, v in dict(row.inputs).items() if k in DCFIn.model_fields}
    model = parse_dcf_inputs(fields)
    extra: list[tuple[str, str]] = []
    if row.kind != "dcf":
        extra.append(("Stored model kind", f"{row.kind} (its base DCF is exported)"))
    meta = ExportMeta(
        exported_at=now or utcnow(),
        target=target.name,
        version=row.version,
        approved=row.approved,
        note=row.note,
        created_by=row.created_by,
        extra=tuple(extra),
    )
    return f"{slug(target.name)}-v{row.version}-dcf.xlsx", dcf_xlsx(model, meta)
