"""The default integration programme: pure data plus the date arithmetic that lays it out.

A programme is generated when a deal closes, so every date derives from the close date:
four consecutive phases (Day-1 readiness ~1 month, stabilisation ~3 months, execution
~12 months, optimisation ~6 months), milestones placed at a fraction of their phase, and
tasks per workstream and phase whose dependencies form a DAG (checked by the tests and by
``build_plan``). Nothing here touches a database, so the template is unit-tested alone.
"""

# ruff: noqa: E501  (the template tables read best one row per line)

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

WORKSTREAMS: tuple[tuple[str, str, str], ...] = (
    # key, display name, the role that owns its work until a lead is named
    ("technology", "Technology", "CIO"),
    ("product", "Product", "CPO"),
    ("sales", "Sales", "CRO"),
    ("marketing", "Marketing", "CMO"),
    ("customer_success", "Customer success", "VP Customer Success"),
    ("finance", "Finance", "CFO"),
    ("legal", "Legal", "General Counsel"),
    ("hr", "HR", "CHRO"),
    ("operations", "Operations", "COO"),
)
WORKSTREAM_KEYS = tuple(key for key, _, _ in WORKSTREAMS)
OWNER_ROLE = {key: role for key, _, role in WORKSTREAMS}

PHASES: tuple[tuple[str, str, int], ...] = (
    # key, display name, length in months
    ("day1_readiness", "Day-1 readiness", 1),
    ("stabilisation", "Stabilisation", 3),
    ("execution", "Execution", 12),
    ("optimisation", "Optimisation", 6),
)
PHASE_KEYS = tuple(key for key, _, _ in PHASES)


@dataclass(frozen=True, slots=True)
class MilestoneTemplate:
    key: str
    title: str
    phase: str
    workstream: str
    at: float
    """Where in its phase it falls due: 0 = first day, 1 = last day."""


@dataclass(frozen=True, slots=True)
class TaskTemplate:
    key: str
    title: str
    workstream: str
    phase: str
    start: float
    end: float
    """Start and due as fractions of the phase (0 = its first day, 1 = its last)."""
    depends_on: tuple[str, ...] = ()


# fmt: off
M = MilestoneTemplate
MILESTONES: tuple[MilestoneTemplate, ...] = (
    M("day1_comms", "Day-1 communications to employees, customers and partners", "day1_readiness", "marketing", 0.0),
    M("payroll_continuity", "Payroll and benefits continuity confirmed", "day1_readiness", "hr", 0.5),
    M("legal_entity_control", "Legal entity control, bank mandates and signatories in place", "day1_readiness", "legal", 0.5),
    M("day1_access", "Day-1 e-mail, directory and network access for all staff", "day1_readiness", "technology", 1.0),
    M("access_identity_merged", "Access and identity merged (single sign-on)", "stabilisation", "technology", 0.6),
    M("first_combined_forecast", "First combined forecast", "stabilisation", "finance", 0.7),
    M("org_design_announced", "Organisation design announced", "stabilisation", "hr", 0.8),
    M("customer_outreach_done", "Top customers contacted and retention plans agreed", "stabilisation", "customer_success", 1.0),
    M("crm_merged", "CRM merged", "execution", "sales", 0.4),
    M("product_roadmap_unified", "Product roadmap unified", "execution", "product", 0.3),
    M("brand_migrated", "Brand and website migrated", "execution", "marketing", 0.5),
    M("erp_consolidated", "ERP and chart of accounts consolidated", "execution", "finance", 0.75),
    M("contracts_novated", "Customer and supplier contracts novated", "execution", "legal", 0.8),
    M("data_centres_consolidated", "Data centres consolidated", "execution", "technology", 1.0),
    M("synergy_run_rate", "Synergy run-rate achieved", "optimisation", "finance", 0.8),
    M("tsa_exited", "Transition services agreements exited", "optimisation", "operations", 0.6),
    M("integration_closed", "Integration closed and handed to business as usual", "optimisation", "operations", 1.0),
)

