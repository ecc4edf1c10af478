"""Every edition, as a subscriber gets it, scores at most 1.0 in SpamAssassin's local
tests (Debian's `spamassassin`, which `.ci/run` installs; skipped without it).

The three messages go to one `spamassassin --mbox` process: it takes a second or two
to load its rules, so one run for all three keeps this test near 2 seconds."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from newsletter.compose.render import Renderer
from newsletter.config import NewsletterSettings
from newsletter.core.model import EDITIONS
from newsletter.mail.message import MessageTemplate, Recipient
from tests.compose.test_fit import long_week
from tests.compose.test_render import sample_issue

MAX_SCORE = 1.0
# The score, then the table of rules hit: its header, a rule of dashes, a line a rule.
REPORT = re.compile(
    r"Content analysis details:\s+\((-?[0-9.]+) points[^\n]*\n\n"
    r"( pts rule name[^\n]*\n-[- ]+\n(?:[^\n]+\n)*)"
)

pytestmark = pytest.mark.skipif(
    shutil.which("spamassassin") is None,
    reason="spamassassin is not installed (apt-get install spamassassin; .ci/run does)",
)


SETTINGS = {
    "default": NewsletterSettings(),
    "with-address": NewsletterSettings(postal_address="AI Paper Digest\n1 Main St\nBeijing"),
    "long-week": NewsletterSettings(),  # 20 long papers, texts cut to fit Gmail's clip
}


def messages(settings: NewsletterSettings, case: str) -> dict[str, bytes]:
    """Issue 1 of the sample digest, each edition as one subscriber receives it; the
    Message-ID names the edition and the case (spamassassin reorders its reports)."""
    found = {}
    papers = long_week() if case == "long-week" else None
    for name, edition in Renderer(settings).render(sample_issue(papers, number=1)).items():
        recipient = Recipient(
            "li.wei@example.org", "Li Wei", "k3Xq9ZbT2vWm7RcY4nHp8sLd5", f"{name}-{case}"
        )
        template = MessageTemplate(settings, 1, edition.subject, edition.html, edition.text)
        found[f"{name} ({case})"] = template.build(
            recipient, date="Mon, 15 Jul 2024 08:00:00 +0800"
        )
    return found


def score(raw: dict[str, bytes], home: Path) -> dict[str, tuple[float, str]]:
    """{name: (score, the report's table of rules)}, from one spamassassin run."""
    mbox = b"".join(
        b"From MAILER-DAEMON Mon Jul 15 00:00:00 2024\n" + message.replace(b"\r\n", b"\n") + b"\n"
        for message in raw.values()
    )
    run = subprocess.run(
        ["spamassassin", "--local", "--test-mode", "--mbox"],
        input=mbox,
        capture_output=True,
        timeout=120,
        env={**os.environ, "HOME": str(home)},  # its per-user files, not in the real home
    )
    output = run.stdout.decode("utf-8", errors="replace")
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    found = {}
    for chunk in output.split("\nFrom MAILER-DAEMON "):
        key = re.search(r"^Message-ID: <([\w-]+)@", chunk, re.MULTILINE)
        report = REPORT.search(chunk)
        if key and report:
            edition, case = key.group(1).split("-", 1)
            found[f"{edition} ({case})"] = (float(report.group(1)), report.group(2))
    assert set(found) == set(raw), output[-2000:]
    return found


@pytest.fixture(scope="module")
def scores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[float, str]]:
    """Every edition, with the default settings and with a postal address."""
    raw = {
        name: message
        for case, settings in SETTINGS.items()
        for name, message in messages(settings, case).items()
    }
    return score(raw, tmp_path_factory.mktemp("home"))


def test_every_edition_scores_at_most_1(scores: dict[str, tuple[float, str]]) -> None:
    assert len(scores) == len(EDITIONS) * len(SETTINGS)
    failing = {name: table for name, (points, table) in scores.items() if points > MAX_SCORE}
    assert not failing, "\n".join(f"{name}:\n{table}" for name, table in failing.items())


def test_no_text_is_coloured_like_its_background(scores: dict[str, tuple[float, str]]) -> None:
    """The preheader is hidden by display:none, not by a colour near the background's
    (what MJML's <mj-preview> does, and HTML_FONT_LOW_CONTRAST scores)."""
    for name, (_, table) in scores.items():
        assert "HTML_FONT_LOW_CONTRAST" not in table, (name, table)


def test_each_report_is_the_editions_own(scores: dict[str, tuple[float, str]]) -> None:
    """Reports are matched to editions by Message-ID: the Chinese subject, whose only
    Latin letters are "AI", is the zh edition's alone (see the README's Spam score)."""
    for name, (_, table) in scores.items():
        assert ("SUBJ_ALL_CAPS" in table) == name.startswith("zh "), (name, table)
