"""Webhook mode: Telegram POSTs each update to EHCP_WEBHOOK_URL; this receives it.

Unlike aiogram's SimpleRequestHandler (which answers Telegram before the update is handled, or
holds the answer for the whole handling):

- the secret token (`X-Telegram-Bot-Api-Secret-Token`, set with setWebhook) is checked on every
  request, in constant time; a request without it is refused (401) and changes nothing;
- the update is written to the inbox *before* Telegram gets its 200: a crash after the answer
  loses nothing (the next start handles what is pending), a crash before it makes Telegram send
  it again, and the inbox drops a repeated `update_id`, so it is handled once;
- nothing is answered through the webhook response (its body is empty): every reply goes
  through the Bot API, paced like the rest;
- then the update is handled as polled ones are (bot/updates.py: one chat's updates in order).

The receiver listens on EHCP_WEBHOOK_HOST:EHCP_WEBHOOK_PORT (behind the council's TLS proxy or
load balancer; Telegram only calls https:// addresses on ports 443, 80, 88 or 8443).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot.updates import UpdateProcessor, chat_of, update_id_of
from core.inbox import Stored, UpdateInbox
from ops.metrics import Counting

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE = 1024 * 1024  # Telegram's updates are far smaller; anything bigger is not one


class WebhookReceiver:
    def __init__(self, processor: UpdateProcessor, secret: str) -> None:
        self.processor = processor
        self._secret = secret.encode()
        self.refused = 0  # requests without the right secret (for the operator's metrics)

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            self.refused += 1
            self.processor.metrics.refused()
            log.warning("webhook request without the right secret token refused (from %s)", request.remote)
            return web.Response(status=401)
        try:
            raw = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            log.warning("webhook request that is not JSON refused")
            return web.Response(status=400)
        uid = update_id_of(raw)
        if uid is None:
            log.warning("webhook request without a usable update_id refused")
            return web.Response(status=400)
        chat_id = chat_of(raw)
        # Stored before Telegram is answered (raises, and Telegram sends it again, if the
        # database stays down through the inbox's retries).
        new = await self.processor.inbox.store([(uid, chat_id, raw)])
        if uid in new:
            self.processor.metrics.received("webhook")
            self.processor.submit(Stored(uid, chat_id, raw, 0))
        return web.Response(status=200)


async def run_webhook(
    bot: Bot,
    dp: Dispatcher,
    inbox: UpdateInbox,
    stop: asyncio.Event,
    *,
    url: str,
    secret: str,
    host: str,
    port: int,
    max_connections: int = 40,
    metrics: Counting | None = None,
) -> None:
    """Serve the webhook until `stop` is set: register it with Telegram, handle what an earlier
    run left pending, then receive. The webhook stays registered at the stop (other replicas,
    or the next start, go on receiving)."""
    processor = UpdateProcessor(bot, dp, inbox, metrics=metrics)
    receiver = WebhookReceiver(processor, secret)
    app = web.Application(client_max_size=MAX_UPDATE)
    app.router.add_post("/telegram/webhook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    workflow = {"dispatcher": dp, "bots": [bot], **dp.workflow_data}
    allowed = [t for t in dp.resolve_used_update_types() if not t.startswith("aiogd")]
    try:
        await bot.set_webhook(url=url, secret_token=secret, allowed_updates=allowed,
                              max_connections=max_connections, drop_pending_updates=False)
        log.info("receiving updates by webhook at %s (listening on %s:%s)", url, host, port)
        await dp.emit_startup(bot=bot, **workflow)
        await processor.backlog()
        await stop.wait()
    finally:
        await runner.cleanup()  # no new updates; those in hand are finished
        await processor.drain()
        try:
            await dp.emit_shutdown(bot=bot, **workflow)
        except Exception:  # noqa: BLE001 - shutting down anyway
            log.warning("the bot's shutdown hooks failed", exc_info=True)


__all__ = ["SECRET_HEADER", "WebhookReceiver", "run_webhook"]
