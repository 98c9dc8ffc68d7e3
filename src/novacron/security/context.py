"""The project (tenant) a request acts in, as authorization settled it.

``require_user`` resolves the project from the ``X-NovaCron-Project`` header, the
``project`` query parameter or the UI's project cookie (else the caller's default
project), checks the caller's role there and stores the id on the request. Services take
the id as a plain argument; only routes read it from here.
"""

from __future__ import annotations

from fastapi import Request

PROJECT_HEADER = "X-NovaCron-Project"
PROJECT_QUERY = "project"
PROJECT_COOKIE = "novacron_project"


def current_project(request: Request) -> str:
    """The id of the project the authorized request acts in."""
    project_id: str | None = getattr(request.state, "project_id", None)
    if project_id is None:  # a route without require_user: a bug, never a default
        raise RuntimeError(f"no authorized project for {request.url.path}")
    return project_id
