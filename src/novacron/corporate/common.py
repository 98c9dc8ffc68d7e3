"""What every corporate sub-slice's routes share: the database and the caller's name."""

from __future__ import annotations

from fastapi import Request

from novacron.core.database import Database
from novacron.security.tokens import Principal


def db_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def who(request: Request) -> str:
    principal: Principal = request.state.principal
    return principal.name
