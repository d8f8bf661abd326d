"""On PostgreSQL a new notice wakes the delivery workers at once (NOTIFY ehcp_outbox in the
transaction that adds it; each worker LISTENs), instead of at their next `delivery_interval`.
SQLite keeps the interval alone: these tests run on PostgreSQL only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED, JobEvent

from core.outbox import OUTBOX_CHANNEL, enqueue, enqueue_email
from core.portal import Portal
from notifications import worker as worker_module
from notifications.mail import Mailer
from notifications.worker import OutboxWake, run_delivery
from standin import BotAPIStandIn
from tests.conftest import TEST_DATABASE

pytestmark = pytest.mark.skipif(TEST_DATABASE is None, reason="LISTEN/NOTIFY is PostgreSQL's")

TOKEN = "123456:TEST-token"
LONG = 30.0  # the idle interval: a send within a few seconds can only be the NOTIFY's doing


@pytest.fixture
async def stand() -> AsyncIterator[BotAPIStandIn]:
    s = BotAPIStandIn(token=TOKEN, bot_username="ehcp_test_bot")
    await s.start()
    yield s
    await s.stop()


@pytest.fixture
async def bot(stand: BotAPIStandIn) -> AsyncIterator[Bot]:
    b = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(stand.base_url)))
    yield b
    await b.session.close()


async def listen(portal: Portal) -> tuple[Any, asyncio.Queue[str]]:
    import asyncpg

    _, kwargs = portal.engine.dialect.create_connect_args(portal.engine.url)
    con = await asyncpg.connect(**kwargs)
    heard: asyncio.Queue[str] = asyncio.Queue()
    await con.add_listener(OUTBOX_CHANNEL, lambda _c, _pid, channel, _payload: heard.put_nowait(channel))
    return con, heard


async def test_adding_a_notice_or_an_email_notifies_at_commit_only(portal: Portal) -> None:
    con, heard = await listen(portal)
    try:
        async with portal.db() as s, s.begin():
            for i in range(3):
                enqueue(s, now=portal.clock.now(), text=f"n{i}", chat_id=7)
            await s.flush()
            enqueue(s, now=portal.clock.now(), text="n3", chat_id=7)
            await s.flush()
            assert heard.empty()  # nothing before the commit
        assert await asyncio.wait_for(heard.get(), 5) == OUTBOX_CHANNEL
        async with portal.db() as s, s.begin():
            enqueue_email(s, now=portal.clock.now(), to_addr="p@example.org", subject="Code", body="1")
        assert await asyncio.wait_for(heard.get(), 5) == OUTBOX_CHANNEL
        with pytest.raises(RuntimeError):
            async with portal.db() as s, s.begin():
                enqueue(s, now=portal.clock.now(), text="never", chat_id=7)
                await s.flush()
                raise RuntimeError("rolled back")
        # A later commit's notification arrives; the rolled-back one never did (and one
        # transaction's repeats were folded into one: the queue holds exactly this one).
        async with portal.db() as s, s.begin():
            enqueue(s, now=portal.clock.now(), text="n4", chat_id=7)
        assert await asyncio.wait_for(heard.get(), 5) == OUTBOX_CHANNEL
        assert heard.empty()
    finally:
        await con.close()


class Running:
    """run_delivery with hooks: its OutboxWake, and an event set while the Telegram job is idle
    (its last tick found nothing to do and no other has started: nothing more runs until the
    next interval or a wake-up)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.wake: OutboxWake | None = None
        self.idle = asyncio.Event()
        running = self
        build = worker_module.build_scheduler

        class Wake(OutboxWake):
            def __init__(self, *a: Any, **kw: Any) -> None:
                super().__init__(*a, **kw)
                running.wake = self

        def build_scheduler(*a: Any, **kw: Any) -> Any:
            scheduler = build(*a, **kw)

            def ran(event: JobEvent) -> None:
                if event.job_id != "deliver_telegram":
                    return
                if event.code == EVENT_JOB_SUBMITTED or getattr(event, "retval", 0):
                    running.idle.clear()
                else:
                    running.idle.set()

            scheduler.add_listener(ran, EVENT_JOB_EXECUTED | EVENT_JOB_SUBMITTED)
            return scheduler

        monkeypatch.setattr(worker_module, "OutboxWake", Wake)
        monkeypatch.setattr(worker_module, "build_scheduler", build_scheduler)


async def until(condition: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():  # short polls with a deadline
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def send_one(portal: Portal, stand: BotAPIStandIn, running: Running, chat_id: int, text: str) -> float:
    """Once the worker is idle, add a notice; how long until the stand-in has it."""
    await asyncio.wait_for(running.idle.wait(), 10)
    started = time.monotonic()
    async with portal.db() as s, s.begin():
        enqueue(s, now=portal.clock.now(), text=text, chat_id=chat_id)
    got = await stand.world.changed.wait_for(
        lambda: any(r.method.lower() == "sendmessage" and r.message.text == text for r in stand.sent_log), 5
    )
    assert got, f"{text!r} was not sent within 5 s (the interval is {LONG} s)"
    return time.monotonic() - started


async def test_a_new_notice_wakes_an_idle_worker_and_after_a_dropped_connection(
    portal: Portal, settings: Any, stand: BotAPIStandIn, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.delivery.delivery_interval = LONG
    running = Running(monkeypatch)
    u = stand.user(first_name="Wake")
    stop = asyncio.Event()
    task = asyncio.create_task(run_delivery(portal, bot, stop, mailer=Mailer(settings, portal.clock)))
    try:
        await until(lambda: running.wake is not None and running.wake.listening.is_set(), 10, "the LISTEN")
        wake = running.wake
        assert wake is not None
        assert await send_one(portal, stand, running, u.id, "Sent at once") < 5
        assert wake.notified >= 1
        heard = wake.notified

        # The listening connection is cut (a restarted database, a dropped network): the worker
        # listens again, and the next notice is still sent at once.
        import asyncpg

        _, kwargs = portal.engine.dialect.create_connect_args(portal.engine.url)
        admin = await asyncpg.connect(**kwargs)
        try:
            cut = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        assert cut == 1
        await until(lambda: wake.connections == 2 and wake.listening.is_set(), 10, "the LISTEN again")
        assert await send_one(portal, stand, running, u.id, "Sent at once again") < 5
        assert wake.notified > heard  # heard on the new connection
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    assert [m.text for m in u.messages] == ["Sent at once", "Sent at once again"]
