"""Runs the real bot (factories, polling, handlers) against the Bot API stand-in over HTTP."""

from __future__ import annotations

import asyncio

from aiogram import Bot

from bot.factory import create_bot, create_dispatcher
from bot.updates import run_polling
from core.config import TelegramSettings
from core.inbox import UpdateInbox
from core.portal import Portal
from notifications.pacing import attach
from notifications.worker import make_pacer
from standin import BotAPIStandIn


def point_at(portal: Portal, stand: BotAPIStandIn) -> None:
    """Make the portal's settings send the bot to the stand-in (as EHCP_TELEGRAM_API_BASE does)."""
    portal.settings.telegram = TelegramSettings(
        _env_file=None, bot_token=stand.token, telegram_api_base=stand.base_url, polling_timeout=1
    )


class RunningBot:
    """The bot process: start it, stop it, start it again (a restart keeps only the database)."""

    def __init__(self, portal: Portal, stand: BotAPIStandIn) -> None:
        self.portal = portal
        self.stand = stand
        self.bot: Bot | None = None
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> RunningBot:
        point_at(self.portal, self.stand)
        # As the service runs it (ehcp/app.py): the bot's answers kept to the flood limits by the
        # process's pacer, which the delivery workers share.
        self.pacer = make_pacer(self.portal.settings)
        self.bot = attach(create_bot(self.portal.settings), self.pacer)
        dp = create_dispatcher(self.portal)  # new routers, new storage object: nothing in memory survives
        inbox = UpdateInbox(self.portal, bot_id=self.stand.bot_id)
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(run_polling(self.bot, dp, inbox, self._stop, poll_timeout=1))
        return self

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stop.set()
        await asyncio.wait_for(self._task, 10)
        await self.bot.session.close()
        await self.pacer.close()
        self._task = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()
