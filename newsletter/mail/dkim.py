"""DKIM signing (RFC 6376), fast: `rsa-sha256`, `c=relaxed/relaxed`.

`MessageTemplate` (message.py) asks for a signature per message. dkimpy's `sign`
canonicalises and hashes the whole message each time (~9 ms for 96 KB); here the
body hash (`bh=`) is built from pieces. Every piece that all recipients of an
edition share is canonicalised once; the body's start, up to the text part's
personal tail, is hashed once too (`BodyHash`: its `hashlib` state is copied per
message). SHA-256 cannot skip ahead, so the shared HTML after that tail is hashed
per message (its canonical form ready: ~0.04 ms for 52 KB). Relaxed canonicalisation
works on whole lines (a run of white space, white space before a CRLF), so every
piece starts a line and ends with a CRLF (body.py cuts them so): then the canonical
form of the whole is the canonical forms of the pieces, joined. The personal tails
are base64 lines, canonical as they are, or 8-bit lines holding the recipient's link,
canonicalised per message (a few hundred bytes). Relaxed header
canonicalisation is a few regexes over short lines, and the header hash is signed
with `cryptography` (PKCS#1 v1.5, SHA-256, ~0.25 ms: the bulk of the cost, which
`workers.py` overlaps with the network by building in the feeding thread).

The key is a PEM private key that nobody but its owner may read (like ssh's).
`keygen` makes one and `dns_record` says what to publish as
`<selector>._domainkey.<domain>` TXT. Tests verify every signature with dkimpy.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.core.errors import ConfigError, NewsletterError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from newsletter.config import Config

CRLF = b"\r\n"
SIGNED_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
)
"""What `h=` covers; List-Unsubscribe-Post must be signed for one-click to count (RFC 8058)."""
OVERSIGNED = ("From", "To", "Subject", "List-Unsubscribe", "List-Unsubscribe-Post")
"""Named in `h=` once more than the message has them (RFC 6376 8.15): the extra name
stands for "no such field", so a second From or List-Unsubscribe added on the way
breaks the signature instead of riding on it."""
KEY_BITS = 2048
DNS_STRING = 255  # the longest character-string in a TXT record

_WSP_RUN = re.compile(rb"[ \t]+")
_TRAILING_WSP = re.compile(rb"[ \t]+(?=\r\n)")
_FOLD = re.compile(rb"\r\n(?=[ \t])")


def relaxed_header(field: bytes) -> bytes:
    """One header field (`Name: value`, maybe folded, no final CRLF) in relaxed form."""
    name, _, value = field.partition(b":")
    value = _WSP_RUN.sub(b" ", _FOLD.sub(b"", value)).strip(b" \t")
    return name.strip(b" \t").lower() + b":" + value


def relaxed_body_piece(piece: bytes) -> bytes:
    """A piece of a body in relaxed form, lines taken whole: whitespace runs made one
    space, whitespace before a CRLF dropped. Empty lines are kept (only those at the
    very end of a body go, and the bodies we build end with a closing boundary)."""
    return _TRAILING_WSP.sub(b"", _WSP_RUN.sub(b" ", piece))


class BodyHash:
    """The relaxed body hash of an edition's messages, its shared head hashed once.

    `start` must end with a CRLF, so that no line spans the boundary between what is
    hashed once and what is hashed per message."""

    def __init__(self, start: bytes) -> None:
        if start and not start.endswith(CRLF):
            raise ValueError("the shared head of a body must end with a CRLF")
        self.state = hashlib.sha256(relaxed_body_piece(start))

    def finish(self, canonical_pieces: list[bytes]) -> bytes:
        """`bh=`: the shared head's hash carried on through pieces already canonical."""
        state = self.state.copy()
        for piece in canonical_pieces:
            state.update(piece)
        return base64.b64encode(state.digest())


@dataclass(frozen=True)
class Signer:
    """Signs messages for `domain` with the key published at `selector`."""

    domain: str
    selector: str
    key: RSAPrivateKey

    def signature(
        self, fields: dict[str, bytes], body_hash: bytes, now: int | None = None
    ) -> bytes:
        """The `DKIM-Signature` field (folded, no final CRLF) over the relaxed forms of
        `fields` (each canonical already, keyed by the names in SIGNED_HEADERS)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        names = _folded_names([*SIGNED_HEADERS, *OVERSIGNED])
        unsigned = (
            (
                f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={self.domain};\r\n"
                f" s={self.selector}; t={int(time.time()) if now is None else now};\r\n"
                f" h={names};\r\n bh="
            ).encode()
            + body_hash
            + b";\r\n b="
        )
        signed = b"".join(fields[name] + CRLF for name in SIGNED_HEADERS)
        signed += relaxed_header(unsigned)
        value = base64.b64encode(self.key.sign(signed, padding.PKCS1v15(), hashes.SHA256()))
        return unsigned + b"\r\n ".join(value[i : i + 72] for i in range(0, len(value), 72))

    def dns_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"

    def dns_record(self) -> str:
        """The TXT record to publish, as DNS zone strings of at most 255 characters."""
        return dns_record(self.key)


def _folded_names(names: list[str]) -> str:
    """`from:to:…` for `h=`, folded after a colon so no line passes 78 characters."""
    lines, line = [], " h="
    for index, name in enumerate(names):
        piece = name.lower() + (":" if index < len(names) - 1 else "")
        if len(line) + len(piece) > 76:
            lines.append(line)
            line = " "
        line += piece
    return "\r\n".join([*lines, line])[len(" h=") :]


def dns_record(key: RSAPrivateKey) -> str:
    """`v=DKIM1; k=rsa; p=…` in quoted strings of at most 255 characters each."""
    text = dns_text(key)
    return " ".join(f'"{text[i : i + DNS_STRING]}"' for i in range(0, len(text), DNS_STRING))


def dns_text(key: RSAPrivateKey) -> str:
    """The record's text, unsplit (what a resolver hands back)."""
    from cryptography.hazmat.primitives import serialization

    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"


def load_signer(config: Config) -> Signer | None:
    """The signer `[dkim]` describes, or None when signing is off (a key left unset).
    A key others can read, or one that cannot be read or is not an RSA key, is a
    ConfigError of one line."""
    dkim = config.dkim
    if not (dkim.domain and dkim.selector and dkim.key_file):
        return None
    return Signer(dkim.domain, dkim.selector, load_key(config.resolve(dkim.key_file)))


def load_key(path: Path) -> RSAPrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            raise ConfigError(
                f"dkim.key_file: {path} is readable by others (mode "
                f"{stat.S_IMODE(mode):o}): `chmod 600 {path}`; a leaked key signs for your domain"
            )
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as error:
        raise ConfigError(f"dkim.key_file: cannot read {path}: {error.strerror}") from None
    except (ValueError, TypeError) as error:
        raise ConfigError(f"dkim.key_file: {path} is not a PEM private key: {error}") from None
    if not isinstance(key, RSAPrivateKey) or key.key_size < 1024:
        raise ConfigError(f"dkim.key_file: {path} is not an RSA key of 1024 bits or more")
    return key


def keygen(path: Path) -> RSAPrivateKey:
    """A new RSA key written to `path` as PEM, mode 600; an existing file is kept."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise NewsletterError(f"{path} exists: not overwritten (choose another --out)") from None
    except OSError as error:
        raise NewsletterError(f"cannot write {path}: {error.strerror}") from None
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(pem)
    return key
