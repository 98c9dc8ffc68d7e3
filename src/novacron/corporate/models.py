"""Every corporate sub-slice's ORM models, imported in one place (``novacron.models``)."""

from novacron.corporate.ecosystem import models as ecosystem_models
from novacron.corporate.integration import models as integration_models
from novacron.corporate.ma import models as ma_models
from novacron.corporate.partners import models as partners_models

__all__ = ["ecosystem_models", "integration_models", "ma_models", "partners_models"]
