"""The server application: REST API, web UI and background workers in one ASGI app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from sqlalchemy import text

from novacron import __version__
from novacron.compute.api import agent_router, files_router
from novacron.compute.api import router as compute_router
from novacron.compute.executor import Executor
from novacron.compute.features_api import router as vm_features_router
from novacron.compute.migration.api import router as drain_router
from novacron.compute.placement import Placement
from novacron.compute.reconciler import Reconciler
from novacron.core import problems
from novacron.core.config import Settings
from novacron.core.database import Database
from novacron.core.events_api import router as events_router
from novacron.corporate.api import mount as mount_corporate
from novacron.security.api import routers as security_routers
from novacron.security.audit.middleware import AuditMiddleware
from novacron.security.audit.retention import AuditRetention
from novacron.security.auth import require_user
from novacron.security.compliance.scheduler import start_scheduler as start_compliance_scheduler
from novacron.security.hardening import (
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
    SignInRateLimitMiddleware,
)
from novacron.security.rbac import Authorizer
from novacron.security.secrets.wiring import install as install_secrets
from novacron.security.threats.monitor import ThreatMonitor
from novacron.security.tokens import ensure_bootstrap_secrets

log = logging.getLogger("novacron.server")


def create_app(settings: Settings, *, workers: bool = True) -> FastAPI:
    """The server app. ``workers=False`` serves the API only (tests, read replicas)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.resolved_database_url)
        db.upgrade()
        with db.session() as s:
            written = ensure_bootstrap_secrets(
                s,
                settings.data_dir,
                settings.enrolment_token,
                reissue_admin=settings.reissue_admin_token,
            )
        for kind, path in written.items():
            log.warning("created the %s token: %s (mode 0600)", kind, path)
        placement = Placement(settings)
        app.state.db, app.state.settings, app.state.placement = db, settings, placement
        app.state.authorizer = Authorizer()
        install_secrets(app)  # a broken master-key setup stops the server here
        executor = Executor(db, settings, placement)
        reconciler = Reconciler(db, settings)
        retention = AuditRetention(db, settings.audit_retention_days)
        monitor = ThreatMonitor(db) if settings.threat_detection else None
        app.state.threat_monitor = monitor
        app.state.executor, app.state.wake_workers = executor, executor.wake
        scheduler = None
        if workers:
            executor.start()
            reconciler.start()
            retention.start()
            if monitor is not None:
                monitor.start()
            scheduler = start_compliance_scheduler(app)
        try:
            yield
        finally:
            executor.stop()
            reconciler.stop()
            retention.stop()
            if monitor is not None:
                monitor.stop()
            if scheduler is not None:
                scheduler.stop()
            db.dispose()

    app = FastAPI(
        title="NovaCron",
        version=__version__,
        lifespan=lifespan,
        openapi_url=None,  # served below behind authentication
        docs_url=None,  # served below from local assets: no CDN
        redoc_url=None,
    )
    problems.install(app)
    # Outermost last: headers on everything, then the limits, then the audit record.
    app.add_middleware(AuditMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(SignInRateLimitMiddleware, per_minute=settings.login_rate_per_minute)
    app.add_middleware(SecurityHeadersMiddleware)
    _mount_api_docs(app)

    @app.get("/healthz", tags=["health"])
    def healthz(request: Request) -> dict[str, Any]:
        with request.app.state.db.read() as s:
            s.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": request.app.state.db.dialect}

    app.include_router(compute_router)
    app.include_router(vm_features_router)
    app.include_router(drain_router)
    app.include_router(agent_router)
    app.include_router(files_router)  # image downloads: users and agents alike
    app.include_router(events_router)
    for router in security_routers:
        app.include_router(router)
    mount_corporate(app)
    _mount_web(app)
    return app


def _mount_api_docs(app: FastAPI) -> None:
    """``/openapi.json`` for signed-in users, like the rest of the API, and the assets of
    the ``swagger-ui-bundle`` wheel; the web UI serves the ``/docs`` page itself."""
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/swagger-ui", StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(require_user)])
    def openapi() -> dict[str, Any]:
        return app.openapi()


def _mount_web(app: FastAPI) -> None:
    try:
        from novacron.web.app import mount
    except ImportError:  # the UI is optional while it is being built
        return
    mount(app)
