"""Programme eligibility (pure): why a partner may not enrol, in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from novacron.corporate.partners.tiers import tier_rank

KINDS: tuple[str, ...] = ("co_sell", "marketing", "incentive")


@dataclass(frozen=True, slots=True)
class Rules:
    name: str
    min_tier: str
    partner_types: list[str]
    start_on: date
    end_on: date | None


def reasons(rules: Rules, *, tier: str, type_: str, status: str, today: date) -> list[str]:
    """Every reason the partner cannot enrol (empty: eligible)."""
    out: list[str] = []
    if status != "active":
        out.append(f"partner is {status}; only active partners can enrol")
    if tier_rank(tier) < tier_rank(rules.min_tier):
        out.append(f"{rules.name} requires tier {rules.min_tier} or above (partner is {tier})")
    if rules.partner_types and type_ not in rules.partner_types:
        out.append(f"{rules.name} is open to {', '.join(rules.partner_types)} (partner is {type_})")
    if rules.end_on is not None and rules.end_on < today:
        out.append(f"{rules.name} ended on {rules.end_on.isoformat()}")
    return out
