"""What a mail is: a bounce (hard or soft), a complaint, an unsubscribe reply, an
auto-reply, or something a person should read.

Bounces are recognised by `flufl.bounce` (RFC 3464 DSNs and the common
non-standard formats: qmail, Exim, Postfix, Exchange…); the DSN's per-recipient
`Status:` says hard (5.x.x) or soft (4.x.x) when it is there. Whose bounce it is:
the VERP token in the address it came back to (`bounces+{token}@…`), else the
failed addresses the bounce names. Complaints are ARF reports (RFC 5965), whose
copy of our message carries the token in its `List-Unsubscribe`.

Which issue a mail is about comes from our Message-ID (`<issue-N.…@…>`, message.py)
in the copy of the original a bounce or report encloses or quotes, or in a reply's
In-Reply-To; the policy trusts it only for an issue that subscriber was sent. It
never says *whom*: a Message-ID is guessable, a token is not.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import unquote

TOKEN = r"[A-Za-z0-9_-]{8,}"
VERP = re.compile(rf"\+({TOKEN})@")
UNSUBSCRIBE = re.compile(rf"\bunsubscribe\s+({TOKEN})", re.IGNORECASE)
LINK_TOKEN = re.compile(rf"subject=unsubscribe(?:%20|\+|\s)({TOKEN})", re.IGNORECASE)
STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
OUR_MESSAGE_ID = re.compile(r"<issue-(\d{1,9})\.[^\s<>@]+@[^\s<>]+>")
QUOTED_MESSAGE_ID = re.compile(r"^\s*Message-ID:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)
RECIPIENT_HEADERS = ("To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To")


@dataclass
class Verdict:
    """What a mail is, and whom it is about (tokens and addresses to look up)."""

    kind: str  # hard, soft, complaint, unsubscribe, autoreply, unknown
    tokens: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    status: str = ""
    diagnostic: str = ""
    issue: int | None = None  # the issue our Message-ID in it names, if any


def parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def classify(msg: Message) -> Verdict:
    """What `msg` is (parsed once, by `parse.py`, which also vouches that it is a mail)."""
    verdict = _kind(msg)
    if verdict.kind != "autoreply":
        verdict.issue = _issue(msg)
    return verdict


def _kind(msg: Message) -> Verdict:
    if _report_type(msg) == "feedback-report":
        return _complaint(msg)
    bounce = _bounce(msg)
    if bounce:
        return bounce
    if _is_autoreply(msg):
        return Verdict("autoreply")
    found = UNSUBSCRIBE.search(_header(msg, "Subject"))
    if found:
        return Verdict("unsubscribe", tokens=[found.group(1)])
    return Verdict("unknown")


def _issue(msg: Message) -> int | None:
    """The issue named by our Message-ID: in an enclosed copy of the original, in a
    reply's In-Reply-To or References, or on a `Message-ID:` line of a quoted copy
    (qmail and other non-standard bounces paste the original into their text)."""
    candidates = [_header(original, "Message-ID") for original in _enclosed(msg)]
    candidates += [_header(msg, "In-Reply-To"), _header(msg, "References")]
    for part in msg.walk():
        if part.get_content_maintype() == "text" and part.get_content_subtype() != "html":
            candidates += QUOTED_MESSAGE_ID.findall(_bytes(part).decode("utf-8", "replace"))
    for text in candidates:
        found = OUR_MESSAGE_ID.search(text)
        if found:
            return int(found.group(1))
    return None


def _header(msg: Message, name: str) -> str:
    return " ".join(str(value) for value in msg.get_all(name, []))


def _report_type(msg: Message) -> str:
    if msg.get_content_type() != "multipart/report":
        return ""
    return str(msg.get_param("report-type", "")).lower()


def _is_autoreply(msg: Message) -> bool:
    submitted = _header(msg, "Auto-Submitted").strip().lower()
    precedence = _header(msg, "Precedence").strip().lower()
    return (
        (submitted not in ("", "no"))
        or msg.get("X-Autoreply") is not None
        or msg.get("X-Autorespond") is not None
        or precedence in ("auto_reply", "bulk", "junk")
    )


def _complaint(msg: Message) -> Verdict:
    """An ARF report: the token from the enclosed message's List-Unsubscribe, and its
    To address in case the provider removed that header."""
    verdict = Verdict("complaint", diagnostic=_feedback_type(msg))
    for original in _enclosed(msg):
        verdict.tokens += LINK_TOKEN.findall(unquote(_header(original, "List-Unsubscribe")))
        verdict.addresses += [a for _, a in email.utils.getaddresses(original.get_all("To", []))]
    return verdict


def _feedback_type(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "message/feedback-report":
            fields = part.get_payload()
            block = fields[0] if isinstance(fields, list) and fields else None
            if isinstance(block, Message):
                return f"feedback-type: {block.get('Feedback-Type', 'abuse')}"
    return "feedback-type: abuse"


def _enclosed(msg: Message) -> list[Message]:
    """The copies of the original message a report carries (whole or headers only)."""
    found = []
    for part in msg.walk():
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            found += [m for m in inner if isinstance(m, Message)] if isinstance(inner, list) else []
        elif part.get_content_type() == "text/rfc822-headers":
            found.append(parse(_bytes(part)))
    return found


def _bounce(msg: Message) -> Verdict | None:
    from flufl.bounce import all_failures  # 40 ms to import: only when mail is read

    temporary, permanent = all_failures(msg)
    per_recipient = _dsn_fields(msg)
    if not (temporary or permanent or per_recipient):
        return None
    status, diagnostic = _status(msg, per_recipient)
    if status:
        kind = "hard" if status.startswith("5") else "soft"
    else:
        kind = "hard" if permanent else "soft"
        status = "5.0.0" if permanent else "4.0.0"
    failed = [a.decode("ascii", "replace") for a in (*permanent, *temporary)]
    failed += [_address(f.get("Final-Recipient", "")) for f in per_recipient]
    tokens = [t for name in RECIPIENT_HEADERS for t in VERP.findall(_header(msg, name))]
    return Verdict(kind, tokens=tokens, addresses=[a for a in failed if a],
                   status=status, diagnostic=diagnostic)  # fmt: skip


def _dsn_fields(msg: Message) -> list[Message]:
    """The per-recipient blocks of an RFC 3464 `message/delivery-status` part."""
    if _report_type(msg) != "delivery-status":
        return []
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            if isinstance(blocks, list):
                return [b for b in blocks[1:] if isinstance(b, Message)]
    return []


def _status(msg: Message, per_recipient: list[Message]) -> tuple[str, str]:
    """The DSN's Status and Diagnostic-Code; else the first enhanced status code
    in the body of a non-standard bounce (and the line it is on)."""
    for block in per_recipient:
        found = STATUS.search(str(block.get("Status", "")))
        if found:
            return found.group(0), " ".join(str(block.get("Diagnostic-Code", "")).split())
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        text = _bytes(part).decode("utf-8", "replace")
        for line in text.splitlines():
            found = STATUS.search(line)
            if found and found.group(1) != "2":
                return found.group(0), line.strip()
    return "", ""


def _address(field_value: str) -> str:
    """`rfc822; ann@example.org` → `ann@example.org`."""
    return field_value.split(";", 1)[-1].strip().strip("<>")


def _bytes(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""
