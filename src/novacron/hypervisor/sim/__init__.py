"""The ``sim`` driver: an in-memory simulation of hosts and VMs.

For scale tests and for hosts without virtualisation. Nothing here runs a VM.
"""

from __future__ import annotations

from novacron.hypervisor.sim.config import OPERATIONS, READ_OPERATIONS, VM_OPERATIONS, SimConfig
from novacron.hypervisor.sim.driver import SimDriver
from novacron.hypervisor.sim.fleet import SimFleet

__all__ = ["OPERATIONS", "READ_OPERATIONS", "VM_OPERATIONS", "SimConfig", "SimDriver", "SimFleet"]
