"""The reminder tick: plan once a day (and at the first tick), then move what is due into the
outbox. The rules and the rows are the core's (core.reminders); this only ticks.

With several delivery processes, only the scheduler plans (`may_plan`): planning reads every
open date, and once a day is enough. Sending what is due runs in every process: `send_due`
claims its rows (FOR UPDATE SKIP LOCKED on PostgreSQL, one writer at a time on SQLite) and
marks them sent in the transaction that puts them in the outbox, so none goes twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from core.clock import london_today
from core.portal import Portal
from core.reminders import plan_all, send_due

log = logging.getLogger(__name__)


@dataclass
class ReminderJob:
    """The reminder tick: plan once a day (and at the first tick), then send what is due.
    `may_plan` (None: always) says whether this process plans now (it is the scheduler)."""

    portal: Portal
    batch: int = 200
    may_plan: Callable[[], bool] | None = None
    _planned_for: date | None = None

    async def run_once(self) -> int:
        now = self.portal.clock.now()
        today = london_today(now)
        if self._planned_for != today and (self.may_plan is None or self.may_plan()):
            added = await plan_all(self.portal, now)
            self._planned_for = today
            if added:
                log.info("planned %d reminders", added)
        return await send_due(self.portal, now, batch=self.batch)


__all__ = ["ReminderJob"]
