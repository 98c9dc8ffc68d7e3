"""The demo's partners: tiers earned through won registrations, open pipeline with a
conflict and two registrations about to expire, programmes, MDF flows and a rebate run."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from novacron.corporate.demo import data
from novacron.corporate.demo.common import Loader, build, exists
from novacron.corporate.partners import schemas as p_schemas
from novacron.corporate.partners import schemas_deals as p_deals
from novacron.corporate.partners.service import common as partner_common
from novacron.corporate.partners.service import deals as partner_deals
from novacron.corporate.partners.service import mdf as partner_mdf
from novacron.corporate.partners.service import partners as partner_svc
from novacron.corporate.partners.service import programmes as partner_programmes
from novacron.corporate.partners.service import rebate_runs


def load_partners(ld: Loader) -> None:
    new = []
    for spec in data.PARTNERS:
        if exists(partner_common.find_partner, ld, spec.name):
            ld.skip("partners")
            continue
        _partner(ld, spec)
        new.append(spec)
    for prog in data.PARTNER_PROGRAMMES:
        if exists(partner_common.find_programme, ld, prog["name"]):
            ld.skip("partner_programmes")
        else:
            _programme(ld, prog)
    names = {spec.name for spec in new}
    _enrol(ld, names)
    for req in data.MDF_REQUESTS:
        if req["partner"] in names:
            _mdf(ld, req)
    if names:
        _rebates(ld, sorted(names))


def _partner(ld: Loader, spec: data.PartnerSpec) -> None:
    partner_svc.create_partner(
        ld.s,
        build(
            p_schemas.PartnerCreate,
            name=spec.name,
            type=spec.type,
            region=spec.region,
            currency=spec.currency,
            contacts=[build(p_schemas.Contact, **c) for c in spec.contacts],
            status=spec.status,
            joined_on=ld.day(-540),
            certified_engineers=spec.engineers,
            csat=spec.csat,
            last_activity_on=ld.day(-7),
        ),
        ld.by,
        project_id=ld.project_id,
    )
    ld.count("partners")
    # Closing a deal re-evaluates the tier as of its close date, so closes go in date
    # order (newest first for a partner whose deals were reported late).
    closing = sorted(
        (d for d in spec.deals if d.closed is not None),
        key=lambda d: d.closed or 0,
        reverse=spec.reverse_close,
    )
    for deal in [*closing, *(d for d in spec.deals if d.closed is None)]:
        _deal(ld, spec, deal)


def _deal(ld: Loader, spec: data.PartnerSpec, deal: data.Deal) -> None:
    customer, product = (
        (deal.customer, deal.product) if deal.customer and deal.product else ld.next_pair()
    )
    registered = ld.moment(deal.registered)
    reg = partner_deals.register(
        ld.s,
        build(
            p_deals.RegistrationCreate,
            partner=spec.name,
            customer_name=customer,
            product=product,
            motion=deal.motion,
            amount=Decimal(deal.amount),
            currency=spec.currency,
            expected_close=ld.day(deal.closed if deal.closed is not None else 60),
            registered_at=registered,
            valid_days=deal.valid_days,
        ),
        ld.by,
        now=registered,
        project_id=ld.project_id,
    )
    ld.count("registrations")
    if deal.outcome in ("won", "approved"):
        partner_deals.approve(
            ld.s, reg.id, ld.by, now=registered + timedelta(days=3), project_id=ld.project_id
        )
    if deal.outcome in ("won", "lost") and deal.closed is not None:
        partner_deals.close(
            ld.s,
            reg.id,
            build(p_deals.CloseIn, outcome=deal.outcome, closed_on=ld.day(deal.closed)),
            ld.by,
            now=ld.moment(deal.closed, 16),
            project_id=ld.project_id,
        )


def _programme(ld: Loader, prog: dict[str, object]) -> None:
    fields = {k: v for k, v in prog.items() if k != "start_offset"}
    offset = prog["start_offset"]
    assert isinstance(offset, int)
    partner_programmes.create_programme(
        ld.s,
        p_schemas.ProgrammeCreate.model_validate({**fields, "start_on": ld.day(offset)}),
        ld.by,
        project_id=ld.project_id,
    )
    ld.count("partner_programmes")


def _enrol(ld: Loader, names: set[str]) -> None:
    plan = {
        "Co-Marketing Fund": ("Stratus Cloud", "Ironbridge Systems", "Vertex Hardware",
                              "Pinnacle Resellers"),
        "Cloud Co-Sell": ("Stratus Cloud", "Ironbridge Systems"),
        "Growth Incentive": ("Stratus Cloud", "Ironbridge Systems", "Northwind Telco",
                             "Vertex Hardware", "Pinnacle Resellers"),
    }  # fmt: skip
    for programme, partners in plan.items():
        for partner in partners:
            if partner in names:
                partner_programmes.enrol(ld.s, programme, partner, ld.by, project_id=ld.project_id)
                ld.count("enrolments")


def _mdf(ld: Loader, req: dict[str, object]) -> None:
    partner = str(req["partner"])
    start, end = int(str(req["start"])), int(str(req["end"]))
    mdf = partner_mdf.request(
        ld.s,
        build(
            p_deals.MDFRequestCreate,
            partner=partner,
            programme="Co-Marketing Fund",
            activity=str(req["activity"]),
            amount=Decimal(str(req["amount"])),
            currency="USD",
            planned_start=ld.day(start),
            planned_end=ld.day(end),
        ),
        ld.by,
        project_id=ld.project_id,
    )
    ld.count("mdf_requests")
    if req.get("approve", True) is False:
        return
    partner_mdf.approve(ld.s, mdf.id, build(p_deals.MDFApprove), ld.by, project_id=ld.project_id)
    claim = req.get("claim")
    if claim is None:
        return
    partner_mdf.claim(
        ld.s,
        mdf.id,
        build(
            p_deals.MDFClaim,
            claimed_amount=Decimal(str(claim)),
            currency="USD",
            proof=f"invoice-{partner.split()[0].lower()}-{end}.pdf",
            invoice_date=ld.day(end),
        ),
        ld.by,
        project_id=ld.project_id,
    )
    paid = req.get("paid")
    if paid is not None:
        partner_mdf.pay(ld.s, mdf.id, ld.day(int(str(paid))), ld.by, project_id=ld.project_id)


def _last_quarter(today: date) -> tuple[date, date]:
    first_this = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    end = first_this - timedelta(days=1)
    return date(end.year, (end.month - 1) // 3 * 3 + 1, 1), end


def _rebates(ld: Loader, partners: list[str]) -> None:
    """A custom gold schedule, and last quarter's rebates booked for the new partners."""
    rebate_runs.set_schedule(
        ld.s,
        "gold",
        p_deals.ScheduleIn.model_validate(data.GOLD_REBATES),
        ld.by,
        project_id=ld.project_id,
    )
    start, end = _last_quarter(ld.today)
    for name in partners:
        run = rebate_runs.compute(ld.s, start, end, name, True, ld.by, project_id=ld.project_id)
        ld.count("rebates_booked", sum(1 for r in run["rebates"] if r["ledger_entry_id"]))
