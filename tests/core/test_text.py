"""Characters an email cannot carry, and short forms of long values."""

from __future__ import annotations

from newsletter.core.text import drop_invalid, shorten


def test_characters_an_email_cannot_carry_are_dropped() -> None:
    text = "a\x00b\x07c\x0bd\x1fe\x7ff\x85g\x9fh\ufffei\uffffj\ufdd0k\U0010ffffl"
    assert drop_invalid(text) == "abcdefghijkl"
    kept = "tab\tline\ncr\r中文 emoji 🙂 zero\u200bwidth"
    assert drop_invalid(kept) == kept


def test_a_long_value_is_cut_with_an_ellipsis() -> None:
    assert shorten("Skywork-Math: Data Scaling Laws for Mathematical Reasoning", 20) == (
        "Skywork-Math: Data …"
    )
    assert shorten("short", 20) == "short"
