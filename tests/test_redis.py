"""Redis, where several processes must agree (EHCP_REDIS_URL): one chat's updates one at a time
across replicas (bot/isolation.py), and one Telegram flood limit for every process that sends
(notifications/pacing.py `SharedRateLimiter`). A real Redis server on loopback (Debian's
redis-server: .ci/run installs it), the Bot API stand-in enforcing Telegram's limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import StorageKey

from bot.isolation import ChatIsolation
from core.outbox import enqueue
from notifications.telegram import TelegramDelivery
from notifications.worker import make_pacer
from tests.redis_server import have_redis, throwaway_redis

TOKEN = "123456:TEST-token-abcdefghijklmnop"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    assert have_redis(), "redis-server is not installed: apt-get install redis-server (.ci/run does)"
    with throwaway_redis() as url:
        yield url


@pytest.fixture
def flushed(redis_url: str) -> str:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    return redis_url


# ------------------------------------------------------------------ one chat at a time


async def test_one_chat_is_held_by_one_replica_at_a_time(flushed: str):
    """Two replicas (two isolations, two connections): the second waits for the chat until the
    first lets go; another chat does not wait; the holder's own inner locks (aiogram's and
    aiogram-dialog's, on keys of the same chat) are granted at once."""
    a, b = ChatIsolation.from_settings(flushed), ChatIsolation.from_settings(flushed)
    assert a.shared and b.shared
    order: list[str] = []
    a_in = asyncio.Event()
    a_may_go = asyncio.Event()

    async def replica_a() -> None:
        async with a.chat(1, 500):
            a_in.set()
            order.append("a in")
            # aiogram's FSM lock and aiogram-dialog's stack lock, taken inside the handling.
            async with a.lock(StorageKey(bot_id=1, chat_id=500, user_id=500)):
                async with a.lock(StorageKey(bot_id=1, chat_id=500, user_id=500, destiny="aiogd_stack")):
                    order.append("a handled")
            await a_may_go.wait()
            order.append("a out")

    async def replica_b() -> None:
        await a_in.wait()
        async with b.chat(1, 500):
            order.append("b in")

    async def other_chat() -> None:
        await a_in.wait()
        async with b.chat(1, 501):
            order.append("other chat")

    ta, tb = asyncio.create_task(replica_a()), asyncio.create_task(replica_b())
    await asyncio.wait_for(other_chat(), 5)  # not held up by chat 500
    assert order == ["a in", "a handled", "other chat"]
    a_may_go.set()
    await asyncio.wait_for(asyncio.gather(ta, tb), 10)
    assert order == ["a in", "a handled", "other chat", "a out", "b in"]
    await a.close()
    await b.close()


async def test_without_redis_the_isolation_is_this_process_only():
    iso = ChatIsolation.from_settings(None)
    assert not iso.shared
    async with iso.chat(1, 7), iso.lock(StorageKey(bot_id=1, chat_id=7, user_id=7)):
        pass
    await iso.close()


# ------------------------------------------------------------------ one flood limit


async def _deliver(portal, stand, settings, *, notices: int, workers: int) -> float:  # noqa: ANN001
    """`workers` delivery workers, each with its own pacer made as a process makes it, send
    `notices` notices (one per chat); returns the seconds it took."""
    users = [stand.user(first_name=f"R{i}") for i in range(notices)]
    async with portal.db() as session, session.begin():
        for u in users:
            enqueue(session, now=portal.clock.now(), text=f"to {u.id}", chat_id=u.id)
    bots, pacers = [], []
    for _ in range(workers):
        pacers.append(make_pacer(settings))
        bots.append(Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(stand.base_url))))
    stop = asyncio.Event()
    delivery = [TelegramDelivery(portal, b, f"w{n}", pacer=p) for n, (b, p) in enumerate(zip(bots, pacers, strict=True))]
    started = time.monotonic()
    tasks = [asyncio.create_task(d.run(stop)) for d in delivery]
    try:
        for _ in range(3000):
            if len([r for r in stand.sent_log if r.method == "sendMessage"]) >= notices:
                break
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for b, p in zip(bots, pacers, strict=True):
            await b.session.close()
            await p.close()
    return time.monotonic() - started


async def test_two_workers_keep_to_one_flood_limit_through_redis(portal, stand, settings, flushed):
    """Each worker is set to the whole rate (18 a second); Telegram (the stand-in) allows 20 a
    second for the bot. Sharing the limit through Redis, the two together keep to 18: no 429."""
    settings.storage.redis_url = flushed
    settings.delivery.delivery_rate = 18.0
    stand.set_limits(global_per_second=20, per_chat_per_second=1, slack=0.05)
    elapsed = await _deliver(portal, stand, settings, notices=90, workers=2)
    sent = [r for r in stand.sent_log if r.method == "sendMessage"]
    assert len(sent) == 90 and len({r.chat_id for r in sent}) == 90
    assert stand.stats.rate_limited == 0
    assert elapsed >= 89 / 18 * 0.95, elapsed  # together at one rate, not two


