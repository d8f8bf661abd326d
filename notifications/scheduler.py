"""APScheduler 3 jobs that tick the delivery workers. The due work lives in our tables (outbox,
email_outbox); the scheduler only ticks, so nothing is lost when it stops or misses a run.

Every delivery process runs the delivery ticks (Telegram, email, sending due reminders: their
rows are claimed, so processes share them). The jobs that must run once (planning reminders,
the daily housekeeping, the staff relay with its per-group pacing) run only in the process that
is the scheduler (`leader`: see notifications/liveness.py `Leadership`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from aiogram import Bot
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING, STATE_STOPPED
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from core.clock import LONDON
from core.models import EmailItem, OutboxItem
from core.portal import Portal
from core.questions import clear_old_question_texts
from notifications.liveness import BEAT_EVERY, RENEW_EVERY, Heartbeat, Leadership, new_worker_id
from notifications.mail import EmailDelivery, Mailer
from notifications.pacing import TelegramPacer
from notifications.reminders import ReminderJob
from notifications.staff_relay import StaffRelay
from notifications.telegram import TelegramDelivery
from ops.metrics import Counting

log = logging.getLogger(__name__)
T = TypeVar("T")


async def daily_cleanup(portal: Portal) -> None:
    """Daily hook. Clears the kept text of parents' questions older than
    EHCP_QUESTION_RETENTION_DAYS (a day ahead, so none waits past its limit for tomorrow's run),
    and logs the outbox's state (counts by status), so a stuck or failing outbox shows in the
    logs; delivery records stay for the SEND team to see."""
    await clear_old_question_texts(portal, ahead=timedelta(days=1))
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


class DeliveryTick:
    """One delivery worker's tick, as a scheduler job: one `run_once`, or nothing once stopping.

    It records whether a tick is in flight, so a shutdown can wait for it to finish its sends
    and give back what it did not send (the scheduler's own shutdown would cancel it)."""

    def __init__(self, name: str, run_once: Callable[[], Awaitable[int]], stop: asyncio.Event | None) -> None:
        self.name = name
        self._run_once = run_once
        self._stop = stop
        self._idle = asyncio.Event()
        self._idle.set()
        self.again = False  # woken while running: the tick may have missed new work, run again

    def wake(self) -> bool:
        """New work was announced. False if a tick is in flight (it is run again once done);
        True if the caller should start one now."""
        if not self._idle.is_set():
            self.again = True
            return False
        return True

    async def run(self) -> int:
        if self._stop is not None and self._stop.is_set():
            return 0
        self._idle.clear()
        self.again = False
        try:
            return await self._run_once()
        except Exception:
            log.exception("%s tick failed", self.name)
            return 0
        finally:
            self._idle.set()

    async def finished(self) -> None:
        """Return once no tick is in flight."""
        await self._idle.wait()


def build_scheduler(
    portal: Portal,
    bot: Bot | None,
    mailer: Mailer,
    *,
    worker_id: str | None = None,
    stop: asyncio.Event | None = None,
    pacer: TelegramPacer | None = None,
    heartbeat: Heartbeat | None = None,
    leader: Leadership | Callable[[], bool] | None = None,
    metrics: Counting | None = None,
) -> AsyncIOScheduler:
    """An AsyncIOScheduler (not started) with the delivery ticks and the daily hook.

    Each tick runs one `run_once` (a batch: about two seconds of sending at full rate); a tick
    that found work is run again at once, so a backlog goes out at the full rate, and an idle
    worker looks again every `delivery_interval`. `max_instances=1` keeps one tick of a job at
    a time, `coalesce=True` folds ticks missed while a batch ran into one, and
    `misfire_grace_time` lets a late tick still run (APScheduler 3's default of one second
    would drop it). Without a bot (no token) there is only the email job.

    `stop`, once set, makes the workers finish the sends in flight, give back the rest of
    their batch and start no more ticks: see `run_delivery` for a clean shutdown.

    `leader` says whether this process is the scheduler now: the once-only jobs (reminder
    planning, the daily housekeeping, the staff relay) do nothing while it says no. A
    `Leadership` is also renewed by a job here, and the once-only jobs are run at once when it
    is gained. None: this process runs everything (a single process, or a test).

    `scheduler.wake_delivery()` runs the Telegram and email ticks now (new work was announced).
    """
    wid = worker_id or new_worker_id()
    interval = max(0.1, portal.settings.delivery.delivery_interval)
    scheduler = AsyncIOScheduler(
        timezone=LONDON,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        logger=_scheduler_log,
    )
    email = EmailDelivery(portal, mailer, f"{wid}:mail", stop=stop)
    workers: list[tuple[str, str, Callable[[], Awaitable[int]]]] = [
        ("deliver_email", "deliver the email outbox", email.run_once),
    ]
    reminders = ReminderJob(portal, may_plan=leader)
    workers.append(("send_reminders", "plan reminders daily (the scheduler) and send those due", reminders.run_once))
    telegram = None
    if bot is not None:
        telegram = TelegramDelivery(portal, bot, f"{wid}:tg", stop=stop, pacer=pacer, metrics=metrics)
        workers.insert(0, ("deliver_telegram", "deliver the outbox to Telegram", telegram.run_once))
    staff = None
    if bot is not None and portal.settings.telegram.staff_chat_id is not None:
        staff = StaffRelay(portal, bot)
        workers.append(("staff_relay", "post families' messages in the staff group (the scheduler)",
                        _only_if(leader, staff.run_once)))
    ticks: dict[str, DeliveryTick] = {}
    for job_id, name, run_once in workers:
        ticks[job_id] = DeliveryTick(job_id, run_once, stop)
        every = interval if job_id != "send_reminders" else max(0.05, portal.settings.reminders.reminder_interval)
        scheduler.add_job(
            ticks[job_id].run,
            IntervalTrigger(seconds=every),
            id=job_id,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(60, int(interval * 10)),
            next_run_time=datetime.now(LONDON),  # the first tick at start, not an interval later
        )

    def run_now(job_id: str) -> None:
        if scheduler.state != STATE_RUNNING or (stop is not None and stop.is_set()):
            return
        with contextlib.suppress(JobLookupError):
            scheduler.modify_job(job_id, next_run_time=datetime.now(scheduler.timezone))

    def again_if_busy(event: JobExecutionEvent) -> None:
        # Called once the tick's instance is released, so the job can run again straight away.
        tick = ticks.get(event.job_id)
        if tick is not None and (event.retval or tick.again):
            run_now(event.job_id)

    def wake_delivery() -> None:
        for job_id in ("deliver_telegram", "deliver_email"):
            if job_id in ticks and ticks[job_id].wake():
                run_now(job_id)

    scheduler.add_listener(again_if_busy, EVENT_JOB_EXECUTED)
    if isinstance(leader, Leadership):

        def gained(leading: bool) -> None:
            if leading:  # plan today's reminders and relay to the staff group now, not a tick later
                for job_id in ("send_reminders", "staff_relay"):
                    if job_id in ticks:
                        run_now(job_id)

        leader.on_change = gained
        scheduler.add_job(
            _renew(leader),
            IntervalTrigger(seconds=RENEW_EVERY),
            id="leadership",
            name="hold or seek the scheduler's lease",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=60,
        )
    if heartbeat is not None:
        scheduler.add_job(
            _beat(heartbeat),
            IntervalTrigger(seconds=BEAT_EVERY),
            id="heartbeat",
            name="tell other workers this one is alive",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=60,
        )
    scheduler.add_job(
        _only_if(leader, lambda: daily_cleanup(portal)),
        CronTrigger(hour=3, minute=30, timezone=LONDON),
        id="daily_cleanup",
        name="daily outbox housekeeping",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )
    scheduler.telegram_delivery = telegram  # type: ignore[attr-defined]  # for tests
    scheduler.email_delivery = email  # type: ignore[attr-defined]
    scheduler.reminder_job = reminders  # type: ignore[attr-defined]
    scheduler.staff_relay = staff  # type: ignore[attr-defined]
    scheduler.delivery_ticks = list(ticks.values())  # type: ignore[attr-defined]
    scheduler.wake_delivery = wake_delivery  # type: ignore[attr-defined]
    return scheduler


def _only_if(leader: Callable[[], bool] | None, job: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T | int]]:
    """`job`, run only while this process is the scheduler (always, with no `leader`). A
    coroutine function either way (APScheduler runs anything else in a thread)."""

    async def gated() -> T | int:
        return await job() if leader is None or leader() else 0

    return gated


def _renew(leadership: Leadership) -> Callable[[], Awaitable[None]]:
    async def renew() -> None:
        await leadership.step()  # logs its own errors

    return renew


def _beat(heartbeat: Heartbeat) -> Callable[[], Awaitable[None]]:
    async def beat() -> None:
        try:
            await heartbeat.beat()
        except Exception:  # noqa: BLE001 - the next beat tries again
            log.warning("could not write this worker's heartbeat", exc_info=True)

    return beat


async def stop_scheduler(scheduler: AsyncIOScheduler, grace: float) -> None:
    """Stop a scheduler built by `build_scheduler` whose `stop` is set: no new ticks, the ticks in
    flight finish their sends and give back unsent claims, then the scheduler shuts down. After
    `grace` seconds a tick still running is cancelled (the Telegram worker then gives back what
    it holds; anything else comes back when its lease runs out)."""
    if scheduler.state == STATE_STOPPED:
        return
    scheduler.pause()
    ticks: list[DeliveryTick] = getattr(scheduler, "delivery_ticks", [])
    try:
        await asyncio.wait_for(asyncio.gather(*(t.finished() for t in ticks)), grace)
    except TimeoutError:
        log.warning("a delivery tick was still running %ss after stop; cancelling it", grace)
    finally:
        scheduler.shutdown(wait=False)


__all__ = ["DeliveryTick", "build_scheduler", "daily_cleanup", "new_worker_id", "stop_scheduler"]
