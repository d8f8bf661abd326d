"""Delivery end to end over real HTTP: the outbox worker, aiogram, and the Bot API stand-in
enforcing Telegram's limits; email through a real SMTP server; a worker process killed and
restarted. Waits are on the stand-in's change signal or short DB polls with a deadline."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import func, select

from core.chats import ChatService
from core.clock import FrozenClock
from core.config import Settings
from core.models import EmailItem, OutboxItem
from core.outbox import REMINDER, enqueue, enqueue_email
from core.portal import Portal
from notifications.mail import EmailDelivery, Mailer
from notifications.telegram import TelegramDelivery
from notifications.worker import run_delivery
from standin import BotAPIStandIn
from tests.stack import free_port
from tests.test_delivery_errors import drain
from tests.test_mail import SMTPServer

TOKEN = "123456:TEST-token"
ROOT = Path(__file__).resolve().parent.parent


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


async def wait_until(stand: BotAPIStandIn, condition: Callable[[], bool], within: float, what: str) -> None:
    """Wait on the stand-in's change signal (no polling, no fixed sleep)."""
    if not await stand.world.changed.wait_for(condition, within):
        raise AssertionError(f"timed out after {within}s waiting for {what}")


async def add(portal: Portal, chat_id: int | None, text: str, *, now: datetime | None = None, **kw: object) -> int:
    async with portal.db() as session, session.begin():
        item = enqueue(session, now=now or portal.clock.now(), text=text, chat_id=chat_id, **kw)  # type: ignore[arg-type]
        await session.flush()
        return item.id


async def statuses(portal: Portal) -> dict[int, str]:
    async with portal.db() as session:
        return dict((await session.execute(select(OutboxItem.id, OutboxItem.status))).all())


def sends(stand: BotAPIStandIn) -> list:
    return [r for r in stand.sent_log if r.method.lower() == "sendmessage"]


async def deliver_until(
    portal: Portal, settings: Settings, stand: BotAPIStandIn, bot: Bot, n: int, within: float, what: str
) -> float:
    """run_delivery (as in service: the ticks come from the scheduler) until `n` messages are
    sent, then stopped; the seconds it took."""
    stop = asyncio.Event()
    started = time.monotonic()
    task = asyncio.create_task(run_delivery(portal, bot, stop, mailer=Mailer(settings, portal.clock)))
    try:
        await wait_until(stand, lambda: len(sends(stand)) >= n, within, what)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    return time.monotonic() - started


async def test_2000_notices_to_200_chats_within_limits(
    portal: Portal, settings: Settings, stand: BotAPIStandIn, bot: Bot
) -> None:
    stand.set_limits(global_per_second=30, per_chat_per_second=1, slack=0.05)
    users = [stand.user(first_name=f"Parent{i}") for i in range(200)]
    texts: dict[int, list[str]] = {}
    now = portal.clock.now()
    async with portal.db() as session, session.begin():
        # Chat by chat (the worst order for fairness): each chat's ten notices in a row.
        for u in users:
            texts[u.id] = [f"Notice {j} for chat {u.id}" for j in range(10)]
            for t in texts[u.id]:
                enqueue(session, now=now, text=t, chat_id=u.id)
    elapsed = await deliver_until(portal, settings, stand, bot, 2000, 150, "2,000 sends")

    log = sends(stand)
    assert len(log) == 2000  # exactly once each
    got: dict[int, list[str]] = defaultdict(list)
    for r in log:
        got[r.chat_id].append(r.message.text)
    assert got == texts  # every chat got its ten, in order
    assert Counter((await statuses(portal)).values()) == {"sent": 2000}
    # No chat had two messages within a second (times are the stand-in's accepted-send times).
    assert stand.stats.min_gap() >= 1.0
    # Overall, never more than 30 in any second.
    times = sorted(r.at for r in log)
    assert max(sum(1 for t in times[i : i + 31] if t - times[i] < 1.0) for i in range(len(times))) <= 30
    # Any 429 was waited out (all delivered above); at the default 29/s there should be none at all.
    assert stand.stats.rate_limited == 0
    # Not slower than needed: 2,000 at 29/s is 69 s.
    assert elapsed < 95, elapsed


