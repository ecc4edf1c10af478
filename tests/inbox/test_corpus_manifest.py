"""Checks of the bounce corpus itself (tests/data/bounces), not of the classifier.

The manifest says what a correct reader must conclude from each fixture; these tests keep
the manifest and the folder in step and hold every entry to the vocabulary in README.md.
"""

import email
import tomllib
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).parent.parent / "data" / "bounces"
TOKEN = "Tok3nAnnAbCdEfGhIjKlMn"
MESSAGE_ID = "<n1.3f9a0c1d2e@news.example.org>"
VERDICT_OF = {
    **dict.fromkeys(["user_unknown", "host_unknown", "has_moved", "not_accept"], "dead"),
    **dict.fromkeys(
        ["mailbox_full", "suspended", "expired", "system_error", "network_error", "undefined"],
        "soft",
    ),
    **dict.fromkeys(
        ["too_big", "blocked", "policy", "security", "spam_content", "rate_limited", "rejected"],
        "refused",
    ),
    **dict.fromkeys(["delivered", "delayed", "vacation", "autoreply"], "none"),
    "feedback": "complaint",
    "auth_failure": "refused",
    "unsubscribe": "unsubscribe",
    "human": "unknown",
}
PROOFS = {"verp", "message_id", "token", "none"}


def load_manifest() -> list[dict[str, Any]]:
    with (CORPUS / "manifest.toml").open("rb") as f:
        fixtures: list[dict[str, Any]] = tomllib.load(f)["fixture"]
    return fixtures


MANIFEST = load_manifest()


def test_manifest_and_folder_agree() -> None:
    names = [entry["file"] for entry in MANIFEST]
    assert len(names) == len(set(names)), "a file is listed twice"
    assert sorted(names) == sorted(p.name for p in CORPUS.glob("*.eml"))
    assert names == sorted(names), "the manifest is in file order"


def test_corpus_is_large_and_varied() -> None:
    assert len(MANIFEST) >= 90
    assert len({entry["provider"] for entry in MANIFEST}) >= 15


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_entry_uses_the_vocabulary(entry: dict[str, Any]) -> None:
    assert entry["reason"] in VERDICT_OF
    assert entry["verdict"] == VERDICT_OF[entry["reason"]]
    assert entry["proof"] in PROOFS
    assert entry["status"] == "" or entry["status"][0] in "245"
    assert entry["modelled_on"] and entry["address"] and entry["provider"]


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_fixture_parses_and_carries_its_proof(entry: dict[str, Any]) -> None:
    raw = (CORPUS / entry["file"]).read_bytes()
    text = raw.decode("utf-8", errors="replace")
    expanded = raw.replace(b"{{token}}", TOKEN.encode()).replace(
        b"{{message_id}}", MESSAGE_ID.encode()
    )
    message = email.message_from_bytes(expanded)
    assert message["From"] is not None and not message.defects
    assert entry["address"] in text
    if entry["proof"] == "verp":
        assert "bounces+{{token}}@" in text
    if entry["proof"] == "message_id":
        assert "{{message_id}}" in text and "+{{token}}@" not in text
