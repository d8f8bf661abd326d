"""APScheduler 3 jobs that tick the delivery workers. The due work lives in our tables (outbox,
email_outbox); the scheduler only ticks, so nothing is lost when it stops or misses a run."""

from __future__ import annotations

import logging
import os
import socket
import uuid

from aiogram import Bot
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from core.clock import LONDON
from core.models import EmailItem, OutboxItem
from core.portal import Portal
from notifications.mail import EmailDelivery, Mailer
from notifications.telegram import TelegramDelivery

log = logging.getLogger(__name__)


def new_worker_id(role: str = "worker") -> str:
    """Unique per process and instance: host, pid and a random suffix (fits locked_by)."""
    return f"{role}:{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def daily_cleanup(portal: Portal) -> None:
    """Daily hook. For now it only logs the outbox's state (counts by status), so a stuck or
    failing outbox shows in the logs; delivery records stay for the SEND team to see."""
    async with portal.db() as session:
        outbox = dict((await session.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status))).all())
        email = dict((await session.execute(select(EmailItem.status, func.count()).group_by(EmailItem.status))).all())
    log.info("outbox by status: %s; email outbox by status: %s", outbox, email)


class _ExpectedSkips(logging.Filter):
    """A tick that finds the last batch still running is skipped (max_instances=1), by design:
    APScheduler would warn about it every second of a long batch. Everything else passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


_scheduler_log = logging.getLogger("notifications.scheduler.apscheduler")
_scheduler_log.addFilter(_ExpectedSkips())


def build_scheduler(
    portal: Portal,
    bot: Bot,
    mailer: Mailer,
    *,
    worker_id: str | None = None,
) -> AsyncIOScheduler:
    """An AsyncIOScheduler (not started) with the two delivery ticks and the daily hook.

    Each tick runs one `run_once`; `max_instances=1` keeps one at a time, `coalesce=True` folds
    ticks missed while a batch ran into one, and `misfire_grace_time` lets a late tick still run
    (APScheduler 3's default of one second would drop it).
    """
    wid = worker_id or new_worker_id()
    telegram = TelegramDelivery(portal, bot, f"{wid}:tg")
    email = EmailDelivery(portal, mailer, f"{wid}:mail")
    interval = max(0.1, portal.settings.delivery.delivery_interval)
    scheduler = AsyncIOScheduler(
        timezone=LONDON,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        logger=_scheduler_log,
    )
    scheduler.add_job(
        telegram.run_once,
        IntervalTrigger(seconds=interval),
        id="deliver_telegram",
        name="deliver the outbox to Telegram",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=max(60, int(interval * 10)),
    )
    scheduler.add_job(
        email.run_once,
        IntervalTrigger(seconds=interval),
        id="deliver_email",
        name="deliver the email outbox",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=max(60, int(interval * 10)),
    )
    scheduler.add_job(
        daily_cleanup,
        CronTrigger(hour=3, minute=30, timezone=LONDON),
        args=[portal],
        id="daily_cleanup",
        name="daily outbox housekeeping",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )
    scheduler.telegram_delivery = telegram  # type: ignore[attr-defined]  # for tests and the CLI
    scheduler.email_delivery = email  # type: ignore[attr-defined]
    return scheduler


__all__ = ["build_scheduler", "daily_cleanup", "new_worker_id"]
