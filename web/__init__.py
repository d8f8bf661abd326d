"""The parents' pages: small HTML pages the portal serves itself on its own port.

A feature adds pages with a `WebPages` group (see web.pages) and passes it to
`create_web_app(portal, [group])` / `start_web(portal, [group])`.
"""

from core.serve import bound_port
from web.app import create_web_app, start_web
from web.csrf import CSRF_FIELD, check_csrf_token, make_csrf_token
from web.html import Html, escape, h, layout, message_page, page
from web.pages import PageRequest, WebPages

__all__ = [
    "CSRF_FIELD",
    "Html",
    "PageRequest",
    "WebPages",
    "bound_port",
    "check_csrf_token",
    "create_web_app",
    "escape",
    "h",
    "layout",
    "make_csrf_token",
    "message_page",
    "page",
    "start_web",
]
