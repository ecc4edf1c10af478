"""Paper titles with LaTeX on the web: the archive's pages and the Atom feed show them
as the issue does (`archive build` writes what `serve` answers, byte for byte)."""

from __future__ import annotations

from pathlib import Path

import feedparser
from click.testing import CliRunner
from lxml import html as lxml_html  # type: ignore[import-untyped]

from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.send import send
from tests.helpers import THREE, make_site
from tests.smtpd import SmtpServer

DIGEST = "\n".join(
    [
        r"## $\textit{Who Speaks Matters}$ in $\mathcal{O}(n \log n)$ at $10^{-3}$",
        r"[$\alpha$-散度：成本 $5 million](https://arxiv.org/abs/2501.00001)",
        "摘要。",
        "",
    ]
)
ENGLISH = "Who Speaks Matters in 𝒪(n log n) at 10⁻³"
CHINESE = "α-散度：成本 $5 million"


def built_site(workspace: Path, server: SmtpServer) -> Path:
    """The sample digest and one with LaTeX, composed, sent, built as files."""
    (workspace / "digests").mkdir()
    (workspace / "digests" / "latex.md").write_text(DIGEST, encoding="utf-8")
    make_site(workspace, server.port, THREE)
    send(load_config())
    result = CliRunner().invoke(cli, ["archive", "build", "public"])
    assert result.exit_code == 0, result.output
    return workspace / "public"


def test_the_archive_pages_and_the_feed_show_titles_converted(
    workspace: Path, server: SmtpServer
) -> None:
    public = built_site(workspace, server)
    for path in ("index.html", "issues/0001-2024-07-15/index.html"):
        tree = lxml_html.fromstring((public / path).read_bytes())
        text = " ".join(tree.text_content().split())
        assert ENGLISH in text and CHINESE in text, path
        assert "\\" not in text, path
        assert tree.xpath('//em[text()="Who Speaks Matters"]'), path
    parsed = feedparser.parse((public / "feed.xml").read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    (entry,) = parsed.entries
    content = entry.content[0].value
    assert "<em>Who Speaks Matters</em> in 𝒪(n log n) at 10⁻³" in content
    assert CHINESE in content and "\\" not in content
    assert (workspace / "digests" / "latex.md").read_text(encoding="utf-8") == DIGEST
