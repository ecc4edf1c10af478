"""DKIM: every message signed, checked with dkimpy (the ground truth), never over DNS."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import dkim
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.cli import cli
from newsletter.config import NewsletterSettings, load_config
from newsletter.core.errors import ConfigError
from newsletter.core.model import PREFERENCES_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER
from newsletter.mail.dkim import OVERSIGNED, SIGNED_HEADERS, Signer, dns_text, keygen, load_signer
from newsletter.mail.message import MessageTemplate, Recipient
from newsletter.send import send
from newsletter.send.preview import dry_run
from tests.helpers import THREE, config_error, make_site
from tests.smtpd import SmtpServer

DOMAIN, SELECTOR = "example.org", "news2026"
H_LIST = [name.lower().encode() for name in (*SIGNED_HEADERS, *OVERSIGNED)]


@pytest.fixture(scope="module")
def key_pem(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """One key for the module: making a 2048-bit key takes a while."""
    return keygen(tmp_path_factory.mktemp("key") / "key.pem").private_bytes(*_pem_args())


def _pem_args() -> tuple[object, object, object]:
    from cryptography.hazmat.primitives import serialization

    return (
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_key(folder: Path, pem: bytes, mode: int = 0o600, name: str = "dkim.pem") -> Path:
    path = folder / name
    path.write_bytes(pem)
    path.chmod(mode)
    return path


def configure(site: Path, key: Path) -> None:
    with (site / "newsletter.toml").open("a") as file:
        file.write(
            f'[dkim]\ndomain = "{DOMAIN}"\nselector = "{SELECTOR}"\nkey_file = "{key.name}"\n'
        )


def dns_for(signer: Signer) -> Callable[..., bytes]:
    record = dns_text(signer.key).encode()

    def lookup(name: bytes, timeout: int = 5) -> bytes:
        assert name.decode().rstrip(".") == f"{SELECTOR}._domainkey.{DOMAIN}"
        return record

    return lookup


def signature_tags(raw: bytes) -> dict[bytes, bytes]:
    assert raw.startswith(b"DKIM-Signature: "), "the signature is the first field"
    field = re.match(rb"DKIM-Signature: (.*?)\r\n(?=\S)", raw, re.S)
    assert field
    value = re.sub(rb"\s+", b"", field.group(1))
    return dict(tag.split(b"=", 1) for tag in value.rstrip(b";").split(b";"))


@pytest.mark.parametrize("eightbit", [True, False], ids=["8-bit", "base64"])
def test_every_message_of_a_real_send_verifies(
    workspace: Path, server: SmtpServer, key_pem: bytes, eightbit: bool
) -> None:
    server.handler.eightbit = eightbit
    site = make_site(workspace, server.port, THREE)
    configure(site, write_key(site, key_pem))
    config = load_config()
    signer = load_signer(config)
    assert signer
    report = send(config)
    assert (report.sent, report.complete) == (3, True)
    assert len(server.handler.received) == 3
    for received in server.handler.received:
        raw = received.raw
        assert raw.count(b"\n") == raw.count(b"\r") == raw.count(b"\r\n")  # no bare CR or LF
        assert dkim.verify(raw, dnsfunc=dns_for(signer)), received.recipient
        tags = signature_tags(raw)
        assert tags[b"h"].split(b":") == H_LIST
        assert (tags[b"a"], tags[b"c"], tags[b"d"], tags[b"s"]) == (
            b"rsa-sha256",
            b"relaxed/relaxed",
            DOMAIN.encode(),
            SELECTOR.encode(),
        )
        assert b"l" not in tags and int(tags[b"t"]) > 1_700_000_000
        signature = raw.split(b"\r\nTo: ")[0]
        assert all(len(line) <= 78 for line in signature.split(b"\r\n"))

        assert (b"Content-Transfer-Encoding: 8bit" in raw) is eightbit
        head, body = raw.split(b"\r\n\r\n", 1)
        token = re.search(rb"/unsubscribe/(\w+)", raw)
        assert token
        text_at = body.index(b"\r\n\r\n") + 10  # a byte of the text part's own lines
        link_at = body.rindex(token[1]) if eightbit else body.rindex(b"\r\n--") - 10
        for at in (body.index(b"\r\n", len(body) // 2) - 1, text_at, link_at):
            changed = body[:at] + (b"A" if body[at : at + 1] != b"A" else b"B") + body[at + 1 :]
            assert changed != body and not dkim.verify(
                head + b"\r\n\r\n" + changed, dnsfunc=dns_for(signer)
            )
        retitled = re.sub(rb"\r\nSubject: [^\r]*", b"\r\nSubject: Free money", raw)
        assert retitled != raw and not dkim.verify(retitled, dnsfunc=dns_for(signer))
        # a second From or List-Unsubscribe added on the way (above or below ours)
        # breaks the signature: h= names them once more than the message has them
        for added in (
            b"From: Bank <security@bank.example>",
            b"List-Unsubscribe: <https://evil.example/u>",
        ):
            assert not dkim.verify(added + b"\r\n" + raw, dnsfunc=dns_for(signer))
            assert not dkim.verify(
                head + b"\r\n" + added + b"\r\n\r\n" + body, dnsfunc=dns_for(signer)
            )
        # what relaxed canonicalisation ignores changes nothing: white space at line ends
        spaced = head + b"\r\n\r\n" + body.replace(b"\r\n", b" \t\r\n", 20)
        assert spaced != raw and dkim.verify(spaced, dnsfunc=dns_for(signer))


def test_dry_run_samples_are_signed(workspace: Path, server: SmtpServer, key_pem: bytes) -> None:
    site = make_site(workspace, server.port, THREE)
    configure(site, write_key(site, key_pem))
    config = load_config()
    report = dry_run(config)
    assert report.samples and not report.warnings
    signer = load_signer(config)
    assert signer
    for sample in report.samples:
        raw = Path(sample).read_bytes()
        assert dkim.verify(raw, dnsfunc=dns_for(signer)), sample


@settings(max_examples=40, deadline=None)
@given(
    html=st.text(st.sampled_from("ab \t\n<>中"), max_size=400),
    text=st.text(st.sampled_from("ab \t\n中"), max_size=300),
    after=st.text(st.sampled_from("x \t\n"), max_size=20),
    name=st.text(st.sampled_from("Ab 李\t"), max_size=30),
)
def test_the_incremental_body_hash_is_dkimpys(
    key_pem: bytes, html: str, text: str, after: str, name: str
) -> None:
    """Whitespace anywhere, the placeholders anywhere near a 57-byte line cut."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    signer = Signer(DOMAIN, SELECTOR, load_pem_private_key(key_pem, None))  # type: ignore[arg-type]
    template = MessageTemplate(
        NewsletterSettings(),
        1,
        "Subject  with  spaces ",
        html + UNSUBSCRIBE_PLACEHOLDER + after + PREFERENCES_PLACEHOLDER,
        text + PREFERENCES_PLACEHOLDER + after + UNSUBSCRIBE_PLACEHOLDER + after,
        signer,
    )
    raw = template.build(Recipient("a@example.net", name, "tok", "1"))
    assert dkim.verify(raw, dnsfunc=dns_for(signer))


