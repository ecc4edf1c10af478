"""Text rules every stage shares: which characters an email can carry (the digest
parser drops the others with a warning naming the line, and the renderer strips any
that reach its output), and how a long value is cut short in a message."""

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


def shorten(text: str, width: int = 40) -> str:
    """`text` cut to `width` characters, the last an ellipsis, for one-line messages."""
    return text if len(text) <= width else text[: width - 1] + "…"
