"""`dkim check`: does the configured key sign mail that receivers will verify?

It signs a sample message as a send would and verifies it with dkimpy twice: against
the record the key needs (`dkim.dns_text`; no network), and then against the record
actually published at `<selector>._domainkey.<domain>`, looked up with dnspython
(the system's resolver, or `--nameserver`). A published record that is missing or
holds another key is an error: receivers would fail every signature. A lookup that
cannot be made (no network, a resolver that fails) is only a warning, since the
key itself is fine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from newsletter.core.errors import ConfigError, NewsletterError
from newsletter.mail.dkim import Signer, dns_text, load_signer
from newsletter.mail.resolver import LookupUnavailable, txt_records

if TYPE_CHECKING:
    from newsletter.config import Config


@dataclass(frozen=True)
class CheckResult:
    """What `check` found: the signer, and what became of the published record
    (`published` is True when it verified, None when it could not be looked up)."""

    signer: Signer
    published: bool | None
    note: str


def check(config: Config, lookup: bool = True, nameserver: str | None = None) -> CheckResult:
    """Sign a sample and verify it against the needed record, then (with `lookup`)
    against the published one; a failure is one line (NewsletterError)."""
    signer = load_signer(config)
    if signer is None:
        raise ConfigError(
            f"{config.source}: [dkim] is not set: set domain, selector and key_file "
            "(`newsletter dkim keygen` makes a key)"
        )
    message = _sample(config, signer)
    if not _verifies(message, signer, dns_text(signer.key).encode()):
        raise NewsletterError(
            f"a sample message signed with {config.resolve(config.dkim.key_file)} does not "
            f"verify against its own record for {signer.dns_name()}: please report this"
        )
    if not lookup:
        return CheckResult(signer, None, "the published record was not looked up (--no-dns)")
    try:
        records = txt_records(signer.dns_name(), nameserver)
    except LookupUnavailable as error:
        return CheckResult(signer, None, f"could not look up the published record: {error}")
    if not records:
        raise NewsletterError(
            f"nothing is published at {signer.dns_name()} (TXT): publish the record "
            "`newsletter dkim check --no-dns` prints, or receivers cannot verify our mail"
        )
    if not any(_verifies(message, signer, record) for record in records):
        raise NewsletterError(
            f"the TXT record published at {signer.dns_name()} does not verify mail signed "
            f"with {config.resolve(config.dkim.key_file)}: it holds another key or is "
            "malformed; publish the record `newsletter dkim check --no-dns` prints"
        )
    return CheckResult(signer, True, f"verified against the record at {signer.dns_name()}")


def _sample(config: Config, signer: Signer) -> bytes:
    """A message signed as a send signs each one (both bodies with the personal links)."""
    from newsletter.core.model import PREFERENCES_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER
    from newsletter.mail.message import MessageTemplate, Recipient
    from newsletter.store.message_ids import random_tag

    body = (
        f"A sample  message \t with spaces.\n\nPreferences: {PREFERENCES_PLACEHOLDER}\n"
        f"Unsubscribe: {UNSUBSCRIBE_PLACEHOLDER}\n"
    )
    template = MessageTemplate(config.newsletter, 0, "DKIM check · 检查", body, body, signer)
    return template.build(Recipient("reader@example.invalid", "Sample Reader", "t", random_tag()))


def _verifies(message: bytes, signer: Signer, record: bytes) -> bool:
    """Whether dkimpy verifies `message` with `record` at the signer's DNS name."""
    dkimpy = _dkimpy()

    def lookup(name: bytes, timeout: int = 5) -> bytes:
        return record if name.decode().rstrip(".") == signer.dns_name() else b""

    return bool(dkimpy.verify(message, dnsfunc=lookup))  # False on any DKIMException


def _dkimpy() -> Any:
    try:
        import dkim as dkimpy  # type: ignore[import-untyped]
    except ImportError:
        raise NewsletterError("`dkim check` verifies with dkimpy: pip install dkimpy") from None
    return dkimpy
