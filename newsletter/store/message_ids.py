"""The left part of an issue message's Message-ID: a tag that proves the message is
ours and tells nothing.

The tag of issue N for subscriber S is an HMAC-SHA256, under a key made once per
database (`secrets.message_id_key`, migration m011), of `issue:N:subscriber:S`, cut
to 128 bits and written in lowercase base32 without padding (26 characters). The
same (N, S) gives the same tag on every retry, so a message the ledger sends again
after a crash keeps its Message-ID; nobody without the key can make one, or read N
or S out of one. The ledger stores each delivery's tag (`deliveries.message_tag`,
unique), so a bounce's copy of our Message-ID finds its delivery with one index
lookup (`deliveries.find_by_message_id`). This module is the only place a tag is
made or read: the migration that fills old rows, `deliveries.start` and the send's
preview all call it, and message.py writes the tag it is given.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import sqlite3

KEY_NAME = "message_id_key"
TAG_BYTES = 16  # 128 bits: no collision and no guess in any list's lifetime
SAMPLE_SUBSCRIBER = 0  # no subscriber has id 0: the dry run's samples are tagged for it
_TAG = re.compile(r"[a-z2-7]{26}")


def message_tag(key: str, issue: int, subscriber: int) -> str:
    """The tag of issue `issue` for subscriber `subscriber` under `key` (hex)."""
    text = f"issue:{issue}:subscriber:{subscriber}".encode()
    return _encoded(hmac.new(bytes.fromhex(key), text, hashlib.sha256).digest())


def random_tag() -> str:
    """A tag no delivery has (a test send outside the ledger): the same shape."""
    return _encoded(secrets.token_bytes(TAG_BYTES))


def read_key(db: sqlite3.Connection) -> str:
    """This database's key (m011 makes it)."""
    row = db.execute("SELECT value FROM secrets WHERE name = ?", (KEY_NAME,)).fetchone()
    if row is None:
        raise LookupError(f"the store has no {KEY_NAME}: it was not migrated")
    return str(row[0])


def register(db: sqlite3.Connection) -> None:
    """`message_tag(issue, subscriber)` in SQL on this connection, under its key, so
    that a statement fills the tags of many rows at once."""
    key = read_key(db)

    def tag(issue: int, subscriber: int) -> str:
        return message_tag(key, issue, subscriber)

    db.create_function("message_tag", 2, tag, deterministic=True)


def tag_of(message_id: str) -> str | None:
    """The tag in a Message-ID as a bounce quotes it (`<tag@domain>`, with or without
    the brackets, in any case, white space around); None if it holds none."""
    text = message_id.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    local, at, domain = text.rpartition("@")
    tag = local.lower()
    return tag if at and domain and _TAG.fullmatch(tag) else None


def _encoded(digest: bytes) -> str:
    return base64.b32encode(digest[:TAG_BYTES]).decode("ascii").rstrip("=").lower()
