"""ORM models: the ecosystem (JVs, licensing, labs, academic, government).

Money columns are ``Numeric(20, 4)`` next to a ``currency``; children of an agreement
(parties, investments, periods, sales reports, milestones …) go with it when it is
deleted (``ON DELETE CASCADE`` and ORM delete-orphan). Figures that can be computed
(distributions, recognised revenue, utilisation, certification flags) are never stored.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from novacron.core.database import Base, Timestamped
from novacron.corporate.tenancy import ProjectOwned

MONEY = Numeric(20, 4)


def _fk(target: str) -> Any:
    return ForeignKey(target, ondelete="CASCADE")


# -- joint ventures ---------------------------------------------------------------------------


class JointVenture(ProjectOwned, Timestamped, Base):
    __tablename__ = "corp_eco_joint_ventures"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="forming")
    formation_date: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    created_by: Mapped[str] = mapped_column(String(128), default="")

    parties: Mapped[list[JVParty]] = relationship(
        cascade="all, delete-orphan", order_by="JVParty.position", lazy="selectin"
    )
    investments: Mapped[list[JVInvestment]] = relationship(
        cascade="all, delete-orphan",
        order_by="(JVInvestment.invested_on, JVInvestment.created_at)",
        lazy="selectin",
    )
    periods: Mapped[list[JVPeriod]] = relationship(
        cascade="all, delete-orphan", order_by="JVPeriod.period", lazy="selectin"
    )


class JVParty(Timestamped, Base):
    __tablename__ = "corp_eco_jv_parties"
    __table_args__ = (UniqueConstraint("jv_id", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jv_id: Mapped[str] = mapped_column(String(64), _fk("corp_eco_joint_ventures.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    equity_pct: Mapped[Decimal] = mapped_column(Numeric(20, 4))
    is_us: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


class JVInvestment(Timestamped, Base):
    __tablename__ = "corp_eco_jv_investments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jv_id: Mapped[str] = mapped_column(String(64), _fk("corp_eco_joint_ventures.id"), index=True)
    party_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("corp_eco_jv_parties.id"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    invested_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(512), default="")


class JVPeriod(Timestamped, Base):
    __tablename__ = "corp_eco_jv_periods"
    __table_args__ = (UniqueConstraint("jv_id", "period"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jv_id: Mapped[str] = mapped_column(String(64), _fk("corp_eco_joint_ventures.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    revenue: Mapped[Decimal] = mapped_column(MONEY)
    profit: Mapped[Decimal] = mapped_column(MONEY)
    distribution: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))


# -- licensing --------------------------------------------------------------------------------


class License(ProjectOwned, Timestamped, Base):
    __tablename__ = "corp_eco_licenses"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    direction: Mapped[str] = mapped_column(String(8))
    licensor: Mapped[str] = mapped_column(String(128))
    licensee: Mapped[str] = mapped_column(String(128))
    licensed_ip: Mapped[str] = mapped_column(Text, default="")
    territory: Mapped[str] = mapped_column(String(128), default="worldwide")
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    royalty_tiers: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    minimum_annual_guarantee: Mapped[Decimal] = mapped_column(MONEY)
    upfront_fee: Mapped[Decimal] = mapped_column(MONEY)
    upfront_recognition: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(128), default="")

    milestones: Mapped[list[LicenseMilestone]] = relationship(
        cascade="all, delete-orphan", order_by="LicenseMilestone.created_at", lazy="selectin"
    )
    sales_reports: Mapped[list[SalesReport]] = relationship(
        cascade="all, delete-orphan", order_by="SalesReport.period_start", lazy="selectin"
    )


class LicenseMilestone(Timestamped, Base):
    __tablename__ = "corp_eco_license_milestones"
    __table_args__ = (UniqueConstraint("license_id", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    license_id: Mapped[str] = mapped_column(String(64), _fk("corp_eco_licenses.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    achieved_on: Mapped[date | None] = mapped_column(Date)


class SalesReport(Timestamped, Base):
    __tablename__ = "corp_eco_license_sales"
    __table_args__ = (UniqueConstraint("license_id", "period_start"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    license_id: Mapped[str] = mapped_column(String(64), _fk("corp_eco_licenses.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    net_sales: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    lines: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    reported_by: Mapped[str] = mapped_column(String(128), default="")


# -- co-innovation labs -----------------------------------------------------------------------


class Lab(ProjectOwned, Timestamped, Base):
    __tablename__ = "corp_eco_labs"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    partners: Mapped[list[str]] = mapped_column(JSON)
    focus_area: Mapped[str] = mapped_column(String(256), default="")
    budget: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    created_by: Mapped[str] = mapped_column(String(128), default="")

    projects: Mapped[list[LabProject]] = relationship(
        cascade="all, delete-orphan", order_by="LabProject.created_at", lazy="selectin"
    )
    spend: Mapped[list[LabSpend]] = relationship(
        cascade="all, delete-orphan",
        order_by="(LabSpend.spent_on, LabSpend.created_at)",
        lazy="selectin",
    )


class LabProject(Timestamped, Base):
    __tablename__ = "corp_eco_lab_projects"
    __table_args__ = (UniqueConstraint("lab_id", "title"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lab_id: Mapped[str] = mapped_column(String(64), _fk("corp_eco_labs.id"), index=True)
    title: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16), default="planned")
    outcome: Mapped[str] = mapped_column(String(16), default="none")


class LabSpend(Timestamped, Base):
    __tablename__ = "corp_eco_lab_spend"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lab_id: Mapped[str] = mapped_column(String(64), _fk("corp_eco_labs.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    spent_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(512), default="")


# -- academic partnerships --------------------------------------------------------------------


class AcademicPartnership(ProjectOwned, Timestamped, Base):
    __tablename__ = "corp_eco_academic"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    institution: Mapped[str] = mapped_column(String(256))
    programme_type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(256), default="")
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)
    funding: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    created_by: Mapped[str] = mapped_column(String(128), default="")

    outputs: Mapped[list[AcademicOutput]] = relationship(
        cascade="all, delete-orphan", order_by="AcademicOutput.created_at", lazy="selectin"
    )


class AcademicOutput(Timestamped, Base):
    __tablename__ = "corp_eco_academic_outputs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    partnership_id: Mapped[str] = mapped_column(String(64), _fk("corp_eco_academic.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(512))
    occurred_on: Mapped[date | None] = mapped_column(Date)


# -- government partnerships ------------------------------------------------------------------


class GovernmentPartnership(ProjectOwned, Timestamped, Base):
    __tablename__ = "corp_eco_government"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency: Mapped[str] = mapped_column(String(256))
    programme: Mapped[str] = mapped_column(String(256), default="")
    jurisdiction: Mapped[str] = mapped_column(String(128))
    contract_vehicle: Mapped[str] = mapped_column(String(256), default="")
    value: Mapped[Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    created_by: Mapped[str] = mapped_column(String(128), default="")

    certifications: Mapped[list[Certification]] = relationship(
        cascade="all, delete-orphan", order_by="Certification.name", lazy="selectin"
    )


class Certification(Timestamped, Base):
    __tablename__ = "corp_eco_gov_certifications"
    __table_args__ = (UniqueConstraint("government_id", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    government_id: Mapped[str] = mapped_column(
        String(64), _fk("corp_eco_government.id"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    started_on: Mapped[date | None] = mapped_column(Date)
    authorized_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