T = TaskTemplate
TASKS: tuple[TaskTemplate, ...] = (
    # technology
    T("tech_day1_access", "Provision Day-1 e-mail and directory access", "technology", "day1_readiness", 0.0, 1.0),
    T("tech_security_review", "Security review of acquired systems", "technology", "day1_readiness", 0.0, 0.8),
    T("tech_identity_merge", "Merge identity providers and enable single sign-on", "technology", "stabilisation", 0.0, 0.6, ("tech_day1_access", "tech_security_review")),
    T("tech_app_rationalisation", "Application rationalisation plan", "technology", "stabilisation", 0.3, 1.0, ("tech_identity_merge",)),
    T("tech_dc_migration", "Migrate workloads and consolidate data centres", "technology", "execution", 0.1, 1.0, ("tech_app_rationalisation",)),
    T("tech_decommission", "Decommission legacy systems", "technology", "optimisation", 0.0, 0.7, ("tech_dc_migration",)),
    # product
    T("prod_portfolio_inventory", "Inventory both product portfolios", "product", "day1_readiness", 0.2, 1.0),
    T("prod_overlap_analysis", "Overlap and gap analysis", "product", "stabilisation", 0.0, 0.8, ("prod_portfolio_inventory",)),
    T("prod_roadmap", "Unify the product roadmap", "product", "execution", 0.0, 0.3, ("prod_overlap_analysis",)),
    T("prod_integrated_release", "Ship the first integrated release", "product", "execution", 0.3, 1.0, ("prod_roadmap", "tech_identity_merge")),
    T("prod_sunset", "Sunset overlapping products", "product", "optimisation", 0.0, 0.8, ("prod_integrated_release",)),
    # sales
    T("sales_account_mapping", "Map accounts and freeze territory conflicts", "sales", "day1_readiness", 0.0, 1.0),
    T("sales_cross_training", "Cross-train sellers on both portfolios", "sales", "stabilisation", 0.0, 1.0, ("sales_account_mapping", "prod_portfolio_inventory")),
    T("sales_crm_merge", "Merge CRM instances", "sales", "execution", 0.0, 0.4, ("sales_cross_training", "tech_identity_merge")),
    T("sales_comp_plan", "Unified sales compensation plan", "sales", "execution", 0.4, 0.7, ("sales_crm_merge",)),
    T("sales_cross_sell", "Cross-sell campaign to the combined base", "sales", "optimisation", 0.0, 1.0, ("sales_comp_plan",)),
    # marketing
    T("mkt_day1_comms", "Day-1 announcement and messaging", "marketing", "day1_readiness", 0.0, 0.0),
    T("mkt_brand_strategy", "Brand architecture decision", "marketing", "stabilisation", 0.0, 1.0, ("mkt_day1_comms",)),
    T("mkt_web_migration", "Migrate website and brand assets", "marketing", "execution", 0.0, 0.5, ("mkt_brand_strategy",)),
    T("mkt_demand_gen", "Combined demand-generation programme", "marketing", "optimisation", 0.0, 1.0, ("mkt_web_migration",)),
    # customer success
    T("cs_top_accounts", "Identify top accounts and at-risk customers", "customer_success", "day1_readiness", 0.0, 1.0),
    T("cs_outreach", "Executive outreach to top customers", "customer_success", "stabilisation", 0.0, 1.0, ("cs_top_accounts", "mkt_day1_comms")),
    T("cs_support_merge", "Merge support tooling and SLAs", "customer_success", "execution", 0.2, 0.8, ("cs_outreach", "sales_crm_merge")),
    T("cs_renewals", "Renewal playbook for the combined base", "customer_success", "optimisation", 0.0, 0.8, ("cs_support_merge",)),
    # finance
    T("fin_bank_cash", "Bank accounts, cash control and signatories", "finance", "day1_readiness", 0.0, 0.5),
    T("fin_opening_balance", "Opening balance sheet and purchase price allocation", "finance", "stabilisation", 0.0, 0.7, ("fin_bank_cash",)),
    T("fin_first_forecast", "First combined forecast", "finance", "stabilisation", 0.3, 0.7, ("fin_bank_cash",)),
    T("fin_erp", "Consolidate ERP and chart of accounts", "finance", "execution", 0.0, 0.75, ("fin_opening_balance",)),
    T("fin_synergy_tracking", "Synergy tracking and run-rate validation", "finance", "optimisation", 0.0, 0.8, ("fin_erp", "fin_first_forecast")),
    # legal
    T("legal_entity_control", "Entity control, board changes and filings", "legal", "day1_readiness", 0.0, 0.5),
    T("legal_contract_review", "Review change-of-control clauses", "legal", "stabilisation", 0.0, 1.0, ("legal_entity_control",)),
    T("legal_novation", "Novate customer and supplier contracts", "legal", "execution", 0.0, 0.8, ("legal_contract_review",)),
    T("legal_entity_rationalisation", "Rationalise legal entities", "legal", "optimisation", 0.0, 1.0, ("legal_novation",)),
    # hr
    T("hr_payroll", "Payroll and benefits continuity", "hr", "day1_readiness", 0.0, 0.5),
    T("hr_retention_agreements", "Sign key-employee retention agreements", "hr", "day1_readiness", 0.0, 1.0),
    T("hr_org_design", "Organisation design and selection", "hr", "stabilisation", 0.0, 0.8, ("hr_retention_agreements",)),
    T("hr_harmonise_benefits", "Harmonise benefits and HR policies", "hr", "execution", 0.0, 0.6, ("hr_payroll", "hr_org_design")),
    T("hr_culture", "Culture and engagement survey", "hr", "optimisation", 0.0, 0.5, ("hr_harmonise_benefits",)),
    # operations
    T("ops_imo", "Stand up the integration management office", "operations", "day1_readiness", 0.0, 0.3),
    T("ops_tsa", "Agree transition services", "operations", "day1_readiness", 0.0, 1.0, ("ops_imo",)),
    T("ops_procurement", "Consolidate suppliers and procurement", "operations", "execution", 0.0, 0.7, ("ops_tsa", "legal_contract_review")),
    T("ops_facilities", "Consolidate offices and facilities", "operations", "execution", 0.2, 1.0, ("ops_tsa",)),
    T("ops_tsa_exit", "Exit transition services", "operations", "optimisation", 0.0, 0.6, ("ops_procurement", "tech_dc_migration")),
    T("ops_close_out", "Close the integration and hand over to business as usual", "operations", "optimisation", 0.6, 1.0, ("ops_tsa_exit", "fin_synergy_tracking")),
)
# fmt: on


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class PhaseWindow:
    key: str
    name: str
    position: int
    start: date
    end: date
    """Inclusive: the next phase starts the day after."""

    def at(self, fraction: float) -> date:
        """The day ``fraction`` of the way through the phase (0 → start, 1 → end)."""
        span = (self.end - self.start).days
        return self.start + timedelta(days=round(span * fraction))


