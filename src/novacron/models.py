"""Every slice's ORM models, imported in one place for Alembic and the test suite."""

from novacron.compute import models as compute_models
from novacron.core import events
from novacron.core.database import Base
from novacron.corporate import models as corporate_models
from novacron.security import models as security_models
from novacron.security.compliance import models as compliance_models
from novacron.security.pki import models as pki_models
from novacron.security.secrets import models as secrets_models
from novacron.security.threats import models as threats_models

__all__ = [
    "Base",
    "compliance_models",
    "compute_models",
    "corporate_models",
    "events",
    "pki_models",
    "secrets_models",
    "security_models",
    "threats_models",
]