async def test_blocked_chat_falls_back_to_email(
    portal: Portal, settings: Settings, stand: BotAPIStandIn, bot: Bot, clock: FrozenClock
) -> None:
    port = free_port()
    smtp = SMTPServer(port)
    await smtp.start()
    try:
        settings.mail.smtp_host, settings.mail.smtp_port, settings.mail.smtp_tls = "127.0.0.1", port, "none"
        blocker, other = stand.user(first_name="Blocker"), stand.user(first_name="Other")
        important = await add(
            portal, blocker.id, "Your draft plan is ready", important=True,
            fallback_email="blocker@example.org", email_subject="Draft EHC plan",
        )
        plain = await add(portal, blocker.id, "A new message from the SEND team")
        later = await add(portal, blocker.id, "Decision due in 7 days", important=True, fallback_email="blocker@example.org")
        fine = await add(portal, other.id, "Hello")
        await blocker.block()
        worker = TelegramDelivery(portal, bot, "w")
        assert await drain(worker) == 4
        # One attempt met the 403; nothing more was sent to that chat.
        assert [r.chat_id for r in sends(stand)] == [other.id]
        assert sum(1 for e in stand.stats.errors if e[1] == 403) == 1
        assert blocker.messages == []
        assert await ChatService(portal).is_blocked(blocker.id)
        st = await statuses(portal)
        assert (st[important], st[plain], st[later], st[fine]) == ("emailed", "blocked", "emailed", "sent")
        # A notice queued later is settled without a send.
        again = await add(portal, blocker.id, "Another one")
        assert await worker.run_once() == 1
        assert (await statuses(portal))[again] == "blocked"
        assert sum(1 for e in stand.stats.errors if e[1] == 403) == 1

        mail = EmailDelivery(portal, Mailer(settings, clock), "mail")
        assert await mail.run_once() == 2
        msgs = smtp.handler.messages
        assert sorted(m["Subject"] for m in msgs) == ["A message from the SEND team", "Draft EHC plan"]
        assert all(m["To"] == "blocker@example.org" for m in msgs)
        bodies = " ".join(m.get_content() for m in msgs)
        assert "Your draft plan is ready" in bodies and "A new message" not in bodies
    finally:
        await smtp.stop()


async def test_chat_marked_blocked_by_my_chat_member_gets_no_send(
    portal: Portal, stand: BotAPIStandIn, bot: Bot
) -> None:
    u = stand.user(first_name="Gone")
    # What the bot's my_chat_member handler does on "kicked".
    await ChatService(portal).mark_blocked(u.id)
    item = await add(portal, u.id, "Stage changed", important=True, fallback_email="gone@example.org")
    assert await TelegramDelivery(portal, bot, "w").run_once() == 1
    assert sends(stand) == [] and stand.stats.errors == []
    assert (await statuses(portal))[item] == "emailed"
    async with portal.db() as session:
        assert await session.scalar(select(func.count()).select_from(EmailItem)) == 1


async def test_quiet_hours(portal: Portal, stand: BotAPIStandIn, bot: Bot, clock: FrozenClock) -> None:
    clock.set(datetime(2026, 11, 24, 22, 30, tzinfo=UTC))  # 22:30 in London (GMT)
    u = stand.user(first_name="Night")
    reminder = await add(portal, u.id, "Reminder: comments due in 7 days", kind=REMINDER)
    notice = await add(portal, u.id, "The caseworker replied")
    worker = TelegramDelivery(portal, bot, "w")
    await worker.run_once()
    msg = await u.wait_for(lambda m: True, 5)
    assert msg.text == "The caseworker replied" and msg.disable_notification is True
    await u.ensure_no_message(0.2)
    async with portal.db() as session:
        r = await session.get(OutboxItem, reminder)
        assert r.status == "pending" and r.not_before == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        assert (await session.get(OutboxItem, notice)).silent is True
    clock.set(datetime(2026, 11, 25, 7, 59, tzinfo=UTC))
    assert await worker.run_once() == 0
    clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    assert await worker.run_once() == 1
    msg = await u.wait_for(lambda m: True, 5)
    assert msg.text.startswith("Reminder") and msg.disable_notification is False


async def test_stand_in_down_then_up(portal: Portal, clock: FrozenClock) -> None:
    port = free_port()
    stand = BotAPIStandIn(token=TOKEN, bot_username="ehcp_test_bot", port=port)
    await stand.start()
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(stand.base_url)))
    try:
        u = stand.user(first_name="Patient")
        item = await add(portal, u.id, "Your form was received")
        await stand.stop()
        worker = TelegramDelivery(portal, bot, "w")
        assert await worker.run_once() == 1
        async with portal.db() as session:
            r = await session.get(OutboxItem, item)
            assert r.status == "pending" and r.attempts == 1 and r.not_before > clock.now()
            assert "TelegramNetworkError" in r.last_error and "form" not in r.last_error
        assert await worker.run_once() == 0  # backing off: not due yet
        await stand.start()
        clock.set(r.not_before)
        assert await worker.run_once() == 1
        assert (await u.wait_for(lambda m: True, 5)).text == "Your form was received"
        async with portal.db() as session:
            r = await session.get(OutboxItem, item)
            assert r.status == "sent" and r.attempts == 2
    finally:
        await bot.session.close()
        await stand.stop()


