"""REST routes of the security slice; ``routers`` lists them for the app factory."""

from __future__ import annotations

from fastapi import APIRouter

from novacron.security.api import (
    account,
    admin,
    audit_routes,
    compliance_routes,
    login,
    oidc_routes,
    pki_routes,
    secrets_routes,
    threats_routes,
)

routers: tuple[APIRouter, ...] = (
    login.router,
    account.router,
    admin.router,
    audit_routes.router,
    oidc_routes.router,
    secrets_routes.router,
    compliance_routes.router,
    pki_routes.router,
    threats_routes.router,
)
