"""What a mail says: its kind, and a reason in sisimai's taxonomy (reasons.py).

The formats, most authoritative first:

- an ARF report (RFC 5965, `message/feedback-report`): a complaint (`abuse`,
  `fraud`, `virus`, `other`), or a DMARC failure report (`auth-failure`, RFC 6591),
  which is about our sending, not a complaint;
- an RFC 3464 DSN (`message/delivery-status`): its `Action` (delivered, relayed,
  delayed, failed), `Status` and `Diagnostic-Code`. A DSN is never an auto-reply,
  whatever `Auto-Submitted` says (MTAs add it to every DSN);
- an unsubscribe reply to our `mailto:` link (`unsubscribe TOKEN`), Apple Mail's
  (`X-Apple-Unsubscribe: true`) included;
- a bounce in another format (qmail, Exim, Exchange, OpenSMTPD, Lotus Notes, the
  large providers': recognised by flufl.bounce, `X-Failed-Recipients`, or a mailer
  daemon's notice): its notice is read for an SMTP reply (diagnostic.py);
- an auto-reply (RFC 3834 `Auto-Submitted`, `X-Autoreply`, Exchange's
  "Automatic reply:"): a vacation notice or another auto-reply;
- anything else is a person's mail, for a person to read, unless it came back to
  a VERP address: then it answers our mail, and whatever reply code it holds is read.

Classifying needs no store: `policy.py` decides whom a mail is about and acts.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message

from newsletter.audience.reasons import reason_for, verdict_of
from newsletter.inbox.diagnostic import notice, status_in_field
from newsletter.inbox.evidence import NAMING_FIELDS, Evidence, gather
from newsletter.inbox.mime import field_blocks, has_part, header, report_type
from newsletter.mail.replies import reply_lines, status_in_reply

_DAEMON = re.compile(
    r"mailer-?daemon|postmaster|mail ?delivery|mdaemon|^bounce|daemon@|nobody@",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (?:status|failure|failed|has failed|notification)"
    r"|failure notice|returned mail|returned to sender|mail delivery|could not be delivered"
    r"|not delivered|non[- ]?delivery|delivery problem|nicht zustellbar|rejected"
    r"|退信|投递失败|未能送达|无法投递|发送失败|投遞失敗|不能送達|エラー|不達",
    re.IGNORECASE,
)
_DELAY = re.compile(
    r"\bdelay(?:ed)?\b|still being retried|will (?:continue|keep) (?:to )?try|will retry"
    r"|warning message only|not yet been delivered|has not been delivered yet|延迟|延遲",
    re.IGNORECASE,
)
_FAILURE_WORDS = re.compile(
    r"could not be delivered|couldn't be delivered|was not delivered|undeliverable"
    r"|permanent(?:ly)? (?:error|fatal|failure)|delivery (?:to the following|has failed)"
    r"|failed permanently|unable to deliver|wasn't delivered|were not delivered"
    r"|error has occurred while|could not deliver|failed to deliver|delivery failed"
    r"|did not reach|could not be reached|fatal (?:delivery )?error"
    r"|无法|未能|失败|失敗",
    re.IGNORECASE,
)
_VACATION = re.compile(
    r"out of (?:the )?office|vacation|holiday|away from|\bleave\b|absent|abwesen|absence"
    r"|automatic reply|automatische antwort|réponse automatique|auto(?:matic)?[ -]?reply"
    r"|休假|不在|自动回复|自動回覆|自動応答|不在通知",
    re.IGNORECASE,
)
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matische)?[ -]?(?:reply|response|antwort)|auto:"
    r"|out of (?:the )?office|自动回复|自動回覆|自動応答)",
    re.IGNORECASE,
)
_MACHINE_REPLY = re.compile(
    r"ticket|case (?:number|#)|request\b.{0,20}\b(?:has been|was) received|support staff"
    r"|received your (?:message|email)"
    r"|verify|verification|challenge|confirm (?:that )?you|whitelist|allowlist|not a robot"
    r"|guest list|waitlist",
    re.IGNORECASE,
)
FLUFL_TEXT = 64_000  # characters of each text part flufl.bounce reads
_TRANSIENT = ("network_error", "system_error", "undefined")
_COMPLAINTS = ("abuse", "fraud", "virus", "other", "opt-out", "optout")


@dataclass
class Reading:
    """What one mail says (`kind`: complaint, report, delivery, delay, bounce,
    unsubscribe, autoreply, reply), with the evidence of whom it is about."""

    kind: str
    reason: str
    evidence: Evidence = field(default_factory=Evidence)
    status: str = ""
    diagnostic: str = ""
    recipient: str = ""  # the address the report says failed or complained

    @property
    def verdict(self) -> str:
        return verdict_of(self.reason)


def classify(msg: Message) -> Reading:
    """Read one parsed mail (see the module's docstring for the order)."""
    if report_type(msg) == "feedback-report" or has_part(msg, "message/feedback-report"):
        return _feedback(msg)
    if report_type(msg) == "delivery-status" or has_part(msg, "message/delivery-status"):
        return _dsn(msg)
    if _is_unsubscribe(msg):
        return Reading("unsubscribe", "unsubscribe", gather(msg, []))
    text = notice(msg)  # read once: decoding a large part is the costly step
    failed = _failed_addresses(msg, text)
    if failed is not None:
        return _bounce(msg, text, failed)
    if _is_autoreply(msg) and not _DAEMON.search(header(msg, "From")):
        said = header(msg, "Subject") + " " + text[:2000]
        machine = _MACHINE_REPLY.search(said) and not _VACATION.search(said)
        reason = "autoreply" if machine else "vacation"
        return Reading("autoreply", reason, gather(msg, []))
    evidence = gather(msg, [])
    if evidence.verp:  # it came back to a VERP address: it answers our mail
        return _bounce(msg, text, [], evidence)
    return Reading("reply", "human", evidence)


def _feedback(msg: Message) -> Reading:
    blocks = field_blocks(msg, "message/feedback-report")
    fields = blocks[0] if blocks else Message()
    feedback_type = header(fields, "Feedback-Type").lower() or "abuse"
    named = [_address(header(fields, name)) for name in NAMING_FIELDS]
    if feedback_type == "auth-failure":
        reason = "auth_failure"
    elif feedback_type in _COMPLAINTS:
        reason = "feedback"
    else:
        reason = "human"  # not-spam, or a type we do not know: a person decides
    recipient = next((a for a in named if a), "")
    evidence = gather(msg, [a for a in named if a])
    kind = "complaint" if reason == "feedback" else "report"
    diagnostic = f"feedback-type: {feedback_type}"
    return Reading(kind, reason, evidence, diagnostic=diagnostic, recipient=recipient)


def _dsn(msg: Message) -> Reading:
    blocks = field_blocks(msg, "message/delivery-status")
    recipients = [b for b in blocks if b.get("Final-Recipient") or b.get("Action")]
    chosen = _first_by_action(recipients)
    action = header(chosen, "Action").lower() if chosen is not None else ""
    named = [
        _address(header(b, "Final-Recipient") or header(b, "Original-Recipient"))
        for b in recipients
    ]
    evidence = gather(msg, named)
    recipient = next((a for a in named if a), "")
    status = status_in_field(header(chosen, "Status")) if chosen is not None else ""
    if action.startswith(("delivered", "relayed", "expanded")):
        return Reading("delivery", "delivered", evidence, status, recipient=recipient)
    if action.startswith("delayed"):
        return Reading("delay", "delayed", evidence, status, recipient=recipient)
    code = header(chosen, "Diagnostic-Code") if chosen is not None else ""
    text = notice(msg)
    diagnostic = code.split(";", 1)[-1].strip() if code else reply_lines(text)
    if not status or status.endswith(".0.0"):
        status = status_in_reply(diagnostic) or status or status_in_reply(text)
    if status.startswith("2"):
        return Reading("delivery", "delivered", evidence, status, diagnostic, recipient)
    reason = reason_for(status, diagnostic)
    if action.startswith("failed") and status.startswith("4") and reason in _TRANSIENT:
        reason = "expired"  # a passing failure it stopped retrying: it gave up
    return Reading("bounce", reason, evidence, status, diagnostic[:1000], recipient)


def _first_by_action(blocks: list[Message]) -> Message | None:
    """The recipient block that matters most: a failure, then a delay, then any."""
    for wanted in ("failed", "delayed", ""):
        for block in blocks:
            if header(block, "Action").lower().startswith(wanted):
                return block
    return None


def _is_unsubscribe(msg: Message) -> bool:
    if header(msg, "X-Apple-Unsubscribe").lower() == "true":
        return True
    return bool(re.match(r"\s*unsubscribe\b", header(msg, "Subject"), re.IGNORECASE))


def _failed_addresses(msg: Message, text: str) -> list[str] | None:
    """The addresses a non-DSN bounce says failed; None when it is no bounce."""
    from flufl.bounce import all_failures  # 40 ms to import: only when mail is read

    try:
        with _trimmed(msg):
            temporary, permanent = all_failures(msg)
    except Exception:  # its heuristics trip on odd mail; ours still read it
        temporary, permanent = frozenset(), frozenset()
    failed = [a.decode("utf-8", "replace") for a in (*permanent, *temporary)]
    failed += [_address(a) for a in header(msg, "X-Failed-Recipients").split(",")]
    failed = [a for a in failed if a]
    if failed:
        return failed
    sender = header(msg, "From") + " " + header(msg, "Return-Path")
    subject = header(msg, "Subject")
    if _DAEMON.search(sender) or _BOUNCE_SUBJECT.search(subject):
        said = status_in_reply(text) or _FAILURE_WORDS.search(text) or _DELAY.search(subject)
        if said or reason_for("", text) != "undefined":  # a reply, or words of a failure
            return []
    return None


@contextmanager
def _trimmed(msg: Message) -> Iterator[None]:
    """The message with each text part cut to its first `FLUFL_TEXT` characters (at
    a line end) for as long as flufl.bounce reads it: its heuristics try dozens of
    patterns on every line, 17 s for a 10 MB text, and a notice is short."""
    kept = []
    for part in msg.walk():
        payload = part.get_payload()
        if isinstance(payload, str) and len(payload) > FLUFL_TEXT:
            kept.append((part, payload))
            end = payload.rfind("\n", 0, FLUFL_TEXT)
            part.set_payload(payload[: end if end > 0 else FLUFL_TEXT])
    try:
        yield
    finally:
        for part, payload in kept:
            part.set_payload(payload)


def _bounce(
    msg: Message, text: str, failed: list[str], evidence: Evidence | None = None
) -> Reading:
    """A bounce in a non-standard format, read from its notice."""
    evidence = gather(msg, failed) if evidence is None else evidence
    recipient = next(iter(failed), "")
    subject = header(msg, "Subject")
    status = status_in_reply(text)
    delayed = _DELAY.search(subject) or _DELAY.search(text[:3000])
    if delayed and not status.startswith("5") and not _FAILURE_WORDS.search(text):
        return Reading("delay", "delayed", evidence, status, recipient=recipient)
    diagnostic = reply_lines(text)
    said_nothing = reason_for("", diagnostic) == "undefined"
    if not status and not failed and not _FAILURE_WORDS.search(text) and said_nothing:
        return Reading("reply", "unrecognised", evidence, recipient=recipient)
    reason = reason_for(status, diagnostic)
    return Reading("bounce", reason, evidence, status, diagnostic[:1000], recipient)


def _is_autoreply(msg: Message) -> bool:
    submitted = header(msg, "Auto-Submitted").lower()
    precedence = header(msg, "Precedence").lower()
    return (
        submitted not in ("", "no")
        or msg.get("X-Autoreply") is not None
        or msg.get("X-Autorespond") is not None
        or precedence in ("auto_reply", "bulk", "junk")
        or bool(_AUTO_SUBJECT.search(header(msg, "Subject")))
    )


def _address(value: str) -> str:
    """`rfc822; ann@example.org` or `<ann@example.org>` → `ann@example.org`."""
    value = value.split(";", 1)[-1].strip()
    return email.utils.parseaddr(value)[1].lower() or value.strip("<> ").lower()
