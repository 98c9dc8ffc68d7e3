"""``novacron vm | host | op | image | group``: the compute slice's CLI, a client of its API.

Every action that changes the fleet answers with an operation; the command waits for it
with a progress bar (stderr) unless ``--no-wait``, then prints the resulting object.

Where things live:

    common.py      options shared by the commands (--no-wait, --limit, --offset), _finish
    vms.py         novacron vm ...
    vm_spec.py     vm create's --port/--bridge/--ssh-key/--user-data, and render_vm
    console.py     novacron vm console: paged reads, then the live stream
    snapshots.py   novacron vm snapshot ...
    hosts.py       novacron host ...
    operations.py  novacron op ...
    catalog.py     novacron image ... and novacron group ... (placement groups)
"""

from __future__ import annotations

import typer

from novacron.compute.cli.catalog import group_app, image_app
from novacron.compute.cli.hosts import host_app
from novacron.compute.cli.operations import op_app
from novacron.compute.cli.vms import vm_app

__all__ = ["group_app", "host_app", "image_app", "op_app", "register", "vm_app"]


def register(app: typer.Typer) -> None:
    app.add_typer(vm_app, name="vm")
    app.add_typer(host_app, name="host")
    app.add_typer(op_app, name="op")
    app.add_typer(image_app, name="image")
    app.add_typer(group_app, name="group")
