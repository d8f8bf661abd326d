"""The delivery workers, run by `ehcp-bot run` and, on their own, by `ehcp-bot deliver`.

Ticks the Telegram and the email delivery workers from APScheduler until SIGTERM or SIGINT.
Several such processes can share one database: claims are leased rows (SKIP LOCKED on
PostgreSQL). It does not run migrations: `ehcp-bot migrate` (or `ehcp-bot run`) does.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from core.config import Settings
from core.db import persist
from core.portal import Portal
from notifications.liveness import Heartbeat, new_worker_id
from notifications.mail import Mailer
from notifications.pacing import TelegramPacer, attach
from notifications.scheduler import build_scheduler, stop_scheduler

log = logging.getLogger(__name__)


def make_pacer(settings: Settings) -> TelegramPacer:
    """The process's one flood-limit state (see notifications/pacing.py)."""
    return TelegramPacer(settings.delivery.delivery_rate, settings.delivery.delivery_rate_per_chat)


def make_bot(settings: Settings, pacer: TelegramPacer | None = None) -> Bot:
    """A Bot for sending, pointed at `telegram_api_base` (the real API, or the local stand-in),
    its requests kept to Telegram's flood limits by `pacer`."""
    if settings.telegram.bot_token is None:
        raise SystemExit("EHCP_BOT_TOKEN is not set")
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram.telegram_api_base))
    return attach(Bot(settings.telegram.bot_token.get_secret_value(), session=session), pacer or make_pacer(settings))


async def run_delivery(
    portal: Portal,
    bot: Bot | None,
    stop: asyncio.Event,
    *,
    mailer: Mailer | None = None,
    worker_id: str | None = None,
    pacer: TelegramPacer | None = None,
) -> None:
    """Tick the Telegram and email delivery workers from APScheduler until `stop` is set, then
    let the ticks in flight finish their sends and give back unsent claims, and shut down.
    With `bot=None` (no bot token) only emails are delivered. `pacer` is the process's
    flood-limit state, shared with the bot's answers when both run in one process.

    The worker beats a heartbeat while it runs, so that after a crash another worker (or this
    one, restarted) takes back what it held at once instead of when its leases run out."""
    wid = worker_id or new_worker_id()
    halt = asyncio.Event()  # set on `stop`, or when this task is cancelled
    heartbeat = Heartbeat(portal, wid)
    scheduler = build_scheduler(
        portal, bot, mailer or Mailer(portal.settings, portal.clock), worker_id=wid, stop=halt,
        pacer=pacer, heartbeat=heartbeat,
    )
    await persist("starting the worker's heartbeat", heartbeat.start)
    scheduler.start()
    log.info("delivery started as %s%s", wid, "" if bot is not None else " (email only: no bot)")
    try:
        await stop.wait()
    finally:
        halt.set()
        await stop_scheduler(scheduler, grace=portal.settings.delivery.delivery_lease_seconds)
        await heartbeat.stop()
        log.info("delivery stopped")
