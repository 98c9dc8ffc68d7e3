"""The token ``novacron login`` stores: ``$XDG_CONFIG_HOME/novacron/token``.

The file holds the secret alone (one line), so ``NOVACRON_TOKEN=$(cat …)`` works; what
``novacron logout`` needs to revoke it (its id, the server, the user) sits beside it in
``login.json``. Both are the owner's only (0600 in a 0700 directory), and a token file
that others could read is refused, as ssh refuses such a key: a leaked token acts as its
user until it expires.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from novacron.core.errors import NovaCronError

LOGIN_TOKEN_FILE = "token"
LOGIN_META_FILE = "login.json"


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/novacron``, else ``~/.config/novacron`` (a relative
    ``$XDG_CONFIG_HOME`` is ignored, as the XDG spec says)."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "novacron"


def login_token_path() -> Path:
    return config_dir() / LOGIN_TOKEN_FILE


def login_meta_path() -> Path:
    return config_dir() / LOGIN_META_FILE


@dataclass(frozen=True)
class LoginInfo:
    """What is known of the stored token besides its secret."""

    token_id: str
    user: str
    url: str
    expires_at: str | None = None


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by its owner only (0600), atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o600)  # the umask may have narrowed it; never wider
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_login(secret: str, info: LoginInfo) -> Path:
    """Store the token and what logout needs; returns the token file's path."""
    path = login_token_path()
    try:
        _write_private(path, secret + "\n")
        _write_private(login_meta_path(), json.dumps(asdict(info), indent=2) + "\n")
    except OSError as exc:
        raise NovaCronError(f"cannot store the token in {path}: {exc.strerror}") from exc
    return path


def read_login_token() -> str | None:
    """The stored token, or None when there is none. Raises when the file exists but is
    unreadable or open to others."""
    path = login_token_path()
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise NovaCronError(
                f"the token file {path} is open to other users (mode "
                f"{stat.S_IMODE(mode):04o}): run chmod 600 {path}, or novacron login again"
            )
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise NovaCronError(f"cannot read the token file {path}: {exc.strerror}") from exc
    return token or None


def read_login_info() -> LoginInfo | None:
    """``login.json``, or None when it is missing or not what login wrote."""
    try:
        data = json.loads(login_meta_path().read_text(encoding="utf-8"))
        return LoginInfo(
            token_id=str(data["token_id"]),
            user=str(data["user"]),
            url=str(data["url"]),
            expires_at=data.get("expires_at"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget_login() -> bool:
    """Remove the token and its metadata; whether there was a token file."""
    existed = login_token_path().exists()
    for path in (login_token_path(), login_meta_path()):
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise NovaCronError(f"cannot remove {path}: {exc.strerror}") from exc
    return existed
