"""Render every error as RFC 9457 problem+json, with field paths for bad input."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from novacron.core.errors import NotFound, NovaCronError

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
        loc = [str(p) for p in err.get("loc", ())]
        out.append(
            {
                "loc": loc,
                "field": ".".join(loc[1:]) or loc[0] if loc else "",
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

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not the user's fault: log it whole, answer without internals.
        log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
        error = NovaCronError(f"{component} internal error: {type(exc).__name__}")
        return problem_response(error, request)
