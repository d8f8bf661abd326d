"""The Telegram worker against a small scripted Bot API server: each error class and what it does.

The stand-in (tests/test_delivery.py) plays Telegram faithfully; this server instead answers what
the test tells it to (500, 400, 403, 429, a dropped connection), over real HTTP through aiogram.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web
from sqlalchemy import select

from core.clock import FrozenClock
from core.models import Chat, EmailItem, OutboxItem
from core.outbox import REMINDER, enqueue
from core.portal import Portal
from notifications.telegram import RateLimiter, TelegramDelivery, email_body
from tests.stack import rows

TOKEN = "123456:TEST-token"


@dataclass
class Call:
    chat_id: int
    text: str
    params: dict
    at: float


@dataclass
class ScriptedBotAPI:
    """Answers sendMessage with the next scripted reply (default: success)."""

    script: list[tuple[int, dict]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    next_id: int = 1
    runner: web.AppRunner | None = None
    base_url: str = ""
    first_call: asyncio.Event | None = None

    def push(self, status: int, description: str = "", **parameters: object) -> None:
        body: dict = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        self.script.append((status, body))

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = dict(await request.post())
        if method.lower() != "sendmessage":
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        chat_id = int(form["chat_id"])
        self.calls.append(Call(chat_id, str(form.get("text")), form, time.monotonic()))
        if self.first_call is not None:
            self.first_call.set()
        if self.script:
            status, body = self.script.pop(0)
            if status == 0:  # drop the connection
                raise ConnectionResetError("scripted drop")
            return web.json_response(body, status=status)
        mid = self.next_id
        self.next_id += 1
        result = {
            "message_id": mid,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "text": form.get("text"),
        }
        return web.json_response({"ok": True, "result": result})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def api() -> AsyncIterator[ScriptedBotAPI]:
    server = ScriptedBotAPI()
    await server.start()
    yield server
    await server.stop()


def make_bot(base_url: str) -> Bot:
    return Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))


@pytest.fixture
async def bot(api: ScriptedBotAPI) -> AsyncIterator[Bot]:
    b = make_bot(api.base_url)
    yield b
    await b.session.close()


@pytest.fixture
def worker(portal: Portal, bot: Bot) -> TelegramDelivery:
    return TelegramDelivery(portal, bot, "test-worker")


async def add(portal: Portal, n: int = 1, **kw: object) -> list[int]:
    now = portal.clock.now()
    async with portal.db() as session, session.begin():
        items = []
        for i in range(n):
            args = {"text": f"notice {i}", "chat_id": 1001} | kw
            items.append(enqueue(session, now=now, **args))  # type: ignore[arg-type]
        await session.flush()
        return [it.id for it in items]


async def drain(worker: TelegramDelivery) -> int:
    """Run ticks until one finds nothing to do; how many notices they handled."""
    total = 0
    while n := await worker.run_once():
        total += n
    return total


async def row(portal: Portal, item_id: int) -> OutboxItem:
    async with portal.db() as session:
        item = await session.get(OutboxItem, item_id)
        assert item is not None
        return item


async def emails(portal: Portal) -> list[EmailItem]:
    return await rows(portal, EmailItem)


async def test_sends_text_buttons_and_options(portal: Portal, worker: TelegramDelivery, api: ScriptedBotAPI) -> None:
    buttons = [[{"text": "Open", "callback_data": "case:1"}], [{"text": "Guide", "url": "https://example.org/g"}]]
    [item_id] = await add(portal, buttons=buttons)
    assert await worker.run_once() == 1
    [call] = api.calls
    assert call.chat_id == 1001 and call.text == "notice 0"
    markup = json.loads(call.params["reply_markup"])
    assert markup["inline_keyboard"][0][0] == {"text": "Open", "callback_data": "case:1"}
    assert markup["inline_keyboard"][1][0]["url"] == "https://example.org/g"
    assert json.loads(call.params["link_preview_options"])["is_disabled"] is True
    assert call.params.get("disable_notification") in (None, "false", "False")
    item = await row(portal, item_id)
    assert item.status == "sent" and item.telegram_message_id == 1 and item.silent is False
    assert item.sent_at == portal.clock.now() and item.attempts == 1
    # Sent is final: nothing more to do, nothing sent again.
    assert await worker.run_once() == 0
    assert len(api.calls) == 1


async def test_parse_mode_from_payload(portal: Portal, worker: TelegramDelivery, api: ScriptedBotAPI) -> None:
    [item_id] = await add(portal)
    async with portal.db() as session, session.begin():
        item = await session.get(OutboxItem, item_id)
        item.payload = {"parse_mode": "HTML"}
    await worker.run_once()
    assert api.calls[0].params["parse_mode"] == "HTML"


async def test_server_error_backs_off_then_succeeds(
    portal: Portal, clock: FrozenClock, worker: TelegramDelivery, api: ScriptedBotAPI
) -> None:
    [item_id] = await add(portal)
    api.push(500, "Internal Server Error")
    assert await worker.run_once() == 1
    item = await row(portal, item_id)
    assert item.status == "pending" and item.attempts == 1
    assert "TelegramServerError" in (item.last_error or "") and "notice" not in item.last_error
    delay = (item.not_before - clock.now()).total_seconds()
    assert 1.0 <= delay <= 2.0  # min(2**1, 300) with jitter
    # Not due yet: nothing is sent.
    assert await worker.run_once() == 0
    clock.advance(seconds=2)
    assert await worker.run_once() == 1
    item = await row(portal, item_id)
    assert item.status == "sent" and item.attempts == 2 and item.last_error is None
    assert len(api.calls) == 2


async def test_backoff_grows_and_gives_up(
    portal: Portal, clock: FrozenClock, settings, bot: Bot, api: ScriptedBotAPI
) -> None:
    settings.delivery.delivery_max_attempts = 3
    worker = TelegramDelivery(portal, bot, "w")
    [item_id] = await add(portal)
    delays = []
    for _ in range(3):
        api.push(502, "Bad Gateway")
        worker._error_streak = -100  # no global pause between the scripted failures
        worker._chat_next.clear()  # (pacing is tested elsewhere)
        assert await worker.run_once() == 1
        item = await row(portal, item_id)
        if item.status == "pending":
            delays.append((item.not_before - clock.now()).total_seconds())
            clock.set(item.not_before)
    item = await row(portal, item_id)
    assert item.status == "failed" and item.attempts == 3
    assert "TelegramServerError" in (item.last_error or "")
    assert 1 <= delays[0] <= 2 and 2 <= delays[1] <= 4


async def test_network_error_retries(portal: Portal, clock: FrozenClock) -> None:
    # Nothing listens on this port: a connection error, as when Telegram cannot be reached.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bot = make_bot(f"http://127.0.0.1:{port}")
    try:
        worker = TelegramDelivery(portal, bot, "w")
        [item_id] = await add(portal)
        assert await worker.run_once() == 1
        item = await row(portal, item_id)
        assert item.status == "pending" and item.attempts == 1
        assert "TelegramNetworkError" in (item.last_error or "")
        assert item.not_before > clock.now()
    finally:
        await bot.session.close()


async def test_dropped_connection_retries(portal: Portal, worker: TelegramDelivery, api: ScriptedBotAPI) -> None:
    [item_id] = await add(portal)
    api.push(0)
    await worker.run_once()
    item = await row(portal, item_id)
    assert item.status == "pending" and item.attempts == 1


async def test_bad_request_fails_at_once(portal: Portal, worker: TelegramDelivery, api: ScriptedBotAPI) -> None:
    [item_id] = await add(portal)
    api.push(400, "Bad Request: can't parse entities")
    assert await worker.run_once() == 1
    item = await row(portal, item_id)
    assert item.status == "failed" and item.attempts == 1
    assert "can't parse entities" in (item.last_error or "")


async def test_retry_after_pauses_everything_and_is_not_an_attempt(
    portal: Portal, worker: TelegramDelivery, api: ScriptedBotAPI
) -> None:
    first = await add(portal, chat_id=1001)
    second = await add(portal, chat_id=1002)
    api.push(429, "Too Many Requests: retry after 1", retry_after=1)
    t0 = time.monotonic()
    assert await worker.run_once() == 2
    assert time.monotonic() - t0 >= 1.0
    assert sorted(c.chat_id for c in api.calls) == [1001, 1001, 1002]
    flood_at = api.calls[0].at
    # Everything after the 429 waited out its retry_after.
    assert all(c.at - flood_at >= 0.99 for c in api.calls[1:])
    for item_id in first + second:
        item = await row(portal, item_id)
        assert item.status == "sent" and item.attempts == 1


async def test_forbidden_marks_chat_blocked_and_emails_important(
    portal: Portal, worker: TelegramDelivery, api: ScriptedBotAPI
) -> None:
    important, plain = await add(portal, 2, chat_id=2002, important=True, fallback_email="parent@example.org")
    async with portal.db() as session, session.begin():
        (await session.get(OutboxItem, plain)).important = False
    api.push(403, "Forbidden: bot was blocked by the user")
    assert await drain(worker) == 2
    assert len(api.calls) == 1  # no send after the 403
    assert (await row(portal, important)).status == "emailed"
    assert (await row(portal, plain)).status == "blocked"
    [mail] = await emails(portal)
    assert mail.to_addr == "parent@example.org" and mail.outbox_id == important
    assert mail.dedupe_key == f"outbox:{important}" and "notice 0" in mail.body
    async with portal.db() as session:
        chat = await session.get(Chat, 2002)
        assert chat is not None and chat.blocked_at is not None
    # A later notice to the blocked chat is never sent to Telegram.
    [later] = await add(portal, chat_id=2002)
    assert await worker.run_once() == 1
    assert len(api.calls) == 1
    assert (await row(portal, later)).status == "blocked"


async def test_chat_already_blocked_uses_chat_email(portal: Portal, worker: TelegramDelivery, api: ScriptedBotAPI) -> None:
    async with portal.db() as session, session.begin():
        session.add(Chat(chat_id=3003, first_seen_at=portal.clock.now(), blocked_at=portal.clock.now(), fallback_email="c@example.org"))
    [item_id] = await add(portal, chat_id=3003, important=True, email_subject="Your plan")
    assert await worker.run_once() == 1
    assert api.calls == []
    assert (await row(portal, item_id)).status == "emailed"
    [mail] = await emails(portal)
    assert mail.to_addr == "c@example.org" and mail.subject == "Your plan"


async def test_no_chat(portal: Portal, worker: TelegramDelivery, api: ScriptedBotAPI) -> None:
    [important] = await add(portal, chat_id=None, important=True, fallback_email="p@example.org")
    [plain] = await add(portal, chat_id=None)
    assert await worker.run_once() == 2
    assert api.calls == []
    assert (await row(portal, important)).status == "emailed"
    assert (await row(portal, plain)).status == "failed"
    assert len(await emails(portal)) == 1


async def test_expired_lease_is_reclaimed_and_live_one_respected(
    portal: Portal, clock: FrozenClock, worker: TelegramDelivery, api: ScriptedBotAPI
) -> None:
    dead, live = await add(portal, 2, chat_id=4004)
    [other_chat] = await add(portal, chat_id=5005)
    async with portal.db() as session, session.begin():
        d = await session.get(OutboxItem, dead)
        d.status, d.locked_by, d.locked_until = "sending", "dead-worker", clock.now() - timedelta(seconds=1)
        lv = await session.get(OutboxItem, other_chat)
        lv.status, lv.locked_by, lv.locked_until = "sending", "live-worker", clock.now() + timedelta(seconds=60)
    await drain(worker)
    # The dead worker's row is taken over (counted as an attempt); the live worker's chat is left alone.
    assert [c.chat_id for c in api.calls] == [4004, 4004]
    assert (await row(portal, dead)).status == "sent" and (await row(portal, dead)).attempts == 2
    assert (await row(portal, live)).status == "sent"
    assert (await row(portal, other_chat)).status == "sending"


async def test_only_rows_still_held_are_recorded(portal: Portal, worker: TelegramDelivery) -> None:
    [item_id] = await add(portal)
    async with portal.db() as session, session.begin():
        item = await session.get(OutboxItem, item_id)
        item.status, item.locked_by = "sending", "someone-else"
    from notifications.telegram import _Row

    r = _Row(item_id, 1001, "notice", False, "x", {}, None, None, 0)
    assert await worker._record(r, status="sent") is False
    assert (await row(portal, item_id)).status == "sending"


async def test_quiet_hours_with_scripted_api(
    portal: Portal, clock: FrozenClock, worker: TelegramDelivery, api: ScriptedBotAPI
) -> None:
    clock.set(datetime(2026, 11, 24, 22, 30, tzinfo=UTC))
    [reminder] = await add(portal, kind=REMINDER)
    [notice] = await add(portal, chat_id=1002)
    await worker.run_once()
    assert [c.chat_id for c in api.calls] == [1002]
    assert api.calls[0].params["disable_notification"] in ("true", "True")
    r = await row(portal, reminder)
    assert r.status == "pending" and r.not_before == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert (await row(portal, notice)).silent is True


async def test_chat_order_and_spacing(portal: Portal, worker: TelegramDelivery, api: ScriptedBotAPI) -> None:
    ids = await add(portal, 3, chat_id=6006) + await add(portal, 3, chat_id=7007)
    while await worker.run_once():
        pass
    assert [(await row(portal, i)).status for i in ids] == ["sent"] * 6
    for chat in (6006, 7007):
        calls = [c for c in api.calls if c.chat_id == chat]
        assert [c.text for c in calls] == ["notice 0", "notice 1", "notice 2"]
        gaps = [b.at - a.at for a, b in zip(calls, calls[1:], strict=False)]
        assert all(g >= 1.0 for g in gaps), gaps
    # The two chats went in parallel: 6 sends in about 2 s, not 5.
    assert api.calls[-1].at - api.calls[0].at < 3.5


async def test_rate_limiter_spacing_and_pause() -> None:
    limiter = RateLimiter(50)
    t0 = time.monotonic()
    stamps = []
    for _ in range(5):
        await limiter.acquire()
        stamps.append(time.monotonic())
    # On schedule (a wake-up a few ms late keeps its slot, so no drift and no burst).
    assert all(b - a >= 0.014 for a, b in zip(stamps, stamps[1:], strict=False))
    assert stamps[-1] - stamps[0] >= 4 * 0.02 - 0.006
    limiter.pause(0.3)
    await limiter.acquire()
    assert time.monotonic() - t0 >= 0.3


def test_email_body_plain_text() -> None:
    body = email_body(
        "<b>Draft plan</b> &amp; letter",
        {"parse_mode": "HTML", "buttons": [[{"text": "Read it", "url": "https://x.example/d/1"}, {"text": "Ok", "callback_data": "k"}]]},
    )
    assert body.startswith("Draft plan & letter")
    assert "Read it: https://x.example/d/1" in body and "callback" not in body


async def test_stop_gives_back_unsent_rows(portal: Portal, worker: TelegramDelivery, api: ScriptedBotAPI) -> None:
    ids = await add(portal, 3, chat_id=8008)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    api.first_call = asyncio.Event()
    await asyncio.wait_for(api.first_call.wait(), 10)
    stop.set()
    await asyncio.wait_for(task, 10)
    statuses = [(await row(portal, i)).status for i in ids]
    assert statuses[0] == "sent"
    assert set(statuses[1:]) <= {"pending", "sent"}
    assert "sending" not in statuses


def test_postgres_claim_skips_locked_rows(portal: Portal, bot: Bot) -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    worker = TelegramDelivery(portal, bot, "w")
    now = portal.clock.now()
    pg = str(worker.claim_statement(now, postgres=True).compile(dialect=postgresql.dialect()))
    assert "FOR UPDATE SKIP LOCKED" in pg and "row_number() OVER" in pg
    lite = str(worker.claim_statement(now, postgres=False).compile(dialect=sqlite.dialect()))
    assert "FOR UPDATE" not in lite and "row_number() OVER" in lite


async def test_another_worker_waits_out_the_chat_cooldown(portal: Portal, bot: Bot, api: ScriptedBotAPI) -> None:
    """A chat one worker just sent to is left alone by another for a per-chat interval (real
    time, so a restarted worker under the frozen test clock is not locked out for good)."""
    first = TelegramDelivery(portal, bot, "old-worker")
    second = TelegramDelivery(portal, bot, "new-worker")
    await add(portal, chat_id=9009)
    assert await first.run_once() == 1
    await add(portal, chat_id=9009)
    deadline = time.monotonic() + 5
    while not await second.run_once():  # short polls with a deadline
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    a, b = api.calls
    assert b.at - a.at >= 1.0


# --- a worker that is gone ----------------------------------------------------------------------


async def _held_by(portal: Portal, holder: str, chat_id: int) -> int:
    """A notice claimed by `holder` with a lease that runs for two more minutes."""
    [row_id] = await add(portal, chat_id=chat_id)
    async with portal.db() as s, s.begin():
        row = await s.get(OutboxItem, row_id)
        row.status, row.locked_by = "sending", holder
        row.locked_until = portal.clock.now() + timedelta(seconds=120)
    return row_id


async def test_notices_of_a_worker_that_is_gone_are_taken_back_at_once(portal: Portal, bot: Bot, api: ScriptedBotAPI):
    import sys

    from core.models import WorkerHeartbeat
    from notifications.liveness import HOST, Heartbeat, new_worker_id, wall_now

    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")  # a process that has ended
    await gone.wait()
    killed = await _held_by(portal, f"worker:{HOST}:{gone.pid}:deadbeef:tg", 7001)
    far_stale = await _held_by(portal, "worker:otherhost:4242:aaaa0000:tg", 7002)
    far_alive = await _held_by(portal, "worker:otherhost:4343:bbbb0000:tg", 7003)
    unknown = await _held_by(portal, "someone-else", 7004)
    stopped_here = new_worker_id()
    beat = Heartbeat(portal, stopped_here)
    await beat.start()
    await beat.stop()  # a worker of this process that has stopped (a restart in one process)
    restarted = await _held_by(portal, f"{stopped_here}:tg", 7005)
    async with portal.db() as s, s.begin():
        s.add(WorkerHeartbeat(worker_id="worker:otherhost:4242:aaaa0000", host="otherhost", pid=4242,
                              started_at=wall_now() - timedelta(minutes=5), seen_at=wall_now() - timedelta(seconds=20)))
        s.add(WorkerHeartbeat(worker_id="worker:otherhost:4343:bbbb0000", host="otherhost", pid=4343,
                              started_at=wall_now() - timedelta(minutes=5), seen_at=wall_now() - timedelta(seconds=1)))

    assert await TelegramDelivery(portal, bot, new_worker_id() + ":tg").run_once() == 3
    async with portal.db() as s:
        status = {r.id: r.status for r in (await s.scalars(select(OutboxItem))).all()}
    assert {status[killed], status[far_stale], status[restarted]} == {"sent"}
    # A worker seen a second ago, and a holder of unknown shape, keep their leases.
    assert status[far_alive] == status[unknown] == "sending"
