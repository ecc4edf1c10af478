"""How `inbox` and `status` tell an operator what came back: a line per mail, and
a line per receiving domain that refused *us*, since those are the sending side's
to fix (a blocklisted IP, a DMARC record, content judged spam), not the list's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from newsletter.inbox.policy import Action
from newsletter.inbox.reasons import DESCRIPTIONS
from newsletter.store.bounces import Refusals


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
