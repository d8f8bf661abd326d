"""/healthz, /readyz and /metrics: on an app the process already serves (`add_routes`), or on a
small server of their own for a process that has none (`start_ops_server`, the delivery worker).

- GET /healthz: 200 "ok" while the process answers (liveness: restart it when this fails).
- GET /readyz: 200 {"status": "ok", "checks": {"database": "ok", ...}}; 200 "degraded" naming
  Redis or Telegram when only they fail (the process still serves); 503 "unavailable" when the
  database fails (readiness: send it no work meanwhile).
- GET /metrics: Prometheus's text format. Counts and times only, never a family's data; none of
  the three needs a token (keep the port on the internal network).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from ops.health import Check, checks_for, readiness
from ops.metrics import Metrics

if TYPE_CHECKING:
    from core.portal import Portal

log = logging.getLogger(__name__)

PATHS = ("/healthz", "/readyz", "/metrics")


def add_routes(
    app: web.Application,
    portal: Portal,
    *,
    metrics: Metrics | None = None,
    redis_ping: Check | None = None,
    telegram: Check | None = None,
) -> Metrics:
    """Put GET /healthz, /readyz and /metrics on `app` (before it starts). Returns the metrics
    served (a new `Metrics` when none is given)."""
    served = metrics if metrics is not None else Metrics()
    checks = checks_for(portal, redis_ping=redis_ping, telegram=telegram)

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(request: web.Request) -> web.Response:
        status, found = await readiness(checks)
        body = {"status": status, "checks": found}
        return web.Response(text=json.dumps(body), status=503 if status == "unavailable" else 200,
                            content_type="application/json", headers={"Cache-Control": "no-store"})

    async def metrics_text(request: web.Request) -> web.Response:
        try:
            await served.refresh(portal)
        except Exception as exc:  # noqa: BLE001 - the counters are still worth showing
            log.warning("metrics: the outbox could not be read (%s)", type(exc).__name__)
        return web.Response(body=served.render(), headers={"Content-Type": CONTENT_TYPE_LATEST,
                                                          "Cache-Control": "no-store"})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_text)
    return served


async def start_ops_server(
    host: str,
    port: int,
    portal: Portal,
    *,
    metrics: Metrics | None = None,
    redis_ping: Check | None = None,
    telegram: Check | None = None,
) -> web.AppRunner:
    """Serve /healthz, /readyz and /metrics on host:port (port 0: any free port; the bound one
    is `runner.addresses[0][1]`). Stop it with `await runner.cleanup()`."""
    app = web.Application()
    add_routes(app, portal, metrics=metrics, redis_ping=redis_ping, telegram=telegram)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("health and metrics on http://%s:%s%s", host, runner.addresses[0][1], "/metrics")
    return runner


__all__ = ["PATHS", "add_routes", "start_ops_server"]
