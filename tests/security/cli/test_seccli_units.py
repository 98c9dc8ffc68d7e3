"""Pure pieces of the security CLI: times, quotas, token states, the stored login."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from novacron.core.cli_support import (
    LoginInfo,
    config_dir,
    find_token,
    forget_login,
    read_login_info,
    read_login_token,
    save_login,
)
from novacron.core.errors import Invalid, NovaCronError
from novacron.security.cli_account import token_state
from novacron.security.cli_admin import quota, user_state
from novacron.security.cli_common import time_option

NOW = datetime(2024, 5, 10, 12, 0, 0, tzinfo=UTC)


def test_time_option() -> None:
    assert time_option("24h", "--since", NOW) == "2024-05-09T12:00:00Z"
    assert time_option("30m", "--since", NOW) == "2024-05-10T11:30:00Z"
    assert time_option("2w", "--since", NOW) == "2024-04-26T12:00:00Z"
    assert time_option("2024-05-01", "--since", NOW) == "2024-05-01T00:00:00Z"
    assert time_option("2024-05-01T14:00:00+02:00", "--until", NOW) == "2024-05-01T12:00:00Z"
    assert time_option(None, "--since") is None and time_option(" ", "--since") is None
    with pytest.raises(Invalid, match="--until: 'later' is not a time"):
        time_option("later", "--until", NOW)


def test_quota() -> None:
    assert quota("10", "--vms") == 10
    assert quota("0", "--vms") == 0
    assert quota("unlimited", "--vms") is None and quota("None", "--vms") is None
    for bad in ("-2", "ten", "1.5"):
        with pytest.raises(Invalid, match=f"--vcpus: '{bad}' is not a count"):
            quota(bad, "--vcpus")


def test_states() -> None:
    assert token_state({"revoked_at": "2024-05-01T00:00:00"}, NOW) == "revoked"
    assert token_state({"expires_at": "2024-05-10T11:59:59"}, NOW) == "expired"
    assert token_state({"expires_at": "2024-05-10T12:00:01"}, NOW) == "active"
    assert token_state({"expires_at": None}, NOW) == "active"
    assert user_state({"disabled_at": "2024-01-01T00:00:00"}, NOW) == "disabled"
    assert user_state({"locked_until": "2024-05-10T12:05:00"}, NOW) == "locked"
    assert user_state({"locked_until": "2024-05-10T11:55:00"}, NOW) == "active"


def test_stored_login(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert config_dir() == isolated_env / "novacron"
    assert read_login_token() is None and read_login_info() is None
    info = LoginInfo(token_id="tok-1", user="ann", url="http://127.0.0.1:1", expires_at=None)
    path = save_login("nct_secret", info)
    assert path == isolated_env / "novacron" / "token"
    assert path.read_text() == "nct_secret\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_login_token() == "nct_secret" and read_login_info() == info

    # the order: --token / $NOVACRON_TOKEN, the login token, the data dir's admin token
    data_dir = isolated_env.parent / "no-data-dir"  # $NOVACRON_DATA_DIR (isolated_env)
    data_dir.mkdir()
    (data_dir / "admin-token").write_text("nct_admin\n")
    assert find_token("nct_explicit").token == "nct_explicit"
    assert find_token(None).token == "nct_secret" and find_token(None).source == str(path)
    assert forget_login() is True and not path.exists()
    assert find_token(None).token == "nct_admin"
    assert forget_login() is False

    path.write_text("nct_secret\n")
    path.chmod(0o640)
    with pytest.raises(NovaCronError, match="open to other users"):
        read_login_token()

    # a relative $XDG_CONFIG_HOME is ignored (XDG base directory spec)
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")
    monkeypatch.setenv("HOME", str(isolated_env.parent / "home"))
    assert config_dir() == isolated_env.parent / "home" / ".config" / "novacron"