@dataclass(frozen=True, slots=True)
class PlannedMilestone:
    key: str
    title: str
    phase: str
    workstream: str
    owner: str
    due: date


@dataclass(frozen=True, slots=True)
class PlannedTask:
    key: str
    title: str
    workstream: str
    phase: str
    owner: str
    start: date
    due: date
    depends_on: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    phases: tuple[PhaseWindow, ...]
    milestones: tuple[PlannedMilestone, ...]
    tasks: tuple[PlannedTask, ...]


def phase_windows(close: date) -> tuple[PhaseWindow, ...]:
    """The four phases back to back, the first starting on the close date."""
    windows: list[PhaseWindow] = []
    start, months = close, 0
    for position, (key, name, length) in enumerate(PHASES):
        months += length
        end = add_months(close, months) - timedelta(days=1)
        windows.append(PhaseWindow(key, name, position, start, end))
        start = end + timedelta(days=1)
    return tuple(windows)


def build_plan(close: date) -> Plan:
    """The default programme laid out from ``close``: dates for every milestone and task."""
    phases = phase_windows(close)
    by_key = {phase.key: phase for phase in phases}
    milestones = tuple(
        PlannedMilestone(
            m.key,
            m.title,
            m.phase,
            m.workstream,
            OWNER_ROLE[m.workstream],
            by_key[m.phase].at(m.at),
        )
        for m in MILESTONES
    )
    tasks = tuple(
        PlannedTask(
            t.key,
            t.title,
            t.workstream,
            t.phase,
            OWNER_ROLE[t.workstream],
            by_key[t.phase].at(t.start),
            by_key[t.phase].at(t.end),
            t.depends_on,
        )
        for t in TASKS
    )
    return Plan(phases, milestones, tasks)
