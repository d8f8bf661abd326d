"""``BotAPIStandIn``: the one object a test (or the sandbox) creates.

It binds an aiohttp server on loopback that speaks the Bot API to an unmodified aiogram
``Bot``, and exposes the simulated world: users, groups, what the bot sent, queued updates.
"""

# The test-facing API takes `timeout=` seconds by design (as the brief specifies).
# ruff: noqa: ASYNC109

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .actors import SimGroup, SimUser
from .models import CallbackAnswer, FileInfo, Limits, SentRecord, Stats, WebhookConfig
from .server import ApiServer
from .webhook import WebhookDelivery
from .world import CommandScope, World

if TYPE_CHECKING:
    from aiogram import Bot

__all__ = ["BotAPIStandIn"]


class BotAPIStandIn:
    """A Telegram Bot API stand-in on ``127.0.0.1``.

    Example::

        stand = BotAPIStandIn(token="123456:TEST-token", bot_username="ehcp_test_bot")
        await stand.start()
        bot = stand.make_bot()                   # aiogram Bot pointed at the stand-in
        alice = stand.user(first_name="Alice")
        await alice.send("/start")
        reply = await alice.next_message(timeout=5)
        ...
        await bot.session.close()
        await stand.stop()

    ``clock`` (Unix seconds; default ``time.time``) dates messages and drives the 48-hour
    deletion limit; ``monotonic`` (default ``time.monotonic``) drives flood limits and the
    times in ``sent_log``. ``strict_webhooks=True`` insists on HTTPS webhook URLs.
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        bot_username: str = "test_bot",
        bot_name: str = "Test Bot",
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
        strict_webhooks: bool = False,
        webhook_retry_delays: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0),
    ) -> None:
        self.world = World(
            token=token,
            bot_username=bot_username,
            bot_name=bot_name,
            clock=clock,
            monotonic=monotonic,
        )
        self.server = ApiServer(self.world, strict_webhooks=strict_webhooks)
        self._webhook = WebhookDelivery(
            self.world, self.server.call, retry_delays=webhook_retry_delays
        )
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        """``http://127.0.0.1:<port>`` once started."""

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> BotAPIStandIn:
        """Bind the server (a free port unless one was given) and start webhook delivery."""
        if self._runner is not None:
            raise RuntimeError("already started")
        self.world.closing = False
        # handler_cancellation: a long poll whose client went away stops waiting at once.
        self._runner = web.AppRunner(
            self.server.make_app(), handler_cancellation=True, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://{self._host}:{port}"
        await self._webhook.start()
        return self

    async def stop(self) -> None:
        """Answer pending long polls, stop webhook delivery and close the server."""
        self.world.closing = True
        self.world.changed.notify()
        await self._webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotAPIStandIn:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def make_bot(self, **kwargs: Any) -> Bot:
        """An aiogram ``Bot`` with this stand-in's token, talking to it over HTTP."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        if not self.base_url:
            raise RuntimeError("start() the stand-in first")
        session = AiohttpSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(self.world.token, session=session, **kwargs)

    # ------------------------------------------------------------ the world

    @property
    def token(self) -> str:
        return self.world.token

    @property
    def bot_id(self) -> int:
        return self.world.bot_id

    def user(
        self,
        first_name: str = "Alice",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        *,
        started: bool = True,
    ) -> SimUser:
        """A new simulated user (unique id; their private chat has the same id).

        ``started=False`` is a user who never opened the bot: the bot's sends get
        ``403 Forbidden: bot can't initiate conversation with a user`` until they write.
        """
        user = SimUser(
            self.world,
            self.world.new_user_id(),
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            started=started,
        )
        self.world.users[user.id] = user
        self.world.chats[user.id] = user
        return user

    def group(
        self, title: str = "Group", *, forum: bool = False, username: str | None = None
    ) -> SimGroup:
        """A new supergroup (negative id) with the bot as administrator; topics if ``forum``."""
        group = SimGroup(
            self.world, self.world.new_group_id(), title=title, forum=forum, username=username
        )
        self.world.chats[group.id] = group
        return group

    def inject_update(self, update: dict[str, Any]) -> int:
        """Queue a raw update (e.g. a duplicate); returns its update_id. A given update_id is
        kept as is, and such an update is delivered once even if an offset already passed it."""
        return self.world.inject_update(update)

    async def drain(self, timeout: float = 5.0) -> None:
        """Return once every queued update was fetched and confirmed (getUpdates: by a later
        offset) or acknowledged with a 2xx (webhook). Handlers may still be running."""
        w = self.world
        if not await w.changed.wait_for(lambda: not w.updates, timeout):
            pending = [f"{u.update_id}:{u.kind}" for u in w.updates]
            raise AssertionError(f"updates still pending after {timeout}s: {pending}")

    def set_limits(
        self,
        global_per_second: float | None = 30,
        per_chat_per_second: float | None = 1,
        slack: float = 0.05,
        group_per_minute: int | None = None,
    ) -> None:
        """Turn on Telegram's flood limits (off by default).

        A send (sendMessage, sendDocument, sendPhoto, editMessageText, editMessageCaption) over
        ``global_per_second`` in any sliding second, or to one chat less than
        ``1/per_chat_per_second - slack`` seconds after the previous accepted one, or beyond
        ``group_per_minute`` in a group, gets ``429 Too Many Requests: retry after N``.
        """
        self.world.limits = Limits(global_per_second, per_chat_per_second, slack, group_per_minute)

    def clear_limits(self) -> None:
        self.world.limits = None

    # ------------------------------------------------------------ what happened

    @property
    def sent_log(self) -> list[SentRecord]:
        """Every accepted send/edit by the bot, across chats, in order."""
        return self.world.sent_log

    @property
    def stats(self) -> Stats:
        return self.world.stats

    @property
    def commands(self) -> dict[CommandScope, list[tuple[str, str]]]:
        """What setMyCommands stored, by (scope type, chat id, user id, language code)."""
        return self.world.commands

    def commands_for(
        self,
        scope: str = "default",
        *,
        chat_id: int | None = None,
        user_id: int | None = None,
        language_code: str = "",
    ) -> list[tuple[str, str]]:
        """The ``(command, description)`` list stored for exactly that scope and language."""
        return self.world.commands.get(CommandScope(scope, chat_id, user_id, language_code), [])

    @property
    def webhook(self) -> WebhookConfig | None:
        """The current webhook (url, secret_token, last error...), ``None`` when polling."""
        return self.world.webhook

    @property
    def callbacks(self) -> list[CallbackAnswer]:
        """Every callback query users made, with the bot's answers."""
        return list(self.world.callbacks.values())

    @property
    def files(self) -> dict[str, FileInfo]:
        """Every file known by file_id (uploaded by users or sent by the bot)."""
        return self.world.files

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return [u.payload for u in self.world.updates]