def worker_env(settings: Settings, stand: BotAPIStandIn) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EHCP_")}
    env.update(
        EHCP_DATA_DIR=str(settings.storage.data_dir),
        EHCP_DATABASE_URL=settings.storage.resolved_database_url(),  # the test's (SQLite or PostgreSQL)
        EHCP_SECRET_KEY=settings.storage.secret_key.get_secret_value(),
        EHCP_BOT_TOKEN=TOKEN,
        EHCP_TELEGRAM_API_BASE=stand.base_url,
        EHCP_DELIVERY_LEASE_SECONDS="2",
        EHCP_DELIVERY_INTERVAL="0.2",
        EHCP_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


async def test_worker_killed_and_restarted(
    portal: Portal, settings: Settings, stand: BotAPIStandIn, tmp_path: Path
) -> None:
    stand.set_limits(global_per_second=30, per_chat_per_second=1, slack=0.05)
    users = [stand.user(first_name=f"P{i}") for i in range(60)]
    real_now = datetime.now(UTC)  # the worker process runs on the real clock
    total = 0
    async with portal.db() as session, session.begin():
        for j in range(4):
            for u in users:
                enqueue(session, now=real_now, text=f"notice-{u.id}-{j}", chat_id=u.id)
                total += 1
    env = worker_env(settings, stand)
    cmd = [sys.executable, "-m", "ehcp", "deliver"]

    def spawn(name: str) -> subprocess.Popen:
        # cwd is a folder with no .env, so only the environment above configures the worker.
        with open(tmp_path / f"{name}.log", "wb") as err:
            return subprocess.Popen(cmd, env=env, cwd=tmp_path, stderr=err)

    first = spawn("first")
    try:
        await wait_until(stand, lambda: len(sends(stand)) >= 60, 60, "the first worker's progress")
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait, 10)
    finally:
        if first.poll() is None:
            first.kill()
    sent_before = {i for i, s in (await statuses(portal)).items() if s == "sent"}
    assert len(sent_before) >= 50

    second = spawn("second")
    try:
        deadline = time.monotonic() + 90
        while True:  # short DB polls with a deadline
            st = await statuses(portal)
            if all(s == "sent" for s in st.values()):
                break
            assert time.monotonic() < deadline, Counter(st.values())
            assert second.poll() is None, (tmp_path / "second.log").read_text()
            await asyncio.sleep(0.1)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(second.wait, 20) == 0  # a clean stop on SIGTERM
    finally:
        if second.poll() is None:
            second.kill()

    async with portal.db() as session:
        text_of = dict((await session.execute(select(OutboxItem.id, OutboxItem.text))).all())
    count = Counter(r.message.text for r in sends(stand))
    assert set(count) == set(text_of.values()) and len(count) == total  # everything delivered
    # Nothing recorded as sent before the kill was sent again.
    assert all(count[text_of[i]] == 1 for i in sent_before)
    # The only duplicates are sends in flight at the instant of the kill.
    dupes = [t for t, n in count.items() if n > 1]
    assert len(dupes) <= 2 and all(count[t] == 2 for t in dupes), dupes


async def test_scheduler_ticks_the_workers(portal: Portal, settings: Settings, stand: BotAPIStandIn, bot: Bot) -> None:
    from notifications.scheduler import build_scheduler

    settings.delivery.delivery_interval = 0.2
    u = stand.user(first_name="Sched")
    important = await add(portal, None, "Access activated", important=True, fallback_email="s@example.org")
    await add(portal, u.id, "Access activated")
    scheduler = build_scheduler(portal, bot, Mailer(settings, portal.clock))
    for job_id in ("deliver_telegram", "deliver_email"):
        job = scheduler.get_job(job_id)
        assert job.max_instances == 1 and job.coalesce is True and job.misfire_grace_time >= 60
        assert job.next_run_time is not None  # the first tick at start
    assert scheduler.get_job("daily_cleanup") is not None
    scheduler.start()
    try:
        assert (await u.wait_for(lambda m: True, 10)).text == "Access activated"
        deadline = time.monotonic() + 10
        while not list(settings.mail_dir.glob("*.eml")):  # short polls with a deadline
            assert time.monotonic() < deadline, "no email written"
            await asyncio.sleep(0.05)
        assert (await statuses(portal))[important] == "emailed"
    finally:
        scheduler.shutdown(wait=False)


