"""Why a message was not delivered, and what that means for the subscriber.

A reason (named as in sisimai's taxonomy: `user_unknown`, `blocked`, `mailbox_full`…)
comes from what the receiving server said: the words of its reply first, as they
are the more specific (a `5.7.1` may be a blocklist, a spam filter or a policy),
then its enhanced status code (RFC 3463), then the class of the code alone. Each
reason has one verdict:

- `dead`: the address is gone (no such user, no such domain, moved, a null MX);
- `refused`: the receiver refused *us* (a blocklist, our authentication, our
  content, our rate, our sender address, our size): never the subscriber's fault;
- `soft`: a passing trouble at their end (a full or suspended mailbox, a retry
  that expired, their system or network);
- `none`: nothing went wrong (delivered, delayed, an auto-reply);
- `complaint`, `unsubscribe`: the reader said no;
- `unknown`: a person should read it.

The phrase tables are ours, written from the replies that real servers send
(learned from public bounce corpora); they are matched in lower case against the
server's reply only, never against the copy of our message a bounce encloses.
"""

from __future__ import annotations

import re

VERDICTS = {
    "user_unknown": "dead",
    "host_unknown": "dead",
    "has_moved": "dead",
    "not_accept": "dead",
    "mailbox_full": "soft",
    "suspended": "soft",
    "expired": "soft",
    "system_error": "soft",
    "network_error": "soft",
    "undefined": "soft",
    "blocked": "refused",
    "policy": "refused",
    "security": "refused",
    "spam_content": "refused",
    "rate_limited": "refused",
    "rejected": "refused",
    "too_big": "refused",
    "auth_failure": "refused",
    "delivered": "none",
    "delayed": "none",
    "vacation": "none",
    "autoreply": "none",
    "feedback": "complaint",
    "unsubscribe": "unsubscribe",
    "human": "unknown",
    "unrecognised": "unknown",
}
"""Every reason, and its verdict."""

DESCRIPTIONS = {
    "blocked": "your sending IP or domain is on a blocklist or has a bad reputation",
    "policy": "their policy refused the message",
    "security": "your mail failed their SPF, DKIM or DMARC check",
    "spam_content": "they judged the message to be spam",
    "rate_limited": "you sent them too much, too fast",
    "rejected": "they refused the sender address",
    "too_big": "the message is too big for them",
    "auth_failure": "DMARC failure reports about your domain",
}
"""How `inbox` and `status` word a refusal that is about the sending side."""

