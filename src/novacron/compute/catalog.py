"""Images and placement groups: catalogue objects VMs refer to."""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from novacron.compute.models import DEFAULT_PROJECT_ID, VM, Image, PlacementGroup
from novacron.compute.schemas import GroupCreate, GroupOut, ImageCreate
from novacron.core.errors import Conflict, Invalid, NotFound
from novacron.core.ids import new_id


def find_image(session: Session, ref: str) -> Image:
    image = session.scalar(select(Image).where(or_(Image.id == ref, Image.name == ref)))
    if image is None:
        raise Invalid(
            f"no image {ref!r}", errors=[{"loc": ["body", "image"], "msg": "no such image"}]
        )
    return image


def get_image(session: Session, ref: str) -> Image:
    image = session.scalar(select(Image).where(or_(Image.id == ref, Image.name == ref)))
    if image is None:
        raise NotFound(f"no image {ref!r}")
    return image


def create_image(session: Session, req: ImageCreate) -> Image:
    image = Image(id=new_id("img"), project_id=DEFAULT_PROJECT_ID, **req.model_dump())
    session.add(image)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"an image named {req.name!r} already exists") from None
    return image


def delete_image(session: Session, ref: str) -> None:
    image = get_image(session, ref)
    in_use = session.scalar(
        select(VM.id).where(VM.image_id == image.id, VM.state != "deleted").limit(1)
    )
    if in_use:
        raise Conflict(f"image {image.name} is used by VM {in_use}")
    # Deleted VMs keep their history but let go of the image.
    session.execute(
        update(VM)
        .where(VM.image_id == image.id)
        .values(image_id=None)
        .execution_options(synchronize_session=False)
    )
    session.delete(image)


def find_group(session: Session, ref: str, *, for_input: bool = True) -> PlacementGroup:
    group = session.scalar(
        select(PlacementGroup).where(
            PlacementGroup.project_id == DEFAULT_PROJECT_ID,
            or_(PlacementGroup.id == ref, PlacementGroup.name == ref),
        )
    )
    if group is None:
        if for_input:
            raise Invalid(
                f"no placement group {ref!r}",
                errors=[{"loc": ["body", "group"], "msg": "no such placement group"}],
            )
        raise NotFound(f"no placement group {ref!r}")
    return group


def create_group(session: Session, req: GroupCreate) -> PlacementGroup:
    group = PlacementGroup(id=new_id("pg"), project_id=DEFAULT_PROJECT_ID, **req.model_dump())
    session.add(group)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"a placement group named {req.name!r} already exists") from None
    return group


def group_out(session: Session, group: PlacementGroup) -> GroupOut:
    out = GroupOut.model_validate(group)
    out.members = list(
        session.scalars(select(VM.id).where(VM.group_id == group.id, VM.state != "deleted"))
    )
    return out


def delete_group(session: Session, ref: str) -> None:
    group = find_group(session, ref, for_input=False)
    if session.scalar(select(VM.id).where(VM.group_id == group.id, VM.state != "deleted").limit(1)):
        raise Conflict(f"placement group {group.name} still has member VMs")
    session.execute(
        update(VM)
        .where(VM.group_id == group.id)
        .values(group_id=None)
        .execution_options(synchronize_session=False)
    )
    session.delete(group)
