"""The corporate workspace's web pages (listed in ``novacron.web.app.PAGE_SLICES``).

    pages.py            routes under /corporate (sign-in required, like every page)
    dashboard.py        the executive dashboard's view model
    views_*.py          the other pages' view models, read through the sub-slices' services
    valuation.py        football field and sensitivity grid of a target's latest DCF
    charts.py           plotly figures as JSON data (drawn by static/corporate.js)
    format.py           money, percent and label filters for the templates

plotly.js comes from the ``plotly`` wheel, served at ``/vendor/plotly.min.js`` (not under
``/static``: that path is the UI's StaticFiles mount, matched before any router).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import plotly
from fastapi import APIRouter
from fastapi.responses import Response

from novacron.corporate.web import format as corp_format
from novacron.corporate.web.pages import router as pages_router
from novacron.web import ui

PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
PLOTLY_PATH = "/vendor/plotly.min.js"
YEAR_S = 365 * 24 * 3600


def plotly_url() -> str:
    """The plotly.js URL, versioned so it can be cached for good."""
    return f"{PLOTLY_PATH}?v={plotly.__version__}"


@cache
def _plotly_bytes() -> bytes:
    return PLOTLY_JS.read_bytes()


vendor = APIRouter(include_in_schema=False)


@vendor.get(PLOTLY_PATH)
def plotly_js() -> Response:
    """plotly.js from the installed wheel: no CDN, works offline."""
    return Response(
        _plotly_bytes(),
        media_type="text/javascript",
        headers={
            "Cache-Control": f"public, max-age={YEAR_S}, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )


corp_format.register(ui.env)
ui.env.globals.update(corp_plotly_url=plotly_url)

router = APIRouter(include_in_schema=False)
router.include_router(vendor)
router.include_router(pages_router)
