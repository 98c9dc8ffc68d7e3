"""``novacron image`` and ``novacron group``: what VMs boot from and where they may run."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import typer

from novacron.compute.cli.common import LIMIT, OFFSET
from novacron.core.cli_support import (
    Column,
    fmt_time,
    get_context,
    handle_errors,
    message,
    render,
    seg,
)

image_app = typer.Typer(help="Images VMs boot from.")
group_app = typer.Typer(help="Placement groups (affinity / anti-affinity).")

IMAGE_COLUMNS: list[Column] = [
    ("name", "name"),
    ("id", "id"),
    ("os", "os"),
    ("format", "format"),
    ("size", lambda i: f"{i.get('size_gib')} GiB"),
    ("min disk", lambda i: f"{i.get('min_disk_gib')} GiB"),
    ("created", lambda i: fmt_time(i.get("created_at"))),
]

GROUP_COLUMNS: list[Column] = [
    ("name", "name"),
    ("id", "id"),
    ("policy", "policy"),
    ("strict", "strict"),
    ("members", lambda g: len(g.get("members") or [])),
    ("created", lambda g: fmt_time(g.get("created_at"))),
]


# -- image ------------------------------------------------------------------------------------


@image_app.command("list")
@handle_errors
def image_list(ctx: typer.Context, limit: int = LIMIT, offset: int = OFFSET) -> None:
    """List images."""
    cli = get_context(ctx)
    with cli.client() as api:
        page = api.get("/images", params={"limit": limit, "offset": offset})
        render(cli, page, IMAGE_COLUMNS, empty="no images")


@image_app.command("show")
@handle_errors
def image_show(ctx: typer.Context, image: str = typer.Argument(..., help="Name or id")) -> None:
    """Show one image."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.get(f"/images/{seg(image)}"))


@image_app.command("create")
@handle_errors
def image_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Unique image name"),
    os_name: str | None = typer.Option(None, "--os", help="Guest OS (default: linux)"),
    fmt: str | None = typer.Option(None, "--format", help="qcow2 (default) or raw"),
    size: int | None = typer.Option(None, "--size", help="Size in GiB"),
    min_disk: int | None = typer.Option(None, "--min-disk", help="Smallest VM disk in GiB"),
    source: str | None = typer.Option(None, "--source", help="Where the image comes from"),
) -> None:
    """Register an image."""
    cli = get_context(ctx)
    body: dict[str, Any] = {"name": name}
    options = (
        ("os", os_name),
        ("format", fmt),
        ("size_gib", size),
        ("min_disk_gib", min_disk),
        ("source", source),
    )
    body.update({key: value for key, value in options if value is not None})
    with cli.client() as api:
        render(cli, api.post("/images", json=body))


@image_app.command("delete")
@handle_errors
def image_delete(ctx: typer.Context, image: str = typer.Argument(..., help="Name or id")) -> None:
    """Delete an image no VM uses."""
    cli = get_context(ctx)
    with cli.client() as api:
        api.delete(f"/images/{seg(image)}")
    message(cli, f"deleted image {image}", {"deleted": image, "kind": "image"})


# -- group ------------------------------------------------------------------------------------


class Policy(StrEnum):
    affinity = "affinity"
    anti_affinity = "anti-affinity"


@group_app.command("list")
@handle_errors
def group_list(ctx: typer.Context, limit: int = LIMIT, offset: int = OFFSET) -> None:
    """List placement groups."""
    cli = get_context(ctx)
    with cli.client() as api:
        page = api.get("/placement-groups", params={"limit": limit, "offset": offset})
        render(cli, page, GROUP_COLUMNS, empty="no placement groups")


@group_app.command("create")
@handle_errors
def group_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Unique group name"),
    policy: Policy = typer.Option(..., "--policy", help="affinity or anti-affinity"),
    soft: bool = typer.Option(False, "--soft", help="A preference, not a hard rule"),
) -> None:
    """Create a placement group."""
    cli = get_context(ctx)
    body = {"name": name, "policy": policy.value, "strict": not soft}
    with cli.client() as api:
        render(cli, api.post("/placement-groups", json=body))


@group_app.command("delete")
@handle_errors
def group_delete(ctx: typer.Context, group: str = typer.Argument(..., help="Name or id")) -> None:
    """Delete a placement group with no members."""
    cli = get_context(ctx)
    with cli.client() as api:
        api.delete(f"/placement-groups/{seg(group)}")
    message(cli, f"deleted placement group {group}", {"deleted": group, "kind": "placement-group"})
