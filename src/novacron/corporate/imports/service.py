"""An import run: parse, then create every valid row through its slice's service.

Each row is created inside its own savepoint, so a row the service refuses (a name taken
by an existing record, a custom category without its text …) is reported and undone
alone; the whole batch sits in one more savepoint that is rolled back for a dry run, or
when any row failed and ``partial`` was not asked for (all-or-nothing). A dry run thus
checks exactly what a real run would, and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from novacron.core.errors import Invalid, NovaCronError
from novacron.corporate.imports import csv_import as ci
from novacron.corporate.ma.schemas import TargetCreate
from novacron.corporate.ma.service import create_target
from novacron.corporate.partners.schemas import PartnerCreate
from novacron.corporate.partners.service import create_partner


class Create(Protocol):
    """A slice's create use case: the row's request model, the caller, the project."""

    def __call__(self, session: Session, data: Any, by: str, /, *, project_id: str) -> object: ...


@dataclass(frozen=True, slots=True)
class Importer:
    spec: ci.ImportSpec
    create: Create


TARGETS = Importer(ci.ImportSpec("target", TargetCreate), create_target)
PARTNERS = Importer(
    ci.ImportSpec(
        "partner",
        PartnerCreate,
        nested={
            "contact_name": ("contacts", "name"),
            "contact_email": ("contacts", "email"),
            "contact_role": ("contacts", "role"),
            "contact_phone": ("contacts", "phone"),
        },
    ),
    create_partner,
)
IMPORTERS = {"targets": TARGETS, "partners": PARTNERS}


@dataclass(slots=True)
class ImportReport:
    rows: int
    created: int
    valid: int
    """Rows that passed every check (created, or would be)."""
    dry_run: bool
    partial: bool
    errors: list[ci.RowError] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        """Nothing was (or would be) written because of errors: the API answers 422."""
        return bool(self.errors) and not self.partial

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "rows": self.rows,
            "valid": self.valid,
            "dry_run": self.dry_run,
            "partial": self.partial,
            "errors": [e.as_dict() for e in self.errors],
        }

    def summary(self, noun: str) -> str:
        failed = len({e.row for e in self.errors})
        if self.rejected:
            hint = " (--partial / partial=true imports the valid rows)" if self.valid else ""
            return (
                f"{failed} row(s) with errors: no {noun} imported; "
                f"{self.valid} of {self.rows} row(s) valid{hint}"
            )
        if self.dry_run:
            return f"dry run: {self.valid} of {self.rows} row(s) valid, nothing written"
        return f"created {self.created} {noun}(s) from {self.rows} row(s)"


def run_import(
    session: Session,
    importer: Importer,
    data: bytes,
    by: str,
    *,
    project_id: str,
    dry_run: bool = False,
    partial: bool = False,
    encoding: str | None = None,
) -> ImportReport:
    """Import a CSV file's rows into project ``project_id`` (names need only be free in
    it); see the module docstring for what is kept."""
    parsed = ci.parse(importer.spec, ci.decode(data, encoding))
    report = ImportReport(parsed.rows, 0, 0, dry_run, partial, list(parsed.errors))
    if parsed.fatal:
        report.partial = False  # a bad header fails the file whatever the mode
        return report
    batch = session.begin_nested()
    for row in parsed.valid:
        error = _create(session, importer, row, by, project_id)
        if error is None:
            report.valid += 1
        else:
            report.errors.append(error)
    if dry_run or (report.errors and not partial):
        batch.rollback()
    else:
        batch.commit()
        report.created = report.valid
    report.errors.sort(key=lambda e: e.row)
    return report


def _create(
    session: Session, importer: Importer, row: ci.ParsedRow, by: str, project_id: str
) -> ci.RowError | None:
    """Create one row in its own savepoint; the service's refusal as a row error."""
    try:
        with session.begin_nested():
            importer.create(session, row.model, by, project_id=project_id)
    except NovaCronError as exc:
        loc = (exc.errors[0].get("loc") if exc.errors else None) or []
        path = str(loc[-1]) if loc else None
        header, cell = row.cell(path) if path else (None, None)
        return ci.RowError(row.row, ci.field_name(importer.spec, path), exc.detail, cell, header)
    except IntegrityError:
        header, cell = row.cell(importer.spec.key_field)
        msg = f"conflicts with an existing {importer.spec.noun}"
        return ci.RowError(row.row, importer.spec.key_field, msg, cell, header)
    return None


def rejection(report: ImportReport, noun: str) -> Invalid:
    """The 422 of a rejected import, its errors carrying row, field, value and message."""
    return Invalid(report.summary(noun), errors=[e.as_dict() for e in report.errors])
