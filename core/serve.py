"""Serving an aiohttp app on a host and port (the caseworker API and the parents' pages both)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger


async def serve(
    app: web.Application, host: str, port: int, access_log_class: type[AbstractAccessLogger], access_log
) -> web.AppRunner:  # noqa: ANN001
    """Start `app` on host:port (port 0: any free port; see `bound_port`). Call `cleanup()` to stop."""
    runner = web.AppRunner(app, access_log_class=access_log_class, access_log=access_log, shutdown_timeout=5)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


def bound_port(runner: web.AppRunner) -> int:
    """The port a started runner listens on (useful when it was asked for port 0)."""
    return int(runner.addresses[0][1])
