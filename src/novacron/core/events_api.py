"""Event routes: a paged list and a Server-Sent Events stream.

The stream reads the events table by increasing id, so it sees changes made by
any replica; local commits wake it at once through the in-process notifier.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sse_starlette.sse import EventSourceResponse

from novacron.core import events
from novacron.security.auth import require_user
from novacron.security.context import current_project

router = APIRouter(prefix="/api/v1/events", tags=["events"], dependencies=[Depends(require_user)])

POLL_S = 1.0
# How long the stream waits for an id missing below ones it sent (see EventCursor).
GAP_GRACE_S = events.GAP_GRACE_S


@router.get("")
def list_events(
    request: Request,
    after: int = Query(0, ge=0, description="Only events with a larger id"),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    project_id = current_project(request)
    with request.app.state.db.read() as s:
        rows = events.events_after(s, after, limit)
        items = [e.as_dict() for e in rows if _visible(e, project_id)]
        return {"items": items, "last_id": rows[-1].id if rows else after}


def _visible(event: events.Event, project_id: str) -> bool:
    """A project sees its own events and the fleet's (hosts belong to no project)."""
    return event.project_id is None or event.project_id == project_id


@router.get("/stream")
async def stream(
    request: Request,
    after: int | None = Query(None, ge=0, description="Resume after this id (default: now)"),
) -> EventSourceResponse:
    """Events as they commit. Each message's SSE id is the point to resume from: on
    PostgreSQL a late commit can deliver an event with a lower id than one already sent,
    so that point may lag behind the event's own id (``data.id``); resuming from it may
    repeat an event, never skip one."""
    db = request.app.state.db
    project_id = current_project(request)
    last_event_id = request.headers.get("last-event-id")
    resume = int(last_event_id) if last_event_id and last_event_id.isdigit() else None

    def _read(cursor: events.EventCursor) -> list[events.NewEvent]:
        with db.read() as s:
            return events.read_new(s, cursor, 500)

    def _cursor() -> events.EventCursor:
        if resume is not None:  # a watermark we handed out: everything up to it was sent
            return events.EventCursor(resume, GAP_GRACE_S)
        with db.read() as s:
            seen = after if after is not None else events.latest_event_id(s)
            return events.cursor_after(s, seen, GAP_GRACE_S)

    async def gen() -> AsyncIterator[dict[str, Any]]:
        cursor = await asyncio.to_thread(_cursor)
        seen = 0
        yield {"event": "ready", "data": json.dumps({"last_id": cursor.watermark})}
        while not await request.is_disconnected():
            batch = await asyncio.to_thread(_read, cursor)
            for ev, resume_id in batch:
                if not _visible(ev, project_id):
                    continue
                yield {"id": str(resume_id), "event": ev.kind, "data": json.dumps(ev.as_dict())}
            if not batch:
                seen = await asyncio.to_thread(events.notifier.wait, seen, POLL_S)

    return EventSourceResponse(gen(), ping=15)
