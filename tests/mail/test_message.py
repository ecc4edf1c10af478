"""The message builder: whatever the store holds, the headers stay headers.

Messages are parsed back with `email` (policy=default), as a mail client would, and
their raw header lines are checked as a server would: no bare CR or LF, nothing
past 998 bytes, and 78 characters wherever the text can be folded.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.header import decode_header, make_header

from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.config import NewsletterSettings
from newsletter.core.model import PREFERENCES_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER
from newsletter.mail.message import MessageTemplate, Recipient, unsubscribe_url
from newsletter.mail.smtp import for_data
from tests.helpers import parse_message, personalised, same_but_line_breaks

SETTINGS = NewsletterSettings()
DATE = "Mon, 15 Jul 2024 08:00:00 +0800"
FIELD_OR_FOLD = re.compile(rb"[!-9;-~]+: |[ \t]")
SUBJECT = "AI Paper Digest #1 · AI 论文周报 第1期"


def template() -> MessageTemplate:
    html = f"<p>论文</p><a href='{UNSUBSCRIBE_PLACEHOLDER}'>Unsubscribe 退订</a>"
    text = f"Papers 论文\nUnsubscribe: {UNSUBSCRIBE_PLACEHOLDER}\n"
    return MessageTemplate(SETTINGS, 1, SUBJECT, html, text)


def build(name: str, address: str = "ann@example.org", token: str = "T0k3n") -> bytes:
    return template().build(Recipient(address, name, token, "7"), DATE)


def header_lines(raw: bytes) -> list[bytes]:
    head = raw.partition(b"\r\n\r\n")[0]
    lines = head.split(b"\r\n")
    for line in lines:
        assert b"\r" not in line and b"\n" not in line, line
        assert FIELD_OR_FOLD.match(line), line
        assert len(line) <= 998
    return lines


def rfc2047_decoded(raw: bytes, field: str) -> str:
    """A header's text as RFC 2047 says to display it (adjacent encoded-words joined)."""
    value = email.message_from_bytes(raw, policy=email.policy.compat32)[field]
    return str(make_header(decode_header(value)))


FIELDS = [
    "To",
    "Date",
    "Message-ID",
    "List-Unsubscribe",
    "From",
    "Subject",
    "MIME-Version",
    "List-Id",
    "List-Unsubscribe-Post",
    "Content-Type",
]


def test_a_name_with_cr_lf_adds_no_header() -> None:
    raw = build("Evil\r\nBcc: x@evil.example")
    header_lines(raw)
    message = parse_message(raw)
    assert list(message.keys()) == FIELDS
    assert message["Bcc"] is None
    [to] = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Evil Bcc: x@evil.example", "ann@example.org")


def test_no_stored_value_can_break_a_header_line() -> None:
    raw = template().build(
        Recipient(
            "ann@example.org\r\nBcc: x@evil.example",
            "Ann\nCc: y@evil.example",
            "tok\r\nBcc: z@evil.example",
            "7\r\nX-Evil: 1",
        ),
        DATE,
    )
    header_lines(raw)
    message = parse_message(raw)
    assert list(message.keys()) == FIELDS
    assert b"tok%0D%0ABcc%3A%20z%40evil.example" in raw  # the token is percent-encoded


def test_a_5000_character_name_is_folded_into_encoded_words() -> None:
    for name in ("A" * 5000, "李" * 5000, "Ann " * 1250, 'Ann "the" \\ reader' * 300):
        raw = build(name)
        lines = header_lines(raw)
        assert max(len(line) for line in lines if not line.startswith(b"List-Unsubscribe")) <= 78
        for word in re.findall(rb"=\?[^?]+\?[bBqQ]\?[^?]*\?=", raw.partition(b"\r\n\r\n")[0]):
            assert len(word) <= 75
        assert rfc2047_decoded(raw, "To") == f"{name.strip()} <ann@example.org>"
        [to] = parse_message(raw)["To"].addresses
        assert to.addr_spec == "ann@example.org"
        # Python < 3.14 puts a space between adjacent encoded-words in a display name,
        # against RFC 2047 section 6.2 (CPython gh-128110); mail clients do not.
        assert to.display_name.replace(" ", "") == name.replace(" ", "")


