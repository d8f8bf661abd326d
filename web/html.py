"""A minimal, accessible HTML layout for the parents' pages, escaped by default.

`Html` marks markup that is already safe; everything else given to `h` or `page` is escaped
with `html.escape`. Pages are mobile-first, large text, plain English, no inline script or style
(the Content-Security-Policy allows neither).

    page("Set your password", h("<p>Hello {}.</p>", name), form_html)
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

from aiohttp import web

CSS_PATH = "/assets/site.css"
TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"


class Html(str):
    """A string of markup that is safe to include as it is."""

    __slots__ = ()

    def __add__(self, other: str) -> Html:
        return Html(str.__add__(self, escape(other)))


def escape(value: object) -> Html:
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value), quote=True))


def h(template: str, *args: object, **kwargs: object) -> Html:
    """`template` (trusted markup) with its {} fields filled by escaped values."""
    return Html(template.format(*(escape(a) for a in args), **{k: escape(v) for k, v in kwargs.items()}))


def join(parts: Iterable[object], sep: str = "\n") -> Html:
    return Html(sep.join(escape(p) for p in parts))


def layout(title: str, *body: object, council: str = "", telegram_script: bool = False) -> Html:
    """A whole HTML document. `body` parts are escaped unless they are `Html`."""
    script = h('<script src="{}"></script>', TELEGRAM_SCRIPT) if telegram_script else Html("")
    header = h('<p class="council">{}</p>', council) if council else Html("")
    return h(
        "<!doctype html>\n"
        '<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        "<title>{title}</title>\n"
        '<link rel="stylesheet" href="{css}">\n{script}</head>\n'
        '<body>\n<main id="main">\n{header}<h1>{title}</h1>\n{body}\n</main>\n</body>\n</html>\n',
        title=title,
        css=CSS_PATH,
        script=script,
        header=header,
        body=join(body),
    )


def page(
    title: str,
    *body: object,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    council: str = "",
    telegram_script: bool = False,
) -> web.Response:
    """An HTML response with the standard layout."""
    return web.Response(
        text=layout(title, *body, council=council, telegram_script=telegram_script),
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers=headers,
    )


def message_page(title: str, *paragraphs: str, status: int = 200) -> web.Response:
    """A page of plain-English paragraphs (errors, confirmations)."""
    return page(title, *(h("<p>{}</p>", p) for p in paragraphs), status=status)


CSS = """\
*,*::before,*::after{box-sizing:border-box}
html{font-size:112.5%;-webkit-text-size-adjust:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;
line-height:1.5;color:#0b0c0c;background:#fff}
main{max-width:36rem;margin:0 auto;padding:1rem 1.25rem 3rem}
h1{font-size:1.6rem;line-height:1.25;margin:1rem 0}
p,li{font-size:1.1rem}
.council{font-weight:600;color:#505a5f;margin:0}
label{display:block;font-weight:600;margin:1.25rem 0 .35rem;font-size:1.1rem}
.hint{display:block;color:#505a5f;font-weight:400;margin-bottom:.35rem}
input,select,textarea{width:100%;font:inherit;font-size:1.15rem;padding:.6rem;
border:2px solid #0b0c0c;border-radius:0}
button,.button{display:inline-block;margin-top:1.5rem;min-height:2.75rem;padding:.6rem 1.2rem;
font:inherit;font-size:1.15rem;font-weight:600;color:#fff;background:#00703c;border:0;
border-bottom:3px solid #002d18;cursor:pointer;text-decoration:none}
:focus-visible{outline:3px solid #fd0;outline-offset:0;box-shadow:0 -2px #fd0,0 4px #0b0c0c}
.error{color:#d4351c;font-weight:600}
.error-summary{border:4px solid #d4351c;padding:1rem;margin:1rem 0}
@media (prefers-color-scheme:dark){body{color:#f3f2f1;background:#0b0c0c}
.council,.hint{color:#b1b4b6}input,select,textarea{border-color:#f3f2f1;background:#1d1d1d;color:#f3f2f1}}
"""
