"""A plain delivery loop for tests and the benchmark (the service ticks from APScheduler)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def run_until_stopped(
    run_once: Callable[[], Awaitable[int]], stop: asyncio.Event, interval: float, what: str
) -> None:
    """Call `run_once` straight on while it finds work, else every `interval`, until `stop`."""
    while not stop.is_set():
        try:
            n = await run_once()
        except Exception:
            log.exception("%s tick failed", what)
            n = 0
        if n == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
