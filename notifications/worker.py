"""The delivery workers, run by `ehcp-bot run` and, on their own, by `ehcp-bot deliver`.

Ticks the Telegram and the email delivery workers from APScheduler until SIGTERM or SIGINT.
Several such processes can share one database: claims are leased rows (SKIP LOCKED on
PostgreSQL), and one of them, elected by a lease row, is the scheduler of the jobs that must run
once (see notifications/liveness.py `Leadership`). On PostgreSQL each LISTENs for new outbox rows
and ticks at once (`OutboxWake`). It does not run migrations: `ehcp-bot migrate` (or `ehcp-bot
run`) does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from aiogram import Bot

from core.config import Settings
from core.db import persist
from core.outbox import OUTBOX_CHANNEL
from core.portal import Portal
from notifications.liveness import Heartbeat, Leadership, new_worker_id
from notifications.mail import Mailer
from notifications.pacing import SharedRateLimiter, TelegramPacer, attach
from notifications.scheduler import build_scheduler, stop_scheduler
from notifications.session import telegram_session
from ops.metrics import Counting

log = logging.getLogger(__name__)

KEEPALIVE = 30.0  # seconds between checks that the LISTEN connection still answers
RECONNECT_MAX = 30.0  # the longest wait between attempts to listen again
_SQLALCHEMY_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func", "async_fallback",
                    "async_creator_fn")


def make_pacer(settings: Settings) -> TelegramPacer:
    """The process's one flood-limit state (see notifications/pacing.py). With EHCP_REDIS_URL the
    global rate is shared by every process sending with the bot's token (close it with
    `await pacer.close()`)."""
    cfg = settings.delivery
    limiter = None
    if settings.storage.redis_url:
        from redis.asyncio import Redis

        token = settings.telegram.bot_token.get_secret_value() if settings.telegram.bot_token else ""
        bot_id = token.split(":", 1)[0] or "none"
        limiter = SharedRateLimiter(cfg.delivery_rate, Redis.from_url(settings.storage.redis_url, socket_timeout=2,
                                                                   socket_connect_timeout=2, health_check_interval=30),
                                    key=f"ehcp:telegram:{bot_id}:rate")
    return TelegramPacer(cfg.delivery_rate, cfg.delivery_rate_per_chat, limiter=limiter)


def make_bot(settings: Settings, pacer: TelegramPacer | None = None) -> Bot:
    """A Bot for sending, pointed at `telegram_api_base` (the real API, or the local stand-in),
    its requests kept to Telegram's flood limits by `pacer`."""
    if settings.telegram.bot_token is None:
        raise SystemExit("EHCP_BOT_TOKEN is not set")
    session = telegram_session(settings.telegram.telegram_api_base)
    return attach(Bot(settings.telegram.bot_token.get_secret_value(), session=session), pacer or make_pacer(settings))


