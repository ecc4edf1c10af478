"""`newsletter status`: what is waiting, what went out, who is on the list, what is next."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.cli.status import gather
from newsletter.config import load_config
from newsletter.schedule import run_once
from tests.conftest import SAMPLE_DIGEST
from tests.helpers import THREE, add_digest, make_site
from tests.smtpd import SmtpServer


def test_status_reports_papers_issues_subscribers_and_the_next_run(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    run_once(load_config())
    add_digest(site, "2024-07-19.md", "2408.00001")
    state = gather(load_config())
    assert state["unsent_papers"] == 1
    assert state["issues"] == [
        {
            "number": 1,
            "date": state["issues"][0]["date"],
            "status": "sent",
            "papers": 13,
            "folder": state["issues"][0]["folder"],
            "deliveries": {"sent": 3, "failed": 0, "pending": 0, "skipped": 0},
            "returns": {
                "hard": 0,
                "soft": 0,
                "complaint": 0,
                "refused": 0,
                "bounce_rate": 0.0,
                "complaint_rate": 0.0,
                "reasons": {},
            },
        }
    ]
    assert state["refusals"] == []
    assert state["subscribers"] == {
        "total": 3,
        "by_status": {"active": 3, "unsubscribed": 0, "bounced": 0},
        "by_language": {"bilingual": 1, "en": 1, "zh": 1},
    }
    assert state["last_run"]["outcome"] == "sent"
    assert dt.datetime.fromisoformat(state["next_run"]) > dt.datetime.now(dt.UTC)
    text = CliRunner().invoke(cli, ["status"]).stdout
    assert "#1" in text and "sent 3, failed 0, pending 0, skipped 0" in text
    assert text.startswith("Unsent papers: 1\n")


def test_status_of_a_new_checkout(workspace: Path) -> None:
    shutil.copytree(SAMPLE_DIGEST.parent, workspace / "digests")
    result = CliRunner().invoke(cli, ["status", "--json"])
    assert result.exit_code == 0, result.output
    state = json.loads(result.stdout)
    assert (state["issues"], state["unsent_papers"]) == ([], 13)
    assert not (workspace / "newsletter.db").exists()
