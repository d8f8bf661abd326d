"""Health and metrics as a council's monitoring reads them: /healthz, /readyz and /metrics over
real HTTP on loopback, with the real database (SQLite, or PostgreSQL with EHCP_TEST_DATABASE_URL),
the real bot fed by the Bot API stand-in, and the real delivery against a scripted Bot API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from api import bound_port, start_api
from bot.factory import create_bot, create_dispatcher
from bot.updates import run_polling
from bot.webhook import SECRET_HEADER, run_webhook
from core.clock import FrozenClock
from core.config import Settings
from core.inbox import UpdateInbox
from core.outbox import REMINDER, enqueue
from core.portal import Portal, create_portal
from core.tokens import create_token
from notifications.pacing import attach
from notifications.telegram import TelegramDelivery
from notifications.worker import make_pacer
from ops import Metrics, TelegramCheck, start_ops_server
from tests.harness import point_at
from tests.stack import free_port
from tests.test_delivery_errors import ScriptedBotAPI, make_bot

SECRET = "s3cret-Token_for-the-webhook"


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        return r.status, r.headers.get("Content-Type", ""), await r.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, labels): value} from Prometheus's text format."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text)[(name, tuple(sorted(labels.items())))]


@pytest.fixture
async def ops_url(portal: Portal) -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """Start an ops server (as the delivery worker does) with the given checks; its base URL."""
    runners = []

    async def start(p: Portal | None = None, **kw: object) -> str:
        runner = await start_ops_server("127.0.0.1", 0, p or portal, **kw)  # type: ignore[arg-type]
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for r in runners:
        await r.cleanup()


async def add(portal: Portal, chat_id: int | None, text: str, *, at: timedelta = timedelta(0), **kw: object) -> int:
    """A notice written `at` from the clock's now (through core's enqueue)."""
    async with portal.db() as session, session.begin():
        item = enqueue(session, now=portal.clock.now() + at, text=text, chat_id=chat_id, **kw)  # type: ignore[arg-type]
        await session.flush()
        return item.id


# --- /healthz and /readyz ---------------------------------------------------------------------


async def test_ready_when_the_database_answers(ops_url):
    base = await ops_url()
    assert await get(f"{base}/healthz") == (200, "text/plain; charset=utf-8", "ok")
    status, kind, body = await get(f"{base}/readyz")
    assert (status, kind) == (200, "application/json; charset=utf-8")
    assert json.loads(body) == {"status": "ok", "checks": {"database": "ok"}}


@pytest.mark.parametrize("where", ["postgresql", "sqlite"])
async def test_not_ready_naming_the_database_when_it_cannot_be_reached(ops_url, tmp_path: Path, where: str):
    if where == "postgresql":  # a server that is not there (nothing listens on the port)
        url = f"postgresql+asyncpg://ehcp:db-pass-w0rd@127.0.0.1:{free_port()}/ehcp"
    else:  # a file in a folder that was removed
        gone = tmp_path / "gone"
        gone.mkdir()
        url = f"sqlite+aiosqlite:///{gone / 'ehcp.sqlite3'}"
        gone.rmdir()
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=url, secret_key="k" * 48)
    down = create_portal(settings, FrozenClock())
    try:
        base = await ops_url(down)
        assert (await get(f"{base}/healthz"))[0] == 200  # alive: restarting it would not help
        status, _, body = await get(f"{base}/readyz")
        assert status == 503
        assert json.loads(body) == {"status": "unavailable", "checks": {"database": "failed"}}
        assert "db-pass-w0rd" not in body and "127.0.0.1" not in body and "gone" not in body
        # The metrics still answer; what only the database knows is unknown, not zero.
        status, _, text = await get(f"{base}/metrics")
        assert status == 200
        assert value(text, "ehcp_outbox_due") != value(text, "ehcp_outbox_due")  # NaN
    finally:
        await down.close()


async def test_degraded_naming_redis_when_it_does_not_answer(ops_url):
    """Still ready (200): the API, the pages and the inbox need only the database; a load
    balancer must not take every replica out because Redis is down. The body says so."""
    client = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    try:
        base = await ops_url(redis_ping=client.ping)
        status, _, body = await get(f"{base}/readyz")
        found = json.loads(body)
        assert status == 200 and found["status"] == "degraded"
        assert found["checks"]["database"] == "ok" and found["checks"]["redis"] in ("failed", "timeout")
    finally:
        await client.aclose()


async def test_telegram_is_asked_at_most_every_30_seconds(ops_url, stand):
    bot = Bot(stand.token, session=AiohttpSession(api=TelegramAPIServer.from_base(stand.base_url)))
    now = [1000.0]
    calls: list[str] = []

    async def get_me() -> object:
        calls.append("getMe")
        return await bot.get_me()

    check = TelegramCheck(get_me, clock=lambda: now[0])
    bot.session.middleware(check.middleware)
    try:
        base = await ops_url(telegram=check)
        for _ in range(3):  # one getMe, then its answer is used
            status, _, body = await get(f"{base}/readyz")
            assert status == 200 and '"telegram": "ok"' in body
        assert calls == ["getMe"]
        now[0] += 31
        assert (await get(f"{base}/readyz"))[0] == 200
        assert calls == ["getMe"] * 2
        # The bot's own calls count: after one, no probe is needed for 30 seconds.
        now[0] += 31
        await bot.get_me()
        now[0] += 29
        assert (await get(f"{base}/readyz"))[0] == 200
        assert calls == ["getMe"] * 2
    finally:
        await bot.session.close()


async def test_degraded_naming_telegram_when_it_does_not_answer_and_not_asked_again_at_once(ops_url):
    bot = make_bot(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    now = [1000.0]
    calls = []

    async def get_me() -> object:
        calls.append(1)
        return await bot.get_me()

    try:
        base = await ops_url(telegram=TelegramCheck(get_me, clock=lambda: now[0]))
        for _ in range(2):
            status, _, body = await get(f"{base}/readyz")
            assert status == 200 and json.loads(body)["status"] == "degraded"
            assert json.loads(body)["checks"] == {"database": "ok", "telegram": "failed"}
        assert len(calls) == 1
    finally:
        await bot.session.close()


# --- /metrics: the outbox, from the database at scrape time -----------------------------------


async def test_metrics_show_the_queue_and_how_long_its_oldest_notice_has_waited(ops_url, portal, clock: FrozenClock):
    base = await ops_url()
    status, kind, text = await get(f"{base}/metrics")
    assert status == 200 and kind.startswith("text/plain; version=")
    assert value(text, "ehcp_outbox_due") == 0 and value(text, "ehcp_outbox_oldest_due_age_seconds") == 0

    await add(portal, 5001, "Your child's draft plan is ready", at=timedelta(seconds=-120))
    await add(portal, 5002, "A new message from the SEND team", at=timedelta(seconds=-5))
    await add(portal, 5003, "Reminder: annual review", kind=REMINDER, not_before=clock.now() + timedelta(minutes=10))
    text = (await get(f"{base}/metrics"))[2]
    assert value(text, "ehcp_outbox_due") == 2  # the reminder is not due yet
    assert value(text, "ehcp_outbox_oldest_due_age_seconds") == 120

    clock.advance(minutes=10)
    text = (await get(f"{base}/metrics"))[2]
    assert value(text, "ehcp_outbox_due") == 3
    assert value(text, "ehcp_outbox_oldest_due_age_seconds") == 720
    # Counts and times only: nothing of a family.
    for private in ("5001", "draft plan", "SEND team", "annual review"):
        assert private not in text


async def test_metrics_count_deliveries_429s_and_the_share_sent_within_10_seconds(
    ops_url, portal, clock: FrozenClock
):
    api = ScriptedBotAPI()
    await api.start()
    bot = make_bot(api.base_url)
    metrics = Metrics()
    try:
        base = await ops_url(metrics=metrics)
        late = await add(portal, 1001, "written half a minute ago", at=timedelta(seconds=-30))
        prompt = await add(portal, 1002, "written now")
        assert late < prompt
        api.push(429, "Too Many Requests: retry after 1", retry_after=1)  # waited out, same notice again
        worker = TelegramDelivery(portal, bot, "ops-test", metrics=metrics)
        assert await worker.run_once() == 2
        assert len(api.calls) == 3

        clock.advance(seconds=11)  # both have had their 10 seconds
        text = (await get(f"{base}/metrics"))[2]
        assert value(text, "ehcp_deliveries_total", result="sent") == 2
        assert value(text, "ehcp_deliveries_total", result="failed") == 0
        assert value(text, "ehcp_telegram_429_total") == 1
        assert value(text, "ehcp_outbox_due") == 0
        assert value(text, "ehcp_notices_due_last_hour") == 2
        assert value(text, "ehcp_notices_sent_within_10s_ratio") == 0.5
        assert value(text, "ehcp_notice_delay_seconds_count") == 2
        assert value(text, "ehcp_notice_delay_seconds_bucket", le="10.0") == 1
        assert value(text, "ehcp_notice_delay_seconds_bucket", le="30.0") == 2

        clock.advance(hours=1)  # an hour on, nothing was due in the last hour: unknown, not 100%
        text = (await get(f"{base}/metrics"))[2]
        assert value(text, "ehcp_notices_due_last_hour") == 0
        share = value(text, "ehcp_notices_sent_within_10s_ratio")
        assert share != share  # NaN
    finally:
        await bot.session.close()
        await api.stop()


# --- /metrics: updates, counted by the bot --------------------------------------------------


async def test_metrics_count_updates_received_by_polling_and_handled(ops_url, portal, stand):
    point_at(portal, stand)
    metrics = Metrics()
    base = await ops_url(metrics=metrics)
    bot = attach(create_bot(portal.settings), make_pacer(portal.settings))
    stop = asyncio.Event()
    task = asyncio.create_task(run_polling(bot, create_dispatcher(portal), UpdateInbox(portal, bot_id=stand.bot_id),
                                           stop, poll_timeout=1, metrics=metrics))
    try:
        alex, sam = stand.user(first_name="Alex"), stand.user(first_name="Sam")
        await alex.send("/start")
        await sam.send("/start")
        await alex.next_message()
        await sam.next_message()
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)  # what is in hand is finished first
        await bot.session.close()
    text = (await get(f"{base}/metrics"))[2]
    assert value(text, "ehcp_updates_received_total", source="polling") == 2
    assert value(text, "ehcp_updates_received_total", source="webhook") == 0
    assert value(text, "ehcp_updates_handled_total", outcome="done") == 2
    assert value(text, "ehcp_updates_handled_total", outcome="failed") == 0
    assert value(text, "ehcp_update_handling_seconds_count") == 2
    assert str(alex.id) not in text and "Alex" not in text


async def test_metrics_count_updates_received_by_webhook_and_refused_requests(ops_url, portal, stand):
    point_at(portal, stand)
    metrics = Metrics()
    base = await ops_url(metrics=metrics)
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    bot = attach(create_bot(portal.settings), make_pacer(portal.settings))
    stop = asyncio.Event()
    task = asyncio.create_task(run_webhook(bot, create_dispatcher(portal), UpdateInbox(portal, bot_id=stand.bot_id),
                                           stop, url=url, secret=SECRET, host="127.0.0.1", port=port,
                                           metrics=metrics))
    try:
        assert await stand.world.changed.wait_for(lambda: stand.world.webhook is not None, 10)
        async with aiohttp.ClientSession() as http, http.post(url, json={"update_id": 1},
                                                              headers={SECRET_HEADER: "wrong"}) as r:
            assert r.status == 401
        alex = stand.user(first_name="Alex")
        await alex.send("/start")
        await alex.next_message()
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await bot.session.close()
    text = (await get(f"{base}/metrics"))[2]
    assert value(text, "ehcp_updates_received_total", source="webhook") == 1
    assert value(text, "ehcp_updates_handled_total", outcome="done") == 1
    assert value(text, "ehcp_webhook_refused_total") == 1


# --- the caseworker API serves them too, without a token -------------------------------------


async def test_the_caseworker_api_serves_health_and_metrics_without_a_token(portal):
    runner = await start_api(portal, port=0, purge_every=None)
    try:
        base = f"http://127.0.0.1:{bound_port(runner)}"
        assert await get(f"{base}/healthz") == (200, "text/plain; charset=utf-8", "ok")
        status, _, body = await get(f"{base}/readyz")
        assert status == 200 and '"database": "ok"' in body
        status, _, text = await get(f"{base}/metrics")
        assert status == 200 and value(text, "ehcp_outbox_due") == 0
        assert (await get(f"{base}/v1/notices"))[0] == 401  # the API itself still needs one
        token = await create_token(portal, "case-system")
        async with aiohttp.ClientSession() as http, http.get(
            f"{base}/v1/notices", headers={"Authorization": f"Bearer {token}"}
        ) as r:
            assert r.status == 200
    finally:
        await runner.cleanup()
