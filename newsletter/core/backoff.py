"""How long to wait before trying again, for every loop that retries: the SMTP
transaction of a delivery (send/workers.py), the outbox's messages and its own pause
while the server is away (mail/outbox.py), and the arXiv API (enrich/client.py).

The wait doubles after each failed try, from the configured `retry_delay`, up to a
cap where the caller has one: a server that is down is not hammered, and a brief
hiccup costs little.
"""

from __future__ import annotations

# Doublings past this change nothing a cap would let through (and 2.0 ** 1024 would
# overflow for a loop that counts failures without end, like the outbox's pause).
_MAX_DOUBLINGS = 64


def delay(attempt: int, base: float, cap: float | None = None) -> float:
    """Seconds to wait after failed try number `attempt` (1 for the first): `base`,
    then twice it, four times…, at most `cap` when given; `base` for `attempt` 0."""
    wait = base * 2.0 ** min(max(0, attempt - 1), _MAX_DOUBLINGS)
    return wait if cap is None else min(wait, cap)
