"""The sandbox's page: the parent's phone, the mailbox, the SEND team and the clock, side by side.

Plain HTML, CSS and a little JavaScript served by this process (nothing fetched from the
internet). The page hears of every change through Server-Sent Events (`/events`) and then reads
the state (`/api/state`); what it does goes through the stand-in's simulated users (a parent
typing or pressing, exactly as Telegram would send it) and the real caseworker API.
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from core.clock import format_datetime
from core.reminders import next_reminder_sent_at

if TYPE_CHECKING:
    from sandbox.runtime import Sandbox

HERE = Path(__file__).parent
SANDBOX = web.AppKey("sandbox", object)
MAX_TEXT = 4096  # what Telegram lets a user send in one message
STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}

_TAGS = {"bold": "b", "italic": "i", "underline": "u", "strikethrough": "s", "code": "code", "pre": "pre",
         "blockquote": "blockquote", "spoiler": "span"}


URL = re.compile(r"https?://[^\s<>\"']+")


def _bare_links(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The web addresses written out in the text, as Telegram links them when it shows a message
    (where no link of the bot's own already covers them)."""
    linked = [(e.get("offset", 0), e.get("offset", 0) + e.get("length", 0)) for e in entities
              if e.get("type") in ("url", "text_link")]
    found = []
    for m in URL.finditer(text):
        start = len(text[:m.start()].encode("utf-16-le")) // 2
        length = len(m.group(0).rstrip(".,;:)").encode("utf-16-le")) // 2
        if not any(a < start + length and start < b for a, b in linked):
            found.append({"type": "url", "offset": start, "length": length})
    return found


def entities_html(text: str, entities: list[dict[str, Any]]) -> str:
    """The message as Telegram shows it: its text escaped, with its entities (offsets in UTF-16
    code units) as HTML. Links are only ever http(s)."""
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    units = text.encode("utf-16-le")
    entities = entities + _bare_links(text, entities)
    for e in sorted(entities, key=lambda e: (e.get("offset", 0), -e.get("length", 0))):
        start, end = int(e.get("offset", 0)), int(e.get("offset", 0)) + int(e.get("length", 0))
        kind = e.get("type")
        if kind in _TAGS:
            tag = _TAGS[kind]
            extra = ' class="spoiler"' if kind == "spoiler" else ""
            opens.setdefault(start, []).append(f"<{tag}{extra}>")
            closes.setdefault(end, []).insert(0, f"</{tag}>")
        elif kind in ("text_link", "url"):
            target = e.get("url") or units[2 * start:2 * end].decode("utf-16-le", errors="replace")
            if target.startswith(("http://", "https://")):
                opens.setdefault(start, []).append(f'<a href="{html.escape(target)}" target="_blank" rel="noopener">')
                closes.setdefault(end, []).insert(0, "</a>")
    out: list[str] = []
    pos = 0
    for ch in text:
        out.extend(closes.pop(pos, []))
        out.extend(opens.pop(pos, []))
        out.append(html.escape(ch))
        pos += 2 if ord(ch) > 0xFFFF else 1
    for at in sorted(closes):
        out.extend(closes[at])
    return "".join(out)


def _buttons(markup: Any) -> list[list[dict[str, Any]]]:
    if markup is None or markup.kind not in ("inline", "reply"):
        return []
    return [
        [{"text": b.text, "kind": b.kind if markup.kind == "inline" else "text",
          "data": b.callback_data, "url": b.url or b.web_app_url} for b in row]
        for row in markup.rows
    ]


def chat_json(sandbox: Sandbox, user: Any) -> list[dict[str, Any]]:
    """A parent's chat, oldest first: the bot's messages (current versions) and the parent's."""
    items: list[dict[str, Any]] = []
    for m in user.messages:
        if m.deleted:
            continue
        doc = m.document or m.photo
        items.append({
            "id": m.message_id, "from": "bot", "html": entities_html(m.text, m.entities),
            "buttons": _buttons(m.reply_markup), "edited": m.edited,
            "file": {"name": doc.filename or "file", "path": doc.file_path} if doc else None,
            "photo": m.photo is not None,
        })
    for m in user.user_messages:
        shown = m.text or m.caption or ("🖼 Photo" if m.photo else f"📎 {m.document.filename}" if m.document else "")
        items.append({"id": m.message_id, "from": "parent", "html": html.escape(shown),
                      "buttons": [], "edited": False, "file": None, "photo": m.photo is not None})
    items.sort(key=lambda i: i["id"])
    return items


