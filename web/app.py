"""The parents' pages server: its own port, security headers, CSRF on every form POST."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from core.portal import Portal
from core.services import Services
from core.text import one_line
from web.csrf import CSRF_FIELD, check_csrf_token, origin_of
from web.pages import Page, PageRequest, WebPages
from web.render import BANNER, CSS, message_page

log = logging.getLogger("ehcp.web")
access_log = logging.getLogger("ehcp.web.access")

PORTAL = web.AppKey("ehcp_web_portal", Portal)
SERVICES = web.AppKey("ehcp_web_services", Services)
HEADERS = web.AppKey("ehcp_web_headers", dict)
DEFAULT_MAX_BODY = 64 * 1024  # forms are small; files come through the chat

FRAME_ANCESTORS = "'self' https://web.telegram.org"
CSP = (
    "default-src 'self'; "
    "script-src 'self' https://telegram.org; "
    "style-src 'self'; "
    "img-src 'self' data:; "
    "connect-src 'self'; "
    "object-src 'none'; "
    "base-uri 'none'; "
    "form-action 'self'; "
    f"frame-ancestors {FRAME_ANCESTORS}"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

EXPIRED_TITLE = "This page has expired"
EXPIRED_TEXT = "This page has expired. Please go back to the chat and open the link again."


def expired_page() -> web.Response:
    return message_page(EXPIRED_TITLE, EXPIRED_TEXT, status=403)


def _headers_for(portal: Portal) -> dict[str, str]:
    """The security headers, with any extra origin the settings let show the pages in a frame
    (the sandbox's page, which opens them over its pretend chat as Telegram opens a Mini App)."""
    extra = portal.settings.http.frame_ancestors.split()
    if not extra:
        return SECURITY_HEADERS
    return {**SECURITY_HEADERS, "Content-Security-Policy": CSP.replace(
        f"frame-ancestors {FRAME_ANCESTORS}", f"frame-ancestors {FRAME_ANCESTORS} {' '.join(extra)}")}


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in request.app[HEADERS].items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/assets/"):
        response.headers.setdefault("Cache-Control", "public, max-age=3600")
    else:
        response.headers["Cache-Control"] = "no-store"


_ERRORS = {
    404: ("Page not found", "We could not find this page. Please go back to the chat and open the link again."),
    405: ("Page not found", "We could not find this page. Please go back to the chat and open the link again."),
    413: ("Too much information", "What you sent was too large. Please go back and try again."),
}


@web.middleware
async def friendly_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Errors are short plain-English pages; never a traceback. (Each page, errors too, carries the
    settings' banner.)"""
    BANNER.set(request.app[PORTAL].settings.http.page_banner)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        title, message = _ERRORS.get(exc.status, ("Something went wrong", "Please go back to the chat and try again."))
        return message_page(title, message, status=exc.status)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error on page %s %s", request.method, _route_name(request))
        return message_page(
            "Something went wrong",
            "Sorry, something went wrong on our side. Please try again in a few minutes.",
            status=500,
        )


def _route_name(request: web.BaseRequest) -> str:
    """The page's route pattern (/link/{token}), never its path: paths carry secret page tokens."""
    try:
        match_info = getattr(request, "match_info", None)
    except AssertionError:  # a request too malformed to be routed (aiohttp's 400)
        match_info = None
    resource = getattr(getattr(match_info, "route", None), "resource", None)
    return resource.canonical if resource is not None else "(unmatched)"


class WebAccessLogger(AbstractAccessLogger):
    """One line per request: who, method, the page's route (never its path), status, time; what
    comes from the request with its control characters escaped (no forged log lines)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %s %.1fms", one_line(request.remote), one_line(request.method),
            one_line(_route_name(request)), response.status, time * 1000,
        )


def same_origin(request: web.Request, public_url: str) -> bool:
    """Second layer behind the CSRF token: where the browser says the POST came from.

    `Origin: null` (sent with Referrer-Policy: no-referrer) and no header at all are accepted;
    the CSRF token decides then.
    """
    allowed = {origin_of(public_url), f"{request.scheme}://{request.host}".lower()}
    origin = request.headers.get("Origin")
    if origin is not None and origin != "null":
        return origin.lower() in allowed
    referer = request.headers.get("Referer")
    if referer:
        return origin_of(referer) in allowed
    return True


def _handler(page: Page, services: Services) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    portal = services.portal

    async def handle(request: web.Request) -> web.StreamResponse:
        req = PageRequest(services, request, dict(request.match_info))
        if page.method == "POST":
            if not same_origin(request, portal.settings.http.public_url):
                return expired_page()
            form = await request.post()
            token = form.get(CSRF_FIELD)
            if not isinstance(token, str) or not check_csrf_token(
                portal.secret_key, token, request.path, portal.clock.now(), page.max_age
            ):
                return expired_page()
            req.form = form
        return await page.handler(req)

    handle.__name__ = page.handler.__name__
    return handle


async def _health(request: web.Request) -> web.Response:
    if not await request.app[PORTAL].reachable():
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


async def _css(_: web.Request) -> web.Response:
    return web.Response(text=CSS, content_type="text/css")


def create_web_app(
    portal: Portal,
    pages: list[WebPages] | None = None,
    *,
    services: Services | None = None,
    max_body: int = DEFAULT_MAX_BODY,
) -> web.Application:
    """The parents' pages app: /health, the stylesheet and the given pages. The pages use the
    core's services from one container, built here once unless given."""
    app = web.Application(middlewares=[friendly_errors], client_max_size=max_body)
    app[PORTAL] = portal
    app[SERVICES] = services = services or Services.build(portal)
    app[HEADERS] = _headers_for(portal)
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/health", _health)
    app.router.add_get("/assets/site.css", _css)
    for group in pages or []:
        for p in group:
            app.router.add_route(p.method, p.path, _handler(p, services))
    return app


async def start_web(
    portal: Portal,
    pages: list[WebPages] | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    services: Services | None = None,
) -> web.AppRunner:
    """Serve the pages on settings.http.web_host/web_port (port 0: any free port; see bound_port)."""
    app = create_web_app(portal, pages, services=services)
    runner = web.AppRunner(app, access_log_class=WebAccessLogger, access_log=access_log, shutdown_timeout=5)
    await runner.setup()
    http = portal.settings.http
    await web.TCPSite(runner, http.web_host if host is None else host, http.web_port if port is None else port).start()
    return runner


def bound_port(runner: web.AppRunner) -> int:
    """The port a started runner listens on (useful when it was asked for port 0)."""
    return int(runner.addresses[0][1])

