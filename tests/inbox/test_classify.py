"""What `classify` reads a status code and a reason from, beyond the corpus: only a
server's words (DSN fields, SMTP reply lines), never a `Received:` line, a version
number or the copy of our message; and a huge text part changes neither the
reading nor the message."""

from __future__ import annotations

import email
import email.policy
from email.message import Message

from newsletter.audience.reasons import reason_for
from newsletter.inbox.classify import classify
from newsletter.mail.replies import status_in_reply

NOTICE = """\
Return-Path: <>
Received: from mx.example.net (mx.example.net [64.4.15.110]) by mx.news.example.org
From: MAILER-DAEMON@mx.example.net
To: bounces+Tok3nAnnAbCdEfGhIjKlMnOp@news.example.org
Subject: failure notice
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

Hi. This is the qmail-send program at mx.example.net (qmail 1.03, 4.2.2 build).
I'm afraid I wasn't able to deliver your message to the following addresses.

<ann@example.net>:
{reply}

--b
Content-Type: text/plain

{copy}
--b--
"""


def read(reply: str, copy: str = "Our issue: spam, blocked, DMARC, mailbox full.") -> Message:
    raw = NOTICE.format(reply=reply, copy=copy).replace("\n", "\r\n").encode()
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def test_status_comes_from_the_reply_never_from_received_lines_or_versions() -> None:
    reading = classify(read("Remote host said: 550 5.1.1 No such user here"))
    assert (reading.status, reading.reason, reading.verdict) == ("5.1.1", "user_unknown", "dead")


def test_a_reply_with_no_enhanced_code_gives_its_class_and_the_words_decide() -> None:
    reading = classify(read("Remote host said: 552 sorry, mailbox is over quota"))
    assert (reading.status, reading.reason, reading.verdict) == ("5.0.0", "mailbox_full", "soft")


def test_the_copy_of_our_message_does_not_lend_its_words() -> None:
    reading = classify(read("Remote host said: 550 Requested action not taken"))
    assert reading.reason not in ("spam_content", "blocked", "security", "mailbox_full")


def test_a_huge_text_part_is_read_as_fast_as_a_notice_and_left_whole() -> None:
    copy = ("lorem ipsum dolor sit amet " * 30 + "\n") * 3_000  # 2.4 MB, past what flufl reads
    message = read("Remote host said: 550 5.1.1 No such user here", copy)
    before = message.as_string()
    assert classify(message).reason == "user_unknown"
    assert message.as_string() == before


def test_the_words_override_a_generic_code_but_not_a_dead_one() -> None:
    assert reason_for("5.7.1", "554 5.7.1 Client host blocked using zen.spamhaus.org") == "blocked"
    assert reason_for("5.7.1", "550 5.7.1 rejected due to policy") == "policy"
    assert reason_for("5.1.1", "550 5.1.1 no such user") == "user_unknown"
    assert reason_for("5.2.2", "552 5.2.2 over quota, user unknown soon") == "mailbox_full"
    assert reason_for("4.0.0", "450 user unknown") == "system_error"  # a 4xx is never final
    assert reason_for("5.0.0", "") == "undefined"


def test_reply_codes_are_found_only_where_a_reply_starts() -> None:
    assert status_in_reply("host mx said: 550 5.1.1 <a@b>: unknown") == "5.1.1"
    assert status_in_reply("Error: 550 - no such user here") == "5.0.0"
    assert status_in_reply("#550 5.1.10 RESOLVER.ADR.RecipientNotFound") == "5.1.10"
    assert status_in_reply("Received from [64.4.15.110] at 4.2.2 build 450 days") == ""