def staff_json(sandbox: Sandbox) -> dict[str, Any]:
    """The staff group: its topics (a family each), oldest first, with their posts."""
    group = sandbox.group
    if group is None:
        return {"caseworkers": [], "topics": []}
    names = {u.id: f"{u.first_name} {u.last_name or ''}".strip() for u in sandbox.caseworkers}
    topics = []
    for name, thread in sorted(group.topics.items(), key=lambda t: t[1]):
        posts: list[dict[str, Any]] = []
        for m in group.messages:
            if m.thread_id == thread and not m.deleted:
                doc = m.document or m.photo
                posts.append({"id": m.message_id, "from": "bot", "html": entities_html(m.text, m.entities),
                              "file": {"name": doc.filename or "file", "path": doc.file_path} if doc else None})
        for m in group.user_messages:
            if m.thread_id == thread:
                posts.append({"id": m.message_id, "from": names.get(m.user_id, "someone"),
                              "html": html.escape(m.text or m.caption or ""), "file": None})
        posts.sort(key=lambda p: p["id"])
        topics.append({"thread_id": thread, "name": name, "posts": posts})
    return {"caseworkers": [{"id": i, "name": n} for i, n in names.items()], "topics": topics}


def commands_for(sandbox: Sandbox, user: Any) -> list[dict[str, str]]:
    """The command menu a private chat shows, as Telegram picks it: the chat's own list, else
    every private chat's, else the default (in the user's language first)."""
    assert sandbox.stand is not None
    stored = sandbox.stand.world.commands
    for scope, chat in (("chat", user.id), ("all_private_chats", None), ("default", None)):
        for language in (user.language_code or "", ""):
            found = next((v for k, v in stored.items()
                          if k.scope == scope and k.chat_id == chat and k.language_code == language), None)
            if found:
                return [{"command": c, "description": d} for c, d in found]
    return []


def state_json(sandbox: Sandbox) -> dict[str, Any]:
    assert sandbox.mailbox is not None
    return {
        "portal_url": sandbox.settings.http.public_url if sandbox.settings is not None else "",
        "staff": staff_json(sandbox),
        "version": sandbox.changes.version,
        "clock": format_datetime(sandbox.clock.now()),
        "parents": [
            {"id": p.id, "name": p.first_name, "chat": chat_json(sandbox, p), "commands": commands_for(sandbox, p),
             "keyboard": _buttons(p.keyboard) if getattr(p, "keyboard", None) else []}
            for p in sandbox.parents
        ],
        "mail": [m.as_json() for m in reversed(sandbox.mailbox.mails)],
    }


def _sandbox(request: web.Request) -> Sandbox:
    return request.app[SANDBOX]  # type: ignore[return-value]


def _parent(request: web.Request) -> Any:
    sandbox = _sandbox(request)
    try:
        wanted = int(request.match_info["parent"])
    except ValueError:
        raise web.HTTPNotFound() from None
    for p in sandbox.parents:
        if p.id == wanted:
            return p
    raise web.HTTPNotFound()


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="Send JSON.") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="Send a JSON object.")
    return body


async def index(request: web.Request) -> web.Response:
    return web.Response(text=(HERE / "templates" / "sandbox.html").read_text(), content_type="text/html")


