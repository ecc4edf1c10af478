"""What one run of the inbox says it did (`Summary`): counts by outcome, the action
taken on each subscriber, and each mail set aside as unreadable with its reason.

A dry run does the same work and keeps none of it, so its effects are said in the
conditional (`would`): "would mark bounced", "would unsubscribe", "would set aside".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from newsletter.inbox.policy import Action

ORDER = (
    "hard",
    "soft",
    "complaint",
    "unsubscribe",
    "autoreply",
    "failed",
    "not_understood",
    "already_handled",
)
LABELS = {
    "failed": "unreadable",
    "not_understood": "not understood",
    "already_handled": "already handled",
}

_WOULD = [
    (re.compile(r"\bmarked bounced\b"), "would mark bounced"),
    (re.compile(r"^unsubscribed$"), "would unsubscribe"),
    (re.compile(r"^recorded$"), "would record"),
    (re.compile(r"^soft bounce\b"), "would count soft bounce"),
]


@dataclass(frozen=True)
class Failure:
    """A mail set aside as unreadable: its key in the mailbox (file name, UID) and why."""

    key: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"key": self.key, "reason": self.reason}


@dataclass
class Summary:
    """What one run found and did; `not_understood` mails were left in place."""

    source: str
    dry_run: bool
    counts: Counter[str] = field(default_factory=Counter)
    actions: list[Action] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)

    def acted(self, action: Action) -> None:
        self.actions.append(
            replace(action, effect=would(action.effect)) if self.dry_run else action
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "counts": dict(sorted(self.counts.items())),
            "actions": [action.to_json() for action in self.actions],
            "failed": [failure.to_json() for failure in self.failed],
        }

    def lines(self) -> Iterator[str]:
        """One line per action and per mail set aside."""
        for action in self.actions:
            status = f" {action.status}" if action.status else ""
            yield f"{action.subscriber}: {action.kind}{status}: {action.effect}"
        verb = "would set aside" if self.dry_run else "set aside"
        for failure in self.failed:
            yield f"{failure.key}: {verb}: {failure.reason}"

    def line(self) -> str:
        said = ", ".join(
            f"{self.counts[key]} {LABELS.get(key, key)}" for key in ORDER if self.counts[key]
        )
        return f"{'would handle' if self.dry_run else 'handled'}: {said or 'no mail'}"


def would(effect: str) -> str:
    """An effect as a dry run says it: "marked bounced" -> "would mark bounced"."""
    for pattern, said in _WOULD:
        effect = pattern.sub(said, effect)
    return effect
