"""Synergy realisation (plan vs actual, actuals in) and retention."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request

from novacron.core.database import db_of
from novacron.corporate.common import who
from novacron.corporate.integration.report_schemas import RetentionOut, SynergiesOut
from novacron.corporate.integration.routes.common import as_of
from novacron.corporate.integration.schemas import (
    ActualIn,
    ActualOut,
    CustomerIn,
    CustomerOut,
    CustomerUpdate,
    EmployeeIn,
    EmployeeOut,
    EmployeeUpdate,
)
from novacron.corporate.integration.service import value as svc
from novacron.security.context import current_project

router = APIRouter()


@router.get("/programmes/{ref}/synergies", response_model=SynergiesOut)
def synergies(request: Request, ref: str, day: date = Depends(as_of)) -> SynergiesOut:
    """Plan vs actual per line and quarter after close, realisation by category, and the
    cumulative series for the chart."""
    with db_of(request).read() as s:
        return svc.synergies(s, ref, day, project_id=current_project(request))


@router.post("/programmes/{ref}/synergies/actuals", status_code=201, response_model=ActualOut)
def record_actual(request: Request, ref: str, body: ActualIn) -> ActualOut:
    """The actual of a plan line for one quarter (again for the same quarter: a correction)."""
    with db_of(request).session() as s:
        return ActualOut.model_validate(
            svc.record_actual(s, ref, body, who(request), project_id=current_project(request))
        )


@router.get("/programmes/{ref}/retention", response_model=RetentionOut)
def retention(request: Request, ref: str) -> RetentionOut:
    with db_of(request).read() as s:
        return svc.retention(s, ref, project_id=current_project(request))


@router.post("/programmes/{ref}/retention/employees", status_code=201, response_model=EmployeeOut)
def add_employee(request: Request, ref: str, body: EmployeeIn) -> EmployeeOut:
    with db_of(request).session() as s:
        return EmployeeOut.model_validate(
            svc.add_employee(s, ref, body, project_id=current_project(request))
        )


@router.patch("/programmes/{ref}/retention/employees/{employee_id}", response_model=EmployeeOut)
def update_employee(
    request: Request, ref: str, employee_id: str, body: EmployeeUpdate
) -> EmployeeOut:
    with db_of(request).session() as s:
        return EmployeeOut.model_validate(
            svc.update_employee(s, ref, employee_id, body, project_id=current_project(request))
        )


@router.post("/programmes/{ref}/retention/customers", status_code=201, response_model=CustomerOut)
def add_customer(request: Request, ref: str, body: CustomerIn) -> CustomerOut:
    with db_of(request).session() as s:
        return CustomerOut.model_validate(
            svc.add_customer(s, ref, body, project_id=current_project(request))
        )


@router.patch("/programmes/{ref}/retention/customers/{customer_id}", response_model=CustomerOut)
def update_customer(
    request: Request, ref: str, customer_id: str, body: CustomerUpdate
) -> CustomerOut:
    with db_of(request).session() as s:
        return CustomerOut.model_validate(
            svc.update_customer(s, ref, customer_id, body, project_id=current_project(request))
        )