async def static(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    if name not in ("sandbox.js", "sandbox.css"):
        raise web.HTTPNotFound()
    return web.FileResponse(HERE / "static" / name)


async def events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: the state's version, each time it changes (a comment now and then
    keeps the connection open through proxies)."""
    sandbox = _sandbox(request)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    seen = -1
    try:
        while True:
            version = await sandbox.changes.after(seen, 15.0) if seen >= 0 else sandbox.changes.version
            await response.write(f"data: {version}\n\n".encode() if version != seen else b": still here\n\n")
            seen = version
    except (ConnectionResetError, aiohttp.ClientConnectionResetError):
        pass
    return response


async def state(request: web.Request) -> web.Response:
    return web.json_response(state_json(_sandbox(request)))


async def add_parent(request: web.Request) -> web.Response:
    body = await _json(request)
    name = str(body.get("name", "")).strip()[:64]
    if not name:
        raise web.HTTPBadRequest(text="Give the new parent a first name.")
    user = _sandbox(request).add_parent(name)
    _sandbox(request).changes.bump()
    return web.json_response({"id": user.id, "name": user.first_name})


async def send(request: web.Request) -> web.Response:
    user = _parent(request)
    text = str((await _json(request)).get("text", ""))
    if not text.strip():
        raise web.HTTPBadRequest(text="Type a message first.")
    await user.send(text[:MAX_TEXT])
    return web.json_response({"ok": True})


MAX_FILE = 20 * 1024 * 1024  # what a bot can fetch from Telegram


async def send_file(request: web.Request) -> web.Response:
    """A photo or a file from the parent's phone (multipart: `file`, and `as_photo` for an image
    sent as a photo), as Telegram would send it to the bot."""
    user = _parent(request)
    try:
        form = await request.post()
    except ValueError:
        raise web.HTTPBadRequest(text="Choose a file.") from None
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise web.HTTPBadRequest(text="Choose a file.")
    data = upload.file.read(MAX_FILE + 1)
    if not data or len(data) > MAX_FILE:
        raise web.HTTPBadRequest(text="Choose a file of up to 20 MB.")
    name = (upload.filename or "file").rsplit("/", 1)[-1][:200]
    if form.get("as_photo") and upload.content_type in ("image/jpeg", "image/png", "image/webp", "image/gif"):
        try:
            await user.send_photo(data)
        except AssertionError:
            raise web.HTTPBadRequest(text="That picture cannot be read.") from None
    else:
        await user.send_document(data, filename=name, mime_type=upload.content_type or None)
    return web.json_response({"ok": True})


async def press(request: web.Request) -> web.Response:
    user = _parent(request)
    body = await _json(request)
    try:
        msg = user.message(int(body.get("message_id", 0)))
    except (AssertionError, ValueError, TypeError):
        raise web.HTTPNotFound(text="That message is not in this chat.") from None
    data = body.get("data")
    if not isinstance(data, str):
        raise web.HTTPBadRequest(text="Which button?")
    await user.press_data(msg, data, wait=False)
    return web.json_response({"ok": True})


async def staff_send(request: web.Request) -> web.Response:
    """A caseworker writes in a family's topic (a plain message answers the family's latest)."""
    sandbox = _sandbox(request)
    body = await _json(request)
    who = next((u for u in sandbox.caseworkers if u.id == body.get("caseworker_id")), None)
    group = sandbox.group
    if who is None or group is None or body.get("thread_id") not in group.topics.values():
        raise web.HTTPNotFound(text="No such caseworker or topic.")
    text = str(body.get("text", ""))
    if not text.strip():
        raise web.HTTPBadRequest(text="Type a message first.")
    await who.send_in(group, text[:MAX_TEXT], thread_id=int(body["thread_id"]))
    return web.json_response({"ok": True})


async def file(request: web.Request) -> web.Response:
    """A document or photo the bot sent, to download (as Telegram's own file link would)."""
    sandbox = _sandbox(request)
    assert sandbox.stand is not None
    path = request.match_info["path"]
    info = sandbox.stand.world.files_by_path.get(path)
    if info is None or info.uploaded_by is not None:
        raise web.HTTPNotFound()
    name = (info.filename or "file").replace('"', "")
    return web.Response(body=info.data, content_type=info.mime_type or "application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def clock(request: web.Request) -> web.Response:
    """Forward an hour, a day, a week, or to a minute past the moment the next reminder goes
    (its time, or the end of quiet hours if it falls in them: reminders wait for the morning)."""
    sandbox = _sandbox(request)
    step = str((await _json(request)).get("step", ""))
    if step == "reminder":
        if sandbox.portal is None:
            raise web.HTTPServiceUnavailable(text="The sandbox is still starting.")
        due = await next_reminder_sent_at(sandbox.portal)
        if due is None:
            raise web.HTTPConflict(text="No reminder is waiting to be sent.")
        sandbox.advance(max(due - sandbox.clock.now() + timedelta(minutes=1), timedelta(0)))
    elif step in STEPS:
        sandbox.advance(STEPS[step])
    else:
        raise web.HTTPBadRequest(text="Move the clock by an hour, a day, a week, or to the next reminder.")
    return web.json_response({"clock": format_datetime(sandbox.clock.now())})


async def team(request: web.Request) -> web.Response:
    """The SEND team panel: a caseworker API call made with the sandbox's token, its answer
    passed back as it came."""
    sandbox = _sandbox(request)
    body = await _json(request)
    method, path = str(body.get("method", "GET")).upper(), str(body.get("path", ""))
    if method not in ("GET", "POST", "PUT", "DELETE") or not path.startswith("/v1/"):
        raise web.HTTPBadRequest(text="A caseworker API path, please (it starts /v1/).")
    headers = {"Authorization": f"Bearer {sandbox.api_token}"}
    if method == "POST":  # each press of a button is one request: a retry of it, the same key
        key = body.get("key")
        headers["Idempotency-Key"] = key if isinstance(key, str) and key.isascii() and 0 < len(key) <= 100 \
            else uuid.uuid4().hex
    async with aiohttp.ClientSession() as http, http.request(
        method, sandbox.api_url + path, json=body.get("json"), headers=headers
    ) as r:
        return web.Response(status=r.status, body=await r.read(), content_type="application/json")


async def start_again(request: web.Request) -> web.Response:
    """ "Start again": everything the sandbox holds is forgotten and the demo made afresh."""
    _sandbox(request).start_again()
    return web.json_response({"starting_again": True})


async def start_page(sandbox: Sandbox, port: int) -> web.AppRunner:
    from sandbox.runtime import HOST

    app = web.Application(client_max_size=MAX_FILE + 64 * 1024)
    app[SANDBOX] = sandbox
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/events", events)
    app.router.add_get("/api/state", state)
    app.router.add_post("/api/parents", add_parent)
    app.router.add_post("/api/parents/{parent}/send", send)
    app.router.add_post("/api/parents/{parent}/press", press)
    app.router.add_post("/api/parents/{parent}/file", send_file)
    app.router.add_get("/files/{path:.+}", file)
    app.router.add_post("/api/staff/send", staff_send)
    app.router.add_post("/api/clock", clock)
    app.router.add_post("/api/team", team)
    app.router.add_post("/api/start-again", start_again)
    # Open event streams (a browser tab) do not hold up the sandbox's stop.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, HOST, port).start()
    return runner
