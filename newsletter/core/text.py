"""Text rules every stage shares: which characters an email can carry (the digest
parser drops the others with a warning naming the line, and the renderer strips any
that reach its output), which may not be in a mail header (the configuration, a
subscriber's name and the sign-up form refuse them; the message builders strip them
from whatever the store holds), and how a long value is cut short in a message."""

from __future__ import annotations

import re

# What an email must not carry: the C0 controls but tab and line ends (XML 1.0, and
# so MJML, refuses them), DEL and the C1 controls (invisible, and in UTF-8 text the
# mark of mojibake), and the Unicode noncharacters (U+FFFE, U+FFFF, U+FDD0-U+FDEF and
# the last two code points of every plane). Lone surrogates cannot occur in text
# decoded from UTF-8, and none of these is ever meant in a digest.
INVALID_CHARS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef"
    + "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
    + "]"
)


# A class with astral code points puts the regex engine on a slow path (180 ms
# over a 6 MB digest, against 20 ms for the plane-0 part alone): look for the
# plane-0 characters, and for the astral ones only in a text that has any.
_INVALID_BMP = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def has_invalid(text: str) -> bool:
    """Whether `text` holds a character of INVALID_CHARS (fast on long texts)."""
    if _INVALID_BMP.search(text):
        return True
    return bool(_ASTRAL.search(text)) and bool(INVALID_CHARS.search(text))


def drop_invalid(text: str) -> str:
    """`text` without the characters an email must not carry (INVALID_CHARS)."""
    return INVALID_CHARS.sub("", text) if has_invalid(text) else text


# What must not be in a header value or an address: the C0 controls (a CR or LF would
# end the header and start another, `Bcc:` injection; NUL, tab…), DEL and the C1
# controls (NEL among them), the Unicode line and paragraph separators, and lone
# surrogates (what undecodable bytes on a command line or in the environment become).
_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_HEADER_UNSAFE_RUNS = re.compile(_HEADER_UNSAFE.pattern + "+")


def header_unsafe(value: str) -> str | None:
    """The first character of `value` that must not be in a header, if there is one."""
    if value.isprintable():  # the common case, checked in C (no character above is)
        return None
    found = _HEADER_UNSAFE.search(value)
    return found.group() if found else None


def header_safe(value: str) -> str:
    """`value` with each run of characters that could break a header line made one space."""
    if value.isprintable():
        return value
    return _HEADER_UNSAFE_RUNS.sub(" ", value)


def shorten(text: str, width: int = 40) -> str:
    """`text` cut to `width` characters, the last an ellipsis, for one-line messages."""
    return text if len(text) <= width else text[: width - 1] + "…"
