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

Pages follow the GOV.UK Design System's accessibility patterns. A form with problems is given
`errors` (field name -> its messages, in the order the fields show: `errors_by_field`); the layout
then starts the title with "Error: " and puts "There is a problem" above the heading, each problem
a link to its box; `ui.field(..., errors=errors.name)` shows the message above the box (with a
visually hidden "Error:"), marks the box aria-invalid and names the message in its
aria-describedby. A box is required unless `required=False`, whose label then ends "(optional)".
Every box about the parent has its `autocomplete` (given-name, email, new-password...).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
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


def errors_by_field(errors: Mapping[str, Sequence[str]] | None, fields: Sequence[str]) -> dict[str, list[str]]:
    """A form's problems for its template: in the order its `fields` show on the page (the error
    summary lists them in that order), each under one of them. A problem about none of them (the
    whole form) goes under the first field, so that it still shows and its link leads somewhere."""
    out: dict[str, list[str]] = {}
    for name, messages in (errors or {}).items():
        key = name if name in fields else fields[0]
        out.setdefault(key, []).extend(str(m) for m in messages)
    return {name: out[name] for name in fields if out.get(name)}


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
