"""Corporate development: integration programmes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

Programmes generated on close with their workstreams, phases, milestones, tasks and
dependencies, governance (committee, meetings, decisions, escalations), the issue and risk
register, synergy plan lines and actuals, key employees and customers. ``target_id`` holds
an M&A target id by value (no foreign key), so this revision needs nothing from 0006.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PROGRAMMES = "corp_int_programmes"
MONEY = sa.Numeric(precision=20, scale=4)

# Child tables of a programme, in creation order (tasks before their dependencies,
# synergy lines before their actuals).
CHILDREN = (
    "corp_int_workstreams",
    "corp_int_phases",
    "corp_int_milestones",
    "corp_int_tasks",
    "corp_int_task_deps",
    "corp_int_committee",
    "corp_int_meetings",
    "corp_int_decisions",
    "corp_int_escalations",
    "corp_int_risks",
    "corp_int_synergy_lines",
    "corp_int_synergy_actuals",
    "corp_int_employees",
    "corp_int_customers",
)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    ]


def _child(name: str, *items: sa.Column | sa.Constraint, indexes: tuple[str, ...] = ()) -> None:
    """A table owned by a programme: id, programme_id (FK, cascade, indexed), the given
    columns and constraints, timestamps; plus an index per column in ``indexes``."""
    columns = [c for c in items if isinstance(c, sa.Column)]
    constraints = [c for c in items if not isinstance(c, sa.Column)]
    op.create_table(
        name,
        _str("id", 64),
        _str("programme_id", 64),
        *columns,
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            [f"{PROGRAMMES}.id"],
            name=op.f(f"fk_{name}_programme_id_{PROGRAMMES}"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        *constraints,
    )
    for column in ("programme_id", *indexes):
        op.create_index(op.f(f"ix_{name}_{column}"), name, [column], unique=False)


def _fk(name: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{name}_{column}_{target}"), ondelete="CASCADE"
    )


def _unique(name: str, *columns: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*columns, name=op.f(f"uq_{name}_{columns[0]}"))


def upgrade() -> None:
    op.create_table(
        PROGRAMMES,
        _str("id", 64),
        _str("target_id", 64),
        _str("target_name", 200),
        _str("name", 200),
        sa.Column("close_date", sa.Date(), nullable=False),
        _str("currency", 3),
        _str("created_by", 128),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{PROGRAMMES}")),
        sa.UniqueConstraint("target_id", name=op.f(f"uq_{PROGRAMMES}_target_id")),
    )
    _plan_tables()
    _governance_tables()
    _value_tables()


def _plan_tables() -> None:
    for name in ("corp_int_workstreams", "corp_int_phases"):
        dated = name == "corp_int_phases"
        _child(
            name,
            _str("key", 32),
            _str("name", 64),
            *([] if dated else [_str("lead", 128, nullable=True)]),
            sa.Column("position", sa.Integer(), nullable=False),
            *(
                [
                    sa.Column("start_date", sa.Date(), nullable=False),
                    sa.Column("end_date", sa.Date(), nullable=False),
                ]
                if dated
                else []
            ),
            _unique(name, "programme_id", "key"),
        )
    _child(
        "corp_int_milestones",
        _str("key", 64, nullable=True),
        _str("title", 200),
        _str("phase", 32),
        _str("workstream", 32),
        _str("owner", 128),
        sa.Column("due_date", sa.Date(), nullable=False),
        _str("status", 16),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
    )
    _child(
        "corp_int_tasks",
        _str("key", 64, nullable=True),
        _str("title", 200),
        _str("workstream", 32),
        _str("phase", 32),
        _str("owner", 128),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        _str("status", 16),
        sa.Column("percent_complete", sa.Integer(), nullable=False),
        _str("rag_override", 8, nullable=True),
        _str("rag_override_reason", 500, nullable=True),
        _str("created_by", 128),
    )
    deps = "corp_int_task_deps"
    _child(
        deps,
        _str("task_id", 64),
        _str("depends_on_id", 64),
        _fk(deps, "task_id", "corp_int_tasks"),
        _fk(deps, "depends_on_id", "corp_int_tasks"),
        _unique(deps, "task_id", "depends_on_id"),
        indexes=("task_id", "depends_on_id"),
    )


def _governance_tables() -> None:
    _child(
        "corp_int_committee",
        _str("name", 128),
        _str("role", 128),
        _str("organisation", 128),
    )
    _child(
        "corp_int_meetings",
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
    )
    _child(
        "corp_int_decisions",
        _str("decision", 500),
        sa.Column("rationale", sa.Text(), nullable=False),
        _str("decided_by", 128),
        sa.Column("decided_on", sa.Date(), nullable=False),
        _str("workstream", 32, nullable=True),
    )
    _child(
        "corp_int_escalations",
        _str("title", 200),
        sa.Column("detail", sa.Text(), nullable=False),
        _str("raised_by", 128),
        _str("raised_to", 128),
        _str("severity", 16),
        _str("status", 16),
        _str("workstream", 32, nullable=True),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        _str("resolved_by", 128, nullable=True),
        sa.Column("resolved_on", sa.Date(), nullable=True),
    )
    _child(
        "corp_int_risks",
        _str("kind", 8),
        _str("title", 200),
        _str("workstream", 32, nullable=True),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("likelihood", sa.Integer(), nullable=False),
        _str("owner", 128),
        _str("status", 16),
        sa.Column("mitigation", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
    )


def _value_tables() -> None:
    _child(
        "corp_int_synergy_lines",
        sa.Column("position", sa.Integer(), nullable=False),
        _str("category", 16),
        _str("name", 200),
        sa.Column("run_rate", MONEY, nullable=False),
        _str("currency", 3),
        sa.Column("phase_in", sa.JSON(), nullable=False),
        sa.Column("one_off_cost", MONEY, nullable=False),
    )
    actuals = "corp_int_synergy_actuals"
    _child(
        actuals,
        _str("line_id", 64),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        _str("currency", 3),
        sa.Column("note", sa.Text(), nullable=False),
        _str("recorded_by", 128),
        _fk(actuals, "line_id", "corp_int_synergy_lines"),
        _unique(actuals, "line_id", "period"),
        indexes=("line_id",),
    )
    _child(
        "corp_int_employees",
        _str("name", 128),
        _str("role", 128),
        _str("flight_risk", 8),
        sa.Column("retention_bonus", MONEY, nullable=False),
        _str("currency", 3),
        _str("status", 16),
    )
    _child(
        "corp_int_customers",
        _str("name", 200),
        sa.Column("arr", MONEY, nullable=False),
        _str("currency", 3),
        _str("status", 16),
    )


def downgrade() -> None:
    for name in reversed(CHILDREN):
        op.drop_table(name)
    op.drop_table(PROGRAMMES)
