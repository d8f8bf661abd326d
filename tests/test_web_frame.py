from __future__ import annotations

import logging
import re

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from web import (
    CSRF_FIELD,
    PageRequest,
    WebPages,
    bound_port,
    create_web_app,
    make_csrf_token,
    message_page,
    start_web,
    template,
)
from web.csrf import check_csrf_token

EXPIRED = "This page has expired. Please go back to the chat and open the link again."


HELLO = template("""{% extends "layout.html" %}
{% import "macros.html" as ui with context %}
{% set title = "Say hello" %}
{% block body -%}
<p>Link {{ token }}</p>
{% call ui.form(submit="Send") %}<label for="name">Your name</label><input id="name" name="name">{% endcall %}
{%- endblock %}""")


def demo_pages() -> tuple[WebPages, list[str]]:
    """A page the tests register, as a later issue would (e.g. the password step)."""
    pages = WebPages()
    received: list[str] = []

    @pages.get("/hello/{token}")
    async def hello(req: PageRequest) -> web.StreamResponse:
        return req.render(HELLO, token=req.params["token"])

    @pages.post("/hello/{token}")
    async def hello_sent(req: PageRequest) -> web.StreamResponse:
        assert req.form is not None
        received.append(req.form["name"])
        return message_page("Thank you", f"Thank you, {req.form['name']}.")

    @pages.get("/boom")
    async def boom(req: PageRequest) -> web.StreamResponse:
        raise RuntimeError("secret detail")

    return pages, received




@pytest.fixture
async def setup(portal):
    pages, received = demo_pages()
    async with TestClient(TestServer(create_web_app(portal, [pages]))) as client:
        yield client, received


def csrf_of(html: str) -> str:
    m = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


async def test_get_renders_a_form_with_csrf_and_post_works(setup):
    client, received = setup
    resp = await client.get("/hello/abc")
    assert resp.status == 200 and resp.content_type == "text/html"
    html = await resp.text()
    assert '<form method="post" action="/hello/abc"' in html
    token = csrf_of(html)
    resp = await client.post("/hello/abc", data={CSRF_FIELD: token, "name": "Sam <b>"})
    assert resp.status == 200
    assert "Thank you, Sam &lt;b&gt;." in await resp.text()  # escaped
    assert received == ["Sam <b>"]


async def test_post_without_or_with_a_bad_token_is_refused(setup, portal, clock):
    client, received = setup
    token = csrf_of(await (await client.get("/hello/abc")).text())
    other_form = csrf_of(await (await client.get("/hello/xyz")).text())
    ts, nonce, mac = token.split(".")
    bad = [
        {},
        {CSRF_FIELD: ""},
        {CSRF_FIELD: "nonsense"},
        {CSRF_FIELD: other_form},  # made for another form (another parent's link)
        {CSRF_FIELD: f"{ts}.{nonce[:-1]}{'B' if nonce.endswith('A') else 'A'}.{mac}"},  # another nonce
        {CSRF_FIELD: f"{int(ts) + 1}.{nonce}.{mac}"},  # another time
        {CSRF_FIELD: make_csrf_token(b"another key", "/hello/abc", clock.now())},
    ]
    for data in bad:
        resp = await client.post("/hello/abc", data={**data, "name": "x"})
        assert resp.status == 403, data
        assert EXPIRED in await resp.text()
    assert received == []


async def test_expired_token_refused(setup, clock):
    client, received = setup
    token = csrf_of(await (await client.get("/hello/abc")).text())
    clock.advance(hours=1, minutes=59)
    assert (await client.post("/hello/abc", data={CSRF_FIELD: token, "name": "a"})).status == 200
    clock.advance(minutes=2)
    resp = await client.post("/hello/abc", data={CSRF_FIELD: token, "name": "b"})
    assert resp.status == 403 and EXPIRED in await resp.text()
    assert received == ["a"]


