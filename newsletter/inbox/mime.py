"""Small readers of a parsed mail that the return path shares: a header as text,
a part's text in its own charset, the copies of our message a report encloses."""

from __future__ import annotations

import email
import email.policy
from email.header import decode_header, make_header
from email.message import Message


def header(msg: Message, name: str) -> str:
    """Every value of a header, joined, RFC 2047 words decoded; `""` when absent."""
    values = []
    for value in msg.get_all(name, []):
        try:
            values.append(str(make_header(decode_header(str(value)))))
        except (ValueError, LookupError, UnicodeError):
            values.append(str(value))
    return " ".join(" ".join(values).split())


def part_text(part: Message) -> str:
    """A text part's content, decoded from its transfer encoding and its charset
    (GB2312 and ISO-2022-JP notices included)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        inner = part.get_payload()
        return inner if isinstance(inner, str) else ""
    charset = part.get_content_charset() or "utf-8"
    if charset in ("gb2312", "gbk"):
        charset = "gb18030"  # a superset: mail labelled GB2312 often holds GBK
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def report_type(msg: Message) -> str:
    """`delivery-status`, `feedback-report`… for a multipart/report, else `""`."""
    if msg.get_content_type() != "multipart/report":
        return ""
    return str(msg.get_param("report-type", "")).lower()


def has_part(msg: Message, content_type: str) -> bool:
    return any(part.get_content_type() == content_type for part in msg.walk())


def enclosed(msg: Message) -> list[Message]:
    """The copies of the original message a report carries (whole or headers only)."""
    found: list[Message] = []
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list):
                found += [m for m in inner if isinstance(m, Message)]
        elif kind == "text/rfc822-headers":
            found.append(email.message_from_string(part_text(part), policy=email.policy.compat32))
    return found


def field_blocks(msg: Message, content_type: str) -> list[Message]:
    """The blocks of fields of a `message/delivery-status` or
    `message/feedback-report` part (the first block is per message, the rest per
    recipient), however the parser left them."""
    for part in msg.walk():
        if part.get_content_type() != content_type:
            continue
        payload = part.get_payload()
        if isinstance(payload, list) and all(isinstance(b, Message) for b in payload):
            return list(payload)
        text = part_text(part) if isinstance(payload, str) else ""
        blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
        return [email.message_from_string(b.strip() + "\n") for b in blocks]
    return []
