"""KPI definitions, their targets and alert rules (pure: no database, no HTTP).

Every KPI has a definition (id, name, unit, which direction is good), a target and two
thresholds, and is evaluated into::

    {"id", "name", "description", "unit", "value", "target", "status", "breakdown",
     "rules": [{"id", "severity", "condition", "fired", "message"}]}

``status`` is ``alert`` when an alert rule fired, else ``warning`` when a warning rule
fired, else ``ok``; ``no_data`` when there is nothing to measure yet (no programme, no
closed deal …). Rules compare the value with a threshold: for a KPI where higher is
better a rule fires when the value is *below* its threshold, otherwise when *above*.

Thresholds are settings: ``DEFAULT_SETTINGS`` holds every default and ``resolve``
merges overrides (``{"win_rate": {"alert": 20}}`` or ``"win_rate.alert=20"`` strings),
refusing unknown names and inconsistent values with ``Invalid`` naming the field
(``threshold.win_rate.alert``).

Money KPIs never add currencies: partner-sourced revenue is measured in its configured
currency (others appear in ``breakdown``); ratio KPIs computed per currency (synergy
realisation, MDF utilisation) show the worst currency as the headline value, because an
alert must not be averaged away by a healthy book elsewhere.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from novacron.core.errors import Invalid
from novacron.corporate.finance.money import percent

ROOT = "threshold"
"""The field name bad settings are reported under."""


@dataclass(frozen=True, slots=True)
class KpiDef:
    id: str
    name: str
    unit: str
    higher_is_better: bool
    description: str


DEFINITIONS: tuple[KpiDef, ...] = (
    KpiDef(
        "synergy_realisation",
        "Synergy realisation",
        "%",
        True,
        "Synergies realised as % of plan to date, across integration programmes",
    ),
    KpiDef(
        "deals_in_diligence",
        "Deals in due diligence",
        "deals",
        True,
        "Targets currently in the due-diligence stage",
    ),
    KpiDef(
        "avg_days_to_close",
        "Average days to close",
        "days",
        False,
        "Days from a target's creation to its close, averaged over closed deals",
    ),
    KpiDef(
        "partner_sourced_revenue",
        "Partner-sourced revenue (12 months)",
        "currency",
        True,
        "Revenue of partner-sourced deal registrations won in the last 12 months",
    ),
    KpiDef(
        "win_rate",
        "Partner deal win rate (12 months)",
        "%",
        True,
        "Won / (won + lost) of deal registrations closed in the last 12 months",
    ),
    KpiDef(
        "mdf_utilisation",
        "MDF utilisation",
        "%",
        True,
        "MDF claimed with proof as % of MDF approved",
    ),
    KpiDef(
        "key_employee_retention",
        "Key-employee retention",
        "%",
        True,
        "Key employees of acquired companies still with us, across programmes",
    ),
    KpiDef(
        "certifications_expiring",
        "Certifications expiring",
        "certifications",
        False,
        "Government certifications (FedRAMP …) expiring within the warning window",
    ),
)
BY_ID: dict[str, KpiDef] = {d.id: d for d in DEFINITIONS}

DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "synergy_realisation": {"target": 100, "warning": 95, "alert": 80},
    "deals_in_diligence": {"target": 3, "warning": 2, "alert": 1},
    "avg_days_to_close": {"target": 180, "warning": 180, "alert": 270},
    "partner_sourced_revenue": {
        "currency": "USD",
        "target": 5_000_000,
        "warning": 4_000_000,
        "alert": 2_500_000,
    },
    "win_rate": {"target": 50, "warning": 40, "alert": 25},
    "mdf_utilisation": {"target": 90, "warning": 70, "alert": 50},
    "key_employee_retention": {"target": 95, "warning": 90, "alert": 80},
    "certifications_expiring": {"target": 0, "warning": 0, "alert_days": 60, "window_days": 90},
    "recommendations": {
        "realisation_pct": 80,
        "registration_expiry_days": 14,
        "diligence_max_days": 60,
        "certification_days": 90,
        "certification_critical_days": 45,
        "engineers_short": 3,
    },
}
"""Every threshold with its default. ``warning``/``alert``: the value a rule compares
with (below it fires when higher is better, above it otherwise). Synergy realisation
alerts below 80 % of plan; certifications warn when any expires within ``window_days``
and alert when one expires within ``alert_days``."""

MAX_WINDOW_DAYS = 90
"""The ecosystem slice lists certifications expiring within 90 days: a longer window
could not see further."""


# -- settings -------------------------------------------------------------------------------


def _bad(loc: Sequence[str | int], msg: str) -> dict[str, Any]:
    return {"loc": [ROOT, *loc], "msg": msg}


def parse_overrides(items: Iterable[str]) -> dict[str, dict[str, str]]:
    """``["win_rate.alert=20", …]`` → ``{"win_rate": {"alert": "20"}}``."""
    out: dict[str, dict[str, str]] = {}
    errors = []
    for i, item in enumerate(items):
        name, eq, value = item.partition("=")
        section, dot, key = name.strip().partition(".")
        if not eq or not dot or not section or not key.strip() or not value.strip():
            errors.append(_bad([i], f"{item!r} is not KPI.KEY=VALUE (e.g. win_rate.alert=20)"))
            continue
        out.setdefault(section, {})[key.strip()] = value.strip()
    if errors:
        raise Invalid("invalid threshold: expected KPI.KEY=VALUE", errors=errors)
    return out


def _number(section: str, key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise Invalid(
            f"{ROOT}.{section}.{key} must be a number",
            errors=[_bad([section, key], "not a number")],
        )
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Invalid(
            f"{ROOT}.{section}.{key}: {value!r} is not a number",
            errors=[_bad([section, key], "not a number")],
        ) from None
    if not number >= 0 or number == float("inf"):
        raise Invalid(
            f"{ROOT}.{section}.{key} must be a finite number ≥ 0",
            errors=[_bad([section, key], "must be a finite number >= 0")],
        )
    return number


def _currency(section: str, value: Any) -> str:
    text = str(value).strip().upper()
    if len(text) != 3 or not text.isalpha():
        raise Invalid(
            f"{ROOT}.{section}.currency: {value!r} is not a currency code",
            errors=[_bad([section, "currency"], "not a three-letter currency code")],
        )
    return text


def resolve(overrides: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """The defaults with ``overrides`` applied, every value checked."""
    settings = copy.deepcopy(DEFAULT_SETTINGS)
    for section, values in (overrides or {}).items():
        if section not in settings:
            known = ", ".join(settings)
            raise Invalid(
                f"{ROOT}: no KPI or section {section!r} (one of: {known})",
                errors=[_bad([section], f"unknown; one of: {known}")],
            )
        for key, value in values.items():
            if key not in settings[section]:
                known = ", ".join(settings[section])
                raise Invalid(
                    f"{ROOT}.{section}: no setting {key!r} (one of: {known})",
                    errors=[_bad([section, key], f"unknown; one of: {known}")],
                )
            settings[section][key] = (
                _currency(section, value) if key == "currency" else _number(section, key, value)
            )
    _check_order(settings)
    return settings


def _check_order(settings: Mapping[str, Mapping[str, Any]]) -> None:
    """The alert threshold must be at least as bad as the warning one."""
    for kpi in DEFINITIONS:
        s = settings[kpi.id]
        if "alert" not in s:
            continue
        warning, alert = float(s["warning"]), float(s["alert"])
        wrong = alert > warning if kpi.higher_is_better else alert < warning
        if wrong:
            side = "above" if kpi.higher_is_better else "below"
            raise Invalid(
                f"{ROOT}.{kpi.id}.alert ({alert:g}) is {side} the warning threshold "
                f"({warning:g}): an alert must be at least as bad as a warning",
                errors=[_bad([kpi.id, "alert"], f"{side} the warning threshold {warning:g}")],
            )
    certs = settings["certifications_expiring"]
    if float(certs["window_days"]) > MAX_WINDOW_DAYS:
        raise Invalid(
            f"{ROOT}.certifications_expiring.window_days is at most {MAX_WINDOW_DAYS}",
            errors=[_bad(["certifications_expiring", "window_days"], f"> {MAX_WINDOW_DAYS}")],
        )


# -- evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KpiInputs:
    """The measurements the service gathers from every slice."""

    realisation_pct: Mapping[str, float | None] = field(default_factory=dict)
    """Synergy realisation % per programme currency (None: nothing planned yet)."""
    deals_in_diligence: int = 0
    days_to_close: Sequence[float] = ()
    sourced_revenue: Mapping[str, Decimal] = field(default_factory=dict)
    """Partner-sourced revenue won in the last 12 months, per currency."""
    won: int = 0
    lost: int = 0
    mdf: Mapping[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    """Per currency: (approved, claimed)."""
    employees_retained: int = 0
    employees_total: int = 0
    certification_days: Sequence[int] = ()
    """Days to expiry of the certifications expiring soon (≤ 90 days)."""


@dataclass(frozen=True, slots=True)
class Measure:
    value: float | None
    breakdown: dict[str, Any] = field(default_factory=dict)


def _worst(values: Mapping[str, float | None], higher_is_better: bool = True) -> float | None:
    known = [v for v in values.values() if v is not None]
    if not known:
        return None
    return min(known) if higher_is_better else max(known)


def measure(kpi: str, x: KpiInputs, settings: Mapping[str, Mapping[str, Any]]) -> Measure:
    """The headline value of ``kpi`` and what it is made of."""
    if kpi == "synergy_realisation":
        return Measure(_worst(x.realisation_pct), {"by_currency": dict(x.realisation_pct)})
    if kpi == "deals_in_diligence":
        return Measure(float(x.deals_in_diligence))
    if kpi == "avg_days_to_close":
        days = list(x.days_to_close)
        avg = round(sum(days) / len(days), 1) if days else None
        return Measure(avg, {"closed_deals": len(days)})
    if kpi == "partner_sourced_revenue":
        currency = str(settings[kpi]["currency"])
        revenue = x.sourced_revenue.get(currency)
        others = {c: v for c, v in sorted(x.sourced_revenue.items()) if c != currency}
        value = float(revenue) if revenue is not None else (0.0 if not others else None)
        return Measure(value, {"currency": currency, "other_currencies": others})
    if kpi == "win_rate":
        pct = None if x.won + x.lost == 0 else round(100 * x.won / (x.won + x.lost), 1)
        return Measure(pct, {"won": x.won, "lost": x.lost})
    if kpi == "mdf_utilisation":
        per = {
            cur: percent(claimed, approved, 1) for cur, (approved, claimed) in sorted(x.mdf.items())
        }
        return Measure(_worst(per), {"by_currency": per})
    if kpi == "key_employee_retention":
        return Measure(
            percent(x.employees_retained, x.employees_total, 1),
            {"retained": x.employees_retained, "total": x.employees_total},
        )
    if kpi == "certifications_expiring":
        window = float(settings[kpi]["window_days"])
        days = sorted(d for d in x.certification_days if d <= window)
        return Measure(float(len(days)), {"days_to_expiry": days})
    raise KeyError(kpi)


def _fmt(value: float, unit: str, currency: str | None = None) -> str:
    if unit == "%":
        return f"{value:g}%"
    if unit == "currency":
        return f"{currency} {value:,.0f}"
    return f"{value:g} {unit.removesuffix('s') if value == 1 else unit}"


@dataclass(frozen=True, slots=True)
class RuleResult:
    id: str
    severity: str
    condition: str
    fired: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity,
            "condition": self.condition,
            "fired": self.fired,
            "message": self.message,
        }


def _threshold_rule(
    kpi: KpiDef, severity: str, threshold: float, value: float | None, currency: str | None
) -> RuleResult:
    op = "<" if kpi.higher_is_better else ">"
    shown = _fmt(threshold, kpi.unit, currency)
    condition = f"{kpi.id} {op} {shown}"
    if value is None:
        return RuleResult(f"{kpi.id}.{severity}", severity, condition, False, "no data yet")
    fired = value < threshold if kpi.higher_is_better else value > threshold
    now = _fmt(value, kpi.unit, currency)
    word = "below" if kpi.higher_is_better else "above"
    message = (
        f"{kpi.name} is {now}, {word} the {severity} threshold of {shown}"
        if fired
        else f"{kpi.name} is {now}"
    )
    return RuleResult(f"{kpi.id}.{severity}", severity, condition, fired, message)


def _certification_alert(days: Sequence[int], alert_days: float) -> RuleResult:
    condition = f"a certification expires within {alert_days:g} days"
    soon = [d for d in days if d <= alert_days]
    if not soon:
        return RuleResult(
            "certifications_expiring.alert", "alert", condition, False, "none that soon"
        )
    return RuleResult(
        "certifications_expiring.alert",
        "alert",
        condition,
        True,
        f"{len(soon)} certification(s) expire within {alert_days:g} days (soonest in "
        f"{min(soon)} days)",
    )


def _status(value: float | None, rules: Sequence[RuleResult]) -> str:
    if value is None:
        return "no_data"
    fired = {r.severity for r in rules if r.fired}
    if "alert" in fired:
        return "alert"
    return "warning" if "warning" in fired else "ok"


def evaluate(
    kpi: KpiDef, x: KpiInputs, settings: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    s = settings[kpi.id]
    m = measure(kpi.id, x, settings)
    currency = str(s.get("currency")) if kpi.unit == "currency" else None
    rules = [_threshold_rule(kpi, "warning", float(s["warning"]), m.value, currency)]
    if kpi.id == "certifications_expiring":
        rules.append(_certification_alert(m.breakdown.get("days_to_expiry", []), s["alert_days"]))
    else:
        rules.append(_threshold_rule(kpi, "alert", float(s["alert"]), m.value, currency))
    return {
        "id": kpi.id,
        "name": kpi.name,
        "description": kpi.description,
        "unit": currency or kpi.unit,
        "value": m.value,
        "target": s["target"],
        "higher_is_better": kpi.higher_is_better,
        "status": _status(m.value, rules),
        "breakdown": m.breakdown,
        "rules": [r.as_dict() for r in rules],
    }


def evaluate_all(
    x: KpiInputs, settings: Mapping[str, Mapping[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Every KPI, in definition order."""
    resolved = settings if settings is not None else resolve()
    return [evaluate(kpi, x, resolved) for kpi in DEFINITIONS]


def fired_alerts(kpis: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The most severe rule that fired per KPI, with its KPI id: what the dashboard's alert
    strip shows (an alert implies its warning; listing both is noise)."""
    rank = {"alert": 0, "warning": 1}
    out: list[dict[str, Any]] = []
    for k in kpis:
        fired = [rule for rule in k["rules"] if rule["fired"]]
        if fired:
            worst = min(fired, key=lambda rule: rank.get(str(rule["severity"]), 2))
            out.append({"kpi": k["id"], **worst})
    return out
