"""One process that runs everything on embedded defaults: the bot by long polling, the caseworker
API, the parents' pages and the scheduled delivery jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiogram import Bot

from api import start_api
from api.cases import api as cases_api
from api.documents import api as documents_api
from api.forms import api as forms_api
from api.messages import api as messages_api
from api.onboarding import api as onboarding_api
from bot.factory import MissingBotToken, create_bot, create_dispatcher
from bot.isolation import redis_client
from bot.updates import run_polling
from bot.webhook import run_webhook
from core.config import Settings
from core.forms.loading import load_forms
from core.inbox import UpdateInbox
from core.knowledge import load_kb
from core.migrations import upgrade_async
from core.portal import Portal
from core.rights import facts_for, load_topics
from core.services import Services
from ehcp.bootstrap import build_portal
from notifications.pacing import TelegramPacer, attach
from notifications.worker import make_pacer, run_delivery
from ops import Metrics, TelegramCheck, start_ops_server
from web import start_web
from web.account_pages import account_pages

log = logging.getLogger("ehcp")


def install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on this platform
            pass


NO_TOKEN = """
  EHCP_BOT_TOKEN is not set, so the Telegram bot is not running.
  The caseworker API and the parents' pages are running.

  To run the bot: create a bot with @BotFather in Telegram, then either
      export EHCP_BOT_TOKEN=123456:ABC...      (or put it in a .env file)
  and run this command again. See README.md, "Connect a real bot".
