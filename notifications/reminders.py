"""The reminder tick: plan once a day (and at the first tick), then move what is due into the
outbox. The rules and the rows are the core's (core.reminders); this only ticks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from core.clock import london_today
from core.portal import Portal
from core.reminders import plan_all, send_due

log = logging.getLogger(__name__)


@dataclass
class ReminderJob:
    """The reminder tick: plan once a day (and at the first tick), then send what is due."""

    portal: Portal
    batch: int = 200
    _planned_for: date | None = None

    async def run_once(self) -> int:
        now = self.portal.clock.now()
        today = london_today(now)
        if self._planned_for != today:
            added = await plan_all(self.portal, now)
            self._planned_for = today
            if added:
                log.info("planned %d reminders", added)
        return await send_due(self.portal, now, batch=self.batch)



__all__ = ["ReminderJob"]
