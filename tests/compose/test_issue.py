"""Compose in a real workspace: digests on disk, a real SQLite file, real rendering."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from newsletter.compose import compose
from newsletter.compose.fit import mailed_bytes
from newsletter.compose.folder import FolderSwap
from newsletter.compose.recovery import recover
from newsletter.config import NewsletterSettings, load_config
from newsletter.core.errors import NewsletterError, TemplateError
from newsletter.core.model import EDITION_LIMIT, EDITIONS
from newsletter.core.templates import CHECKOUT as CHECKOUT_TEMPLATES
from newsletter.store import Store, issues
from tests.conftest import SAMPLE_DIGEST
from tests.helpers import SAMPLE_IDS

BASE_URL = NewsletterSettings().base_url

JULY_15 = dt.date(2024, 7, 15)


@pytest.fixture
def site(workspace: Path) -> Path:
    """A workspace with the sample digest and no configuration file."""
    (workspace / "digests").mkdir()
    shutil.copy(SAMPLE_DIGEST, workspace / "digests" / "2024-07-12.md")
    return workspace


def db_rows(site: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(site / "newsletter.db") as db:
        return db.execute(sql).fetchall()


def add_digest(site: Path, name: str, *ids: str) -> None:
    entries = [f"## Paper {i}\n[论文 {i}](https://arxiv.org/abs/{i})\n摘要 {i}。\n" for i in ids]
    (site / "digests" / name).write_text("\n".join(entries), encoding="utf-8")


def test_composing_the_sample_makes_issue_1_with_its_13_papers(site: Path) -> None:
    result = compose(load_config(), date=JULY_15)
    assert (result.number, result.date, result.papers) == (1, "2024-07-15", SAMPLE_IDS)
    folder = site / "issues" / "0001-2024-07-15"
    assert result.folder == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{e}.{x}" for e in ("bilingual", "en", "zh") for x in ("mjml", "html", "txt")]
        + ["issue.json"]
    )
    described = json.loads((folder / "issue.json").read_text(encoding="utf-8"))
    assert described["number"] == 1 and described["date"] == "2024-07-15"
    assert described["papers"] == SAMPLE_IDS
    assert described["subject"] == "AI Paper Digest #1 · AI 论文周报 第1期"
    assert described["editions"]["zh"] == {
        "mjml": "zh.mjml",
        "html": "zh.html",
        "text": "zh.txt",
        "subject": "AI 论文周报 第1期",
        "preheader": described["editions"]["zh"]["preheader"],
    }
    html = (folder / "bilingual.html").read_text(encoding="utf-8")
    assert all(f"https://arxiv.org/abs/{i}" in html for i in SAMPLE_IDS)
    assert db_rows(site, "SELECT number, date, status, folder FROM issues") == [
        (1, "2024-07-15", "composed", "0001-2024-07-15")
    ]
    assert db_rows(site, "SELECT count(*) FROM issue_papers WHERE issue = 1") == [(13,)]
    assert [w.split(": ")[1] for w in result.warnings] == ["stray paragraph left out"] * 2


def test_composing_again_before_sending_recomposes_the_same_issue(site: Path) -> None:
    compose(load_config(), date=dt.date(2024, 7, 14))
    add_digest(site, "2024-07-13.md", "2408.00001")
    again = compose(load_config(), date=JULY_15)
    assert (again.number, again.recomposed) == (1, True)
    assert again.papers == [*SAMPLE_IDS, "2408.00001"]
    assert [p.name for p in (site / "issues").iterdir()] == ["0001-2024-07-15"]
    assert db_rows(site, "SELECT number, date FROM issues") == [(1, "2024-07-15")]


def test_a_sent_issues_papers_are_never_picked_again(site: Path) -> None:
    compose(load_config(), date=JULY_15)
    db_rows(site, "UPDATE issues SET status = 'sent'")
    add_digest(site, "2024-07-19.md", "2408.00001", "2407.04051", "2408.00002")
    second = compose(load_config(), date=dt.date(2024, 7, 22))
    assert (second.number, second.papers) == (2, ["2408.00001", "2408.00002"])
    assert (site / "issues" / "0002-2024-07-22" / "issue.json").exists()


def test_no_unsent_papers_creates_nothing(site: Path) -> None:
    compose(load_config(), date=JULY_15)
    db_rows(site, "UPDATE issues SET status = 'sent'")
    result = compose(load_config(), date=dt.date(2024, 7, 22))
    assert not result.composed and result.number is None
    assert [p.name for p in (site / "issues").iterdir()] == ["0001-2024-07-15"]
    assert db_rows(site, "SELECT count(*) FROM issues") == [(1,)]


def test_an_issue_being_sent_keeps_its_papers_and_is_mentioned(site: Path) -> None:
    compose(load_config(), date=JULY_15)
    db_rows(site, "UPDATE issues SET status = 'sending'")
    add_digest(site, "2024-07-19.md", "2408.00001")
    result = compose(load_config(), date=dt.date(2024, 7, 22))
    assert (result.number, result.papers) == (2, ["2408.00001"])
    assert "issue 1 is still being sent: `newsletter send` finishes it" in result.warnings


def test_max_papers_takes_the_oldest_first(site: Path) -> None:
    first = compose(load_config(), date=JULY_15, max_papers=5)
    assert first.papers == SAMPLE_IDS[:5]
    db_rows(site, "UPDATE issues SET status = 'sent'")
    second = compose(load_config(), date=dt.date(2024, 7, 22), max_papers=5)
    assert second.papers == SAMPLE_IDS[5:10]


def test_max_papers_comes_from_the_config(site: Path) -> None:
    (site / "newsletter.toml").write_text("[newsletter]\nmax_papers = 3\n", encoding="utf-8")
    assert compose(load_config(), date=JULY_15).papers == SAMPLE_IDS[:3]


def test_a_dry_run_records_and_writes_nothing(site: Path) -> None:
    result = compose(load_config(), date=JULY_15, dry_run=True)
    assert (result.number, result.dry_run, len(result.papers)) == (1, True, 13)
    assert result.editions["bilingual"].html_bytes > 0
    assert not (site / "issues").exists()
    assert not (site / "newsletter.db").exists()


def test_a_dry_run_leaves_an_existing_database_as_it_was(site: Path) -> None:
    compose(load_config(), date=JULY_15)
    db_rows(site, "UPDATE issues SET status = 'sent'")
    add_digest(site, "2024-07-19.md", "2408.00001")
    before = db_rows(site, "SELECT * FROM papers"), db_rows(site, "SELECT * FROM issues")
    result = compose(load_config(), date=dt.date(2024, 7, 22), dry_run=True)
    assert (result.number, result.papers) == (2, ["2408.00001"])
    assert (db_rows(site, "SELECT * FROM papers"), db_rows(site, "SELECT * FROM issues")) == before
    assert [p.name for p in (site / "issues").iterdir()] == ["0001-2024-07-15"]


def test_a_broken_template_records_nothing_and_leaves_no_folder(site: Path) -> None:
    templates = site / "templates" / "partials"
    templates.mkdir(parents=True)
    source = (CHECKOUT_TEMPLATES / "partials" / "paper.mjml.j2").read_text(encoding="utf-8")
    (templates / "paper.mjml.j2").write_text(source.replace("paper.url", "paper.link", 1))
    with pytest.raises(TemplateError, match="has no attribute 'link'"):
        compose(load_config(), date=JULY_15)
    assert not (site / "issues").exists() or list((site / "issues").iterdir()) == []
    assert db_rows(site, "SELECT count(*) FROM issues") == [(0,)]
    assert db_rows(site, "SELECT count(*) FROM papers") == [(0,)]


def test_an_unwritable_issues_folder_is_one_clear_error(site: Path) -> None:
    (site / "issues").write_text("a file where the folder should be")
    with pytest.raises(NewsletterError, match=f"cannot write issue 1 into {site / 'issues'}"):
        compose(load_config(), date=JULY_15)
    assert db_rows(site, "SELECT count(*) FROM issues") == [(0,)]


def test_recomposing_keeps_the_old_folder_until_the_new_one_is_in_place(site: Path) -> None:
    """A failed recompose (here: a broken template) leaves the waiting issue untouched."""
    compose(load_config(), date=dt.date(2024, 7, 14))
    old = site / "issues" / "0001-2024-07-14"
    before = {p.name: p.read_bytes() for p in old.iterdir()}
    (site / "templates").mkdir()
    (site / "templates" / "issue.txt.j2").write_text("{{ nope }}")
    with pytest.raises(TemplateError):
        compose(load_config(), date=JULY_15)
    assert {p.name: p.read_bytes() for p in old.iterdir()} == before
    assert [p.name for p in (site / "issues").iterdir()] == ["0001-2024-07-14"]
    assert db_rows(site, "SELECT date FROM issues") == [("2024-07-14",)]


def test_a_folder_swap_rolled_back_restores_what_it_replaced(tmp_path: Path) -> None:
    tmp_path = tmp_path / "issues"
    (tmp_path / "0001-x").mkdir(parents=True)
    (tmp_path / "0001-x" / "old.txt").write_text("old")
    swap = FolderSwap(tmp_path, "0001-x", {"new.txt": "new"})
    swap.replace()
    assert (tmp_path / "0001-x" / "new.txt").read_text() == "new"
    swap.rollback()
    assert [p.name for p in tmp_path.iterdir()] == ["0001-x"]
    assert (tmp_path / "0001-x" / "old.txt").read_text() == "old"


def test_the_default_date_is_today_in_the_schedule_time_zone(site: Path) -> None:
    (site / "newsletter.toml").write_text('[schedule]\ntimezone = "Pacific/Kiritimati"\n')
    result = compose(load_config(), dry_run=True)
    expected = dt.datetime.now(dt.timezone(dt.timedelta(hours=14))).date().isoformat()
    assert result.date == expected


def test_compose_works_from_any_folder_with_an_explicit_config(
    site: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    (site / "newsletter.toml").write_text("[newsletter]\nmax_papers = 2\n")
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    result = compose(load_config(site / "newsletter.toml"), date=JULY_15)
    assert result.papers == SAMPLE_IDS[:2]
    assert (site / "issues" / "0001-2024-07-15" / "issue.json").exists()
    assert result.warnings[0].startswith("digests/2024-07-12.md:43: stray paragraph")


def test_long_chinese_summaries_are_cut_to_fit_gmails_clip_and_kept_whole_on_the_web(
    site: Path,
) -> None:
    long_summary = "这是一段很长的摘要，用来测试邮件大小。" * 120  # ~7 KB of UTF-8 a paper
    add_digest(site, "2024-07-13.md", *(f"2409.{i:05d}" for i in range(20)))
    text = (site / "digests" / "2024-07-13.md").read_text(encoding="utf-8")
    (site / "digests" / "2024-07-13.md").write_text(text.replace("摘要 ", long_summary))
    (site / "digests" / "2024-07-12.md").unlink()
    result = compose(load_config(), date=JULY_15)
    [said] = [w for w in result.warnings if w.startswith("shortened")]
    assert said.endswith(
        "the bilingual edition's 20 Chinese summaries; the zh edition's 20 Chinese summaries"
    )  # the en edition shows no Chinese summary
    assert not [w for w in result.warnings if "Gmail's 102 KB clip" in w]
    folder = site / "issues" / "0001-2024-07-15"
    for name in ("bilingual", "zh"):
        mailed = (folder / f"{name}.html").read_text(encoding="utf-8")
        assert mailed_bytes(mailed, BASE_URL) <= EDITION_LIMIT
        assert mailed.count(">阅读全文</a>") == 20
        web = (folder / f"{name}.web.html").read_text(encoding="utf-8")
        assert web.count(long_summary) == 20 and "阅读全文" not in web
    assert not (folder / "en.web.html").exists()  # nothing cut: the web copy is the mail


def test_compose_warns_for_every_edition_still_too_large_for_gmails_clip(site: Path) -> None:
    """150 papers of a title and a line each: nothing long to cut, and too large."""
    (site / "newsletter.toml").write_text("[newsletter]\nmax_papers = 150\n")
    add_digest(site, "2024-07-13.md", *(f"2409.{i:05d}" for i in range(150)))
    (site / "digests" / "2024-07-12.md").unlink()
    result = compose(load_config(), date=JULY_15)
    clipped = [w for w in result.warnings if "Gmail's 102 KB clip" in w]
    assert [w.split("'")[0] for w in clipped] == [f"the {name} edition" for name in EDITIONS]
    assert clipped[0].startswith("the bilingual edition's HTML is ")
    assert " KB with a reader's links: over the 100 KB " in clipped[0]
    assert result.composed  # a warning, not an error: the editor decides


def stray(warnings: list[str]) -> list[str]:
    return [w for w in warnings if "stray paragraph" in w]


def test_a_digests_warnings_are_shown_when_its_content_is_first_seen(site: Path) -> None:
    first = compose(load_config(), date=dt.date(2024, 7, 14))
    assert [w.split(":")[:2] for w in stray(first.warnings)] == [
        ["digests/2024-07-12.md", "43"],
        ["digests/2024-07-12.md", "45"],
    ]
    again = compose(load_config(), date=JULY_15)  # the weekly run, the same digest
    assert (again.composed, stray(again.warnings)) == (True, [])
    add_digest(site, "2024-07-19.md", "2408.00001")  # a new digest: its own news only
    assert stray(compose(load_config(), date=JULY_15).warnings) == []
    digest = site / "digests" / "2024-07-12.md"
    digest.write_text(digest.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # changed
    assert len(stray(compose(load_config(), date=JULY_15).warnings)) == 2


def test_a_dry_run_shows_a_digests_warnings_and_records_nothing(site: Path) -> None:
    compose(load_config(), date=JULY_15)
    add_digest(site, "2024-07-19.md", "2408.00001", "2408.00001")  # one duplicate inside
    for _ in range(2):
        result = compose(load_config(), date=JULY_15, dry_run=True)
        assert [w.split(": ")[0] for w in result.warnings] == ["digests/2024-07-19.md:5"]
    assert db_rows(site, "SELECT path FROM digests") == [("digests/2024-07-12.md",)]
    assert len(compose(load_config(), date=JULY_15).warnings) == 1
    assert compose(load_config(), date=JULY_15).warnings == []


def test_a_paper_named_again_in_a_new_digest_is_news_once(site: Path) -> None:
    compose(load_config(), date=JULY_15)
    add_digest(site, "2024-07-19.md", SAMPLE_IDS[0])
    [warning] = compose(load_config(), date=JULY_15).warnings
    assert warning.startswith(f"digests/2024-07-19.md:1: paper {SAMPLE_IDS[0]} is already at")
    assert compose(load_config(), date=JULY_15).warnings == []


def test_a_digest_with_control_characters_composes(site: Path) -> None:
    # They used to stop compose with "issue.mjml.j2: the MJML does not compile".
    add_digest(site, "2024-07-19.md", "2408.00001")
    digest = site / "digests" / "2024-07-19.md"
    digest.write_text(digest.read_text(encoding="utf-8").replace("摘要", "摘\x07要\ufffe"))
    result = compose(load_config(), date=JULY_15)
    assert result.composed and "2408.00001" in result.papers
    assert "digests/2024-07-19.md:3: removed 2 characters an email cannot carry " in "\n".join(
        result.warnings
    )
    assert result.folder is not None
    html = (result.folder / "bilingual.html").read_text(encoding="utf-8")
    assert "摘要 2408.00001。" in html


# A compose killed mid-way: the hidden folders it leaves, and the next compose's repair.


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The id of a process that has ended (a leftover's maker, killed)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def rewrite_papers(folder: Path, papers: list[str]) -> None:
    """Make `folder` hold another composition of its issue (other papers)."""
    described = json.loads((folder / "issue.json").read_text(encoding="utf-8"))
    (folder / "issue.json").write_text(json.dumps({**described, "papers": papers}))


def recover_with_store(site: Path) -> list[str]:
    with Store.open(site / "newsletter.db") as store:
        return recover(site / "issues", lambda n: issues.get(store.db, n))


def test_a_compose_killed_while_writing_leaves_nothing_at_the_next(
    site: Path, dead_pid: int
) -> None:
    compose(load_config(), date=dt.date(2024, 7, 14))
    issues = site / "issues"
    for name in [f".0001-2024-07-15.{dead_pid}.ab_cd123.tmp", ".0001-2024-07-15.k2j3h4g5.tmp"]:
        (issues / name).mkdir()
        (issues / name / "bilingual.html").write_text("<html><body>half")
    theirs = f".0002-2024-07-15.{os.getppid()}.zz991100.tmp"  # a live compose's
    for name in [theirs, ".git", ".0001-notes.tmp", f".0001-2024-07-15.{dead_pid}.bak"]:
        (issues / name).mkdir()
    result = compose(load_config(), date=JULY_15)
    assert listing(issues) == [
        f".0001-2024-07-15.{dead_pid}.bak",
        ".0001-notes.tmp",
        theirs,
        ".git",
        "0001-2024-07-15",
    ]
    assert not [w for w in result.warnings if "put back" in w]


def test_killed_with_the_old_folder_set_aside_it_is_put_back(site: Path, dead_pid: int) -> None:
    compose(load_config(), date=dt.date(2024, 7, 14))
    issues = site / "issues"
    before = contents(issues / "0001-2024-07-14")
    # a recompose for the 15th, killed between its two renames
    (issues / "0001-2024-07-14").rename(issues / f".0001-2024-07-14.{dead_pid}.old")
    shutil.copytree(
        issues / f".0001-2024-07-14.{dead_pid}.old",
        issues / f".0001-2024-07-15.{dead_pid}.x1y2z3ab.tmp",
    )
    assert recover_with_store(site) == [
        f"{issues / '0001-2024-07-14'}: put back as it was before an interrupted compose"
    ]
    assert listing(issues) == ["0001-2024-07-14"]
    assert contents(issues / "0001-2024-07-14") == before


def test_killed_before_the_commit_the_recorded_folder_wins(site: Path, dead_pid: int) -> None:
    compose(load_config(), date=JULY_15)
    issues, name = site / "issues", "0001-2024-07-15"
    before = contents(issues / name)
    # a recompose (same date, one more paper) with its folder in place, not committed
    shutil.copytree(issues / name, issues / f".{name}.{dead_pid}.old")
    rewrite_papers(issues / name, [*SAMPLE_IDS, "2408.00001"])
    assert len(recover_with_store(site)) == 1
    assert listing(issues) == [name]
    assert contents(issues / name) == before


def test_killed_after_the_commit_before_the_rename_the_recorded_folder_is_placed(
    site: Path, dead_pid: int
) -> None:
    """Compose commits, then renames: a kill in between leaves the recorded issue in
    a `.tmp` folder beside the old one; the next compose puts it in place."""
    compose(load_config(), date=JULY_15)
    issues, name = site / "issues", "0001-2024-07-15"
    recorded = contents(issues / name)
    shutil.copytree(issues / name, issues / f".{name}.{dead_pid}.k9j8h7g6.tmp")
    rewrite_papers(issues / name, SAMPLE_IDS[:3])  # the folder as it was before
    assert recover_with_store(site) == [
        f"{issues / name}: put in place, as recorded before a compose was interrupted"
    ]
    assert listing(issues) == [name]
    assert contents(issues / name) == recorded


@pytest.mark.parametrize("same_date", [True, False])
def test_killed_after_the_commit_the_old_folder_goes(
    site: Path, dead_pid: int, same_date: bool
) -> None:
    compose(load_config(), date=dt.date(2024, 7, 14))
    issues = site / "issues"
    stale = issues / f".0001-2024-07-14.{dead_pid}.old"
    shutil.copytree(issues / "0001-2024-07-14", stale)
    if same_date:
        rewrite_papers(stale, SAMPLE_IDS[:3])
    else:  # the recompose moved the issue to the 15th; its cleanup was killed
        compose(load_config(), date=JULY_15)
    recorded = "0001-2024-07-14" if same_date else "0001-2024-07-15"
    before = contents(issues / recorded)
    assert recover_with_store(site) == []
    assert listing(issues) == [recorded]
    assert contents(issues / recorded) == before


def test_a_folder_set_aside_that_the_store_does_not_know_is_kept(site: Path, dead_pid: int) -> None:
    compose(load_config(), date=JULY_15)
    issues = site / "issues"
    (issues / f".0007-2024-07-01.{dead_pid}.old").mkdir()
    (issues / f".0007-2024-07-01.{dead_pid}.old" / "notes.txt").write_text("mine")
    (issues / f".0008-2024-07-01.{os.getppid()}.old").mkdir()  # a live compose's: left alone
    recover_with_store(site)
    assert (issues / "0007-2024-07-01" / "notes.txt").read_text() == "mine"
    assert (issues / f".0008-2024-07-01.{os.getppid()}.old").is_dir()


def test_the_next_compose_repairs_and_says_so(site: Path, dead_pid: int) -> None:
    compose(load_config(), date=dt.date(2024, 7, 14))
    issues = site / "issues"
    (issues / "0001-2024-07-14").rename(issues / f".0001-2024-07-14.{dead_pid}.old")
    dry = compose(load_config(), date=JULY_15, dry_run=True)  # a dry run changes nothing
    assert listing(issues) == [f".0001-2024-07-14.{dead_pid}.old"]
    assert not [w for w in dry.warnings if "put back" in w]
    result = compose(load_config(), date=JULY_15)
    assert [w for w in result.warnings if "put back" in w] == [
        f"{issues / '0001-2024-07-14'}: put back as it was before an interrupted compose"
    ]
    assert listing(issues) == ["0001-2024-07-15"]  # then recomposed, as always
