"""Placement: which host a VM goes to.

Pure code (no database, HTTP or driver imports). A :class:`HostTable` holds
every host's size, overcommit ratios and allocations as numpy arrays;
:meth:`HostTable.rank` filters hosts (exclude/force_host, state, traits,
labels, capacity, hard group policy) and weighs those that pass (pack or
spread, soft group policy). When nothing passes it raises
:class:`~novacron.core.errors.NoCapacity` saying why per filter.
"""

from __future__ import annotations

from novacron.core.errors import NoCapacity

from .table import HostTable, effective_capacity
from .views import REASONS, FilterReport, HostView, PlacementRequest, Weights

__all__ = [
    "REASONS",
    "FilterReport",
    "HostTable",
    "HostView",
    "NoCapacity",
    "PlacementRequest",
    "Weights",
    "effective_capacity",
]
