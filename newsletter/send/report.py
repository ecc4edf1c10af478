"""What a run of `send` (or its dry run) did, and the error for a run that did not
complete: the CLI prints the one, and the report inside the other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from newsletter.core.errors import NewsletterError


@dataclass
class SendReport:
    """What one run of `send` did."""

    issue: int | None = None
    dry_run: bool = False
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    already: int = 0
    started: bool = False  # deliveries exist (false: e.g. nobody to send to)
    complete: bool = False
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    editions: dict[str, dict[str, int]] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "issue": self.issue,
            "dry_run": self.dry_run,
            "sent": self.sent,
            "failed": self.failed,
            "skipped": self.skipped,
            "deferred": self.deferred,
            "already_sent": self.already,
            "complete": self.complete,
            "seconds": round(self.seconds, 3),
            "messages_per_second": round(self.rate, 1),
            "failures": [{"email": email, "reply": reply} for email, reply in self.failures],
            "editions": self.editions,
            "samples": self.samples,
            "warnings": self.warnings,
        }


class IncompleteSend(NewsletterError):
    """The run stopped before every delivery was final; `send` again resumes it."""

    def __init__(self, message: str, report: SendReport) -> None:
        super().__init__(message)
        self.report = report
