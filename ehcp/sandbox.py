"""`ehcp-bot sandbox` (and `ehcp-bot run` with no bot token): the real service's process, run
with the sandbox's pretend Telegram, mailbox and clock (sandbox/runtime.py) and its page."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp

from core.services import Services
from ehcp.app import run_everything
from ehcp.bootstrap import build_portal
from sandbox.demo import seed_once
from sandbox.page import start_page
from sandbox.runtime import HOST, Sandbox, reset

log = logging.getLogger("ehcp.sandbox")


async def _until_serving(url: str, product: asyncio.Task[None]) -> None:
    """The product's API answers (it starts once the database is migrated)."""
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if product.done():
                product.result()  # what stopped it
                return
            try:
                async with http.get(url) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the sandbox's product did not start")


async def run_sandbox(sandbox: Sandbox, port: int, stop: asyncio.Event, *, demo: bool = True) -> None:
    """Run until `stop` is set (or the page's "Start again" sets it: `sandbox.reset_asked`);
    `sandbox.ready` is set once the page and the product are up. `demo`: make the demo families on
    the first start (after `ready`: the page shows them arriving)."""
    sandbox.page_port = port
    sandbox.stop_event = stop
    await sandbox.start()
    assert sandbox.settings is not None
    portal = build_portal(sandbox.settings, sandbox.clock)
    sandbox.portal = portal
    product = asyncio.create_task(run_everything(sandbox.settings, stop, portal=portal))
    page = await start_page(sandbox, port)
    try:
        await _until_serving(sandbox.api_url + "/v1/health", product)  # migrated by then
        token_portal = build_portal(sandbox.settings, sandbox.clock)
        try:
            await sandbox.api_token_for(token_portal)
        finally:
            await token_portal.close()
        sandbox.ready.set()
        # Said to the person at the terminal whatever the log level, and logged for the operator.
        print(f"\n  Sandbox running: open http://{HOST}:{port} in a browser.\n", file=sys.stderr, flush=True)
        log.info("sandbox on http://%s:%s, its data in %s", HOST, port, sandbox.data_dir)
        # The demo families are made beside the running product (a stop does not wait for them).
        seeding = asyncio.create_task(seed_once(sandbox, Services.build(portal))) if demo else None
        try:
            await product
        finally:
            if seeding is not None and not seeding.done():
                seeding.cancel()
                await asyncio.gather(seeding, return_exceptions=True)
    finally:
        if not product.done():
            stop.set()
            await product
        await page.cleanup()
        await sandbox.stop()


def forget(data_dir: Path) -> bool:
    """`ehcp-bot sandbox --reset`: the sandbox's folder removed (see sandbox.runtime.reset)."""
    return reset(data_dir)


async def serve(data_dir: Path, port: int, stop: asyncio.Event, *, demo: bool = True,
                each_run: Callable[[Sandbox], None] | None = None) -> None:
    """The sandbox until `stop`; the page's "Start again" stops it, forgets its folder and starts
    a fresh one on the same address (the open page reloads itself). `each_run` is told of each
    run's Sandbox as it begins."""
    while True:
        run_stop = asyncio.Event()
        relay = asyncio.create_task(_set_when(stop, run_stop))
        sandbox = Sandbox(data_dir)
        if each_run is not None:
            each_run(sandbox)
        try:
            await run_sandbox(sandbox, port, run_stop, demo=demo)
        finally:
            relay.cancel()
        if stop.is_set() or not sandbox.reset_asked:
            return
        reset(data_dir)
        log.info("sandbox started again from the beginning (its data forgotten)")


async def _set_when(first: asyncio.Event, then: asyncio.Event) -> None:
    await first.wait()
    then.set()
