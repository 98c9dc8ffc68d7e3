"""The security slice's CLI, a client of its API.

    novacron login | logout | whoami | password       cli_session.py
    novacron mfa setup | confirm | disable | recovery-codes
    novacron token list | create | revoke             cli_account.py
    novacron user list | create | show | update | passwd | disable | enable | unlock | reset-2fa
    novacron project list | create | show | update | members | grant | revoke
                                                      cli_admin.py
    novacron audit list | verify | export             cli_audit.py

Shared helpers (reading passwords, --since/--until) live in cli_common.py; the token that
``login`` stores and the global ``--project`` are ``novacron.core.cli_support``'s.
"""

from __future__ import annotations

import typer

from novacron.security import (
    cli_account,
    cli_admin,
    cli_audit,
    cli_compliance,
    cli_pki,
    cli_secrets,
    cli_session,
    cli_threats,
)


def register(app: typer.Typer) -> None:
    cli_session.register(app)
    cli_account.register(app)
    cli_admin.register(app)
    cli_audit.register(app)
    cli_secrets.register(app)
    cli_compliance.register(app)
    cli_pki.register(app)
    cli_threats.register(app)
