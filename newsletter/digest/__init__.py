"""Stage 1, digest: markdown digest files in, `Paper`s and `DigestWarning`s out.

`parse.py` reads the format (see the README, "The digest format"), `strays.py`
finds paragraphs that repeat another entry's summary, `arxiv.py` normalises ids.
Nothing here writes anything.
"""

from typing import TYPE_CHECKING

from newsletter.core.lazy import exports

if TYPE_CHECKING:
    from newsletter.digest.parse import (
        DigestSource,
        ParseResult,
        parse_bytes,
        parse_files,
        parse_sources,
        parse_text,
        read_sources,
    )

__all__ = [
    "DigestSource",
    "ParseResult",
    "parse_bytes",
    "parse_files",
    "parse_sources",
    "parse_text",
    "read_sources",
]
__getattr__ = exports(__name__, dict.fromkeys(__all__, "parse"))
