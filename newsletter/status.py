"""`newsletter status`: what is waiting, what went out, who is on the list, what is next."""

from __future__ import annotations

import datetime as dt
from typing import Any

from newsletter import cron
from newsletter.config import Config
from newsletter.digest import parse_files
from newsletter.errors import NewsletterError
from newsletter.store import Store


def gather(config: Config, last_issues: int = 5) -> dict[str, Any]:
    """The state of the newsletter as plain data (the `--json` document).

    Unsent papers count what the digests name now too, before `compose` stores them.
    """
    now = dt.datetime.now(dt.UTC)
    upcoming = cron.next_runs(config.schedule.cron, config.schedule.timezone, 1, now)
    state: dict[str, Any] = {
        "unsent_papers": 0,
        "issues": [],
        "subscribers": {"total": 0, "by_status": {}, "by_language": {}},
        "next_run": upcoming[0].isoformat() if upcoming else None,
        "schedule": {"cron": config.schedule.cron, "timezone": config.schedule.timezone},
        "last_run": None,
    }
    in_digests = _digest_ids(config)
    state["unsent_papers"] = len(in_digests)
    if not config.database_path.exists():
        return state
    with Store.open(config.database_path) as store:
        db = store.db
        stored = {row[0] for row in db.execute("SELECT arxiv_id FROM papers")}
        issued_sql = "SELECT arxiv_id FROM papers JOIN issue_papers ON paper = papers.id"
        issued = {row[0] for row in db.execute(issued_sql)}
        state["unsent_papers"] = len((in_digests | stored) - issued)
        for issue in store.issues()[-last_issues:]:
            counts = dict(db.execute(
                "SELECT status, count(*) FROM deliveries WHERE issue = ? GROUP BY status",
                (issue.number,)).fetchall())  # fmt: skip
            state["issues"].append({
                "number": issue.number, "date": issue.date, "status": issue.status,
                "papers": len(issue.papers), "folder": issue.folder,
                "deliveries": {key: counts.get(key, 0)
                               for key in ("sent", "failed", "pending", "skipped")},
            })  # fmt: skip
        subscribers = state["subscribers"]
        for column, key in (("status", "by_status"), ("lang", "by_language")):
            subscribers[key] = dict(db.execute(
                f"SELECT {column}, count(*) FROM subscribers GROUP BY {column} ORDER BY {column}"
            ).fetchall())  # fmt: skip
        subscribers["total"] = sum(subscribers["by_status"].values())
        row = db.execute(
            "SELECT started_at, finished_at, outcome, issue, sent, failed FROM runs "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if row:
            state["last_run"] = dict(row)
    return state


def _digest_ids(config: Config) -> set[str]:
    """The papers the digests name now (not yet ingested, perhaps): read only."""
    try:
        return {paper.arxiv_id for paper in parse_files(config.digest_files()).papers}
    except NewsletterError:
        return set()


def render(state: dict[str, Any]) -> list[str]:
    """The readable form of `gather`'s document."""
    lines = [f"Unsent papers: {state['unsent_papers']}"]
    if state["issues"]:
        lines.append("Issues:")
        for issue in state["issues"]:
            d = issue["deliveries"]
            lines.append(
                f"  #{issue['number']:<4} {issue['date']}  {issue['status']:<9} "
                f"{issue['papers']:>3} papers  sent {d['sent']}, failed {d['failed']}, "
                f"pending {d['pending']}, skipped {d['skipped']}"
            )
    else:
        lines.append("Issues: none yet")
    subscribers = state["subscribers"]
    by = ", ".join(f"{k} {v}" for k, v in subscribers["by_status"].items()) or "none"
    langs = ", ".join(f"{k} {v}" for k, v in subscribers["by_language"].items()) or "none"
    lines.append(f"Subscribers: {subscribers['total']} ({by}; {langs})")
    last = state["last_run"]
    if last:
        lines.append(f"Last run: {last['started_at']}: {last['outcome'] or 'running'}")
    schedule = state["schedule"]
    lines.append(f"Next run: {state['next_run']} ({schedule['cron']}, {schedule['timezone']})")
    return lines
