"""The corpus of real-world-shaped return mail in tests/data/bounces/: its manifest,
and each fixture made about a subscriber (their token, the Message-ID of their copy)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parent.parent / "data" / "bounces"


@dataclass(frozen=True)
class Fixture:
    file: str
    provider: str
    address: str
    proof: str  # verp, message_id, token or none
    reason: str
    verdict: str
    status: str

    def mail(self, token: str, message_id: str) -> bytes:
        """The fixture's bytes, about the subscriber with this token and Message-ID."""
        text = (CORPUS / self.file).read_bytes().decode("utf-8", "surrogateescape")
        text = text.replace("{{token}}", token).replace("{{message_id}}", message_id)
        return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8", "surrogateescape")


def fixtures() -> list[Fixture]:
    manifest = tomllib.loads((CORPUS / "manifest.toml").read_text())
    fields = Fixture.__dataclass_fields__
    return [
        Fixture(**{k: v for k, v in entry.items() if k in fields}) for entry in manifest["fixture"]
    ]
