"""Delivery benchmark: N notices to M chats, through the Bot API stand-in with Telegram's limits.

    .venv/bin/python -m bench.delivery [--notices 2000] [--chats 200] [--workers 1]
                                       [--latency 0.05] [--in-flight 1] [--postgres]

A fresh SQLite database in a temporary folder (migrated as in production), the outbox filled in
one transaction, then delivered by the real worker(s) over HTTP to the stand-in, which enforces
30 messages/s overall and 1/s per chat. Prints the elapsed time, messages/s, the highest rate any
one chat saw, the stand-in's 429 count, the share sent within 10 seconds of being due (all are
due at once, when written) and peak memory (of this process: the stand-in included).

Each worker has its own Bot and its own flood-limit state, made as a worker process makes it
(`notifications.worker.make_pacer`). `--postgres` runs on a throwaway PostgreSQL server with a
throwaway Redis (Debian's, as `make test-postgres` does): the workers then share one flood limit
through Redis, as separate `ehcp-bot worker` processes do. Without Redis, several workers each
keep the whole rate (so give each its share with `--rate`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import resource
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import func, select

from core.clock import FrozenClock
from core.config import Settings
from core.migrations import upgrade_async
from core.models import OutboxItem
from core.outbox import enqueue
from ehcp.bootstrap import build_portal
from notifications.telegram import TelegramDelivery
from notifications.worker import make_pacer
from standin import BotAPIStandIn

TOKEN = "123456:BENCH-token"


def per_chat_peak(times_by_chat: dict[int, list[float]]) -> tuple[int, float | None]:
    """(most sends to one chat inside any 1-second window, smallest gap between two sends)."""
    peak, min_gap = 0, None
    for times in times_by_chat.values():
        times = sorted(times)
        j = 0
        for i, t in enumerate(times):
            while t - times[j] >= 1.0:
                j += 1
            peak = max(peak, i - j + 1)
            if i:
                gap = t - times[i - 1]
                min_gap = gap if min_gap is None else min(min_gap, gap)
    return peak, min_gap


def global_peak(times: list[float]) -> int:
    times = sorted(times)
    j = peak = 0
    for i, t in enumerate(times):
        while t - times[j] >= 1.0:
            j += 1
        peak = max(peak, i - j + 1)
    return peak


async def run(
    notices: int, chats: int, workers: int, rate: float | None, latency: float = 0.0, in_flight: int = 1,
    postgres: bool = False,
) -> dict[str, float]:
    with contextlib.ExitStack() as servers:
        urls: dict[str, object] = {}
        if postgres:
            from tests.postgres_server import throwaway_server
            from tests.redis_server import throwaway_redis

            urls = {"database_url": servers.enter_context(throwaway_server()),
                    "redis_url": servers.enter_context(throwaway_redis())}
        return await _run(notices, chats, workers, rate, latency, in_flight, urls)


async def _run(
    notices: int, chats: int, workers: int, rate: float | None, latency: float, in_flight: int,
    urls: dict[str, object],
) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="ehcp-bench-") as tmp:
        overrides: dict[str, object] = {"data_dir": Path(tmp), "secret_key": "bench-" + "x" * 40,
                                        "delivery_in_flight": in_flight, "bot_token": TOKEN, **urls}
        if rate is not None:
            overrides["delivery_rate"] = rate
        settings = Settings(_env_file=None, **overrides)
        await upgrade_async(settings.storage.resolved_database_url())
        portal = build_portal(settings, FrozenClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC)))
        stand = BotAPIStandIn(token=TOKEN, bot_username="ehcp_bench_bot")
        await stand.start()
        stand.set_limits(global_per_second=30, per_chat_per_second=1, slack=0.05)
        if latency:  # the network's round trip to Telegram, half each way
            real_call = stand.server.call

            async def far_away(method, params):  # noqa: ANN001, ANN202
                await asyncio.sleep(latency / 2)
                result = await real_call(method, params)
                await asyncio.sleep(latency / 2)
                return result

            stand.server.call = far_away
        bots = [
            Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(stand.base_url)))
            for _ in range(workers)
        ]
        pacers = [make_pacer(settings) for _ in range(workers)]
        try:
            users = [stand.user(first_name=f"Parent{i}") for i in range(chats)]
            t0 = time.perf_counter()
            now = portal.clock.now()
            async with portal.db() as session, session.begin():
                for i in range(notices):
                    u = users[i * chats // notices] if notices >= chats else users[i % chats]
                    enqueue(session, now=now, text=f"Notice {i}: your child's plan moved on", chat_id=u.id)
            enqueue_s = time.perf_counter() - t0
            due_at = time.monotonic()

            stop = asyncio.Event()
            started = time.perf_counter()
            tasks = [
                asyncio.create_task(TelegramDelivery(portal, b, f"bench-{n}", pacer=p).run(stop))
                for n, (b, p) in enumerate(zip(bots, pacers, strict=True))
            ]

            def sent() -> int:
                return sum(1 for r in stand.sent_log if r.method.lower() == "sendmessage")

            await stand.world.changed.wait_for(lambda: sent() >= notices, None)
            elapsed = time.perf_counter() - started
            stop.set()
            await asyncio.gather(*tasks)

            async with portal.db() as session:
                done = await session.scalar(
                    select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "sent")
                )
            by_chat: dict[int, list[float]] = defaultdict(list)
            for r in stand.sent_log:
                by_chat[r.chat_id].append(r.at)
            peak_chat, min_gap = per_chat_peak(by_chat)
            return {
                "notices": notices,
                "chats": chats,
                "workers": workers,
                "enqueue_s": enqueue_s,
                "elapsed_s": elapsed,
                "msgs_per_s": notices / elapsed,
                "recorded_sent": done or 0,
                "stand_in_sends": sent(),
                "peak_global_per_s": global_peak([r.at for r in stand.sent_log]),
                "peak_per_chat_per_s": peak_chat,
                "min_per_chat_gap_s": min_gap if min_gap is not None else float("nan"),
                "rate_limited_429": stand.stats.rate_limited,
                "within_10s": sum(1 for r in stand.sent_log if r.method.lower() == "sendmessage"
                                  and r.at - due_at <= 10.0) / max(notices, 1),
                "engine": "PostgreSQL with Redis" if urls else "SQLite",
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        finally:
            for b in bots:
                await b.session.close()
            for p in pacers:
                await p.close()
            await stand.stop()
            await portal.close()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--notices", type=int, default=2000)
    p.add_argument("--chats", type=int, default=200)
    p.add_argument("--workers", type=int, default=1, help="delivery workers sharing the outbox")
    p.add_argument("--rate", type=float, default=None, help="override delivery_rate (default 29/s)")
    p.add_argument("--latency", type=float, default=0.0, help="seconds of round trip added to every request")
    p.add_argument("--in-flight", type=int, default=1, help="delivery_in_flight (default 1)")
    p.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL, the limit shared through Redis")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    r = asyncio.run(run(args.notices, args.chats, args.workers, args.rate, args.latency, args.in_flight,
                        args.postgres))
    print(f"notices            {r['notices']} to {r['chats']} chats, {r['workers']} worker(s), "
          f"{args.in_flight} in flight each, {args.latency * 1000:.0f} ms round trip, {r['engine']}")
    print(f"enqueue            {r['enqueue_s']:.2f} s")
    print(f"elapsed            {r['elapsed_s']:.1f} s")
    print(f"throughput         {r['msgs_per_s']:.1f} messages/s ({r['msgs_per_s'] / 30:.0%} of Telegram's 30 a second)")
    print(f"recorded sent      {r['recorded_sent']} (stand-in accepted {r['stand_in_sends']})")
    print(f"peak overall       {r['peak_global_per_s']} in any 1 s (limit 30)")
    print(f"peak per chat      {r['peak_per_chat_per_s']} in any 1 s; smallest gap {r['min_per_chat_gap_s']:.3f} s")
    print(f"429 answers        {r['rate_limited_429']}")
    print(f"within 10 s        {r['within_10s']:.1%} sent within 10 s of being due (all due at once)")
    print(f"peak memory (RSS)  {r['peak_rss_mb']:.0f} MB (this process, stand-in included)")


if __name__ == "__main__":
    main()
