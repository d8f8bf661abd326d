"""The parents' pages are Jinja2 templates (web/templates/), escaped by default.

Every value a template prints is escaped (autoescaping), with the standard library's entities
(`html.escape`: `&quot;`, `&#x27;`), unless it is markup already (a macro's output). Pages are
mobile-first, large text, plain English, no inline script or style (the Content-Security-Policy
allows neither). A page template extends "layout.html" (its `title`, its `body` block) and imports
the form pieces from "macros.html":

    {% extends "layout.html" %}
    {% import "macros.html" as ui with context %}
    {% set title = "Say hello" %}
    {% block body -%}
    {% call ui.form(submit="Send") %}{{ ui.field("name", "Your name") }}{% endcall %}
    {%- endblock %}

    return req.render("hello.html", status=200, name=...)     # in a page handler (web.pages)
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from contextvars import ContextVar
from importlib.resources import files
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, Template
from markupsafe import Markup

CSS_PATH = "/assets/site.css"


def _escaped(value: Any) -> Any:
    """What `{{ value }}` prints: markup as it is; anything else escaped as `html.escape` does
    (None as nothing)."""
    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


ENV = Environment(
    loader=PackageLoader("web", "templates"),
    autoescape=True,
    finalize=_escaped,
    keep_trailing_newline=True,
)
ENV.globals["css_path"] = CSS_PATH
# The settings' page banner (EHCP_PAGE_BANNER), set for each request by the app's middleware: the
# pages' templates render without their app at hand.
BANNER: ContextVar[str] = ContextVar("page_banner", default="")
ENV.globals["banner"] = BANNER.get

CSS = files("web").joinpath("static/site.css").read_text(encoding="utf-8")


def template(source: str) -> Template:
    """A template from a string, in the pages' environment (it may extend "layout.html")."""
    return ENV.from_string(source)


def render(
    name: str | Template,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> web.Response:
    """An HTML response: the template `name` (or a `template(...)`) rendered with `context`."""
    tpl = name if isinstance(name, Template) else ENV.get_template(name)
    return web.Response(
        text=tpl.render(**context),
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers=headers,
    )


def message_page(title: str, *paragraphs: str, status: int = 200) -> web.Response:
    """A page of plain-English paragraphs (errors, confirmations)."""
    return render("message.html", status=status, title=title, paragraphs=paragraphs)
