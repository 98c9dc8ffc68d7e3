"""Images and placement groups: catalogue objects VMs refer to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from novacron.compute.models import VM, Image, PlacementGroup
from novacron.compute.schemas import GroupCreate, GroupOut, ImageCreate
from novacron.core.errors import Conflict, Invalid, InvalidState, NotFound
from novacron.core.ids import new_id

T = TypeVar("T", Image, PlacementGroup)

GIB = 1024**3
#: The files an image of each kind may have, and those it needs before it is activated.
FILES_BY_KIND: dict[str, tuple[str, ...]] = {
    "disk": ("disk",),
    "kernel": ("kernel", "initrd", "disk"),
}
REQUIRED_FILES: dict[str, tuple[str, ...]] = {"disk": ("disk",), "kernel": ("kernel", "initrd")}


def _find(
    session: Session,
    model: type[T],
    ref: str,
    what: str,
    field: str | None,
    project_id: str | None,
) -> T:
    """By id or name within ``project_id`` (None: by id in any project, for internal
    callers). ``field`` names the request field that referred to it: a missing object
    is then bad input (422 on that field) rather than a missing resource (404)."""
    if project_id is None:
        stmt = select(model).where(model.id == ref)
    else:
        stmt = select(model).where(
            model.project_id == project_id, or_(model.id == ref, model.name == ref)
        )
    found = session.scalar(stmt)
    if found is None:
        if field:
            raise Invalid(
                f"no {what} {ref!r}", errors=[{"loc": ["body", field], "msg": f"no such {what}"}]
            )
        raise NotFound(f"no {what} {ref!r}")
    return found


def _add(session: Session, obj: T, what: str) -> T:
    session.add(obj)
    try:
        session.flush()
    except IntegrityError:
        article = "an" if what[0] in "aeiou" else "a"
        raise Conflict(f"{article} {what} named {obj.name!r} already exists") from None
    return obj


def _delete(
    session: Session, obj: T, what: str, ref_column: InstrumentedAttribute[str | None]
) -> None:
    """Delete unless a live VM uses it; deleted VMs keep their history but let go of it."""
    uses: ColumnElement[bool] = ref_column == obj.id
    in_use = session.scalar(select(VM.name).where(uses, VM.state != "deleted").limit(1))
    if in_use:
        raise Conflict(f"{what} {obj.name} is used by VM {in_use}")
    session.execute(
        update(VM)
        .where(uses)
        .values({ref_column.key: None})
        .execution_options(synchronize_session=False)
    )
    session.delete(obj)


def find_image(
    session: Session, ref: str, *, project_id: str | None, for_input: bool = True
) -> Image:
    return _find(session, Image, ref, "image", "image" if for_input else None, project_id)


def find_bootable_image(session: Session, ref: str, *, project_id: str) -> Image:
    """An image a new VM may use (422 on ``image`` otherwise): only an active image's
    files are complete and final."""
    image = find_image(session, ref, project_id=project_id)
    if image.status != "active":
        raise Invalid(
            f"image {image.name} is {image.status}: upload its files and activate it first",
            errors=[{"loc": ["body", "image"], "msg": f"image is {image.status}, not active"}],
        )
    return image


def create_image(session: Session, req: ImageCreate, *, project_id: str) -> Image:
    """Without ``kind``: a catalogue entry without files, active at once (the sim driver
    needs nothing more). With ``kind``: pending until its files are uploaded and it is
    activated."""
    if req.cmdline and req.kind != "kernel":
        raise Invalid(
            "cmdline is only for images of kind 'kernel'",
            errors=[{"loc": ["body", "cmdline"], "msg": "only for images of kind 'kernel'"}],
        )
    image = Image(
        id=new_id("img"),
        project_id=project_id,
        **req.model_dump(exclude={"kind"}),
        kind=req.kind or "disk",
        status="pending" if req.kind else "active",
        files={},
        virtual_size_bytes=None,
    )
    return _add(session, image, "image")


def delete_image(session: Session, ref: str, *, project_id: str) -> str:
    """Delete the image's row; returns its id so the caller removes its files once the
    deletion is committed (a refused deletion keeps them)."""
    image = find_image(session, ref, project_id=project_id, for_input=False)
    _delete(session, image, "image", VM.image_id)
    return image.id


# -- image files -------------------------------------------------------------------------


def _locked_image(session: Session, ref: str, project_id: str | None) -> Image:
    """The image's row, locked on PostgreSQL (SQLite transactions already serialize), so
    concurrent uploads and activation of one image take turns."""
    found = find_image(session, ref, project_id=project_id, for_input=False)
    if session.get_bind().dialect.name == "postgresql":
        session.refresh(found, with_for_update=True)
    return found


def check_uploadable(image: Image, file_name: str) -> None:
    """Only a pending image takes files, and only the files its kind uses."""
    if image.status != "pending":
        raise InvalidState(
            f"image {image.name} is {image.status}: its files cannot change "
            "(create a new image instead)"
        )
    allowed = FILES_BY_KIND[image.kind]
    if file_name not in allowed:
        msg = f"an image of kind {image.kind!r} has no {file_name!r} file (one of: "
        msg += ", ".join(allowed) + ")"
        raise Invalid(msg, errors=[{"loc": ["path", "file_name"], "msg": msg}])


def record_file(
    session: Session,
    image_id: str,
    file_name: str,
    sha256: str,
    size: int,
    virtual_size: int | None,
) -> Image:
    """Record an uploaded file on a pending image. A disk sets the image's virtual size,
    and its minimum disk rises to hold it (a VM's disk grows from the image, never shrinks)."""
    image = _locked_image(session, image_id, None)
    check_uploadable(image, file_name)
    # A new dict: SQLAlchemy does not see changes made inside a JSON value.
    image.files = {**image.files, file_name: {"sha256": sha256, "size": size}}
    if file_name == "disk" and virtual_size is not None:
        image.virtual_size_bytes = virtual_size
        image.size_gib = max(1, -(-virtual_size // GIB))
        image.min_disk_gib = max(image.min_disk_gib, image.size_gib)
    session.flush()
    return image


def activate_image(
    session: Session,
    ref: str,
    missing_on_disk: Callable[[Image], list[str]],
    *,
    project_id: str,
) -> Image:
    """Pending → active once the files its kind needs are recorded and on disk; an
    active image is returned as it is (activating twice is harmless)."""
    image = _locked_image(session, ref, project_id)
    if image.status == "active":
        return image
    lacking = [name for name in REQUIRED_FILES[image.kind] if name not in image.files]
    if lacking:
        raise InvalidState(
            f"image {image.name} lacks its {' and '.join(lacking)} file"
            f"{'s' if len(lacking) > 1 else ''}: upload with PUT "
            f"/api/v1/images/{image.name}/files/{lacking[0]}"
        )
    broken = missing_on_disk(image)
    if broken:
        raise InvalidState(
            f"image {image.name}'s {' and '.join(broken)} file is missing from the server's "
            "image store or changed: upload it again"
        )
    image.status = "active"
    session.flush()
    return image


def image_ref(image: Image) -> dict[str, Any] | None:
    """What an agent needs to fetch and boot the image (see ``agent.images.ImageCache``);
    None for a catalogue image without files."""
    if not image.files:
        return None
    return {
        "id": image.id,
        "name": image.name,
        "kind": image.kind,
        "format": image.format,
        "files": {name: entry["sha256"] for name, entry in sorted(image.files.items())},
        "cmdline": image.cmdline,
        "virtual_size_bytes": image.virtual_size_bytes,
    }


def find_group(
    session: Session, ref: str, *, project_id: str | None, for_input: bool = True
) -> PlacementGroup:
    field = "group" if for_input else None
    return _find(session, PlacementGroup, ref, "placement group", field, project_id)


def create_group(session: Session, req: GroupCreate, *, project_id: str) -> PlacementGroup:
    group = PlacementGroup(id=new_id("pg"), project_id=project_id, **req.model_dump())
    return _add(session, group, "placement group")


def group_out(session: Session, group: PlacementGroup) -> GroupOut:
    out = GroupOut.model_validate(group)
    out.members = list(
        session.scalars(select(VM.id).where(VM.group_id == group.id, VM.state != "deleted"))
    )
    return out


def delete_group(session: Session, ref: str, *, project_id: str) -> None:
    group = find_group(session, ref, project_id=project_id, for_input=False)
    _delete(session, group, "placement group", VM.group_id)
