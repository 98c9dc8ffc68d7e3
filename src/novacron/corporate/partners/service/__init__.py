"""Use cases of the partnerships sub-slice (functions taking a ``Session``).

partners.py      partners, tier evaluation and history, performance, health
programmes.py    programmes and enrolment
deals.py         deal registration: duplicates, conflicts, approval, expiry
mdf.py           market development funds and the partner ledger
rebate_runs.py   rebate schedules and per-period rebate runs
"""

from novacron.corporate.partners.service.deals import expire_registrations
from novacron.corporate.partners.service.partners import (
    create_partner,
    evaluate_tier,
    update_partner,
)

__all__ = ["create_partner", "evaluate_tier", "expire_registrations", "update_partner"]
