"""`newsletter status`: what is waiting, what went out, who is on the list, what is next."""

from __future__ import annotations

import sqlite3
from typing import Any

from newsletter.audience import signup
from newsletter.config import Config
from newsletter.core import clock
from newsletter.core.errors import NewsletterError
from newsletter.core.model import EDITIONS, SUBSCRIBER_STATUSES, Issue
from newsletter.digest import parse_files
from newsletter.inbox.report import refusal_line
from newsletter.schedule import cron
from newsletter.store import Store, bounces, deliveries, issues, outbox, papers, runs, subscribers
from newsletter.store.bounces import Refusals


def gather(config: Config, last_issues: int = 5) -> dict[str, Any]:
    """The state of the newsletter as plain data (the `--json` document).

    Unsent papers count what the digests name now too, before `compose` stores them.
    """
    now = clock.now()
    upcoming = cron.next_runs(config.schedule.cron, config.schedule.timezone, 1, now)
    state: dict[str, Any] = {
        "unsent_papers": 0,
        "issues": [],
        "subscribers": _people({}, {}),
        "next_run": upcoming[0].isoformat() if upcoming else None,
        "schedule": {"cron": config.schedule.cron, "timezone": config.schedule.timezone},
        "last_run": None,
        "pending_confirmation": 0,  # signed up on the web, not confirmed yet
        "outbox": {},  # single messages (confirmations) by status
        "refusals": [],  # receivers that refused our mail (the sending side's problem)
    }
    in_digests = _digest_ids(config)
    state["unsent_papers"] = len(in_digests)
    store = Store.open_existing(config.database_path)
    if store is None:
        return state
    with store:
        db = store.db
        stored, issued = papers.stored_and_issued(db)
        state["unsent_papers"] = len((in_digests | stored) - issued)
        shown = issues.listing(db)[-last_issues:]
        state["issues"] = [_issue_state(db, issue) for issue in shown]
        since = shown[0].number if shown else 0
        state["refusals"] = [vars(r) for r in bounces.refusals_by_domain(db, since)]
        state["subscribers"] = _people(*subscribers.counts(db))
        state["last_run"] = runs.last(db)
        state["pending_confirmation"] = signup.pending_count(store)
        state["outbox"] = outbox.counts(db)
    return state


def _people(by_status: dict[str, int], by_language: dict[str, int]) -> dict[str, Any]:
    """The list's counts, every status and edition named (0 when none): one shape always."""
    return {
        "total": sum(by_status.values()),
        "by_status": {status: by_status.get(status, 0) for status in SUBSCRIBER_STATUSES}
        | by_status,
        "by_language": {lang: by_language.get(lang, 0) for lang in EDITIONS} | by_language,
    }


def _issue_state(db: sqlite3.Connection, issue: Issue) -> dict[str, Any]:
    sent = deliveries.counts(db, issue.number)
    return {
        "number": issue.number,
        "date": issue.date,
        "status": issue.status,
        "papers": len(issue.papers),
        "folder": issue.folder,
        "deliveries": sent,
        "returns": _returns(db, issue.number, sent),
    }


def _returns(db: sqlite3.Connection, issue: int, counted: dict[str, int]) -> dict[str, Any]:
    """What came back for an issue (`inbox`, and refusals at send time): bounces as a
    share of the messages offered (refused ones too), complaints of those accepted
    (None before any was)."""
    counts: dict[str, Any] = bounces.issue_counts(db, issue)
    sent, offered = counted["sent"], counted["sent"] + counted["failed"]
    bounced = counts["hard"] + counts["soft"]
    counts["bounce_rate"] = round(bounced / offered, 4) if offered else None
    counts["complaint_rate"] = round(counts["complaint"] / sent, 4) if sent else None
    counts["reasons"] = bounces.reasons(db, issue)
    return counts


def _digest_ids(config: Config) -> set[str]:
    """The papers the digests name now (not yet ingested, perhaps): read only."""
    try:
        return {paper.arxiv_id for paper in parse_files(config.digest_files()).papers}
    except NewsletterError:
        return set()


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def describe(state: dict[str, Any]) -> list[str]:
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
            back = issue["returns"]
            if back["hard"] or back["soft"] or back["complaint"]:
                lines.append(
                    f"        bounced {back['hard']} hard, {back['soft']} soft "
                    f"({_percent(back['bounce_rate'])}), complaints "
                    f"{back['complaint']} ({_percent(back['complaint_rate'])})"
                )
            if back["reasons"]:
                said = ", ".join(f"{reason} {n}" for reason, n in back["reasons"].items())
                lines.append(f"        by reason: {said}")
    else:
        lines.append("Issues: none yet")
    people = state["subscribers"]
    by = ", ".join(f"{k} {v}" for k, v in people["by_status"].items()) or "none"
    langs = ", ".join(f"{k} {v}" for k, v in people["by_language"].items()) or "none"
    lines.append(f"Subscribers: {people['total']} ({by}; {langs})")
    lines.append(f"Pending confirmation: {state['pending_confirmation']}")
    mail = state["outbox"]
    if mail.get("queued") or mail.get("sending") or mail.get("failed"):
        lines.append(
            f"Outbox: queued {mail['queued'] + mail['sending']}, sent {mail['sent']}, "
            f"failed {mail['failed']}"
        )
    if state["refusals"]:
        lines.append("Refused by receivers (the sending side's to fix):")
        lines += [f"  {refusal_line(Refusals(**r))}" for r in state["refusals"]]
    last = state["last_run"]
    if last:
        lines.append(f"Last run: {last['started_at']}: {last['outcome'] or 'running'}")
        if last.get("note"):
            lines.append(f"  {last['note']}")
    schedule = state["schedule"]
    lines.append(f"Next run: {state['next_run']} ({schedule['cron']}, {schedule['timezone']})")
    return lines
