"""Webhook delivery: POST each queued update to the bot's URL as Telegram does.

* Body: the update as JSON; header ``X-Telegram-Bot-Api-Secret-Token`` when a secret was set.
* A 2xx answer acknowledges the update. Anything else (or a connection error) is recorded in
  ``getWebhookInfo`` (``last_error_date``/``last_error_message``) and the update is retried
  after a growing delay, until it is acknowledged or the webhook is removed.
* At most ``max_connections`` deliveries run at once.
* A 2xx answer may carry a Bot API call (``{"method": ...}`` as JSON or multipart form, what
  aiogram's ``SimpleRequestHandler(handle_in_background=False)`` sends); it is executed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp

from .checks import ApiError
from .models import WebhookConfig
from .server import Params, Upload
from .world import PendingUpdate, World

__all__ = ["WebhookDelivery"]

log = logging.getLogger(__name__)

Executor = Callable[[str, Params], Awaitable[Any]]


class WebhookDelivery:
    """Background sender of updates to the current webhook."""

    def __init__(
        self,
        world: World,
        execute: Executor,
        *,
        retry_delays: Sequence[float] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0),
        request_timeout: float = 10.0,
    ) -> None:
        self.world = world
        self.execute = execute
        self.retry_delays = tuple(retry_delays)
        self.request_timeout = request_timeout
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run(), name="standin-webhook")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._deliveries) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def _in_flight(self) -> int:
        return sum(1 for u in self.world.updates if u.in_flight)

    def _ready(self) -> bool:
        w = self.world
        if w.closing:
            return True
        hook = w.webhook
        return (
            hook is not None
            and self._in_flight() < hook.max_connections
            and any(not u.in_flight for u in w.updates)
        )

    async def _run(self) -> None:
        w = self.world
        while True:
            await w.changed.wait_for(self._ready, None)
            if w.closing:
                return
            hook = w.webhook
            assert hook is not None
            w.drop_unwanted()
            for update in list(w.updates):
                if self._in_flight() >= hook.max_connections:
                    break
                if update.in_flight:
                    continue
                update.in_flight = True
                task = asyncio.create_task(self._deliver(hook, update))
                self._deliveries.add(task)
                task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, hook: WebhookConfig, update: PendingUpdate) -> None:
        w = self.world
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        body = json.dumps(update.payload)
        attempt = 0
        try:
            while w.webhook is hook and update in w.updates and not w.closing:
                assert self._session is not None
                try:
                    async with self._session.post(
                        hook.url,
                        data=body,
                        headers=headers,
                        timeout=aiohttp.ClientTimeout(total=self.request_timeout),
                    ) as resp:
                        if 200 <= resp.status < 300:
                            hook.deliveries += 1
                            update.delivered = True
                            if update in w.updates:
                                w.updates.remove(update)
                            w.changed.notify()
                            await self._run_reply(resp)
                            return
                        error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
                except (aiohttp.ClientError, TimeoutError) as e:
                    error = f"Connection error: {type(e).__name__}: {e}"
                hook.failures += 1
                hook.last_error_date = w.now()
                hook.last_error_message = error
                w.changed.notify()
                delay = self.retry_delays[min(attempt, len(self.retry_delays) - 1)]
                attempt += 1
                # Telegram's back-off before the next attempt; wakes early if the webhook goes.
                await w.changed.wait_for(lambda: w.webhook is not hook or w.closing, delay)
        finally:
            update.in_flight = False
            w.changed.notify()

    async def _run_reply(self, resp: aiohttp.ClientResponse) -> None:
        values: dict[str, Any] = {}
        files: dict[str, Upload] = {}
        try:
            if resp.content_type == "multipart/form-data":
                reader = aiohttp.MultipartReader.from_response(resp)
                async for part in reader:
                    if not isinstance(part, aiohttp.BodyPartReader) or not part.name:
                        continue
                    data = bytes(await part.read(decode=False))
                    if part.filename:
                        files[part.name] = Upload(
                            data, part.filename, part.headers.get(aiohttp.hdrs.CONTENT_TYPE)
                        )
                    else:
                        values[part.name] = data.decode("utf-8")
            elif resp.content_type == "application/json":
                parsed = await resp.json()
                if isinstance(parsed, dict):
                    values = parsed
        except (aiohttp.ClientError, ValueError) as e:
            log.debug("unreadable webhook reply: %s", e)
            return
        method = values.pop("method", None)
        if not method:
            return
        try:
            await self.execute(str(method), Params(values, files))
        except ApiError as e:
            self.world.stats.errors.append((str(method), e.code, e.description))
