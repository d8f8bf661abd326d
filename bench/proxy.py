"""A small round-robin load balancer for webhook replicas (the scale test and `bench.updates --web N`)."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections import Counter

import aiohttp
from aiohttp import web

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proxy:
    """The load balancer: each update to the next replica in turn; with `repeat_every=k`, every
    k-th one also to every other replica at the same moment (a repeat, as when Telegram retries
    an update whose answer was slow)."""

    def __init__(self, targets: list[str], *, repeat_every: int = 0) -> None:
        self.targets = targets
        self.repeat_every = repeat_every
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/telegram/webhook"
        self._turn = itertools.count()
        self.by_target: Counter[int] = Counter()
        self.repeated = 0
        self._http: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/telegram/webhook", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _post(self, i: int, body: bytes, headers: dict[str, str]) -> int:
        assert self._http is not None
        try:
            async with self._http.post(self.targets[i], data=body, headers=headers,
                                       timeout=aiohttp.ClientTimeout(total=30)) as r:
                self.by_target[i] += 1
                return r.status
        except (aiohttp.ClientError, TimeoutError):
            return 502

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {"Content-Type": "application/json", SECRET_HEADER: request.headers.get(SECRET_HEADER, "")}
        n = next(self._turn)
        first = n % len(self.targets)
        if self.repeat_every and n % self.repeat_every == self.repeat_every - 1:
            self.repeated += 1
            statuses = await asyncio.gather(*(self._post(i, body, headers) for i in range(len(self.targets))))
            status = statuses[first]
        else:
            status = await self._post(first, body, headers)
        return web.Response(status=status)
