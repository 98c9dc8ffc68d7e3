"""View model of the ecosystem page: joint ventures, licences with recognised revenue,
labs, academic and government partnerships (certifications flagged when expiring or
expired), read through the ecosystem services."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from novacron.core.pagination import PageParams
from novacron.corporate.ecosystem import jv_service, license_service, programme_service
from novacron.corporate.ecosystem import service as ecosystem

MAX_ROWS = 200


def ecosystem_context(session: Session, today: date, *, project_id: str) -> dict[str, Any]:
    page = PageParams(limit=MAX_ROWS, offset=0)
    jvs, jv_total = jv_service.list_jvs(session, page, project_id=project_id)
    licences, licence_total = license_service.list_licenses(session, page, project_id=project_id)
    labs, lab_total = programme_service.list_labs(session, page, project_id=project_id)
    academic, academic_total = programme_service.list_academic(
        session, page, today, project_id=project_id
    )
    government, government_total = programme_service.list_government(
        session, page, today, project_id=project_id
    )
    return {
        "summary": ecosystem.summary(session, today, project_id=project_id),
        "jvs": jvs,
        "licences": licences,
        "labs": labs,
        "academic": academic,
        "government": government,
        "totals": {
            "joint_ventures": jv_total,
            "licences": licence_total,
            "labs": lab_total,
            "academic": academic_total,
            "government": government_total,
        },
        "empty": not any((jv_total, licence_total, lab_total, academic_total, government_total)),
    }
