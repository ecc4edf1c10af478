"""One set of header rules: each character that could break a mail header is refused
by everything that takes a header value from a user (the configuration, a
subscriber's name and address from the command line or a CSV, the sign-up form),
and stripped by the message builders from whatever the store holds."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from newsletter.audience import signup, subscribers
from newsletter.config import load_config
from newsletter.config.rules import coerce
from newsletter.core.errors import ConfigError
from newsletter.core.text import header_safe, header_unsafe
from newsletter.mail.outbox import build
from newsletter.store.outbox import OutboxMessage
from tests.helpers import write_config

UNSAFE = [
    "\r",  # CR and LF: the end of a header, and `Bcc:` injection after it
    "\n",
    "\x00",
    "\t",
    "\x0b",
    "\x1b",
    "\x1f",
    "\x7f",  # DEL
    "\x85",  # NEL, a C1 control
    "\x9f",
    "\u2028",  # the Unicode line and paragraph separators
    "\u2029",
    "\ud800",  # lone surrogates: undecodable bytes on a command line
    "\udcff",
]
SAFE = "Zoë 李伟 O'Brien-Smith (Lab) <a@example.org> \u00a0\u200b 🙂"


@pytest.mark.parametrize("char", UNSAFE, ids=lambda c: f"U+{ord(c):04X}")
def test_the_rule_finds_and_strips_each_unsafe_character(char: str) -> None:
    assert header_unsafe(f"Ann{char}Bcc: x@example.org") == char
    assert header_safe(f"Ann{char}{char}Lee") == "Ann Lee"


def test_anything_else_is_safe() -> None:
    assert header_unsafe(SAFE) is None
    assert header_safe(SAFE) == SAFE


@pytest.mark.parametrize("char", UNSAFE, ids=lambda c: f"U+{ord(c):04X}")
def test_the_configuration_refuses_it(char: str) -> None:
    value = f"Digest{char}Bcc: x@example.org <digest@example.org>"
    with pytest.raises(ConfigError, match=r"newsletter\.from: .* has a control character"):
        coerce(value, "", "newsletter.from", "newsletter.toml")


def test_the_configuration_file_refuses_a_line_end_in_from(workspace: Path) -> None:
    write_config(workspace, '[newsletter]\nfrom = "Digest\\r\\nBcc: x@example.org <d@example.org>"')
    with pytest.raises(ConfigError, match=r"U\+000D"):
        load_config()


@pytest.mark.parametrize("char", UNSAFE, ids=lambda c: f"U+{ord(c):04X}")
def test_a_subscribers_name_and_address_refuse_it(char: str) -> None:
    with pytest.raises(subscribers.SubscriberError, match="control character"):
        subscribers.normalise_name(f"Ann{char}Bcc: x@example.org")
    with pytest.raises(subscribers.SubscriberError, match="not a valid address"):
        subscribers.normalise_email(f"ann{char}@example.org")


@pytest.mark.parametrize("char", UNSAFE, ids=lambda c: f"U+{ord(c):04X}")
def test_the_sign_up_form_refuses_it(char: str) -> None:
    with pytest.raises(signup.SignupProblem) as name:
        signup.clean("ann@example.org", f"Ann{char}Bcc: x@example.org", "en")
    assert name.value.field == "name"
    with pytest.raises(signup.SignupProblem) as address:
        signup.clean(f"ann{char}@example.org", "Ann", "en")
    assert address.value.field == "email"


def test_a_queued_message_carries_no_header_the_store_smuggled_in(workspace: Path) -> None:
    settings = load_config().newsletter
    message = OutboxMessage(
        id=1,
        kind="test",
        recipient="reader@example.org",
        recipient_name="Ann\r\nBcc: evil@example.org",
        subject="Hello\nBcc: evil@example.org",
        text="Text\n",
        html=None,
        headers={"X-Test": "a\u2028Bcc: evil@example.org"},
        message_id="<1@example.org>",
        attempts=1,
        give_up_at=None,
        claim="c",
    )
    parsed = email.message_from_bytes(build(settings, message), policy=email.policy.SMTP)
    assert parsed["Bcc"] is None
    assert str(parsed["Subject"]) == "Hello Bcc: evil@example.org"
