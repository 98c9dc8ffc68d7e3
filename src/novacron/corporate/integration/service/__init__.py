"""Use cases of integration programmes (functions taking a ``Session``).

programmes.py  generate_programme (called by the M&A close), list, show, workstreams
tasks.py       tasks, dependencies (cycle-checked), critical path, milestones
governance.py  steering committee, meetings, decisions, escalations, risk register
value.py       synergy realisation against plan, key-employee and customer retention
summary.py     the computed roll-ups of a programme
"""

from novacron.corporate.integration.service.programmes import generate_programme

__all__ = ["generate_programme"]