PIECES = st.sampled_from(
    [
        " ",
        "  ",
        "\t",
        " \t ",
        "\n",
        "\r\n",
        "\r",
        " \n",
        "\t\r\n",
        "\n\n",
        "a",
        "bc",
        "中文",
        "模型" * 200,
        "word " * 120,
        "<p class='x'  style='a:  b'>",
        "</p>",
        "<a href='u  v'>",
        "<pre>",
        "</pre>",
        ".",
        "\n.",
        UNSUBSCRIBE_PLACEHOLDER,
        PREFERENCES_PLACEHOLDER,
    ]
)
BODY = st.lists(PIECES, max_size=40).map("".join)


@settings(max_examples=150, deadline=None)
@given(
    html=BODY, text=BODY, after=BODY, token=st.text(min_size=1, max_size=90), eightbit=st.booleans()
)
def test_the_8bit_body_hash_is_dkimpys(
    key_pem: bytes, html: str, text: str, after: str, token: str, eightbit: bool
) -> None:
    """White space anywhere around the placeholders, in lines long enough to be wrapped
    (or to send a part in base64), a link too long for its line: the hash built from the
    shared pieces and the personal lines is what dkimpy computes over the whole body."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    signer = Signer(DOMAIN, SELECTOR, load_pem_private_key(key_pem, None))  # type: ignore[arg-type]
    template = MessageTemplate(
        NewsletterSettings(),
        1,
        "Subject",
        html + UNSUBSCRIBE_PLACEHOLDER + after,
        text + UNSUBSCRIBE_PLACEHOLDER + after,
        signer,
    )
    raw = template.build(Recipient("a@example.net", "Ann", token, "1"), eightbit=eightbit)
    assert dkim.verify(raw, dnsfunc=dns_for(signer))


def test_a_key_others_can_read_is_refused_in_one_line(
    workspace: Path, server: SmtpServer, key_pem: bytes
) -> None:
    site = make_site(workspace, server.port, THREE)
    configure(site, write_key(site, key_pem, 0o644))
    result = CliRunner().invoke(cli, ["send"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "dkim.key_file" in result.stderr and "chmod 600" in result.stderr
    assert server.handler.received == []


@pytest.mark.parametrize(
    ("content", "says"),
    [(b"not a key", "is not a PEM private key"), (None, "cannot read")],
)
def test_a_bad_key_is_one_config_error(tmp_path: Path, content: bytes | None, says: str) -> None:
    (tmp_path / "newsletter.toml").write_text(
        f'[dkim]\ndomain = "{DOMAIN}"\nselector = "{SELECTOR}"\nkey_file = "k.pem"\n'
    )
    if content is not None:
        write_key(tmp_path, content, name="k.pem")
    with pytest.raises(ConfigError) as caught:
        load_signer(load_config())
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_dkim_settings_are_all_or_none(tmp_path: Path) -> None:
    (tmp_path / "newsletter.toml").write_text(f'[dkim]\ndomain = "{DOMAIN}"\n')
    assert "dkim.selector, dkim.key_file missing" in config_error()
    (tmp_path / "newsletter.toml").write_text(
        '[dkim]\ndomain = "bad domain"\nselector = "s"\nkey_file = "k"\n'
    )
    assert "dkim.domain" in config_error()
    (tmp_path / "newsletter.toml").write_text("")
    assert load_signer(load_config()) is None
