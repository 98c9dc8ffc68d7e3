"""Import runs against a migrated database: all-or-nothing, partial, dry run, and
duplicates against existing records (the slices' own services create the rows)."""

from __future__ import annotations

from sqlalchemy import func, select

from novacron.core.database import Database
from novacron.corporate.imports.service import PARTNERS, TARGETS, run_import
from novacron.corporate.ma.models import Target
from novacron.corporate.partners.models import Partner
from novacron.security.models import DEFAULT_PROJECT_ID

GOOD = b"name,category,revenue,currency\nAcme,storage,100,EUR\nBeta,security,,\n"
MIXED = (
    b"name,category,custom_category,revenue\n"
    b"Acme,storage,,100\n"
    b"Beta,custom,,5\n"  # the service: custom needs its text
    b"Gamma,networking,,-1\n"  # the schema: revenue >= 0
    b"Delta,quantum,,\n"
)


def names(db: Database, model: type = Target) -> list[str]:
    with db.read() as s:
        return sorted(s.scalars(select(model.name)))


def test_happy_path_creates_every_row(db: Database) -> None:
    with db.session() as s:
        report = run_import(s, TARGETS, GOOD, "alice", project_id=DEFAULT_PROJECT_ID)
    assert (report.rows, report.created, report.valid, report.errors) == (2, 2, 2, [])
    assert not report.rejected
    assert report.summary("target") == "created 2 target(s) from 2 row(s)"
    with db.read() as s:
        acme = s.scalar(select(Target).where(Target.name == "Acme"))
        assert acme is not None
        assert (acme.currency, str(acme.revenue), acme.stage) == ("EUR", "100.0000", "screening")
        assert acme.created_by == "alice" and acme.owner == "alice"


def test_all_or_nothing_writes_no_row_when_one_fails(db: Database) -> None:
    with db.session() as s:
        report = run_import(s, TARGETS, MIXED, "alice", project_id=DEFAULT_PROJECT_ID)
    assert report.rejected
    assert (report.rows, report.created, report.valid) == (4, 0, 2)
    assert [(e.row, e.field, e.value) for e in report.errors] == [
        (3, "custom_category", None),
        (4, "revenue", "-1"),
    ]
    assert report.errors[0].msg == "custom_category is required when category is custom"
    assert names(db) == []
    assert report.summary("target").startswith("2 row(s) with errors: no target imported")


def test_partial_writes_the_good_rows(db: Database) -> None:
    with db.session() as s:
        report = run_import(s, TARGETS, MIXED, "alice", partial=True, project_id=DEFAULT_PROJECT_ID)
    assert not report.rejected
    assert (report.created, len(report.errors)) == (2, 2)
    assert names(db) == ["Acme", "Delta"]


def test_dry_run_checks_everything_and_writes_nothing(db: Database) -> None:
    with db.session() as s:
        report = run_import(s, TARGETS, GOOD, "alice", dry_run=True, project_id=DEFAULT_PROJECT_ID)
    assert (report.created, report.valid, report.errors) == (0, 2, [])
    assert report.summary("target") == "dry run: 2 of 2 row(s) valid, nothing written"
    with db.session() as s:
        report = run_import(
            s, TARGETS, MIXED, "alice", dry_run=True, partial=True, project_id=DEFAULT_PROJECT_ID
        )
    assert (report.created, report.valid, len(report.errors)) == (0, 2, 2)
    assert names(db) == []
    with db.read() as s:  # no stage history row either
        assert s.scalar(select(func.count()).select_from(Target)) == 0


def test_duplicates_against_existing_records_per_row(db: Database) -> None:
    with db.session() as s:
        run_import(
            s, TARGETS, b"name,category\nAcme,storage\n", "alice", project_id=DEFAULT_PROJECT_ID
        )
    with db.session() as s:
        report = run_import(s, TARGETS, b"name,category\nNew,storage\nACME,security\n", "bob",
                            partial=True, project_id=DEFAULT_PROJECT_ID)  # fmt: skip
    (err,) = report.errors
    assert (err.row, err.field, err.value) == (3, "name", "ACME")
    assert "already exists" in err.msg
    assert names(db) == ["Acme", "New"]


def test_partners_import_with_contacts_and_tier(db: Database) -> None:
    data = (
        b"Name,Type,Currency,Region,Certified Engineers,CSAT,Contact Name,Contact Email\n"
        b"Globex,System Integrator,USD,EMEA,12,4.5,Ann Lee,ann@globex.example\n"
        b"Initech,reseller,EUR,,,,,\n"
    )
    with db.session() as s:
        report = run_import(s, PARTNERS, data, "carol", project_id=DEFAULT_PROJECT_ID)
    assert (report.created, report.errors) == (2, [])
    with db.read() as s:
        globex = s.scalar(select(Partner).where(Partner.name == "Globex"))
        assert globex is not None
        assert (globex.type, globex.region, globex.certified_engineers) == (
            "system_integrator", "EMEA", 12,
        )  # fmt: skip
        assert globex.contacts[0]["email"] == "ann@globex.example"
        assert globex.tier in ("bronze", "silver", "gold", "platinum")
    with db.session() as s:
        again = run_import(
            s,
            PARTNERS,
            b"name,type,currency\nglobex,cloud,USD\n",
            "carol",
            project_id=DEFAULT_PROJECT_ID,
        )
    assert again.rejected and again.errors[0].field == "name"
    assert names(db, Partner) == ["Globex", "Initech"]


def test_bad_header_fails_even_with_partial(db: Database) -> None:
    with db.session() as s:
        report = run_import(s, TARGETS, b"name,category,colour\nA,storage,red\n", "x",
                            partial=True, project_id=DEFAULT_PROJECT_ID)  # fmt: skip
    assert report.rejected and report.created == 0
    assert [(e.row, e.field) for e in report.errors] == [(1, "colour")]
    assert names(db) == []
