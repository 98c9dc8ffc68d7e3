"""Debian packages for the tiny guest, fetched with ``apt-get download`` and cached.

A cached .deb of the candidate version means no network at all, so the second
build works offline; when apt cannot download, any cached version will do.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from novacron.core.errors import DriverError

KERNEL_META_PACKAGE = "linux-image-cloud-amd64"
BUSYBOX_PACKAGE = "busybox-static"

_APT_TIMEOUT_S = 600
_APT_QUERY_TIMEOUT_S = 60
# Offline should fail in seconds, not after apt's default 120 s per connection.
_APT_OPTIONS = ("-o", "Acquire::Retries=1", "-o", "Acquire::http::Timeout=20")
# "linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)"
_KERNEL_DEP = re.compile(r"(linux-image-\S+-cloud-amd64)(?:\s*\(=\s*([^)\s]+)\s*\))?")


def _run(argv: list[str], *, timeout: float, cwd: Path | None = None) -> str | None:
    """stdout of a successful command, or None when it is missing, fails or hangs."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        proc = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _deb_fields(path: Path) -> tuple[str, str]:
    """(package, version) from apt's file name ``pkg_ver_arch.deb`` (epoch ``:`` as %3a)."""
    parts = path.name.removesuffix(".deb").split("_")
    if len(parts) != 3:
        return path.name, ""  # not apt's naming: matches no package
    return parts[0], unquote(parts[1])


def cached_debs(debs_dir: Path, package: str) -> list[Path]:
    """Cached .debs of ``package``, newest first (by download time)."""
    if not debs_dir.is_dir():
        return []
    found = [p for p in debs_dir.glob(f"{package}_*_*.deb") if _deb_fields(p)[0] == package]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


@dataclass(frozen=True)
class Wanted:
    """A package to fetch; ``version`` is apt's candidate, None when apt cannot say.

    ``supersedes`` globs the cached packages a download replaces (older kernel ABIs
    have other package names), so the cache holds one of each.
    """

    package: str
    version: str | None
    supersedes: str = ""

    @property
    def family(self) -> str:
        return self.supersedes or self.package


def _apt_show(*packages: str) -> dict[str, dict[str, str]]:
    """Candidate stanzas by package name, from one ``apt-cache show`` (it takes ~0.5 s)."""
    out = _run(["apt-cache", "show", "--no-all-versions", *packages], timeout=_APT_QUERY_TIMEOUT_S)
    stanzas: dict[str, dict[str, str]] = {}
    for block in (out or "").split("\n\n"):
        fields = dict(re.findall(r"^([\w-]+):[ \t]*(.*)$", block, re.MULTILINE))
        if "Package" in fields:
            stanzas[fields["Package"]] = fields
    return stanzas


def resolve(debs_dir: Path) -> tuple[Wanted, Wanted]:
    """The kernel (``linux-image-<abi>-cloud-amd64``, what the cloud meta-package depends
    on) and busybox-static, with apt's candidate versions."""
    kernel, busybox, _ = resolve_with(debs_dir, ())
    return kernel, busybox


def resolve_with(
    debs_dir: Path, extra: tuple[str, ...]
) -> tuple[Wanted, Wanted, tuple[Wanted, ...]]:
    """``resolve`` plus the ``extra`` packages, asking apt once (each query costs ~0.5 s)."""
    stanzas = _apt_show(KERNEL_META_PACKAGE, BUSYBOX_PACKAGE, *extra)
    busybox = Wanted(BUSYBOX_PACKAGE, stanzas.get(BUSYBOX_PACKAGE, {}).get("Version"))
    extras = tuple(Wanted(name, stanzas.get(name, {}).get("Version")) for name in extra)
    return _kernel(debs_dir, stanzas), busybox, extras


def _kernel(debs_dir: Path, stanzas: dict[str, dict[str, str]]) -> Wanted:
    kernels_glob = "linux-image-*-cloud-amd64"
    depends = stanzas.get(KERNEL_META_PACKAGE, {}).get("Depends", "")
    match = _KERNEL_DEP.search(depends)
    if match:
        return Wanted(match.group(1), match.group(2), kernels_glob)
    # No apt (or no package lists): fall back to whatever kernel the cache holds.
    kernels = sorted(
        debs_dir.glob(f"{kernels_glob}_*.deb") if debs_dir.is_dir() else [],
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    if kernels:
        return Wanted(_deb_fields(kernels[0])[0], None, kernels_glob)
    raise DriverError(
        f"cannot resolve the kernel package: apt-cache does not know {KERNEL_META_PACKAGE} "
        f"and {debs_dir} holds no linux-image-*-cloud-amd64 .deb. Run this on a Debian host "
        "with apt package lists (apt-get update), or copy the .deb into that directory."
    )


def _download(wanted: Wanted, debs_dir: Path) -> Path | None:
    """``apt-get download`` into the cache; None on failure (offline, unknown package)."""
    # Pin the version resolved earlier so the file matches what was asked for.
    spec = f"{wanted.package}={wanted.version}" if wanted.version else wanted.package
    debs_dir.mkdir(parents=True, exist_ok=True)
    # apt-get download writes into its working directory: use a private one on the
    # same filesystem so the finished file can be renamed into the cache atomically.
    with tempfile.TemporaryDirectory(prefix=".download-", dir=debs_dir) as tmp:
        out = _run(
            ["apt-get", "download", "-q", *_APT_OPTIONS, spec],
            timeout=_APT_TIMEOUT_S,
            cwd=Path(tmp),
        )
        debs = list(Path(tmp).glob("*.deb"))
        if out is None or len(debs) != 1:
            return None
        target = debs_dir / debs[0].name
        debs[0].replace(target)
    for old in debs_dir.glob(f"{wanted.family}_*.deb"):
        if old != target:
            old.unlink(missing_ok=True)  # keep one version per package family
    return target


def fetch_deb(wanted: Wanted, debs_dir: Path) -> Path:
    """The .deb of ``wanted``: cached candidate, else a download, else any cached version."""
    package = wanted.package
    cached = cached_debs(debs_dir, package)
    for deb in cached:
        # When apt cannot name a candidate there is nothing better to get: use the cache.
        if wanted.version is None or _deb_fields(deb)[1] == wanted.version:
            return deb
    downloaded = _download(wanted, debs_dir)
    if downloaded is not None:
        return downloaded
    if cached:
        return cached[0]
    raise DriverError(
        f"cannot get the Debian package {package}: 'apt-get download {package}' failed and "
        f"{debs_dir} has no cached copy. Check that apt works (apt-get update, a reachable "
        f"mirror), or put {package}_*.deb into that directory."
    )
