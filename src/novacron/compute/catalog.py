"""Images and placement groups: catalogue objects VMs refer to."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from novacron.compute.models import DEFAULT_PROJECT_ID, VM, Image, PlacementGroup
from novacron.compute.schemas import GroupCreate, GroupOut, ImageCreate
from novacron.core.errors import Conflict, Invalid, NotFound
from novacron.core.ids import new_id

T = TypeVar("T", Image, PlacementGroup)


def _find(session: Session, model: type[T], ref: str, what: str, field: str | None) -> T:
    """By id or name. ``field`` names the request field that referred to it: a missing
    object is then bad input (422 on that field) rather than a missing resource (404)."""
    found = session.scalar(
        select(model).where(
            model.project_id == DEFAULT_PROJECT_ID, or_(model.id == ref, model.name == ref)
        )
    )
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


def find_image(session: Session, ref: str, *, for_input: bool = True) -> Image:
    return _find(session, Image, ref, "image", "image" if for_input else None)


def create_image(session: Session, req: ImageCreate) -> Image:
    image = Image(id=new_id("img"), project_id=DEFAULT_PROJECT_ID, **req.model_dump())
    return _add(session, image, "image")


def delete_image(session: Session, ref: str) -> None:
    _delete(session, find_image(session, ref, for_input=False), "image", VM.image_id)


def find_group(session: Session, ref: str, *, for_input: bool = True) -> PlacementGroup:
    return _find(session, PlacementGroup, ref, "placement group", "group" if for_input else None)


def create_group(session: Session, req: GroupCreate) -> PlacementGroup:
    group = PlacementGroup(id=new_id("pg"), project_id=DEFAULT_PROJECT_ID, **req.model_dump())
    return _add(session, group, "placement group")


def group_out(session: Session, group: PlacementGroup) -> GroupOut:
    out = GroupOut.model_validate(group)
    out.members = list(
        session.scalars(select(VM.id).where(VM.group_id == group.id, VM.state != "deleted"))
    )
    return out


def delete_group(session: Session, ref: str) -> None:
    _delete(session, find_group(session, ref, for_input=False), "placement group", VM.group_id)