def test_short_names_stay_readable_in_the_raw_header() -> None:
    assert b"\r\nTo: Ann Lee <ann@example.org>\r\n" in b"\r\n" + build("Ann Lee")
    assert b'\r\nTo: "Lee, Ann" <ann@example.org>\r\n' in b"\r\n" + build("Lee, Ann")
    assert b"\r\nTo: ann@example.org\r\n" in b"\r\n" + build("")
    assert b'\r\nTo: "=?utf-8?b?QUFB?=" <ann@example.org>\r\n' in b"\r\n" + build(
        "=?utf-8?b?QUFB?="
    )


def test_a_long_address_goes_on_its_own_line() -> None:
    address = "a.very.long.local.part.for.someone@subdomain.of.a.long.domain.example.org"
    raw = build("Ann Lee the Reader", address)
    assert b"To: Ann Lee the Reader\r\n <" + address.encode() + b">\r\n" in raw
    [to] = parse_message(raw)["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Ann Lee the Reader", address)


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=300), token=st.text(min_size=1, max_size=40))
def test_any_name_and_token_make_a_message_that_parses(name: str, token: str) -> None:
    raw = build(name, token=token)
    header_lines(raw)
    message = parse_message(raw)
    assert list(message.keys()) == FIELDS
    [to] = message["To"].addresses
    assert to.addr_spec == "ann@example.org"
    link = unsubscribe_url(SETTINGS, token)
    assert link in message["List-Unsubscribe"]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert link in text.get_content() and link in html.get_content()


def test_lone_surrogates_from_a_command_line_do_not_break_the_build() -> None:
    raw = build("Ann \udcff Lee")  # what an undecodable byte in argv becomes
    header_lines(raw)
    [to] = parse_message(raw)["To"].addresses
    assert to.display_name == "Ann Lee"


PIECES = st.sampled_from(
    [
        " ",
        "\t",
        "\n",
        "\r\n",
        "\r",
        "a",
        "中文",
        "模型" * 200,
        "word " * 120,
        ".",
        "\n.",
        "<p class='x' style='a: b'>",
        "</p>",
        "<pre>",
        "</pre>",
        "\x00",
        UNSUBSCRIBE_PLACEHOLDER,
        PREFERENCES_PLACEHOLDER,
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    html=st.lists(PIECES, max_size=30).map("".join),
    text=st.lists(PIECES, max_size=30).map("".join),
    eightbit=st.booleans(),
)
def test_either_encoding_decodes_to_what_was_composed(html: str, text: str, eightbit: bool) -> None:
    """8-bit where it can go so (lines within 998, no NUL), else base64: either way the
    parts decode to the composed text with the reader's link, CRLF line ends."""
    html, text = html + UNSUBSCRIBE_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER + text
    raw = template_of(html, text).build(
        Recipient("ann@example.org", "Ann", "T0k3n", "7"), DATE, eightbit
    )
    assert raw.count(b"\n") == raw.count(b"\r") == raw.count(b"\r\n")
    assert max(map(len, raw.split(b"\r\n"))) <= 998
    message = parse_message(raw)
    plain, rich = message.iter_parts()
    canonical = {
        kind: re.sub("\r\n|\r|\n", "\r\n", personalised(value, "T0k3n", SETTINGS.base_url))
        for kind, value in (("text", text), ("html", html))
    }
    assert plain.get_content() == canonical["text"]
    if rich["Content-Transfer-Encoding"] == "8bit":
        assert eightbit and "\x00" not in html
        assert same_but_line_breaks(rich.get_content(), canonical["html"].replace("\r\n", "\n"))
    else:
        assert rich.get_content() == canonical["html"]
    if not eightbit:
        assert raw.isascii()
    # what `send` offers: the same message, dot-stuffed a piece at a time
    reader = Recipient("ann@example.org", "Ann", "T0k3n", "7")
    wire = template_of(html, text).mail(reader, eightbit).wire
    date = email.message_from_bytes(wire)["Date"]
    assert wire == for_data(template_of(html, text).build(reader, date, eightbit))


def template_of(html: str, text: str) -> MessageTemplate:
    return MessageTemplate(SETTINGS, 1, SUBJECT, html, text)