class OutboxWake:
    """On PostgreSQL: LISTEN on `ehcp_outbox` (see core/outbox.py) on a connection of its own,
    and call `wake` on each notification, so a new notice is sent at once, not at the next
    `delivery_interval`. The connection is checked every KEEPALIVE seconds and made again,
    with a growing pause, if it drops (then `wake` is called once: a notice may have come
    meanwhile). The interval ticks go on regardless, so a lost connection only slows things."""

    def __init__(self, portal: Portal, wake: Callable[[], None], stop: asyncio.Event) -> None:
        self.portal = portal
        self.wake = wake
        self.stop = stop
        self.listening = asyncio.Event()  # set while a connection is listening
        self.connections = 0  # how many times it has started listening
        self.notified = 0

    def _connect_args(self) -> dict[str, Any]:
        engine = self.portal.engine
        _, kwargs = engine.dialect.create_connect_args(engine.url)
        return {k: v for k, v in kwargs.items() if k not in _SQLALCHEMY_ONLY}

    def _on_notify(self, *_: object) -> None:
        self.notified += 1
        self.wake()

    async def run(self) -> None:
        import asyncpg

        pause = 0.1
        while not self.stop.is_set():
            con = None
            try:
                con = await asyncio.wait_for(asyncpg.connect(**self._connect_args()), 15)
                lost = asyncio.Event()
                con.add_termination_listener(lambda _c, lost=lost: lost.set())
                await con.add_listener(OUTBOX_CHANNEL, self._on_notify)
                self.connections += 1
                self.listening.set()
                if self.connections > 1:
                    log.info("listening for new notices again")
                    self.wake()  # any notice added while the connection was down
                pause = 0.1
                while not self.stop.is_set() and not lost.is_set():
                    await _first(self.stop, lost, seconds=KEEPALIVE)
                    if not self.stop.is_set() and not lost.is_set():
                        await asyncio.wait_for(con.fetchval("SELECT 1"), 10)
                if lost.is_set() and not self.stop.is_set():
                    log.warning("the connection listening for new notices closed; listening again")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the interval ticks go on; try again
                log.warning("cannot listen for new notices (%s); trying again in %.1f s", type(exc).__name__, pause)
                await _first(self.stop, seconds=pause)
                pause = min(pause * 2, RECONNECT_MAX)
            finally:
                self.listening.clear()
                if con is not None and not con.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(con.close(), 5)


async def _first(*events: asyncio.Event, seconds: float) -> None:
    """Return when any of `events` is set, or after `seconds`."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


async def run_delivery(
    portal: Portal,
    bot: Bot | None,
    stop: asyncio.Event,
    *,
    mailer: Mailer | None = None,
    worker_id: str | None = None,
    pacer: TelegramPacer | None = None,
    scheduler_role: bool = True,
    metrics: Counting | None = None,
) -> None:
    """Tick the Telegram and email delivery workers from APScheduler until `stop` is set, then
    let the ticks in flight finish their sends and give back unsent claims, and shut down.
    With `bot=None` (no bot token) only emails are delivered. `pacer` is the process's
    flood-limit state, shared with the bot's answers when both run in one process; `metrics`
    counts the Telegram delivery's results (ops.Metrics).

    The worker beats a heartbeat while it runs, so that after a crash another worker (or this
    one, restarted) takes back what it held at once instead of when its leases run out.

    With `scheduler_role` (the default) the process stands for scheduler: of all the processes
    sharing the database, the one holding the scheduler's lease also plans reminders, runs the
    daily housekeeping and relays to the staff group; the lease is given up on a clean stop.
    With `scheduler_role=False` it only delivers. On PostgreSQL it also listens for new
    notices (`OutboxWake`)."""
    wid = worker_id or new_worker_id()
    halt = asyncio.Event()  # set on `stop`, or when this task is cancelled
    heartbeat = Heartbeat(portal, wid)
    leadership = Leadership(portal, wid) if scheduler_role else None
    scheduler = build_scheduler(
        portal, bot, mailer or Mailer(portal.settings, portal.clock), worker_id=wid, stop=halt,
        pacer=pacer, heartbeat=heartbeat, leader=leadership if leadership is not None else _never, metrics=metrics,
    )
    await persist("starting the worker's heartbeat", heartbeat.start)
    if leadership is not None:
        await leadership.step()  # before the first tick, so a lone process plans at once
    scheduler.start()
    wake = None
    if portal.engine.dialect.name == "postgresql":
        wake = OutboxWake(portal, scheduler.wake_delivery, halt)
        listener = asyncio.create_task(wake.run(), name="outbox-wake")
    log.info("delivery started as %s%s", wid, "" if bot is not None else " (email only: no bot)")
    try:
        await stop.wait()
    finally:
        halt.set()
        if wake is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener
        await stop_scheduler(scheduler, grace=portal.settings.delivery.delivery_lease_seconds)
        if leadership is not None:
            await leadership.resign()
        await heartbeat.stop()
        log.info("delivery stopped")


def _never() -> bool:
    return False
