"""cloud-init NoCloud seed images, so standard cloud images boot configured.

cloud-init's NoCloud datasource looks for a vfat or iso9660 filesystem labelled
``cidata`` (or ``CIDATA``) and reads the files ``meta-data`` and ``user-data``
(both required) and ``network-config`` (optional) from its root. ISO 9660 alone
only allows upper-case 8.3 names, so the image carries Rock Ridge and Joliet
names too, as ``cloud-localds`` / ``genisoimage -joliet -rock`` do; Linux
mounts Rock Ridge names by default.

``seed_files`` renders the files (pure); ``build_seed`` validates, renders and
writes the image atomically.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pycdlib
import yaml

from novacron.core.errors import DriverError, Invalid

VOLUME_LABEL = "cidata"
CLOUD_CONFIG_HEADER = "#cloud-config"

# Plain ISO 9660 names for readers without Rock Ridge or Joliet; cloud-init never sees them.
_ISO_NAMES = {"meta-data": "METADATA", "user-data": "USERDATA", "network-config": "NETCFG"}

_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_KEY_TYPE = re.compile(r"[a-z0-9][a-z0-9.@-]*")
# cloud-init keeps per-instance state in /var/lib/cloud/instances/<instance-id>/.
_INSTANCE_ID = re.compile(r"[A-Za-z0-9._:@+-]{1,255}")

Errors = list[dict[str, Any]]


# --- validation -------------------------------------------------------------------------


def _check_hostname(hostname: str) -> str | None:
    """Why ``hostname`` is not a valid RFC 1123 host name, or None."""
    if not hostname:
        return "must not be empty"
    if len(hostname) > 253:
        return "must be at most 253 characters"
    for label in hostname.split("."):
        if not _LABEL.fullmatch(label):
            return (
                f"label {label!r} must be 1-63 letters, digits or hyphens, "
                "not starting or ending with a hyphen"
            )
    return None


def _check_instance_id(instance_id: str) -> str | None:
    if not _INSTANCE_ID.fullmatch(instance_id) or instance_id in (".", ".."):
        return "must be 1-255 characters of letters, digits and . _ : @ + -"
    return None


def _check_key(key: object) -> str | None:
    """Why ``key`` is not an OpenSSH public key line (``TYPE BASE64 [COMMENT]``), or None."""
    if not isinstance(key, str):
        return "must be a string"
    if "\n" in key.strip() or "\r" in key:
        return "must be a single line"
    parts = key.split()
    if len(parts) < 2 or not _KEY_TYPE.fullmatch(parts[0]):
        return "not an SSH public key (expected 'TYPE BASE64 [COMMENT]')"
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except binascii.Error:
        return "key data is not valid base64"
    # The decoded blob starts with its own type as an SSH string (uint32 length +
    # bytes), which catches keys pasted with a wrong type or a truncated body.
    length = int.from_bytes(blob[:4], "big")
    if len(blob) < 4 + length or blob[4 : 4 + length] != parts[0].encode():
        return f"key data does not match key type {parts[0]}"
    return None


def _check_keys(keys: object, loc: list[Any]) -> tuple[list[str], Errors]:
    if isinstance(keys, str) or not isinstance(keys, Sequence):
        return [], [{"loc": loc, "msg": "must be a list of SSH public keys"}]
    errors: Errors = []
    good: list[str] = []
    for i, key in enumerate(keys):
        problem = _check_key(key)
        if problem:
            errors.append({"loc": [*loc, i], "msg": problem})
        elif isinstance(key, str):
            good.append(key.strip())
    return good, errors


def _parse_mapping(text: str, loc: list[Any], *, empty_ok: bool) -> tuple[dict[str, Any], Errors]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return {}, [{"loc": loc, "msg": f"not valid YAML{where}"}]
    if data is None and empty_ok:
        return {}, []  # cloud-init treats an empty #cloud-config as no configuration
    if not isinstance(data, dict):
        return {}, [{"loc": loc, "msg": "must be a YAML mapping"}]
    return data, []


def is_cloud_config(user_data: str) -> bool:
    """Whether cloud-init reads ``user_data`` as ``#cloud-config`` YAML.

    Compares the whole first line: ``#cloud-config-archive`` and
    ``#cloud-config-jsonp`` are other formats that share the prefix.
    """
    return user_data.split("\n", 1)[0].rstrip() == CLOUD_CONFIG_HEADER


# --- rendering --------------------------------------------------------------------------


def _dump(data: dict[str, Any]) -> str:
    # A wide line keeps long RSA keys on one line instead of YAML-folded.
    return yaml.safe_dump(
        data, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1 << 16
    )


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def seed_files(
    *,
    instance_id: str,
    hostname: str,
    ssh_authorized_keys: Sequence[str] = (),
    user_data: str | None = None,
    network_config: str | None = None,
) -> dict[str, bytes]:
    """Validate the input and render the seed's files, by NoCloud file name.

    ``user_data`` in ``#cloud-config`` form is merged with ours: its own keys
    win (cloud-init, too, prefers a cloud-config ``hostname`` over meta-data),
    and its ``ssh_authorized_keys`` are added to ours. Any other user-data (a
    ``#!`` script, MIME multipart, ``#include``…) is passed on verbatim; the
    keys then travel as meta-data ``public-keys``, which cloud-init installs
    for the default user just the same.

    Raises ``Invalid`` with field paths for every problem found.
    """
    errors: Errors = []
    if problem := _check_instance_id(instance_id):
        errors.append({"loc": ["instance_id"], "msg": problem})
    if problem := _check_hostname(hostname):
        errors.append({"loc": ["hostname"], "msg": problem})
    keys, key_errors = _check_keys(ssh_authorized_keys, ["ssh_authorized_keys"])
    errors += key_errors

    if user_data is not None and not user_data.strip():
        user_data = None  # nothing to pass on; write our own cloud-config
    user_cfg: dict[str, Any] = {}
    if user_data is not None and is_cloud_config(user_data):
        user_cfg, parse_errors = _parse_mapping(user_data, ["user_data"], empty_ok=True)
        errors += parse_errors
        if "ssh_authorized_keys" in user_cfg:
            loc = ["user_data", "ssh_authorized_keys"]
            user_keys, key_errors = _check_keys(user_cfg["ssh_authorized_keys"], loc)
            errors += key_errors
            keys += user_keys
    if network_config is not None:
        errors += _parse_mapping(network_config, ["network_config"], empty_ok=False)[1]
    if errors:
        first = errors[0]
        where = ".".join(str(part) for part in first["loc"])
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise Invalid(f"invalid cloud-init data: {where}: {first['msg']}{more}", errors=errors)

    keys = _dedupe(keys)
    meta: dict[str, Any] = {"instance-id": instance_id, "local-hostname": hostname}
    if user_data is not None and not is_cloud_config(user_data):
        user_text = user_data
        if keys:
            meta["public-keys"] = keys
    else:
        cfg: dict[str, Any] = {"hostname": hostname}
        if keys:
            cfg["ssh_authorized_keys"] = keys
        cfg.update({k: v for k, v in user_cfg.items() if k != "ssh_authorized_keys"})
        user_text = f"{CLOUD_CONFIG_HEADER}\n{_dump(cfg)}"

    files = {"meta-data": _dump(meta).encode(), "user-data": user_text.encode()}
    if network_config is not None:
        files["network-config"] = network_config.encode()  # verbatim: keeps the user's comments
    return files


# --- writing ----------------------------------------------------------------------------


def _iso_image(files: dict[str, bytes]) -> pycdlib.PyCdlib:
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=1, vol_ident=VOLUME_LABEL, joliet=3, rock_ridge="1.09")
    for name, data in files.items():
        iso.add_fp(
            io.BytesIO(data),
            len(data),
            iso_path=f"/{_ISO_NAMES[name]}.;1",
            rr_name=name,
            joliet_path=f"/{name}",
        )
    return iso


def _write_atomic(path: Path, iso: pycdlib.PyCdlib) -> None:
    """Write next to ``path`` and rename over it, so a reader never sees half an image."""
    # mkstemp creates the file 0600: user-data may carry passwords.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            iso.write_fp(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # Persist the rename itself; not every filesystem lets a directory be fsynced.
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def build_seed(
    path: Path,
    *,
    instance_id: str,
    hostname: str,
    ssh_authorized_keys: Sequence[str] = (),
    user_data: str | None = None,
    network_config: str | None = None,
) -> Path:
    """Write a NoCloud seed ISO at ``path`` (replacing any) and return ``path``.

    Raises ``Invalid`` for bad input (nothing written) and ``DriverError`` when
    the image cannot be written; either way a previous image at ``path`` is
    left untouched.
    """
    path = Path(path)
    files = seed_files(
        instance_id=instance_id,
        hostname=hostname,
        ssh_authorized_keys=ssh_authorized_keys,
        user_data=user_data,
        network_config=network_config,
    )
    iso = _iso_image(files)
    try:
        _write_atomic(path, iso)
    except OSError as exc:
        raise DriverError(f"cannot write cloud-init seed {path}: {exc.strerror or exc}") from exc
    finally:
        iso.close()
    return path
