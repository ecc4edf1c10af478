"""The line that says what each setting does: one for every key, none for a key gone."""

from __future__ import annotations

from dataclasses import fields

from newsletter.config.reference import KEYS, SECTION_NOTES
from newsletter.config.settings import SECTIONS


def test_every_setting_has_its_line_and_every_line_its_setting() -> None:
    assert set(KEYS) == set(SECTIONS) == set(SECTION_NOTES)
    for name, cls in SECTIONS.items():
        assert list(KEYS[name]) == [f.name.rstrip("_") for f in fields(cls)], name
