"""Stage 5, schedule: a crontab line in, the weekly job (resume, compose, send) out.

`cron.py` gives crontab expressions cron's meaning as an APScheduler trigger,
`job.py` is the weekly job (`run-once`), `runner.py` runs it on schedule.
"""

from typing import TYPE_CHECKING

from newsletter.core.lazy import exports

if TYPE_CHECKING:
    from newsletter.schedule.job import RunResult, run_once
    from newsletter.schedule.runner import run_forever

__all__ = ["RunResult", "run_forever", "run_once"]
__getattr__ = exports(__name__, {"RunResult": "job", "run_once": "job", "run_forever": "runner"})
