"""``novacron image`` and ``novacron group``: what VMs boot from and where they may run."""

from __future__ import annotations

import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from novacron.compute.cli.common import LIMIT, OFFSET
from novacron.compute.cli.image_files import (
    build_tiny_disk_guest,
    build_tiny_guest,
    create_and_upload,
    detect_format,
    fmt_bytes,
    name_from_file,
    readable_file,
    render_image,
    require_free_name,
)
from novacron.core.cli_support import (
    CLIContext,
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


def _image_size(image: dict[str, Any]) -> str:
    virtual = image.get("virtual_size_bytes")
    return fmt_bytes(virtual) if virtual else f"{image.get('size_gib')} GiB"


IMAGE_COLUMNS: list[Column] = [
    ("name", "name"),
    ("id", "id"),
    ("kind", "kind"),
    ("status", "status"),
    ("os", "os"),
    ("format", "format"),
    ("size", _image_size),
    ("min disk", lambda i: f"{i.get('min_disk_gib')} GiB"),
    ("files", lambda i: ", ".join(i.get("files") or {}) or "-"),
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
        render_image(cli, api.get(f"/images/{seg(image)}"))


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
        render_image(cli, api.post("/images", json=body))


@image_app.command("delete")
@handle_errors
def image_delete(ctx: typer.Context, image: str = typer.Argument(..., help="Name or id")) -> None:
    """Delete an image no VM uses."""
    cli = get_context(ctx)
    with cli.client() as api:
        api.delete(f"/images/{seg(image)}")
    message(cli, f"deleted image {image}", {"deleted": image, "kind": "image"})


class DiskFormat(StrEnum):
    qcow2 = "qcow2"
    raw = "raw"


@image_app.command("import")
@handle_errors
def image_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Disk image file (qcow2 or raw)"),
    name: str | None = typer.Option(
        None, "--name", help="Image name (default: the file name without its extension)"
    ),
    fmt: DiskFormat | None = typer.Option(
        None, "--format", help="qcow2 or raw (default: detected from the file)"
    ),
    os_name: str | None = typer.Option(None, "--os", help="Guest OS (default: linux)"),
) -> None:
    """Upload a disk image VMs boot from (BIOS boot); prints the active image."""
    cli = get_context(ctx)
    path = readable_file(file)
    body: dict[str, Any] = {
        "name": name or name_from_file(path),
        "kind": "disk",
        "format": fmt.value if fmt else detect_format(path),
        "source": path.name[:512],
    }
    if os_name is not None:
        body["os"] = os_name
    with cli.client() as api:
        render_image(cli, create_and_upload(cli, api, body, {"disk": path}))


class Recipe(StrEnum):
    tiny = "tiny"


@image_app.command("build")
@handle_errors
def image_build(
    ctx: typer.Context,
    recipe: Recipe = typer.Argument(
        ..., help="tiny: a small Linux guest (kernel + initrd + disk) that boots in seconds"
    ),
    name: str | None = typer.Option(
        None, "--name", help="Image name (default: the recipe, tiny-disk with --disk)"
    ),
    disk: bool = typer.Option(
        False,
        "--disk",
        help="One BIOS-bootable qcow2 disk (kind disk) that boots like a cloud image "
        "and reads a cloud-init NoCloud seed, instead of a kernel image",
    ),
) -> None:
    """Build an image on this machine and upload it; prints the active image."""
    cli = get_context(ctx)
    name = name or (f"{recipe.value}-disk" if disk else recipe.value)
    with cli.client() as api:
        require_free_name(api, name)  # before a build that may take minutes
    with tempfile.TemporaryDirectory(prefix="novacron-build-") as tmp:
        if disk:
            body, files = _tiny_disk_upload(cli, Path(tmp) / "tiny-disk", name)
        else:
            body, files = _tiny_kernel_upload(cli, Path(tmp) / "tiny", name)
        with cli.client() as api:
            render_image(cli, create_and_upload(cli, api, body, files))


def _tiny_kernel_upload(
    cli: CLIContext, out_dir: Path, name: str
) -> tuple[dict[str, Any], dict[str, Path]]:
    tiny = build_tiny_guest(cli, out_dir)
    body = {
        "name": name,
        "kind": "kernel",
        "format": "qcow2",
        "os": "linux",
        "cmdline": tiny.cmdline,
        "source": f"novacron image build tiny (Linux {tiny.kernel_release})"[:512],
    }
    return body, {"kernel": tiny.kernel, "initrd": tiny.initrd, "disk": tiny.disk}


def _tiny_disk_upload(
    cli: CLIContext, out_dir: Path, name: str
) -> tuple[dict[str, Any], dict[str, Path]]:
    disk = build_tiny_disk_guest(cli, out_dir)
    body = {
        "name": name,
        "kind": "disk",
        "format": "qcow2",
        "os": "linux",
        "source": "novacron image build tiny --disk",
    }
    return body, {"disk": disk}


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
