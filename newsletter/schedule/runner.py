"""`newsletter schedule`: the weekly job in the foreground, with APScheduler 3.

The trigger is the config's crontab expression with cron's meaning (`cron.py`) in
its time zone. A run missed while the machine was off is made up once when the
process comes back, if the missed time is less than `schedule.grace_hours` ago;
several missed runs make one. SIGTERM or Ctrl-C stops it cleanly: a send in
progress finishes the messages in flight, records them, and the process exits 0.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shlex
import sys
import threading
from pathlib import Path
from typing import Any

from newsletter.config import Config
from newsletter.core import clock
from newsletter.core.errors import NewsletterError
from newsletter.core.stopping import stop_on_signals
from newsletter.schedule import cron
from newsletter.schedule.job import last_run_started, run_once

log = logging.getLogger("newsletter")


def missed_run(config: Config, now: dt.datetime) -> dt.datetime | None:
    """The latest scheduled time since the last run that is still within the grace
    period, if the job has run before (a first start catches nothing up)."""
    last = last_run_started(config)
    if last is None:
        return None
    grace = dt.timedelta(hours=config.schedule.grace_hours)
    start = max(last, now - grace)
    missed = None
    for fire in cron.next_runs(config.schedule.cron, config.schedule.timezone, 1000, start):
        if fire > now:
            break
        missed = fire
    return missed


def run_forever(config: Config, stop: threading.Event | None = None) -> None:
    """Block, running the job on schedule, until SIGTERM, SIGINT or `stop`."""
    from apscheduler.schedulers.background import BackgroundScheduler

    stop = stop or threading.Event()
    trigger = cron.trigger(config.schedule.cron, config.schedule.timezone)
    scheduler = BackgroundScheduler(timezone=trigger.zone)
    grace = max(1, int(config.schedule.grace_hours * 3600))

    def job() -> None:
        with contextlib.suppress(NewsletterError):  # logged by run_once; next run retries
            run_once(config, stop)

    scheduler.add_job(
        job, trigger, id="weekly", coalesce=True, max_instances=1, misfire_grace_time=grace
    )
    now = clock.now()
    missed = missed_run(config, now)
    if missed:
        log.info("catching up the run missed at %s", missed.isoformat())
        scheduler.add_job(job, "date", run_date=now, id="missed")
    with stop_on_signals(stop):
        _run_until_stopped(config, scheduler, stop)


def _run_until_stopped(config: Config, scheduler: Any, stop: threading.Event) -> None:
    try:
        scheduler.start()
        fire = scheduler.get_job("weekly").next_run_time
        log.info(
            "scheduled %r in %s; next run %s",
            config.schedule.cron,
            config.schedule.timezone,
            fire.isoformat(),
        )
        while not stop.wait(1.0):
            pass
        log.info("stopping: letting the run in progress record what it sent")
    finally:
        scheduler.shutdown(wait=True)


def crontab_line(config: Config, executable: str | None = None) -> str:
    """The crontab lines that run the same job from the system's cron."""
    program = executable or _program()
    config_part = f" --config {shlex.quote(str(config.path))}" if config.path else ""
    log = f" >> {shlex.quote(str(config.log_path))} 2>&1" if config.log_path else ""
    return (
        f"CRON_TZ={config.schedule.timezone}\n"
        f"{config.schedule.cron} cd {shlex.quote(str(config.root))} && "
        f"{program}{config_part} run-once{log}"
    )


def _program() -> str:
    """How to run this very `newsletter` from cron (an absolute path)."""
    script = Path(sys.argv[0])
    if script.name == "newsletter" and script.exists():
        return shlex.quote(str(script.resolve()))
    return f"{shlex.quote(sys.executable)} -m newsletter"


def describe_next(config: Config, count: int, now: dt.datetime | None = None) -> list[str]:
    now = now or clock.now()
    runs = cron.next_runs(config.schedule.cron, config.schedule.timezone, count, now)
    return [run.strftime("%Y-%m-%d %H:%M %a %z (%Z)") for run in runs]