def test_token_from_the_future_refused(portal, clock):
    later = make_csrf_token(portal.secret_key, "/x", clock.now().replace(year=2027))
    assert not check_csrf_token(portal.secret_key, later, "/x", clock.now())
    fresh = make_csrf_token(portal.secret_key, "/x?a=1", clock.now())
    assert check_csrf_token(portal.secret_key, fresh, "/x", clock.now())  # the query does not matter


async def test_origin_check(setup, settings):
    client, received = setup
    token = csrf_of(await (await client.get("/hello/abc")).text())
    data = {CSRF_FIELD: token, "name": "a"}
    resp = await client.post("/hello/abc", data=data, headers={"Origin": "https://evil.example"})
    assert resp.status == 403
    resp = await client.post("/hello/abc", data=data, headers={"Referer": "https://evil.example/page"})
    assert resp.status == 403
    for ok in ({"Origin": "null"}, {"Origin": settings.http.public_url}, {}):
        resp = await client.post("/hello/abc", data=data, headers=ok)
        assert resp.status == 200, ok
    own = str(client.make_url("/")).rstrip("/")
    assert (await client.post("/hello/abc", data=data, headers={"Origin": own})).status == 200
    assert len(received) == 4


async def test_security_headers_everywhere(setup):
    client, _ = setup
    for method, path, status in (
        ("GET", "/hello/abc", 200),
        ("POST", "/hello/abc", 403),
        ("GET", "/nowhere", 404),
        ("GET", "/health", 200),
    ):
        resp = await client.request(method, path)
        assert resp.status == status
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "https://telegram.org" in csp
        assert "frame-ancestors 'self' https://web.telegram.org" in csp
        assert "'unsafe-inline'" not in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        assert resp.headers["Cache-Control"] == "no-store"
    css = await client.get("/assets/site.css")
    assert css.status == 200 and css.content_type == "text/css"


async def test_layout_is_accessible_and_escaped(setup):
    client, _ = setup
    html = await (await client.get("/hello/<script>")).text()
    assert '<html lang="en-GB">' in html
    assert 'name="viewport"' in html
    assert "<h1>Say hello</h1>" in html
    assert '<label for="name">' in html
    assert "<script>" not in html and "&lt;script&gt;" in html


async def test_errors_are_friendly_pages(setup, caplog):
    client, _ = setup
    resp = await client.get("/nowhere")
    assert resp.status == 404 and resp.content_type == "text/html"
    assert "go back to the chat" in await resp.text()
    with caplog.at_level(logging.ERROR):
        resp = await client.get("/boom")
    assert resp.status == 500 and resp.content_type == "text/html"
    body = await resp.text()
    assert "secret detail" not in body and "Traceback" not in body
    assert "secret detail" in caplog.text
    assert (await client.put("/health")).status == 405


async def test_health(setup):
    client, _ = setup
    resp = await client.get("/health")
    assert resp.status == 200 and await resp.json() == {"status": "ok"}


async def test_post_body_limit(setup):
    client, received = setup
    resp = await client.post("/hello/abc", data={"name": "x" * (70 * 1024)})
    assert resp.status == 413
    assert received == []


async def test_real_server_and_access_log_hides_page_tokens(portal, settings, caplog):
    settings.http.web_port = 0
    pages, received = demo_pages()
    caplog.set_level(logging.INFO)
    runner = await start_web(portal, [pages])
    try:
        base = f"http://127.0.0.1:{bound_port(runner)}"
        secret = "Sup3rSecretPageToken"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/hello/{secret}") as resp:
                token = csrf_of(await resp.text())
            async with http.post(f"{base}/hello/{secret}", data={CSRF_FIELD: token, "name": "Ann"}) as resp:
                assert resp.status == 200
    finally:
        await runner.cleanup()
    assert received == ["Ann"]
    assert "POST /hello/{token} 200" in caplog.text
    assert secret not in caplog.text and "Ann" not in caplog.text