async def test_without_redis_two_workers_each_at_the_whole_rate_meet_flood_control(portal, stand, settings):
    """The same two workers, each pacing alone: together they exceed Telegram's limit and are
    told to wait (429) — what the shared limit above prevents. Everything still arrives."""
    settings.storage.redis_url = None
    settings.delivery.delivery_rate = 18.0
    stand.set_limits(global_per_second=20, per_chat_per_second=1, slack=0.05)
    await _deliver(portal, stand, settings, notices=60, workers=2)
    assert len({r.chat_id for r in stand.sent_log if r.method == "sendMessage"}) == 60
    assert stand.stats.rate_limited > 0


async def test_a_flood_pause_holds_every_process(flushed):
    """A 429 seen by one process pauses the other too (Telegram's flood control is per bot)."""
    from core.config import Settings

    settings = Settings(_env_file=None, bot_token=TOKEN, redis_url=flushed)
    one, two = make_pacer(settings), make_pacer(settings)
    assert one.shared and two.shared
    started = time.monotonic()
    one.flood(1.5)
    await asyncio.sleep(0)  # the pause is shared in the background
    await asyncio.gather(*one.limiter._pending)
    await two.limiter.acquire()
    assert time.monotonic() - started >= 1.45
    await one.close()
    await two.close()


async def test_redis_unreachable_each_process_paces_alone(caplog):
    from core.config import Settings

    settings = Settings(_env_file=None, bot_token=TOKEN, redis_url="redis://127.0.0.1:1/0")
    pacer = make_pacer(settings)
    for _ in range(3):
        await pacer.limiter.acquire()  # not stuck, not raising
    assert "Redis unreachable" in caplog.text and caplog.text.count("Redis unreachable") == 1
    await pacer.close()


async def test_redis_that_never_answers_is_given_up_on_in_seconds(caplog):
    """A Redis that accepts connections and never answers (a half-open connection, a failover)
    must not hang sending or the parents' updates: each gives up within seconds and goes on."""
    from core.config import Settings

    async def silent(reader, writer) -> None:  # noqa: ANN001
        await reader.read(-1)  # never answers

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    url = f"redis://127.0.0.1:{server.sockets[0].getsockname()[1]}/0"
    try:
        pacer = make_pacer(Settings(_env_file=None, bot_token=TOKEN, redis_url=url))
        started = time.monotonic()
        await asyncio.wait_for(pacer.limiter.acquire(), 10)
        assert time.monotonic() - started < 5
        iso = ChatIsolation.from_settings(url)
        started = time.monotonic()
        async with asyncio.timeout(10), iso.chat(1, 42):
            pass
        assert time.monotonic() - started < 5
        assert "handled without the lock" in caplog.text
        await pacer.close()
        await iso.close()
    finally:
        server.close()


async def test_a_handlers_error_is_never_hidden_by_a_lost_lock(flushed, caplog):
    """The chat's lock lost while the update is handled (Redis emptied): the handler's own error
    still reaches the caller (so the update is retried, not marked done), and the loss is said."""
    import redis

    iso = ChatIsolation.from_settings(flushed)
    with pytest.raises(RuntimeError, match="the handler failed"):
        async with iso.chat(1, 77):
            redis.Redis.from_url(flushed).flushdb()
            raise RuntimeError("the handler failed")
    assert "lock ran out" in caplog.text
    await iso.close()


async def test_an_update_handled_by_one_replica_is_not_handled_again_by_another(portal, stand, flushed):
    """Two replicas (two Dispatchers, one database, one Redis) given the same stored update at
    once (a replica's backlog at start takes every pending update): one answer, not two."""
    from bot.factory import create_bot, create_dispatcher
    from bot.updates import UpdateProcessor
    from core.inbox import Stored, UpdateInbox
    from tests.harness import point_at

    point_at(portal, stand)
    portal.settings.storage.redis_url = flushed
    user = stand.user(first_name="Alex")
    payload = {"update_id": 9001, "message": {
        "message_id": 1, "date": 1796650000, "text": "/help",
        "chat": {"id": user.id, "type": "private", "first_name": "Alex"},
        "from": {"id": user.id, "is_bot": False, "first_name": "Alex"}}}
    inbox = UpdateInbox(portal, bot_id=stand.bot_id)
    assert await inbox.store([(9001, user.id, payload)]) == [9001]
    bots = [create_bot(portal.settings) for _ in range(2)]
    dps = [create_dispatcher(portal) for _ in range(2)]
    try:
        replicas = [UpdateProcessor(b, d, inbox) for b, d in zip(bots, dps, strict=True)]
        assert all(r._shared() for r in replicas)
        await asyncio.gather(*(r.process(Stored(9001, user.id, payload, 0)) for r in replicas))
        await stand.drain()
        answers = [r for r in stand.sent_log if r.chat_id == user.id and r.method == "sendMessage"]
        assert len(answers) == 1, [a.message.text[:60] for a in answers]
        assert await inbox.counts() == {"pending": 0, "failed": 0}
    finally:
        for d in dps:
            await d["chat_isolation"].close()
        for b in bots:
            await b.session.close()