# The words of a reply, by reason, in the order they are tried: what is about the
# sender first (a "550 5.1.1 … blocked using …" is a blocklist), then the
# recipient. Lower case; a plain string is a substring, a compiled pattern a search.
_PHRASES: tuple[tuple[str, tuple[str | re.Pattern[str], ...]], ...] = (
    ("rate_limited", ("rate limited", "rate-limited", "ratelimited", "frequency limited")),
    ("rejected", ("envelope blocked",)),
    (
        "blocked",
        (
            "blocked using",
            "blacklisted",
            "blocklisted",
            "block list",
            "blocklist",
            "banned sending ip",
            "spamhaus",
            "spamcop",
            "barracudacentral",
            "sorbs.net",
            "dnsbl",
            " rbl",
            "client host rejected",
            "client host blocked",
            "your ip",
            "sending ip",
            "ip address is",
            "bad reputation",
            "poor reputation",
            "low reputation",
            "reputation",
            "not currently accepting mail from your ip",
            "has been temporarily blocked",
            "unusual rate of unsolicited mail",
            re.compile(r"(?<!not )listed (?:in|on|at|by)\b"),
            "[tss04]",
            "[tss09]",
            "[tsm",
            "ip name lookup failed",
            "reverse dns",
            "no ptr record",
            "ptr record",
            "dynamic ip",
            "access denied, banned",
            "mail from ip",
            "mail from your ip",
            "ip blocked",
            "refused to talk to me",
            "connection refused by",
            "dynamic/zombied",
            re.compile(r"\bblocked\b.*\b(?:ip|host|server|domain|see http)"),
            re.compile(r"\bip\b.*\bblocked\b"),
            re.compile(r"\bmi:(?:sfr|dgf)|\brp:(?:tri|cen|d?ul)"),  # QQ/163 reputation codes
        ),
    ),
    (
        "security",
        (
            "dmarc",
            "spf",
            "dkim",
            "unauthenticated email",
            "not pass authentication",
            "failed authentication",
            "authentication failed",
            "sender authentication",
            "sender policy framework",
            "does not pass",
            "tls required",
            "must use tls",
            "encryption required",
            "not authenticated",
            "sender not authenticated",
            "5.7.26",
            "5.7.25",
            "5.7.23",
            "5.7.27",
        ),
    ),
    ("policy", ("content policy", "mail content denied", "dt:spm", "administrative prohibition")),
    (
        "spam_content",
        (
            "spam",
            "unsolicited",
            "junk mail",
            "bulk mail",
            "content filter",
            "message content rejected",
            "content rejected",
            "suspicious content",
            "looks like spam",
            "identified as spam",
            "detected as spam",
            "phishing",
            "message filtered",
            "virus",
            "malware",
            "contains a virus",
        ),
    ),
    (
        "rate_limited",
        (
            "too many connections",
            "too many messages",
            "too many recipients",
            "rate limit",
            "ratelimit",
            "rate-limit",
            "rate that prevents",
            "throttl",
            "exceeded the rate",
            "receiving mail at a rate",
            "too much mail",
            "too many emails",
            "too fast",
            "slow down",
            "temporarily rate limited",
            "sending rate",
        ),
    ),
    (
        "rejected",
        (
            "sender address rejected",
            "sender rejected",
            "sender denied",
            "sender verify failed",
            "sender domain",
            "domain of sender address",
            "sender address does not exist",
            "invalid sender",
            "envelope sender",
            "mail from rejected",
            "mailfrom rejected",
            "return path",
            "bad sender",
            "sender is not allowed",
            "not allowed to send",
            "sender blocked",
        ),
    ),
    (
        "too_big",
        (
            "message too big",
            "message too large",
            "message is too large",
            "message size exceeds",
            "size exceeds",
            "exceeds size limit",
            "too large",
            "message length exceeds",
            "exceeded the max message size",
            "size limit",
            "maximum message size",
        ),
    ),
    (
        "system_error",
        (  # their MX no longer takes mail for the domain: passing, maybe
            "relay access denied",
            "relaying denied",
            "relay not permitted",
            "unable to relay",
        ),
    ),
    (
        "policy",
        (
            "policy",
            "rejected by recipient domain",
            "refused by",
            "prohibited",
            "not permitted",
            "denied by",
            "restricted",
            "not allowed",
        ),
    ),
    (
        "not_accept",
        (
            "null mx",
            "does not accept mail",
            "accepts no mail",
            "no mail accepted",
            "domain does not accept",
            "does not receive mail",
        ),
    ),
    ("has_moved", ("has moved", "user has moved", "address has changed", "moved to")),
    (
        "mailbox_full",
        (
            "mailbox full",
            "mailbox is full",
            "mailbox has exceeded",
            "over quota",
            "overquota",
            "quota exceeded",
            "exceeded storage",
            "exceeded its quota",
            "exceeds its quota",
            "insufficient storage",
            "not enough storage",
            "out of storage",
            "mailbox size limit",
            "over its quota",
            "storage quota",
            "full mailbox",
            "mail box full",
            "mailbox is over",
            "user is over",
            "disk quota",
            "quota full",
            "邮箱空间不足",
            "邮箱已满",
            "容量",
        ),
    ),
    (
        "suspended",
        (
            "suspended",
            "disabled",
            "inactive",
            "deactivated",
            "not active",
            re.compile(r"\blocked\b"),
            "temporarily unavailable",
            "on hold",
            "frozen",
            "expired account",
            "account expired",
            re.compile(r"account (?:is )?closed"),
            "mailbox unavailable for this user",
            "not in service",
            "archived recipient",
            "archivee",
            "冻结",
            "停用",
        ),
    ),
    (
        "host_unknown",
        (
            "host unknown",
            "unknown host",
            "host not found",
            "domain not found",
            "no such domain",
            "name or service not known",
            "nxdomain",
            "domain name not found",
            "unrouteable",
            "unroutable",
            "no mx",
            "mx record",
            "no valid mx",
            "domain does not exist",
            "host or domain name not found",
            "unknown domain",
            "does not resolve",
            "域名不存在",
        ),
    ),
    (
        "user_unknown",
        (
            "user unknown",
            "unknown user",
            "no such user",
            "no such mailbox",
            "no such recipient",
            "no such person",
            "unknown recipient",
            "unknown mailbox",
            "recipient unknown",
            "does not exist",
            "doesn't exist",
            "not exist",
            "no mailbox",
            "mailbox not found",
            "no valid recipients",
            "mailbox unavailable",
            "invalid recipient",
            "invalid mailbox",
            "invalid address",
            "address rejected",
            "recipient rejected",
            "recipient not found",
            "recipientnotfound",
            "user not found",
            "not found",
            "not a valid",
            "no longer valid",
            "no longer accepts",
            "is not listed",
            "not listed in",
            "doesn't have a",
            "does not have a",
            "unknown local",
            "bad destination",
            "bad address",
            "addressee unknown",
            "no account",
            "there is no one at this address",
            "not our customer",
            "account unavailable",
            "undeliverable address",
            "not a known user",
            "invalid user",
            "用户不存在",
            "收件人不存在",
            "地址不存在",
            "帐户不存在",
            "账户不存在",
            "帐号不存在",
            "账号不存在",
            "无此用户",
            "不存在",
        ),
    ),
    (
        "expired",
        (
            "expired",
            "retry timeout",
            "delivery time",
            "gave up",
            "giving up",
            "too long",
            "could not be delivered for",
            "timeout exceeded",
            "has been delayed for",
            "maximum time",
            "retry time",
        ),
    ),
    (
        "network_error",
        (
            "connection timed out",
            "timed out",
            "connection refused",
            "connection reset",
            "lost connection",
            "network",
            "unreachable",
            "could not connect",
            "unable to connect",
            "no route to host",
            "dns",
            "temporary lookup failure",
        ),
    ),
    (
        "system_error",
        (
            "system error",
            "local error",
            "internal error",
            "server error",
            "temporary failure",
            "mail loop",
            "loop detected",
            "too many hops",
            "service unavailable",
            "try again",
            "resources",
            "system",
            "queue",
            "routing loop",
        ),
    ),
)

