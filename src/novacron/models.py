"""Every slice's ORM models, imported in one place for Alembic and the test suite."""

from novacron.compute import models as compute_models
from novacron.core import events
from novacron.core.database import Base
from novacron.corporate import models as corporate_models
from novacron.security import models as security_models

__all__ = ["Base", "compute_models", "corporate_models", "events", "security_models"]
