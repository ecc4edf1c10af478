"""A class is named after what it is, once in the whole package: `Mail` was three
things (an SMTP DATA payload, a message to queue, a mail read from the inbox) and
`Outcome` two."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "newsletter"


def _classes() -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                found[node.name].append(str(path.relative_to(PACKAGE.parent)))
    return found


def test_no_two_classes_share_a_name() -> None:
    shared = {name: paths for name, paths in _classes().items() if len(paths) > 1}
    assert shared == {}


def test_the_renamed_classes_say_what_they_are() -> None:
    classes = _classes()
    assert classes["SmtpMessage"] == ["newsletter/mail/smtp.py"]
    assert classes["SmtpResult"] == ["newsletter/mail/smtp.py"]
    assert classes["QueuedMail"] == ["newsletter/mail/outbox.py"]
    assert classes["InboxMail"] == ["newsletter/inbox/read.py"]
    assert classes["SignupOutcome"] == ["newsletter/audience/signup.py"]
    assert "Mail" not in classes and "Outcome" not in classes