# Enhanced status codes that say one thing whatever the words (RFC 3463, and the
# large providers' own detail codes).
_STATUS_REASONS = {
    "1.1": "user_unknown",
    "1.0": "user_unknown",
    "1.2": "host_unknown",
    "1.3": "user_unknown",
    "1.6": "has_moved",
    "1.10": "not_accept",
    "1.7": "rejected",
    "1.8": "rejected",
    "2.0": "suspended",
    "2.1": "suspended",
    "2.2": "mailbox_full",
    "2.3": "too_big",
    "2.4": "system_error",
    "3.0": "system_error",
    "3.1": "system_error",
    "3.2": "system_error",
    "3.4": "too_big",
    "3.5": "system_error",
    "4.0": "network_error",
    "4.1": "network_error",
    "4.2": "network_error",
    "4.3": "system_error",
    "4.4": "host_unknown",
    "4.5": "system_error",
    "4.6": "system_error",
    "4.7": "expired",
    "5.0": "system_error",
    "5.3": "rate_limited",
    "5.4": "system_error",
    "6.0": "policy",
    "7.0": "policy",
    "7.1": "policy",
    "7.2": "policy",
    "7.3": "policy",
    "7.4": "security",
    "7.5": "security",
    "7.7": "security",
    "7.8": "security",
    "7.9": "security",
    "7.13": "suspended",
    "7.14": "policy",
    "7.15": "security",
    "7.16": "security",
    "7.17": "security",
    "7.18": "security",
    "7.19": "security",
    "7.20": "security",
    "7.21": "security",
    "7.22": "security",
    "7.23": "security",
    "7.24": "security",
    "7.25": "security",
    "7.26": "security",
    "7.27": "not_accept",
    "7.28": "blocked",
    "7.350": "spam_content",
    "7.509": "security",
    "7.510": "policy",
    "7.515": "security",
}


def verdict_of(reason: str) -> str:
    return VERDICTS.get(reason, "unknown")


def reason_for(status: str, reply: str) -> str:
    """The reason for a failed delivery, from its enhanced status code (`5.1.1`, or
    empty) and the server's reply (its words; may be empty)."""
    text = " ".join(reply.lower().split())
    if status.startswith("2"):
        return "delivered"
    by_words = _by_words(text)
    by_status = _by_status(status)
    if by_status in ("user_unknown", "host_unknown", "has_moved", "not_accept"):
        # A dead-address code stands unless the words say the refusal is about us,
        # or name another way to be dead (Outlook's 5.1.10 is a missing recipient).
        if by_words and verdict_of(by_words) in ("refused", "dead"):
            return by_words
        return by_status
    if by_status == "mailbox_full" or (by_status and not by_words):
        return by_status
    if by_words:
        if status.startswith("4") and verdict_of(by_words) == "dead":
            return "system_error"  # a 4xx is never final, whatever it says
        return by_words
    return by_status or "undefined"


def _by_words(text: str) -> str:
    for reason, phrases in _PHRASES:
        for phrase in phrases:
            if phrase in text if isinstance(phrase, str) else phrase.search(text):
                return reason
    return ""


def _by_status(status: str) -> str:
    """The reason an enhanced status code names, `""` for one that says nothing
    more than its class (`5.0.0`)."""
    klass, _, detail = status.partition(".")
    if klass not in ("4", "5") or detail in ("", "0.0"):
        return ""
    if detail.startswith("7.6") and len(detail) == 5:  # Outlook's 5.7.6xx: blocked IP
        return "blocked"
    return _STATUS_REASONS.get(detail, "")
