"""Factories for the Bot and the Dispatcher. No module-level globals: tests build their own."""

from __future__ import annotations

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram_dialog import setup_dialogs

from bot.dialogs import dialog_routers
from bot.dialogs.common import RecentPresses
from bot.handlers import command_routers, guard_routers, last_routers
from bot.handlers.fallback import register_error_handlers
from bot.isolation import ChatIsolation
from bot.menu import COMMANDS
from bot.storage import DatabaseStorage
from core.config import Settings
from core.dialog_state import DialogStateStore
from core.portal import Portal
from core.services import Services
from notifications.session import telegram_session


class MissingBotToken(RuntimeError):
    pass


def create_bot(settings: Settings) -> Bot:
    if settings.telegram.bot_token is None or not settings.telegram.bot_token.get_secret_value():
        raise MissingBotToken(
            "No bot token. Create a bot with @BotFather in Telegram, then set EHCP_BOT_TOKEN "
            "(in the environment or in a .env file). See README, 'Connect a real bot'."
        )
    session = telegram_session(settings.telegram.telegram_api_base)
    return Bot(
        settings.telegram.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def create_dispatcher(
    portal: Portal,
    *,
    storage: BaseStorage | None = None,
    events_isolation: BaseEventIsolation | None = None,
    extra_routers: list[Router] | None = None,
    services: Services | None = None,
) -> Dispatcher:
    """The Dispatcher with every router, dialogue state in the database, core services as data.

    One chat's updates are handled one at a time (bot/isolation.py): across replicas when
    EHCP_REDIS_URL is set. The same isolation is given to the Dispatcher and to aiogram-dialog."""
    isolation = events_isolation or ChatIsolation.from_settings(portal.settings.storage.redis_url)
    dp = Dispatcher(
        storage=storage or DatabaseStorage(DialogStateStore(portal)),
        events_isolation=isolation,
    )
    dp["portal"] = portal
    dp["settings"] = portal.settings
    services = services or Services.build(portal)
    dp["services"] = services
    dp["chats"] = services.chats
    dp["presses"] = RecentPresses()  # double taps (bot.dialogs.common)
    if isinstance(isolation, ChatIsolation):
        dp["chat_isolation"] = isolation  # held by bot/updates.py for the whole of each update

    dp.include_routers(
        *command_routers(),
        *(extra_routers or []),
        *guard_routers(),
        *dialog_routers(),
        *last_routers(),
    )
    register_error_handlers(dp)
    setup_dialogs(dp, events_isolation=isolation)

    @dp.startup()
    async def _set_commands(bot: Bot) -> None:
        await bot.set_my_commands(COMMANDS)

    @dp.shutdown()
    async def _close_isolation() -> None:
        await isolation.close()

    return dp
