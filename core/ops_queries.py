"""What the operator's monitoring reads about the outbox: counts and times only, never a family's
notice. Read-only; called at scrape time (ops/ turns it into Prometheus gauges).

A notice is *due* when it was written, or, for a reminder, when its time came (a reminder held
over quiet hours is due in the morning). A notice tried again stays due from when it was written
(a reminder from its retry's time: its first time is not kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, case, func, select

from core.models import OutboxItem
from core.outbox import REMINDER

if TYPE_CHECKING:
    from core.portal import Portal

WITHIN = timedelta(seconds=10)  # GOV.UK Notify's published measure: sent within 10 seconds
WINDOW = timedelta(hours=1)  # the share is of the notices due in the last hour
UNDELIVERED = ("pending", "sending")
# The notices the share counts: those meant for a chat (blocked and emailed ones never go to
# Telegram, for a reason of the family's; failed ones count, as late).
COUNTED = ("pending", "sending", "sent", "failed")


def due_at(kind: str, created_at: datetime, not_before: datetime) -> datetime:
    """When a notice became due (see the module's note)."""
    return not_before if kind == REMINDER else created_at


@dataclass(frozen=True, slots=True)
class OutboxHealth:
    due: int  # pending notices due now (the queue)
    oldest_due_seconds: float  # age of the oldest due notice not yet sent (0: none)
    due_last_hour: int  # notices that became due in the hour before the last 10 seconds
    sent_within: int  # of those, sent within 10 seconds of being due

    @property
    def share_within(self) -> float | None:
        """The share sent within 10 seconds (None: nothing was due in that hour)."""
        return self.sent_within / self.due_last_hour if self.due_last_hour else None


async def outbox_health(portal: Portal) -> OutboxHealth:
    """The queue, its oldest due notice and the 10-second share, from the database now."""
    o = OutboxItem
    now = portal.clock.now()
    due = case((o.kind == REMINDER, o.not_before), else_=o.created_at)
    if portal.engine.dialect.name == "sqlite":  # times are text there: compare them as day numbers
        within = (func.julianday(o.sent_at) - func.julianday(due)) * 86400.0 <= WITHIN.total_seconds()
    else:
        within = o.sent_at - due <= WITHIN
    # Each hour's notices are those due between now - 1 h - 10 s and now - 10 s: each has had its
    # 10 seconds. not_before is never earlier than `due`, so it bounds the rows read (its index).
    start, end = now - WINDOW - WITHIN, now - WITHIN
    queue = select(
        func.coalesce(func.sum(case((o.status == "pending", 1), else_=0)), 0),
        func.min(o.not_before),
    ).where(o.status.in_(UNDELIVERED), o.not_before <= now)
    share = select(
        func.count(),
        func.coalesce(func.sum(case((and_(o.status == "sent", within), 1), else_=0)), 0),
    ).where(o.status.in_(COUNTED), o.chat_id.is_not(None), o.not_before > start, due > start, due <= end)
    async with portal.db() as session:
        pending, oldest = (await session.execute(queue)).one()
        counted, sent_within = (await session.execute(share)).one()
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return OutboxHealth(due=int(pending), oldest_due_seconds=age, due_last_hour=int(counted),
                        sent_within=int(sent_within))


__all__ = ["OutboxHealth", "due_at", "outbox_health"]
