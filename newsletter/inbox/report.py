"""What one run of the inbox says it did (`Summary`): counts by outcome, a line per
mail (its reason, verdict, proof and effect), each mail set aside as unreadable
with its reason, and a line per receiving domain that refused *us*: those are the
sending side's to fix (a blocklisted IP, a DMARC record, content judged spam), not
the list's. `status` words refusals the same way.

A dry run does the same work and keeps none of it, so its effects are said in the
conditional (`would`): "would mark bounced", "would unsubscribe", "would set aside".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from newsletter.audience.reasons import DESCRIPTIONS
from newsletter.inbox.judge import Action
from newsletter.store.bounces import Refusals

ORDER = (
    "dead",
    "soft",
    "refused",
    "complaint",
    "unsubscribe",
    "none",
    "unverified",
    "failed",
    "not_understood",
    "already_handled",
)
LABELS = {
    "dead": "dead address",
    "refused": "refused us",
    "none": "no action",
    "failed": "unreadable",
    "not_understood": "not understood",
    "already_handled": "already handled",
}

_WOULD = [
    (re.compile(r"\bmarked bounced\b"), "would mark bounced"),
    (re.compile(r"^unsubscribed$"), "would unsubscribe"),
    (re.compile(r"^recorded$"), "would record"),
    (re.compile(r"^soft bounce\b"), "would count soft bounce"),
    (re.compile(r"^counted a refusal\b"), "would count a refusal"),
]


@dataclass(frozen=True)
class FailedMail:
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
    failed: list[FailedMail] = field(default_factory=list)

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
            yield action_line(action)
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


def action_line(action: Action) -> str:
    """`ann@example.org: user_unknown 5.1.1 (dead, by verp): marked bounced`."""
    who = action.subscriber or action.message
    status = f" {action.status}" if action.status else ""
    proof = f", by {action.proof}" if action.proof else ""
    named = f" (names {', '.join(action.named)})" if action.named else ""
    return f"{who}: {action.reason}{status} ({action.verdict}{proof}): {action.effect}{named}"


def refusals(actions: Iterable[Action]) -> list[Refusals]:
    """This run's refusals of our mail, by receiving domain, most first."""
    by_domain: dict[str, Counter[tuple[str, str]]] = {}
    for action in actions:
        if action.verdict == "refused" and action.put_aside and action.domain:
            by_domain.setdefault(action.domain, Counter())[(action.reason, action.status)] += 1
    found = []
    for domain, counts in by_domain.items():
        (reason, status), _ = counts.most_common(1)[0]
        found.append(Refusals(domain, sum(counts.values()), reason, status))
    return sorted(found, key=lambda r: (-r.count, r.domain))


def refusal_line(refused: Refusals) -> str:
    """`outlook.com: 12 refusals, your sending IP is on a blocklist (5.7.606)`."""
    plural = "refusal" if refused.count == 1 else "refusals"
    why = DESCRIPTIONS.get(refused.reason, refused.reason.replace("_", " "))
    code = f" ({refused.status})" if refused.status else ""
    return f"{refused.domain}: {refused.count} {plural}, {why}{code}"
