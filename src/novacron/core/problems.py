"""Render every error as RFC 9457 problem+json, with field paths for bad input."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from novacron.core.errors import Conflict, Invalid, NotFound, NovaCronError

log = logging.getLogger("novacron.api")

PROBLEM = "application/problem+json"


def problem_response(exc: NovaCronError, request: Request) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(
        exc.problem(instance=request.url.path),
        status_code=exc.status,
        media_type=PROBLEM,
        headers=headers,
    )


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        # List indices stay ints, as pydantic gives them and as services' errors carry them.
        loc = [p if isinstance(p, int) else str(p) for p in err.get("loc", ())]
        path = [str(p) for p in loc]
        out.append(
            {
                "loc": loc,
                "field": ".".join(path[1:]) or path[0] if path else "",
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
            }
        )
    return out


def install(app: FastAPI, component: str = "server") -> None:
    @app.exception_handler(NovaCronError)
    async def _novacron(request: Request, exc: NovaCronError) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            detail = "request body is not valid JSON"
        else:
            detail = "; ".join(f"{e['field']}: {e['msg']}" for e in errors[:5])
        body = {
            "type": "https://novacron.dev/problems/invalid",
            "title": "Invalid request",
            "status": 422,
            "detail": detail,
            "instance": request.url.path,
            "errors": errors,
        }
        return JSONResponse(body, status_code=422, media_type=PROBLEM)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return problem_response(NotFound(f"no route {request.url.path}"), request)
        try:
            title = HTTPStatus(exc.status_code).phrase
        except ValueError:
            title = "HTTP error"
        body = {
            "type": "about:blank",
            "title": title,
            "status": exc.status_code,
            "detail": str(exc.detail),
            "instance": request.url.path,
        }
        return JSONResponse(
            body,
            status_code=exc.status_code,
            media_type=PROBLEM,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # A unique or foreign key constraint the checks before the write missed (e.g. a
        # concurrent insert): the request conflicts with the data. No SQL in the answer.
        log.info("integrity error in %s %s: %s", request.method, request.url.path, exc.orig)
        return problem_response(Conflict("the request conflicts with existing data"), request)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value from the request (e.g. a NUL byte in a string on
        # PostgreSQL, a number out of range).
        log.info("data error in %s %s: %s", request.method, request.url.path, exc.orig)
        return problem_response(Invalid("invalid value in request"), request)

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        # A value from the request too big to compute with: an integer beyond 64 bits
        # bound into SQLite (its driver raises this where PostgreSQL's gives a DataError),
        # a date pushed past year 1 or 9999 by date arithmetic (a 0001-01-01 "as of" day
        # minus a year), a float beyond range. The input is at fault, not the server; the
        # traceback stays in the log in case one day it is not.
        log.warning("overflow in %s %s: %s", request.method, request.url.path, exc, exc_info=exc)
        return problem_response(Invalid("a number or date in the request is out of range"), request)

    app.add_middleware(CrashMiddleware, component=component)


class CrashMiddleware:
    """Answer an unhandled exception with a problem+json 500, and keep the connection.

    Starlette's ServerErrorMiddleware sends its 500 and then re-raises, so the server
    closes the connection and a keep-alive client fails its *next* request. This pure
    ASGI middleware (no BaseHTTPMiddleware: streaming responses pass straight through)
    sits inside it and swallows the exception once the 500 is sent. If the response had
    already started there is nothing left to answer with: the exception propagates.
    """

    def __init__(self, app: ASGIApp, component: str = "server") -> None:
        self.app = app
        self.component = component

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            if started:
                raise  # the server logs it and closes the connection
            request = Request(scope)
            # A bug, not the user's fault: log it whole, answer without internals.
            log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
            error = NovaCronError(f"{self.component} internal error: {type(exc).__name__}")
            await problem_response(error, request)(scope, receive, send)
