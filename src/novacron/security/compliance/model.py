"""The vocabulary of compliance: severities, statuses, check metadata and findings.

Plain frozen dataclasses; everything else in the package speaks these types.
Times are naive UTC, like the rest of NovaCron (``core.clock``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

from novacron.core.errors import Invalid


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Sort key: critical first."""
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)
SEVERITIES: tuple[Severity, ...] = _SEVERITY_ORDER


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    """The check itself could not run (it raised); the reason is the evidence."""
    SKIPPED = "skipped"
    """Not applicable, or the facts it needs were not reported."""
    MUTED = "muted"
    """A failure (or error) an operator accepted for a while, with a reason."""


class Framework(StrEnum):
    """The frameworks every check maps to; values are the names reports print."""

    CIS = "CIS Controls v8"
    SOC2 = "SOC 2 (TSC 2017)"
    ISO27001 = "ISO/IEC 27001:2022"
    NIST80053 = "NIST SP 800-53 Rev. 5"
    PCIDSS = "PCI DSS v4.0"


FRAMEWORKS: tuple[Framework, ...] = tuple(Framework)


@dataclass(frozen=True)
class CheckMeta:
    """What a check is about, independent of any run."""

    id: str
    title: str
    severity: Severity
    description: str
    remediation: str
    frameworks: Mapping[Framework, tuple[str, ...]]
    scope: str = "platform"
    """``platform`` (one finding for the control plane) or ``host`` (one per host)."""

    def __post_init__(self) -> None:
        if not self.id or not self.title or not self.remediation:
            raise Invalid(f"check {self.id!r} needs an id, a title and a remediation")
        if self.scope not in ("platform", "host"):
            raise Invalid(f"check {self.id}: scope must be 'platform' or 'host'")
        # Frozen all the way down: metadata is shared by every run and every report.
        object.__setattr__(
            self,
            "frameworks",
            MappingProxyType({Framework(k): tuple(v) for k, v in self.frameworks.items()}),
        )

    def controls(self, framework: Framework) -> tuple[str, ...]:
        return self.frameworks.get(framework, ())


@dataclass(frozen=True)
class Outcome:
    """What a check says about one resource; the engine turns it into a ``Finding``."""

    resource: str
    status: Status
    evidence: str
    observed_at: datetime | None = None
    """When the underlying fact was observed (a host's report time); default: the run."""


PLATFORM = "platform"
"""The resource name of platform-wide findings; host findings use the host's name."""


@dataclass(frozen=True)
class Finding:
    check_id: str
    status: Status
    resource: str
    evidence: str
    observed_at: datetime
    mute_reason: str | None = None
    muted_status: Status | None = None
    """The status a muted finding had before the mute (fail or error)."""

    @property
    def key(self) -> tuple[str, str]:
        """Identity across runs: the same check on the same resource."""
        return (self.check_id, self.resource)

    @property
    def effective_status(self) -> Status:
        """The status before any mute: what the system actually looks like."""
        return (
            self.muted_status if self.status is Status.MUTED and self.muted_status else self.status
        )


def naive_utc(value: datetime) -> datetime:
    """Accept aware or naive datetimes; store naive UTC (see ``core.clock``)."""
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value
