"""Every corporate sub-slice's REST routes, under ``/api/v1/corporate``."""

from __future__ import annotations

from fastapi import FastAPI

from novacron.corporate.calc.api import router as calc_router
from novacron.corporate.ecosystem.api import router as ecosystem_router
from novacron.corporate.export.api import router as export_router
from novacron.corporate.imports.api import router as imports_router
from novacron.corporate.integration.api import router as integration_router
from novacron.corporate.ma.api import router as ma_router
from novacron.corporate.partners.api import router as partners_router
from novacron.corporate.strategy.api import router as strategy_router


def mount(app: FastAPI) -> None:
    for router in (
        ma_router,
        integration_router,
        partners_router,
        ecosystem_router,
        strategy_router,
        calc_router,
        export_router,
        imports_router,
    ):
        app.include_router(router)
