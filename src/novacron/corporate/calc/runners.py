"""Runners: a validated input model → the finance engine's answer (TVM and M&A kinds).

Each runner builds the finance dataclasses from its pydantic model and returns the
result (a dataclass, or a dict for the scalar functions); ``service.evaluate`` turns it
into JSON. No validation of meaning happens here: the finance engine does it and names
the field.
"""

from __future__ import annotations

from typing import Any

from novacron.corporate.calc import schemas as s
from novacron.corporate.finance import football
from novacron.corporate.finance.accretion import (
    AccretionInputs,
    AccretionResult,
    AcquiredCompany,
    Acquirer,
    Consideration,
    accretion_dilution,
)
from novacron.corporate.finance.comps import (
    CompsResult,
    Deal,
    Peer,
    PrecedentsResult,
    Target,
    comps,
    precedents,
)
from novacron.corporate.finance.roots import irr, xirr
from novacron.corporate.finance.synergy import SynergyInputs, SynergyResult, synergies
from novacron.corporate.finance.tvm import discounted_payback, mirr, npv, payback, pmt


def _tagged(model: Any, **values: Any) -> dict[str, Any]:
    """``values`` plus the optional currency tag of the input: every kind that accepts a
    tag gives it back, so a client can carry it with the answer."""
    currency = getattr(model, "currency", None)
    return {**values, **({"currency": currency} if currency else {})}


def run_npv(m: s.NPVIn) -> dict[str, Any]:
    value = npv(m.rate, m.cashflows, timing=m.timing)
    return _tagged(m, npv=value, rate=m.rate, timing=m.timing)


def run_irr(m: s.IRRIn) -> dict[str, Any]:
    result = irr(m.cashflows)
    return _tagged(m, irr=result.rate, roots=list(result.roots), ambiguous=result.ambiguous)


def run_xirr(m: s.XIRRIn) -> dict[str, Any]:
    return _tagged(m, xirr=xirr(m.cashflows, m.dates, m.guess))


def run_mirr(m: s.MIRRIn) -> dict[str, Any]:
    return _tagged(m, mirr=mirr(m.cashflows, m.finance_rate, m.reinvest_rate))


def run_pmt(m: s.PMTIn) -> dict[str, Any]:
    return _tagged(m, pmt=pmt(m.rate, m.nper, m.pv, m.fv, m.when), when=m.when)


def run_payback(m: s.PaybackIn) -> dict[str, Any]:
    out: dict[str, Any] = {"payback": payback(m.cashflows)}
    if m.rate is not None:
        out["discounted_payback"] = discounted_payback(m.rate, m.cashflows)
        out["rate"] = m.rate
    return _tagged(m, **out)


def _target(m: s.TargetIn | None) -> Target | None:
    return None if m is None else Target(**m.model_dump())


def run_comps(m: s.CompsIn) -> CompsResult:
    peers = [Peer(**p.model_dump()) for p in m.peers]
    return comps(peers, _target(m.target))


def run_precedents(m: s.PrecedentsIn) -> PrecedentsResult:
    deals = [Deal(**d.model_dump()) for d in m.deals]
    return precedents(
        deals,
        _target(m.target),
        unaffected_price=m.unaffected_price,
        control_premium=m.control_premium,
    )


def run_football_field(m: s.FootballFieldIn) -> football.FootballField:
    bars = [football.Bar(**b.model_dump()) for b in m.bars]
    return football.football_field(
        bars,
        currency=m.currency,
        unit=m.unit,
        current_price=m.current_price,
        offer_price=m.offer_price,
    )


def run_synergies(m: s.SynergiesIn) -> SynergyResult:
    data = m.model_dump()
    for name in ("revenue_phase_in", "cost_phase_in", "integration_costs"):
        data[name] = tuple(data[name])
    return synergies(SynergyInputs(**data))


def run_accretion(m: s.AccretionIn) -> AccretionResult:
    return accretion_dilution(
        AccretionInputs(
            acquirer=Acquirer(**m.acquirer.model_dump()),
            target=AcquiredCompany(**m.target.model_dump()),
            consideration=Consideration(**m.consideration.model_dump()),
            debt_interest_rate=m.debt_interest_rate,
            synergies=m.synergies,
            transaction_fees=m.transaction_fees,
            write_up_da=m.write_up_da,
        )
    )