async def test_two_workers_share_the_outbox(portal: Portal, settings: Settings, stand: BotAPIStandIn) -> None:
    """Two workers (each with half the rate: Telegram's limit is per bot) deliver everything
    exactly once, each chat's notices in order and a second apart (the cooldown between workers
    is in real time, so it works with the frozen clock too)."""
    stand.set_limits(global_per_second=30, per_chat_per_second=1, slack=0.05)
    settings.delivery.delivery_rate = 12.5
    users = [stand.user(first_name=f"W{i}") for i in range(50)]
    async with portal.db() as session, session.begin():
        for j in range(4):
            for u in users:
                enqueue(session, now=portal.clock.now(), text=f"{u.id}:{j}", chat_id=u.id)
    bots = [Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(stand.base_url))) for _ in range(2)]
    stop = asyncio.Event()
    workers = [TelegramDelivery(portal, b, f"w{n}") for n, b in enumerate(bots)]
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    started = time.monotonic()
    try:
        await wait_until(stand, lambda: len(sends(stand)) >= 200, 60, "200 sends")
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for b in bots:
            await b.session.close()
    elapsed = time.monotonic() - started
    texts = [r.message.text for r in sends(stand)]
    assert len(texts) == len(set(texts)) == 200
    for u in users:
        assert [t for t in texts if t.startswith(f"{u.id}:")] == [f"{u.id}:{j}" for j in range(4)]
    async with portal.db() as session:
        by_worker = Counter((await session.scalars(select(OutboxItem.locked_by))).all())
    assert set(by_worker) == {"w0", "w1"} and min(by_worker.values()) >= 40, by_worker
    assert Counter((await statuses(portal)).values()) == {"sent": 200}
    assert stand.stats.min_gap() >= 1.0 and stand.stats.rate_limited == 0
    assert elapsed < 14  # both worked: 200 at 12.5/s alone would take 16 s


async def test_run_delivery_reruns_a_busy_tick_at_once(
    portal: Portal, settings: Settings, stand: BotAPIStandIn, bot: Bot
) -> None:
    """run_delivery ticks from APScheduler; a tick that found work runs again at once, so a
    backlog goes at the full rate even with a long idle interval (here 5 s: three batches with
    the interval between them would take over 14 s)."""
    stand.set_limits(global_per_second=30, per_chat_per_second=1, slack=0.05)
    settings.delivery.delivery_interval = 5.0
    users = [stand.user(first_name=f"R{i}") for i in range(50)]
    async with portal.db() as session, session.begin():
        for u in users:
            for j in range(3):
                enqueue(session, now=portal.clock.now(), text=f"{u.id}:{j}", chat_id=u.id)
    elapsed = await deliver_until(portal, settings, stand, bot, 150, 30, "150 sends")
    assert Counter((await statuses(portal)).values()) == {"sent": 150}
    assert elapsed < 10, elapsed  # 150 at 29/s is 5.2 s
    assert stand.stats.min_gap() >= 1.0 and stand.stats.rate_limited == 0


async def test_run_delivery_stop_finishes_sends_and_gives_back_the_rest(
    portal: Portal, settings: Settings, stand: BotAPIStandIn, bot: Bot
) -> None:
    """Stopping in the middle of a batch: the sends in flight are recorded, the unsent claims go
    back to pending (none is left `sending`), and nothing is sent after run_delivery returns."""
    users = [stand.user(first_name=f"S{i}") for i in range(40)]
    async with portal.db() as session, session.begin():
        for u in users:
            enqueue(session, now=portal.clock.now(), text=f"stop {u.id}", chat_id=u.id)
    stop = asyncio.Event()
    task = asyncio.create_task(run_delivery(portal, bot, stop, mailer=Mailer(settings, portal.clock)))
    await wait_until(stand, lambda: len(sends(stand)) >= 5, 10, "the first sends")
    stop.set()
    await asyncio.wait_for(task, 10)
    sent_then = len(sends(stand))
    by_status = Counter((await statuses(portal)).values())
    assert set(by_status) == {"sent", "pending"}, by_status
    assert by_status["sent"] == sent_then < 40  # every send recorded; the rest given back
    await asyncio.sleep(0.3)
    assert len(sends(stand)) == sent_then


async def test_run_delivery_without_a_bot_sends_only_email(portal: Portal, settings: Settings) -> None:
    async with portal.db() as session, session.begin():
        enqueue_email(session, now=portal.clock.now(), to_addr="p@example.org", subject="Your code", body="Code 1")
    notice = await add(portal, 4242, "Waits for a bot")
    stop = asyncio.Event()
    task = asyncio.create_task(run_delivery(portal, None, stop))
    try:
        deadline = time.monotonic() + 10
        while not list(settings.mail_dir.glob("*.eml")):  # short polls with a deadline
            assert time.monotonic() < deadline, "no email written"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    async with portal.db() as session:
        [email] = (await session.scalars(select(EmailItem))).all()
    assert email.status == "sent"
    assert (await statuses(portal))[notice] == "pending"  # no Telegram job without a bot
