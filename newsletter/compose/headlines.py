"""What an issue says about itself before it is opened: its subject (from the
configured pattern) and its preheader (the line a mail client shows after the
subject), both plain text: a title's LaTeX is converted (`latex.to_text`). Its
address in the web archive is `core.links.issue_page`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from newsletter.compose.latex import to_text
from newsletter.config import NewsletterSettings
from newsletter.core.model import Paper

if TYPE_CHECKING:
    from newsletter.compose.render import IssueInfo


def subject(settings: NewsletterSettings, edition: str, info: IssueInfo) -> str:
    pattern: str = getattr(settings, f"subject_{edition}")
    return pattern.format(
        number=info.number,
        date=info.date.isoformat(),
        papers=len(info.papers),
        title_en=settings.title_en,
        title_zh=settings.title_zh,
    )


def preheader(edition: str, papers: Sequence[Paper], named: int = 3) -> str:
    """The line a mail client shows after the subject: the first papers, by short name."""
    more = len(papers) - named
    titles = [(to_text(p.title_en), to_text(p.title_zh)) for p in papers[:named]]
    english = ", ".join(_short_name(en or zh) for en, zh in titles)
    chinese = "、".join(_short_name(zh or en) for en, zh in titles)
    english += f" and {more} more" if more > 0 else ""
    chinese = f"本期 {len(papers)} 篇论文：{chinese}" + ("等" if more > 0 else "")
    if edition == "en":
        return f"This week: {english}"
    if edition == "zh":
        return chinese
    return f"{english} · {chinese}"


def _short_name(title: str, limit: int = 40) -> str:
    """`FunAudioLLM: Voice Understanding…` → `FunAudioLLM`; long titles are cut."""
    head = re.split(r"[:：]", title, maxsplit=1)[0].strip()
    if len(head) <= limit:
        return head
    return head[:limit].rsplit(" ", 1)[0] + "…"
