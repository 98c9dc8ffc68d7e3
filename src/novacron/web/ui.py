"""UI helpers shared by every slice's pages: templates, page auth, rendering, formatting.

Templates are named ``<slice>/<file>``: ``web/base.html`` lives in
``novacron/web/templates/``, ``compute/overview.html`` in ``novacron/compute/templates/``.
Autoescaping is on for every template; undefined variables fail loudly.

Pages authenticate with the session cookie that ``POST /login`` sets; a page
request without a valid one raises :class:`LoginRequired`, which ``mount`` turns into a
303 to ``/login``. Fragment routes (``/ui/…``, fetched by the page's JavaScript) use the
API's own ``require_user`` and answer 401 problem+json instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from novacron import __version__
from novacron.core.clock import isoformat
from novacron.core.errors import Unauthorized
from novacron.security.auth import PasswordChangeRequired, require_user, session_cookie
from novacron.security.sessions import csrf_for
from novacron.security.tokens import Principal

PACKAGE_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = Path(__file__).resolve().parent / "static"

# No inline script anywhere: first-party files only. Inline style attributes carry bar widths.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class LoginRequired(Exception):
    """A page was requested without a valid session cookie."""

    def __init__(self, next_path: str = "/") -> None:
        super().__init__(next_path)
        self.next_path = next_path


class AccountFirst(Exception):
    """A page was requested by a session whose password an administrator set: the
    account page comes first (``mount`` turns this into a 303 to ``/account``)."""


def page_user(request: Request) -> Principal:
    """Dependency of every page: the signed-in user, or :class:`LoginRequired`."""
    try:
        return require_user(request)
    except Unauthorized:
        raise LoginRequired(request.url.path) from None
    except PasswordChangeRequired:
        raise AccountFirst() from None


def csrf_token(request: Request) -> str:
    """The CSRF token of the request's session (empty without one); pages put it in a
    ``<meta name="csrf-token">`` that live.js sends back as ``X-CSRF-Token``."""
    cookie = session_cookie(request)
    return csrf_for(cookie) if cookie else ""


def safe_next(value: str | None) -> str:
    """A local path to return to after sign-in; anything else becomes ``/``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


# -- templates ------------------------------------------------------------------------------


class SliceLoader(jinja2.BaseLoader):
    """Loads ``<slice>/<name>`` from ``novacron/<slice>/templates/<name>``."""

    def __init__(self, package_dir: Path = PACKAGE_DIR) -> None:
        self.package_dir = package_dir
        self._loaders: dict[str, jinja2.FileSystemLoader] = {}

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Any]:
        slice_name, sep, rest = template.partition("/")
        if not sep or not slice_name.isidentifier():
            raise jinja2.TemplateNotFound(template)
        loader = self._loaders.get(slice_name)
        if loader is None:
            directory = self.package_dir / slice_name / "templates"
            if not directory.is_dir():
                raise jinja2.TemplateNotFound(template)
            loader = self._loaders.setdefault(slice_name, jinja2.FileSystemLoader(directory))
        return loader.get_source(environment, rest)


# Badge tone of each state, per kind of object. Unlisted states are neutral.
TONES: dict[str, dict[str, str]] = {
    "vm": {
        "running": "ok",
        "stopped": "idle",
        "paused": "info",
        "error": "bad",
        "crashed": "bad",
        "lost": "bad",
        "migrating": "busy",
        "unknown": "warn",
        "deleted": "gone",
        "building": "busy",
        "starting": "busy",
        "stopping": "busy",
        "rebooting": "busy",
        "pausing": "busy",
        "resuming": "busy",
        "deleting": "busy",
        "snapshotting": "busy",
        "reverting": "busy",
        "resizing": "busy",
        "cloning": "busy",
    },
    "host": {"up": "ok", "down": "bad", "maintenance": "warn"},
    "op": {
        "pending": "idle",
        "running": "busy",
        "succeeded": "ok",
        "failed": "bad",
        "cancelled": "gone",
    },
}


def tone(state: str, kind: str = "vm") -> str:
    return TONES.get(kind, {}).get(state, "idle")


def iso(value: datetime | str | None) -> str:
    """UTC ISO 8601 (``2025-01-31T12:00:00Z``), or an em dash for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        value = parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    return isoformat(value.replace(microsecond=0)) or "—"


def fmt_mib(mib: float) -> str:
    """512 MiB, 2 GiB, 1.5 TiB: the largest unit that keeps the number at least 1."""
    if mib >= 1024 * 1024:
        return f"{_trim(mib / (1024 * 1024))} TiB"
    if mib >= 1024:
        return f"{_trim(mib / 1024)} GiB"
    return f"{_trim(mib)} MiB"


def fmt_gib(gib: float) -> str:
    return f"{_trim(gib / 1024)} TiB" if gib >= 1024 else f"{_trim(gib)} GiB"


def _trim(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


@dataclass(frozen=True)
class Capacity:
    """One capacity bar: what is allocated against what may be (total × overcommit ratio)."""

    key: str
    label: str
    used: float
    capacity: float
    text: str
    detail: str

    @property
    def pct(self) -> float:
        return 100.0 * self.used / self.capacity if self.capacity > 0 else 0.0

    @property
    def width(self) -> str:
        """CSS width, capped at 100 %."""
        return f"{min(self.pct, 100.0):.1f}"

    @property
    def level(self) -> str:
        pct = self.pct
        return "crit" if pct >= 90 else "warn" if pct >= 70 else "ok"


@cache
def _static_hash(name: str) -> str:
    path = STATIC_DIR / name
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    except OSError:
        return __version__


def static_url(name: str) -> str:
    """``/static/<name>?v=<content hash>``: cache forever, change when the file changes."""
    return f"/static/{name}?v={_static_hash(name)}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=SliceLoader(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(iso=iso, mib=fmt_mib, gib=fmt_gib, tone=tone)
    env.globals.update(static_url=static_url, version=__version__)
    return env


env = _environment()


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page or fragment with the security headers every UI response carries."""
    principal = getattr(request.state, "principal", None)
    html = env.get_template(template).render(
        request=request, principal=principal, csrf_token=csrf_token(request), **(context or {})
    )
    return HTMLResponse(
        html, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})}
    )


def error_page(request: Request, status_code: int, title: str, detail: str) -> HTMLResponse:
    return render(
        request,
        "web/error.html",
        {"status": status_code, "title": title, "detail": detail, "nav": ""},
        status_code=status_code,
    )