"""


async def run_bot(portal: Portal, bot: Bot, stop: asyncio.Event, services: Services | None = None,
                  metrics: Metrics | None = None) -> None:
    """The bot's part: who it is, then long polling. Whatever Telegram does (unreachable, a
    token it refuses), this waits and tries again; it never ends the process, so the API, the
    pages and delivery go on."""
    backoff = 1.0
    while not stop.is_set():
        try:
            me = await bot.get_me()
            break
        except Exception as exc:  # noqa: BLE001 - logged; tried again
            log.error("Telegram did not answer getMe (%s: %s); trying again in %.0f s",
                      type(exc).__name__, exc, backoff)
            try:
                await asyncio.wait_for(stop.wait(), backoff)
            except TimeoutError:
                pass
            backoff = min(backoff * 2, 60.0)
    else:
        return
    log.info("Telegram bot running as @%s", me.username)
    dp = create_dispatcher(portal, services=services)
    inbox = UpdateInbox(portal, bot_id=me.id)
    tg = portal.settings.telegram
    if tg.webhook_url:
        assert tg.webhook_secret is not None  # checked at start (webhook_problem)
        await run_webhook(bot, dp, inbox, stop, url=tg.webhook_url, secret=tg.webhook_secret.get_secret_value(),
                          host=tg.webhook_host, port=tg.webhook_port, metrics=metrics)
        return
    await run_polling(bot, dp, inbox, stop, poll_timeout=tg.polling_timeout, metrics=metrics)


def webhook_problem(settings: Settings) -> str | None:
    """What is wrong with the webhook settings, said plainly (None: fine, or polling)."""
    tg = settings.telegram
    if not tg.webhook_url:
        return None
    if not tg.webhook_url.startswith("https://") and not tg.telegram_api_base.startswith("http://127.0.0.1"):
        return "EHCP_WEBHOOK_URL must be an https:// address (Telegram calls no other)."
    secret = tg.webhook_secret.get_secret_value() if tg.webhook_secret else ""
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
        return "EHCP_WEBHOOK_SECRET must be 16 to 256 of A-Z a-z 0-9 _ - when EHCP_WEBHOOK_URL is set."
    return None


class ProcessOps:
    """This process's metrics and readiness checks (ops/): Telegram seen through the bot's own
    calls, Redis pinged when it is used."""

    def __init__(self, settings: Settings, bot: Bot | None) -> None:
        self.metrics = Metrics()
        self.telegram: TelegramCheck | None = None
        if bot is not None:
            self.telegram = TelegramCheck(bot.get_me)
            bot.session.middleware(self.telegram.middleware)
        self.redis = None
        if settings.storage.redis_url:
            self.redis = redis_client(settings.storage.redis_url)

    @property
    def checks(self) -> dict[str, object]:
        """Keyword arguments for start_api / start_ops_server."""
        return {"metrics": self.metrics, "telegram": self.telegram,
                "redis_ping": self.redis.ping if self.redis is not None else None}

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


@dataclass
class Parts:
    """What a process holds while it runs."""

    portal: Portal
    pacer: TelegramPacer
    ops: ProcessOps
    services: Services


@contextlib.asynccontextmanager
async def process_parts(settings: Settings, bot: Bot | None, *, portal: Portal | None = None,
                        faces: bool = True) -> AsyncIterator[Parts]:
    """The parts a process runs on: one flood-limit state (the bot's answers and the outbox share
    it), the portal, its metrics and checks, the core services and, with `faces`, the caseworker
    API and the parents' pages. Each is let go of, in reverse order, whatever happens at start
    (a port in use, say) or at stop."""
    async with contextlib.AsyncExitStack() as held:
        pacer = make_pacer(settings)
        held.push_async_callback(pacer.close)
        if bot is not None:
            attach(bot, pacer)
            held.push_async_callback(bot.session.close)
        portal = portal or build_portal(settings)
        held.push_async_callback(portal.close)
        ops = ProcessOps(settings, bot)
        held.push_async_callback(ops.close)
        services = Services.build(portal)  # one container for the bot, the API and the pages
        if faces:
            api = await start_api(
                portal, [onboarding_api, cases_api, messages_api, documents_api, forms_api], services=services,
                **ops.checks,
            )
            held.push_async_callback(api.cleanup)
            web = await start_web(portal, [account_pages()], services=services)
            held.push_async_callback(web.cleanup)
            log.info("Caseworker API on http://%s:%s; parents' pages on %s", settings.http.api_host,
                     settings.http.api_port, settings.http.public_url)
        yield Parts(portal, pacer, ops, services)


def check_data(settings: Settings) -> None:
    """The form definitions, the rights pages and the knowledge base, checked before anything
    runs (FormDefinitionError, RightsError or KBError, naming the file and the problem)."""
    load_forms(settings.product.forms_dir)
    load_topics(settings.product.rights_dir)
    load_kb(settings.product.kb_dir, facts=facts_for(None, settings), rights_dir=settings.product.rights_dir)


async def run_everything(settings: Settings, stop: asyncio.Event, portal: Portal | None = None) -> None:
    """Check the data pages, migrate, then run every part until `stop` is set. Without a bot
    token, run what can run."""
    check_data(settings)
    problem = webhook_problem(settings)
    if problem:
        raise MissingBotToken(problem)
    try:
        bot: Bot | None = create_bot(settings)
    except MissingBotToken:
        bot = None
        print(NO_TOKEN, file=sys.stderr, flush=True)
    await upgrade_async(settings.storage.resolved_database_url())
    async with process_parts(settings, bot, portal=portal) as parts:
        if bot is None:
            await run_delivery(parts.portal, None, stop)  # emails (invitations, codes) still go out
            return
        await asyncio.gather(
            run_bot(parts.portal, bot, stop, parts.services, metrics=parts.ops.metrics),
            run_delivery(parts.portal, bot, stop, pacer=parts.pacer, metrics=parts.ops.metrics),
        )


class NotReady(RuntimeError):
    """A process role cannot start as configured (said plainly, exit status 2)."""


async def _schema_current(settings: Settings) -> None:
    """`web` and `worker` never migrate (several start at once): the release step does."""
    from core.migrations import pending_async

    if await pending_async(settings.storage.resolved_database_url()):
        raise NotReady("The database schema is not up to date. Run `ehcp-bot migrate` first (once, before "
                       "starting the web and worker processes).")


async def run_web(settings: Settings, stop: asyncio.Event) -> None:
    """`ehcp-bot web`: the webhook receiver, the caseworker API and the parents' pages, and no
    delivery. Any number run behind a load balancer; with EHCP_REDIS_URL one chat's updates are
    handled one at a time across them."""
    check_data(settings)
    problem = webhook_problem(settings)
    if problem:
        raise NotReady(problem)
    if settings.telegram.bot_token is not None and not settings.telegram.webhook_url:
        raise NotReady("ehcp-bot web receives Telegram's updates by webhook: set EHCP_WEBHOOK_URL and "
                       "EHCP_WEBHOOK_SECRET (replicas cannot share long polling). For one process: ehcp-bot run.")
    await _schema_current(settings)
    if not settings.storage.redis_url:
        log.warning("web: no EHCP_REDIS_URL: run exactly one web replica (several need Redis to take "
                    "a chat's updates one at a time and share Telegram's flood limit)")
    bot = create_bot(settings) if settings.telegram.bot_token is not None else None
    async with process_parts(settings, bot) as parts:
        if bot is None:
            log.info("web: no bot token: the caseworker API and the pages only")
            await stop.wait()
        else:
            await run_bot(parts.portal, bot, stop, parts.services, metrics=parts.ops.metrics)


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """`ehcp-bot worker` (and `deliver`): the outbox to Telegram and email, reminders and the
    staff relay; no HTTP but its metrics. Any number share the work (leased rows, SKIP LOCKED on
    PostgreSQL); the once-a-day jobs run in one of them at a time."""
    await _schema_current(settings)
    bot = create_bot(settings) if settings.telegram.bot_token is not None else None
    async with process_parts(settings, bot, faces=False) as parts, contextlib.AsyncExitStack() as held:
        if settings.http.metrics_port:
            runner = await start_ops_server(settings.http.api_host, settings.http.metrics_port, parts.portal,
                                            **parts.ops.checks)
            held.push_async_callback(runner.cleanup)
            log.info("worker: /healthz, /readyz and /metrics on http://%s:%s", settings.http.api_host,
                     settings.http.metrics_port)
        log.info("worker: delivering%s", "" if bot is not None else " email only (no bot token)")
        await run_delivery(parts.portal, bot, stop, pacer=parts.pacer, metrics=parts.ops.metrics)


# The name `ehcp-bot deliver` has always had.
run_workers = run_worker
