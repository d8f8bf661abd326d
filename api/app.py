"""The caseworker API application: the frame's own routes, error handling, access log, server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from pydantic import BaseModel

from api import notices
from api.openapi import build_openapi
from api.routes import (
    ACTOR,
    DEFAULT_MAX_BODY,
    RUNNING_KEYS,
    SERVICES,
    ApiError,
    ApiRequest,
    ApiResponse,
    ApiRoutes,
    Route,
    all_routes,
    error_body,
    error_response,
    json_response,
    make_handler,
)
from core.idempotency import purge_expired
from core.portal import Portal
from core.services import Services
from core.text import one_line
from ops import Metrics, add_routes
from ops.health import Check

log = logging.getLogger("ehcp.api")
access_log = logging.getLogger("ehcp.api.access")

PORTAL = web.AppKey("ehcp_api_portal", Portal)
ROUTES = web.AppKey("ehcp_api_routes", list)
OPENAPI = web.AppKey("ehcp_api_openapi", dict)

frame = ApiRoutes()


class Health(BaseModel):
    status: Literal["ok", "unavailable"]


@frame.get(
    "/v1/health",
    response=Health,
    auth=False,
    other_statuses=(503,),
    summary="Is the service up (database reachable)?",
    tags=["meta"],
)
async def health(req: ApiRequest) -> ApiResponse:
    if not await req.portal.reachable():
        return ApiResponse(Health(status="unavailable"), status=503)
    return ApiResponse(Health(status="ok"))


@frame.get("/v1/openapi.json", auth=False, summary="This API's OpenAPI 3.1 document", tags=["meta"])
async def openapi(req: ApiRequest) -> web.Response:
    return json_response(req.request.app[OPENAPI])


_HTTP_ERRORS = {
    404: ("not_found", "There is no such endpoint."),
    405: ("method_not_allowed", "This method is not allowed on this endpoint."),
    413: ("payload_too_large", "The request body is too large."),
}


@web.middleware
async def json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every error is JSON: {"error": {"code", "message"}}; never an HTML page or a traceback."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code, message = _HTTP_ERRORS.get(exc.status, ("http_error", exc.reason))
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return json_response(error_body(code, message), exc.status, headers)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error in %s %s", one_line(request.method), one_line(request.path))
        return json_response(error_body("internal_error", "Something went wrong on our side."), 500)


class ApiAccessLogger(AbstractAccessLogger):
    """One line per request: who, method, path (no query string), status, size, time.

    Never headers (so never the Authorization header) and never bodies. What comes from the
    request is written with its control characters escaped (a `%0A` in the path is `\\n`), so
    that nobody who can reach the port can write lines of their own into the log.
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        actor = request.get(ACTOR)
        safe = one_line
        self.logger.info(
            "%s %s %s %s %sB %.1fms %s",
            safe(request.remote),
            safe(request.method),
            safe(request.path),
            response.status,
            response.body_length,
            time * 1000,
            actor.id if actor is not None else "-",
        )


def create_api_app(
    portal: Portal, routes: list[ApiRoutes] | None = None, *, services: Services | None = None
) -> web.Application:
    """The API app: health, the OpenAPI document, notices, and the given feature routes."""
    registered: list[Route] = all_routes([frame, notices.api, *(routes or [])])
    app = web.Application(
        middlewares=[json_errors],
        client_max_size=max([DEFAULT_MAX_BODY, *(r.max_body for r in registered)]),
    )
    app[PORTAL] = portal
    app[ROUTES] = registered
    app[RUNNING_KEYS] = set()  # Idempotency-Keys whose first request is running here
    app[SERVICES] = services or Services.build(portal)
    app[OPENAPI] = build_openapi(registered)  # built once; a bad model fails here, at start-up
    for route in registered:
        app.router.add_route(route.method, route.aiohttp_path, make_handler(route, portal))
    return app


def _purge_now_and_then(every: float) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                try:
                    removed = await purge_expired(app[PORTAL])
                    if removed:
                        log.info("removed %d expired idempotency keys", removed)
                except Exception:  # noqa: BLE001 - try again next time
                    log.warning("could not purge idempotency keys", exc_info=True)
                await asyncio.sleep(every)

        task = asyncio.create_task(loop(), name="purge-idempotency-keys")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return ctx


async def start_api(
    portal: Portal,
    routes: list[ApiRoutes] | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    purge_every: float | None = 3600,
    services: Services | None = None,
    metrics: Metrics | None = None,
    redis_ping: Check | None = None,
    telegram: Check | None = None,
) -> web.AppRunner:
    """Serve the API on settings.http.api_host/api_port (port 0: any free port; see bound_port).

    Expired idempotency keys are purged every `purge_every` seconds (None: never; then call
    api.purge_idempotency_keys from a scheduled job). The process's /healthz, /readyz and
    /metrics are served beside it, without a token (ops.add_routes: `metrics` is the process's,
    `redis_ping` and `telegram` its readiness checks beside the database's).
    """
    app = create_api_app(portal, routes, services=services)
    add_routes(app, portal, metrics=metrics, redis_ping=redis_ping, telegram=telegram)
    if purge_every:
        app.cleanup_ctx.append(_purge_now_and_then(purge_every))
    runner = web.AppRunner(app, access_log_class=ApiAccessLogger, access_log=access_log, shutdown_timeout=5)
    await runner.setup()
    http = portal.settings.http
    await web.TCPSite(runner, http.api_host if host is None else host, http.api_port if port is None else port).start()
    return runner


def bound_port(runner: web.AppRunner) -> int:
    """The port a started runner listens on (useful when it was asked for port 0)."""
    return int(runner.addresses[0][1])

