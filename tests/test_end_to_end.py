"""The whole flow, week after week, through the real console script as subprocesses.

A temporary workspace, a real SMTP server (aiosmtpd on 127.0.0.1) and three
subscribers with three languages; the weekly job is `newsletter run-once`, exactly
what the crontab line that `schedule --print-crontab` prints runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SAMPLE_DIGEST
from tests.helpers import SAMPLE_IDS
from tests.smtpd import SmtpServer

SUBJECTS = {
    "li.wei@example.org": "AI 论文周报 第{n}期",
    "ann@example.org": "AI Paper Digest #{n}",
    "bob@example.org": "AI Paper Digest #{n} · AI 论文周报 第{n}期",
}


def console_script() -> list[str]:
    """The installed `newsletter` script beside this Python, else `python -m newsletter`."""
    script = Path(sys.executable).parent / "newsletter"
    return [str(script)] if script.exists() else [sys.executable, "-m", "newsletter"]


def newsletter(site: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NEWSLETTER_") or k == "NEWSLETTER_ARXIV_ENRICH"
    }  # the suite's NEWSLETTER_ARXIV_ENRICH=0: no arXiv to wait for (only 127.0.0.1)
    env.setdefault("PYTHONPATH", str(ROOT))
    return subprocess.run(
        [*console_script(), *arguments],
        cwd=site,
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def messages_of_week(server: SmtpServer, start: int) -> dict[str, str]:
    """Recipient → HTML of the messages received since message number `start`."""
    received = server.handler.received[start:]
    return {item.recipient: item.message.get_body(("html",)).get_content() for item in received}


def test_three_weeks_of_the_weekly_job(workspace: Path, server: SmtpServer) -> None:
    site = workspace
    (site / "digests").mkdir()
    shutil.copy(SAMPLE_DIGEST, site / "digests" / "2024-07-12.md")
    (site / "newsletter.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nconnections = 2\n'
        '[schedule]\ntimezone = "UTC"\n'
    )
    (site / "list.csv").write_text(
        "email,name,lang\nli.wei@example.org,李伟,zh\nann@example.org,Ann,en\nbob@example.org,,\n",
        encoding="utf-8",
    )
    imported = newsletter(site, "subscribers", "import", "list.csv")
    assert imported.returncode == 0, imported.stderr

    # Week 1: the sample digest; issue 1 with its 13 papers, one message each, in their language.
    week1 = newsletter(site, "run-once")
    assert week1.returncode == 0, week1.stderr
    assert "run finished: sent; issue 1, 13 papers, 3 sent, 0 failed" in week1.stderr
    assert server.handler.count() == dict.fromkeys(SUBJECTS, 1)
    for item in server.handler.received:
        assert item.message["Subject"] == SUBJECTS[item.recipient].format(n=1)
    html = messages_of_week(server, 0)
    assert all(f"https://arxiv.org/abs/{i}" in html["bob@example.org"] for i in SAMPLE_IDS)

    # Week 2: a new digest with two new papers and one already sent: only the new ones go.
    (site / "digests" / "2024-07-19.md").write_text(
        "## A New Paper\n[一篇新论文](https://arxiv.org/abs/2408.00001)\n新摘要一。\n\n"
        "## FunAudioLLM again\n[重复](https://arxiv.org/abs/2407.04051v2)\n重复的摘要。\n\n"
        "## Another New Paper\n[另一篇新论文](https://arxiv.org/pdf/2408.00002.pdf)\n新摘要二。\n",
        encoding="utf-8",
    )
    week2 = newsletter(site, "run-once")
    assert week2.returncode == 0, week2.stderr
    assert "run finished: sent; issue 2, 2 papers, 3 sent, 0 failed" in week2.stderr
    assert "paper 2407.04051 is already at digests/2024-07-12.md:5" in week2.stderr
    assert server.handler.count() == dict.fromkeys(SUBJECTS, 2)
    html = messages_of_week(server, 3)
    for recipient, body in html.items():
        assert (
            "https://arxiv.org/abs/2408.00001" in body
            and "https://arxiv.org/abs/2408.00002" in body
        )
        assert "https://arxiv.org/abs/2407.04051" not in body, recipient
    for item in server.handler.received[3:]:
        assert item.message["Subject"] == SUBJECTS[item.recipient].format(n=2)

    # Week 3: nothing new: nothing is sent, and the job says so.
    week3 = newsletter(site, "run-once")
    assert week3.returncode == 0, week3.stderr
    assert "no unsent papers: nothing to compose" in week3.stderr
    assert "run finished: nothing to send" in week3.stderr
    assert sum(server.handler.count().values()) == 6

    status = json.loads(newsletter(site, "status", "--json").stdout)
    assert status["unsent_papers"] == 0
    assert [
        (i["number"], i["papers"], i["status"], i["deliveries"]["sent"]) for i in status["issues"]
    ] == [(1, 13, "sent", 3), (2, 2, "sent", 3)]
