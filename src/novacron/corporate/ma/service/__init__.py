"""Use cases of the M&A pipeline, one module per noun; each takes a ``Session``.

targets     create (``create_target``, reused by the CSV import), find, list, update, delete
workflow    gate preview, advance (closing generates the integration programme), drop,
            reopen, stage history
scorecards  screening scorecards (versions, scored on save)
diligence   workstreams, request lists, findings register, summary and heat map
valuations  valuation versions computed by the finance engine, approve, diff
synergies   the synergy plan and its totals
"""

from novacron.corporate.ma.service.targets import (
    create_target,
    delete_target,
    find_target,
    list_targets,
    to_out,
    update_target,
)

__all__ = [
    "create_target",
    "delete_target",
    "find_target",
    "list_targets",
    "to_out",
    "update_target",
]
