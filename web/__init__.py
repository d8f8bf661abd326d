"""The parents' pages: small HTML pages the portal serves itself on its own port.

A feature adds pages with a `WebPages` group (see web.pages) and passes it to
`create_web_app(portal, [group])` / `start_web(portal, [group])`. Pages are Jinja2 templates in
web/templates/ (see web.render), autoescaped.
"""

from web.app import bound_port, create_web_app, start_web
from web.csrf import CSRF_FIELD, check_csrf_token, make_csrf_token
from web.pages import PageRequest, WebPages
from web.render import message_page, render, template

__all__ = [
    "CSRF_FIELD",
    "PageRequest",
    "WebPages",
    "bound_port",
    "check_csrf_token",
    "create_web_app",
    "make_csrf_token",
    "message_page",
    "render",
    "start_web",
    "template",
]
