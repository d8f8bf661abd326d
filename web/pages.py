"""Registering the parents' pages: a GET renders a form, a POST handles it (CSRF checked first).

    pages = WebPages()

    @pages.get("/hello/{token}")
    async def hello(req: PageRequest) -> web.StreamResponse:
        return req.render("hello.html")          # web/templates/hello.html: `ui.form` (web.render)

    @pages.post("/hello/{token}")
    async def hello_sent(req: PageRequest) -> web.StreamResponse:
        return message_page("Thank you", f"Thank you, {req.form.get('name', '')}.")

    create_web_app(portal, [pages])   # or start_web(portal, [pages])

Every POST registered here is refused with a kind 403 page, before its handler runs, unless it
carries a valid, unexpired CSRF token made for its own path (the form macro `ui.form` writes it)
and, when the browser says where the request came from (Origin/Referer), it came from this site.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from jinja2 import Template
from multidict import MultiDictProxy

from core.portal import Portal
from core.services import Services
from web.csrf import DEFAULT_MAX_AGE, make_csrf_token
from web.render import render

PageHandler = Callable[["PageRequest"], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class PageRequest:
    services: Services  # the core's services, one container for the app
    request: web.Request
    params: dict[str, str]  # path parameters, e.g. {"token": ...}
    form: MultiDictProxy[Any] | None = None  # the posted fields (POST only, after the CSRF check)

    @property
    def portal(self) -> Portal:
        return self.services.portal

    @property
    def now(self) -> datetime:
        return self.portal.clock.now()

    def csrf_token(self, action: str | None = None) -> str:
        """A CSRF token for a form that posts to `action` (default: this page's own path)."""
        return make_csrf_token(self.portal.secret_key, action or self.request.path, self.now)

    def render(self, template: str | Template, *, status: int = 200, **context: Any) -> web.Response:
        """A page from its template, which is given this request as `req` (its forms need it)."""
        return render(template, status=status, req=self, **context)


@dataclass(frozen=True, slots=True)
class Page:
    method: str  # GET or POST
    path: str
    handler: PageHandler
    max_age: timedelta = DEFAULT_MAX_AGE  # POST: how long a rendered form stays valid


@dataclass
class WebPages:
    """A group of pages. Feature modules make one and hand it to create_web_app/start_web."""

    pages: list[Page] = field(default_factory=list)

    def get(self, path: str) -> Callable[[PageHandler], PageHandler]:
        def decorator(handler: PageHandler) -> PageHandler:
            self.pages.append(Page("GET", path, handler))
            return handler

        return decorator

    def post(self, path: str, *, max_age: timedelta = DEFAULT_MAX_AGE) -> Callable[[PageHandler], PageHandler]:
        def decorator(handler: PageHandler) -> PageHandler:
            self.pages.append(Page("POST", path, handler, max_age))
            return handler

        return decorator

    def __iter__(self) -> Iterator[Page]:
        return iter(self.pages)

