"""Corporate records belong to a project (tenant).

Every top-level corporate record (a target, an integration programme, a partner, a
partner programme, a deal registration, an MDF request, a rebate schedule, each ecosystem
agreement) carries ``project_id``; its children (stage changes, diligence requests,
tasks, enrolments, sales reports …) belong to the project through their parent and are
only ever reached through it. Services take the project as a plain ``project_id``
argument and filter by it: a record of another project is as unknown as a made-up id
(``NotFound``, never ``Forbidden``, so that its existence is not revealed).
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column


class ProjectOwned:
    """Mixin of the top-level corporate models: the owning project. No ``ON DELETE``:
    a project that still owns corporate records can't be deleted from under them."""

    project_id: Mapped[str] = mapped_column(String(64), ForeignKey("projects.id"), index=True)
