"""Co-innovation labs, academic partnerships and government partnerships.

Budget utilisation, programme status and certification flags are derived on read
(``programmes``) from the stored figures and dates and the caller's ``today``.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from novacron.core.errors import Conflict, Invalid, InvalidState, NotFound
from novacron.core.ids import new_id
from novacron.core.pagination import PageParams, paginate
from novacron.corporate.ecosystem import programmes
from novacron.corporate.ecosystem._common import book, find, unique_name
from novacron.corporate.ecosystem.models import (
    AcademicOutput,
    AcademicPartnership,
    Certification,
    GovernmentPartnership,
    Lab,
    LabProject,
    LabSpend,
)
from novacron.corporate.ecosystem.schemas_programmes import (
    AcademicCreate,
    AcademicOut,
    CertIn,
    CertOut,
    GovCreate,
    GovOut,
    LabCreate,
    LabOut,
    LabUpdate,
    OutputIn,
    OutputOut,
    ProjectIn,
    ProjectOut,
    ProjectUpdate,
    SpendIn,
    SpendOut,
)
from novacron.corporate.finance.money import same_currency

ZERO = Decimal(0)

# -- labs -------------------------------------------------------------------------------------


def lab_out(lab: Lab) -> LabOut:
    spent = sum((Decimal(s.amount) for s in lab.spend), ZERO)
    budget = Decimal(lab.budget)
    outcomes = Counter(p.outcome for p in lab.projects)
    return LabOut(
        id=lab.id,
        name=lab.name,
        partners=list(lab.partners),
        focus_area=lab.focus_area,
        budget=book(budget, lab.currency),
        currency=lab.currency,
        status=lab.status,
        spent=book(spent, lab.currency),
        remaining=book(budget - spent, lab.currency),
        utilisation_pct=programmes.utilisation_pct(budget, spent),
        over_budget=spent > budget,
        projects=[ProjectOut.model_validate(p) for p in lab.projects],
        outcomes={o: outcomes.get(o, 0) for o in programmes.PROJECT_OUTCOMES},
        created_by=lab.created_by,
        created_at=lab.created_at,
    )


def find_lab(session: Session, ref: str, *, project_id: str, lock: bool = False) -> Lab:
    return find(session, Lab, ref, "lab", project_id=project_id, lock=lock)


def list_labs(
    session: Session, page: PageParams, status: str | None = None, *, project_id: str
) -> tuple[list[LabOut], int]:
    stmt = select(Lab).where(Lab.project_id == project_id).order_by(Lab.name)
    if status:
        stmt = stmt.where(Lab.status == status)
    rows, total = paginate(session, stmt, page)
    return [lab_out(lab) for lab in rows], total


def create_lab(session: Session, body: LabCreate, who: str, *, project_id: str) -> LabOut:
    unique_name(session, Lab, body.name, "lab", project_id)
    lab = Lab(
        id=new_id("lab"),
        project_id=project_id,
        name=body.name,
        partners=list(body.partners),
        focus_area=body.focus_area,
        budget=body.budget,
        currency=body.currency,
        status=body.status,
        created_by=who,
    )
    session.add(lab)
    session.flush()
    return lab_out(lab)


def update_lab(session: Session, ref: str, body: LabUpdate, *, project_id: str) -> LabOut:
    lab = find_lab(session, ref, project_id=project_id)
    if body.status is not None:
        programmes.check_lab_transition(lab.status, body.status)
        lab.status = body.status
    if body.focus_area is not None:
        lab.focus_area = body.focus_area
    if body.budget is not None:
        lab.budget = body.budget
    if body.partners is not None:
        lab.partners = list(body.partners)
    session.flush()
    return lab_out(lab)


def delete_lab(session: Session, ref: str, *, project_id: str) -> None:
    session.delete(find_lab(session, ref, project_id=project_id))


def add_project(session: Session, ref: str, body: ProjectIn, *, project_id: str) -> ProjectOut:
    lab = find_lab(session, ref, project_id=project_id, lock=True)
    if any(p.title == body.title for p in lab.projects):
        raise Conflict(
            f"{lab.name} already has a project {body.title!r}",
            errors=[{"loc": ["title"], "msg": "already exists"}],
        )
    project = LabProject(
        id=new_id("lpj"), title=body.title, status=body.status, outcome=body.outcome
    )
    lab.projects.append(project)
    session.flush()
    return ProjectOut.model_validate(project)


def update_project(
    session: Session, ref: str, project_ref: str, body: ProjectUpdate, *, project_id: str
) -> ProjectOut:
    lab = find_lab(session, ref, project_id=project_id)
    for project in lab.projects:
        if project_ref in (project.id, project.title):
            if body.status is not None:
                project.status = body.status
            if body.outcome is not None:
                project.outcome = body.outcome
            session.flush()
            return ProjectOut.model_validate(project)
    raise NotFound(f"{lab.name} has no project {project_ref!r}")


def add_spend(session: Session, ref: str, body: SpendIn, *, project_id: str) -> SpendOut:
    lab = find_lab(session, ref, project_id=project_id, lock=True)
    same_currency([("lab.currency", lab.currency), ("currency", body.currency)])
    if lab.status == "concluded":
        raise InvalidState(f"{lab.name} is concluded: it takes no more spend")
    spend = LabSpend(
        id=new_id("lsp"),
        amount=body.amount,
        currency=body.currency,
        spent_on=body.spent_on,
        description=body.description,
    )
    lab.spend.append(spend)
    session.flush()
    return _spend_out(spend)


def _spend_out(spend: LabSpend) -> SpendOut:
    return SpendOut(
        id=spend.id,
        amount=book(spend.amount, spend.currency),
        currency=spend.currency,
        spent_on=spend.spent_on,
        description=spend.description,
    )


def list_spend(session: Session, ref: str, *, project_id: str) -> list[SpendOut]:
    return [_spend_out(s) for s in find_lab(session, ref, project_id=project_id).spend]


# -- academic ---------------------------------------------------------------------------------


def academic_out(ap: AcademicPartnership, today: date) -> AcademicOut:
    counts = Counter(o.kind for o in ap.outputs)
    return AcademicOut(
        id=ap.id,
        institution=ap.institution,
        programme_type=ap.programme_type,
        title=ap.title,
        start_on=ap.start_on,
        end_on=ap.end_on,
        status=programmes.period_status(ap.start_on, ap.end_on, today),
        funding=book(ap.funding, ap.currency),
        currency=ap.currency,
        outputs=[OutputOut.model_validate(o) for o in ap.outputs],
        output_counts={k: counts.get(k, 0) for k in programmes.ACADEMIC_OUTPUTS},
        created_by=ap.created_by,
        created_at=ap.created_at,
    )


def find_academic(session: Session, ref: str, *, project_id: str) -> AcademicPartnership:
    what = "academic partnership"
    return find(session, AcademicPartnership, ref, what, project_id=project_id, by_name=False)


def list_academic(
    session: Session,
    page: PageParams,
    today: date,
    programme_type: str | None = None,
    *,
    project_id: str,
) -> tuple[list[AcademicOut], int]:
    stmt = (
        select(AcademicPartnership)
        .where(AcademicPartnership.project_id == project_id)
        .order_by(AcademicPartnership.institution, AcademicPartnership.start_on)
    )
    if programme_type:
        stmt = stmt.where(AcademicPartnership.programme_type == programme_type)
    rows, total = paginate(session, stmt, page)
    return [academic_out(ap, today) for ap in rows], total


def create_academic(
    session: Session, body: AcademicCreate, who: str, today: date, *, project_id: str
) -> AcademicOut:
    programmes.check_period(body.start_on, body.end_on)
    ap = AcademicPartnership(
        id=new_id("acad"), project_id=project_id, created_by=who, **body.model_dump()
    )
    session.add(ap)
    session.flush()
    return academic_out(ap, today)


def add_output(session: Session, ref: str, body: OutputIn, *, project_id: str) -> OutputOut:
    ap = find_academic(session, ref, project_id=project_id)
    output = AcademicOutput(id=new_id("aout"), **body.model_dump())
    ap.outputs.append(output)
    session.flush()
    return OutputOut.model_validate(output)


def delete_academic(session: Session, ref: str, *, project_id: str) -> None:
    session.delete(find_academic(session, ref, project_id=project_id))


# -- government -------------------------------------------------------------------------------


def cert_out(cert: Certification, today: date) -> CertOut:
    flags = programmes.certification_flags(cert.status, cert.expires_on, today)
    return CertOut(
        id=cert.id,
        name=cert.name,
        status=cert.status,
        started_on=cert.started_on,
        authorized_on=cert.authorized_on,
        expires_on=cert.expires_on,
        effective_status=flags.effective_status,
        expired=flags.expired,
        expiring_soon=flags.expiring_soon,
        days_to_expiry=flags.days_to_expiry,
    )


def gov_out(gp: GovernmentPartnership, today: date) -> GovOut:
    return GovOut(
        id=gp.id,
        agency=gp.agency,
        programme=gp.programme,
        jurisdiction=gp.jurisdiction,
        contract_vehicle=gp.contract_vehicle,
        value=None if gp.value is None else book(gp.value, gp.currency),
        currency=gp.currency,
        certifications=[cert_out(c, today) for c in gp.certifications],
        created_by=gp.created_by,
        created_at=gp.created_at,
    )


def find_government(
    session: Session, ref: str, *, project_id: str, lock: bool = False
) -> GovernmentPartnership:
    what = "government partnership"
    return find(
        session, GovernmentPartnership, ref, what, project_id=project_id, by_name=False, lock=lock
    )


def list_government(
    session: Session,
    page: PageParams,
    today: date,
    jurisdiction: str | None = None,
    *,
    project_id: str,
) -> tuple[list[GovOut], int]:
    stmt = (
        select(GovernmentPartnership)
        .where(GovernmentPartnership.project_id == project_id)
        .order_by(GovernmentPartnership.agency, GovernmentPartnership.created_at)
    )
    if jurisdiction:
        stmt = stmt.where(GovernmentPartnership.jurisdiction == jurisdiction)
    rows, total = paginate(session, stmt, page)
    return [gov_out(gp, today) for gp in rows], total


def _check_cert(body: CertIn) -> None:
    programmes.check_certification(
        body.status, body.started_on, body.authorized_on, body.expires_on
    )


def create_government(
    session: Session, body: GovCreate, who: str, today: date, *, project_id: str
) -> GovOut:
    names: set[str] = set()
    for index, cert in enumerate(body.certifications):
        if cert.name in names:
            raise Conflict(
                f"certifications[{index}].name: {cert.name!r} appears twice",
                errors=[{"loc": ["certifications", index, "name"], "msg": "duplicate"}],
            )
        names.add(cert.name)
        try:
            _check_cert(cert)
        except Invalid as exc:
            for err in exc.errors:
                err["loc"] = ["certifications", index, *err["loc"]]
            raise
    gp = GovernmentPartnership(
        id=new_id("gov"),
        project_id=project_id,
        created_by=who,
        **body.model_dump(exclude={"certifications"}),
    )
    gp.certifications = [
        Certification(id=new_id("cert"), **cert.model_dump()) for cert in body.certifications
    ]
    session.add(gp)
    session.flush()
    return gov_out(gp, today)


def delete_government(session: Session, ref: str, *, project_id: str) -> None:
    session.delete(find_government(session, ref, project_id=project_id))


def certify(
    session: Session, ref: str, name: str, body: CertIn, today: date, *, project_id: str
) -> CertOut:
    """Record a certification's status and dates (created, or replaced by name)."""
    gp = find_government(session, ref, project_id=project_id, lock=True)
    _check_cert(body)
    cert = next((c for c in gp.certifications if c.name == name), None)
    if cert is None:
        cert = Certification(id=new_id("cert"), name=name)
        gp.certifications.append(cert)
    for key, value in body.model_dump().items():
        setattr(cert, key, value)
    session.flush()
    return cert_out(cert, today)


def list_certifications(
    session: Session, ref: str, today: date, *, project_id: str
) -> list[CertOut]:
    return [
        cert_out(c, today)
        for c in find_government(session, ref, project_id=project_id).certifications
    ]
