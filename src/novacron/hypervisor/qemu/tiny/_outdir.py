"""Build directories: replaced atomically, reused while their inputs stay the same.

A build is assembled in a private staging directory next to ``out_dir`` and renamed
into place with a ``manifest.json`` naming its inputs and files, so a reader sees
the old build or the new one, never half of one, and a build of the same inputs
is returned as is.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from novacron.core.errors import DriverError, Invalid

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"


def build_once(
    out_dir: Path,
    inputs: dict[str, Any],
    files: dict[str, str],
    assemble: Callable[[Path, Path], dict[str, Any]],
) -> dict[str, Any]:
    """The manifest of ``out_dir``'s build of ``inputs``, building it first if needed.

    ``assemble(staging, work)`` writes ``files`` (name -> file name) into ``staging``
    (``work`` is scratch space inside it) and returns more fields for the manifest.
    The finished build is renamed into place, so readers never see a partial one.
    """
    existing = read_manifest(out_dir, inputs, files)
    if existing is not None:
        log.info("the build in %s is up to date", out_dir)
        return existing
    started = time.monotonic()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.build-", dir=out_dir.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; the build is for everyone to read
        work = staging / "work"
        work.mkdir()
        manifest = {**assemble(staging, work), "inputs": inputs, "files": files}
        shutil.rmtree(work)
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
        _publish(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    built = read_manifest(out_dir, inputs, files)
    if built is None:  # another build of different inputs won a race for out_dir
        raise DriverError(f"{out_dir} was replaced by a concurrent build; try again")
    log.info(
        "built %s in %s in %.1f s", inputs.get("kind", "image"), out_dir, time.monotonic() - started
    )
    return built


def read_manifest(
    out_dir: Path, inputs: dict[str, Any], files: dict[str, str]
) -> dict[str, Any] | None:
    """The manifest in ``out_dir`` if its build is complete and made from ``inputs``."""
    try:
        manifest = json.loads((out_dir / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("inputs") != inputs:
        return None
    if manifest.get("files") != files or not all((out_dir / f).is_file() for f in files.values()):
        return None
    return manifest


def check_replaceable(out_dir: Path) -> None:
    """Refuse to replace a directory that is neither empty nor an earlier build."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise Invalid(f"{out_dir} exists and is not a directory")
    if any(out_dir.iterdir()) and not (out_dir / MANIFEST_FILE).is_file():
        raise Invalid(
            f"{out_dir} is not empty and holds no tiny image build: "
            "refusing to replace it; pick another directory"
        )


def _publish(staging: Path, out_dir: Path) -> None:
    """Rename the finished build into place; readers never see a partial one."""
    old: Path | None = None
    if out_dir.is_dir() and any(out_dir.iterdir()):
        # rename() replaces only an empty directory: move the old build aside first.
        old = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}")
        out_dir.rename(old)
    try:
        staging.rename(out_dir)
    except OSError:
        # A concurrent build published first; the caller checks what is there now.
        log.info("%s was published concurrently", out_dir)
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
