"""`newsletter archive build OUT/`: the archive as files, byte for byte what `serve`
answers at the same paths, so a list can host them anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import feedparser
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.core.model import UNSUBSCRIBE_PLACEHOLDER
from newsletter.send import send
from tests.helpers import make_site
from tests.smtpd import SmtpServer
from tests.web.conftest import Web

FOLDER = "0001-2024-07-15"
PAGES = [f"issues/{FOLDER}/{name}.html" for name in ("bilingual", "en", "zh", "index")]


def build(out: str = "public") -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["archive", "build", out])
    return result.exit_code, result.stdout, result.stderr


def test_the_files_are_what_serve_answers_at_the_same_paths(web: Web) -> None:
    send(load_config())
    code, out, err = build()
    assert code == 0, err
    written = sorted(Path(line).relative_to("public").as_posix() for line in out.splitlines())
    assert written == sorted(["index.html", "feed.xml", *PAGES])
    assert err == "Wrote 6 files to public (1 issue; 0 unchanged).\n"
    with web.client() as client:
        for path in written:
            served = client.get(f"/{path}")
            assert served.status_code == 200, path
            assert (web.site / "public" / path).read_bytes() == served.content, path
        assert (web.site / "public" / "index.html").read_bytes() == client.get("/").content


def test_the_view_in_browser_link_resolves_to_a_file(web: Web) -> None:
    send(load_config())
    assert build()[0] == 0
    for received in web.smtp.handler.received:
        part = received.message.get_body(("html",))
        assert part is not None
        link = re.search(
            r'<a href="([^"]+)"[^>]*>(?:<span[^>]*>)?(?:View in browser|在浏览器)',
            part.get_content(),
        )
        assert link and link.group(1).startswith(web.base + "/")
        path = web.site / "public" / link.group(1).removeprefix(web.base + "/")
        assert path.is_file(), link.group(1)
        assert received.message["Subject"] in path.read_text(encoding="utf-8")


def test_a_site_with_nothing_sent_gets_an_empty_index_and_feed(web: Web) -> None:
    code, out, err = build()
    assert code == 0, err
    assert out.splitlines() == ["public/feed.xml", "public/index.html"]
    index = (web.site / "public" / "index.html").read_text(encoding="utf-8")
    assert "No issue has gone out yet" in index and FOLDER not in index
    parsed = feedparser.parse((web.site / "public" / "feed.xml").read_bytes())
    assert (parsed.bozo, parsed.entries) == (0, [])
    assert not (web.site / "public" / "issues").exists()  # the composed issue stays private


def test_a_workspace_with_no_database_builds_an_empty_archive(workspace: Path) -> None:
    code, _, err = build("site")
    assert code == 0, err
    assert feedparser.parse((workspace / "site" / "feed.xml").read_bytes()).bozo == 0
    assert not (workspace / "newsletter.db").exists()  # a build creates no database


def test_building_again_rewrites_only_what_changed_and_keeps_other_files(
    workspace: Path, server: SmtpServer
) -> None:
    make_site(workspace, server.port, [("ann@example.org", "Ann", "en")])
    send(load_config())
    assert build()[0] == 0
    (workspace / "public" / "robots.txt").write_text("User-agent: *\n")
    before = (workspace / "public" / "index.html").stat().st_mtime_ns
    code, out, err = build()
    assert (code, out) == (0, "")
    assert err == "Wrote 0 files to public (1 issue; 6 unchanged).\n"
    assert (workspace / "public" / "robots.txt").read_text() == "User-agent: *\n"
    assert (workspace / "public" / "index.html").stat().st_mtime_ns == before
    assert (workspace / "public" / "index.html").stat().st_mode & 0o777 == 0o644
    assert not list((workspace / "public").rglob(".*.tmp"))


def test_the_issue_folders_are_never_overwritten(workspace: Path, server: SmtpServer) -> None:
    make_site(workspace, server.port, [("ann@example.org", "Ann", "en")])
    send(load_config())
    composed = (workspace / "issues" / FOLDER / "en.html").read_bytes()
    for out in (".", "issues", f"issues/{FOLDER}"):
        code, stdout, err = build(out)
        assert code == 1 and stdout == ""
        assert len(err.splitlines()) == 1 and "would be written over the issue folders" in err
    assert (workspace / "issues" / FOLDER / "en.html").read_bytes() == composed
    assert not (workspace / "index.html").exists()


def _composed(workspace: Path) -> dict[str, bytes]:
    files = sorted(p for p in (workspace / "issues").rglob("*") if p.is_file())
    return {p.relative_to(workspace).as_posix(): p.read_bytes() for p in files}


def _refused(link: Path) -> None:
    """The build stops on `link`: one line naming it, exit 1, nothing on stdout."""
    code, stdout, err = build()
    assert (code, stdout) == (1, "")
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"Error: {link}: is a symbolic link"), err


def test_a_link_to_the_issue_folders_inside_out_is_refused(
    workspace: Path, server: SmtpServer
) -> None:
    """OUT/issues -> the workspace's issues/: the build once replaced the composed
    editions through it (their unsubscribe placeholder gone)."""
    make_site(workspace, server.port, [("ann@example.org", "Ann", "en")])
    send(load_config())
    composed = _composed(workspace)
    (workspace / "public").mkdir()
    (workspace / "public" / "issues").symlink_to(workspace / "issues")
    _refused(Path("public/issues"))
    assert _composed(workspace) == composed
    assert UNSUBSCRIBE_PLACEHOLDER.encode() in composed[f"issues/{FOLDER}/en.html"]
    assert sorted(p.name for p in (workspace / "public").iterdir()) == ["issues"]  # nothing


def test_a_link_deeper_inside_out_is_refused(workspace: Path, server: SmtpServer) -> None:
    make_site(workspace, server.port, [("ann@example.org", "Ann", "en")])
    send(load_config())
    elsewhere = workspace / "elsewhere"
    elsewhere.mkdir()
    (workspace / "public" / "issues").mkdir(parents=True)
    (workspace / "public" / "issues" / FOLDER).symlink_to(elsewhere, target_is_directory=True)
    _refused(Path("public/issues") / FOLDER)
    assert list(elsewhere.iterdir()) == []
    assert not (workspace / "public" / "index.html").exists()


def test_a_linked_page_inside_out_is_refused_not_written_through(
    workspace: Path, server: SmtpServer
) -> None:
    """A page that is a link to a file: refused whatever it names, and that file is
    left as it was, even after a build that succeeded once."""
    make_site(workspace, server.port, [("ann@example.org", "Ann", "en")])
    send(load_config())
    assert build()[0] == 0
    mine = workspace / "mine.html"
    for page in ("index.html", f"issues/{FOLDER}/en.html"):
        mine.write_text("my own page\n")
        target = workspace / "public" / page
        target.unlink()
        target.symlink_to(mine)
        _refused(Path("public") / page)
        assert mine.read_text() == "my own page\n" and target.is_symlink()
        target.unlink()
        assert build()[0] == 0


def test_an_unreadable_issue_stops_the_build_before_it_writes(
    workspace: Path, server: SmtpServer
) -> None:
    make_site(workspace, server.port, [("ann@example.org", "Ann", "en")])
    send(load_config())
    (workspace / "issues" / FOLDER / "zh.html").unlink()
    code, out, err = build()
    assert (code, out) == (1, "")
    assert err.startswith("Error: issue 1: ") and len(err.splitlines()) == 1
    assert not (workspace / "public").exists()


def test_out_must_be_a_folder(workspace: Path) -> None:
    (workspace / "public").write_text("a file\n")
    code, _, err = build()
    assert code == 2 and "is a file" in err


def test_help_shows_an_example() -> None:
    result = CliRunner().invoke(cli, ["archive", "build", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout and "newsletter archive build public/" in result.stdout
