"""At scale, as a council runs it: 2 `ehcp-bot web` replicas behind a load balancer (a small
round-robin proxy that also repeats some updates, as Telegram does when an answer is slow) and 2
`ehcp-bot worker` processes, on one database (PostgreSQL in `make test-postgres`, SQLite
otherwise) and one Redis, against the Bot API stand-in delivering by webhook.

- every update is handled once, whichever replica gets it and however often;
- 2,000 notices are each delivered once; a worker SIGKILLed mid-delivery is picked up by the
  other at once, with at most one notice seen twice;
- the once-a-day jobs' scheduler is elected by a database lock: its holder is the worker
  killed, and the other worker takes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import Counter
from collections.abc import Iterator

import aiohttp
from sqlalchemy import func, select

from bench.proxy import Proxy
from core.models import InboundUpdate, LeaderLease, OutboxItem
from core.outbox import enqueue
from ehcp.bootstrap import build_portal
from tests.redis_server import throwaway_redis
from tests.service import ServiceProcess, seed_families, service_settings
from tests.stack import free_port

SECRET = "scale-test-webhook-Secret_1"
FAMILIES = 6
DASHBOARDS = 3  # each parent asks this many times, quickly
NOTICES = 2000
CHATS = 200


@contextlib.contextmanager
def redis_for_test() -> Iterator[str]:
    if os.environ.get("EHCP_REDIS_URL"):  # the suite's own (make test-postgres)
        yield os.environ["EHCP_REDIS_URL"]
        return
    with throwaway_redis() as url:
        yield url


async def _truthy(value) -> bool:  # noqa: ANN001
    return bool(await value)


async def _is(value, expected: object) -> bool:  # noqa: ANN001
    return await value == expected


async def wait(condition, within: float, what: str, sleep: float = 0.1) -> None:  # noqa: ANN001
    """Another process's progress: polled (it changes nothing here but time)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(sleep)
    raise AssertionError(f"timed out waiting for {what}")


async def test_two_web_replicas_and_two_workers_handle_everything_once(stand, tmp_path):
    data_dir = tmp_path / "service"
    data_dir.mkdir()
    _, families = await seed_families(data_dir, stand, FAMILIES)  # and the schema migrated, as a release does
    hook_ports = [free_port(), free_port()]
    proxy = Proxy([f"http://127.0.0.1:{p}/telegram/webhook" for p in hook_ports], repeat_every=4)
    watcher = build_portal(service_settings(data_dir))
    processes: list[ServiceProcess] = []
    with redis_for_test() as redis_url:
        common = {"EHCP_REDIS_URL": redis_url, "EHCP_DELIVERY_INTERVAL": "1"}
        webs = [ServiceProcess(data_dir, stand, role="web", log_name=f"web{i}.log", EHCP_WEBHOOK_URL=proxy.url,
                               EHCP_WEBHOOK_SECRET=SECRET, EHCP_WEBHOOK_PORT=str(port), **common)
                for i, port in enumerate(hook_ports)]
        metrics_ports = [free_port(), free_port()]
        workers = [ServiceProcess(data_dir, stand, role="worker", log_name=f"worker{i}.log",
                                  EHCP_DELIVERY_RATE="400", EHCP_DELIVERY_RATE_PER_CHAT="20",
                                  EHCP_METRICS_PORT=str(metrics_ports[i]), **common)
                   for i in range(2)]
        processes = [*webs, *workers]
        try:
            await proxy.start()
            await asyncio.gather(*(p.start() for p in processes))

            # ---- each replica ready, as a load balancer's probe sees it: database, Redis, Telegram
            async with aiohttp.ClientSession() as http:
                for w in webs:
                    async with http.get(w.api_url + "/readyz") as r:
                        body = await r.json()
                        assert r.status == 200 and body["checks"] == {
                            "database": "ok", "redis": "ok", "telegram": "ok"}, body

            # ---- parents tap at once: every update handled once, whichever replica had it
            async def ask(family) -> None:  # noqa: ANN001
                for _ in range(DASHBOARDS):
                    await family.user.send("/dashboard")

            await asyncio.gather(*(ask(f) for f in families))

            def dashboards(family) -> int:  # noqa: ANN001
                return sum(1 for m in family.user.messages if m.text.startswith("SEND Dashboard:"))

            await stand.world.changed.wait_for(
                lambda: all(dashboards(f) >= DASHBOARDS for f in families), 60)
            async def all_handled() -> bool:
                async with watcher.db() as s:
                    return not await s.scalar(select(func.count()).select_from(InboundUpdate).where(
                        InboundUpdate.processed_at.is_(None)))

            await wait(all_handled, 30, "every update marked handled")
            async with watcher.db() as s:
                rows = (await s.execute(select(InboundUpdate.update_id, InboundUpdate.failed_at))).all()
            assert len(rows) == FAMILIES * DASHBOARDS and not any(f for _, f in rows), rows  # stored once each
            assert all(dashboards(f) == DASHBOARDS for f in families), [f.user.transcript() for f in families][:2]
            assert proxy.repeated >= 1 and all(proxy.by_target[i] > 0 for i in range(2)), proxy.by_target

            # ---- 2,000 notices through 2 workers; one killed mid-delivery
            users = [stand.user(first_name=f"Reader{i}") for i in range(CHATS)]
            async with watcher.db() as s, s.begin():
                for j in range(NOTICES):
                    enqueue(s, now=watcher.clock.now(), text=f"Notice {j:04d}", chat_id=users[j % CHATS].id)

            def sent() -> list[str]:
                return [r.message.text for r in stand.sent_log
                        if r.method == "sendMessage" and r.message.text.startswith("Notice ")]

            async def scheduler_pid() -> int | None:
                async with watcher.db() as s:
                    row = await s.get(LeaderLease, "scheduler")
                return int(row.holder.split(":")[2]) if row is not None else None

            # One worker holds the scheduler's lease (the once-a-day jobs): that one is killed.
            await wait(lambda: _truthy(scheduler_pid()), 30, "a scheduler elected")
            holder = await scheduler_pid()
            assert holder in {w.proc.pid for w in workers}, holder
            victim = next(w for w in workers if w.proc.pid == holder)
            survivor = next(w for w in workers if w is not victim)
            await stand.world.changed.wait_for(lambda: len(sent()) >= NOTICES // 4, 60)
            victim.kill()
            killed_at = len(sent())

            async def all_sent() -> bool:
                async with watcher.db() as s:
                    left = await s.scalar(select(func.count()).select_from(OutboxItem).where(
                        OutboxItem.status != "sent", OutboxItem.text.like("Notice %")))
                return left == 0

            await wait(all_sent, 120, "every notice sent by the surviving worker")
            # The survivor took the scheduler's lease (at once: the holder's process is gone).
            await wait(lambda: _is(scheduler_pid(), survivor.proc.pid), 30, "the other worker to take the lease")
            assert "is now the scheduler" in survivor.log()
            # What the survivor sent shows in its own metrics (as a council's monitoring reads them).
            port = metrics_ports[workers.index(survivor)]
            async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as r:
                text = await r.text()
            sent_line = next(line for line in text.splitlines() if line.startswith('ehcp_deliveries_total{result="sent"}'))
            assert float(sent_line.split()[-1]) >= NOTICES - killed_at, sent_line
            assert "ehcp_outbox_due 0.0" in text
            texts = Counter(sent())
            assert set(texts) == {f"Notice {j:04d}" for j in range(NOTICES)}  # nothing lost
            doubled = sum(n - 1 for n in texts.values())
            assert doubled <= 1, {t: n for t, n in texts.items() if n > 1}  # at most one per kill
            assert killed_at < NOTICES, "the kill came after the work was done; the test proved nothing"
            for j, u in enumerate(users[:5]):  # each chat's notices in order
                mine = [m.text for m in u.messages if m.text.startswith("Notice ")]
                assert mine == [f"Notice {k:04d}" for k in range(j, NOTICES, CHATS)][: len(mine)]
            print(f"\nproxy: {dict(proxy.by_target)} (repeated {proxy.repeated}); killed after {killed_at} "
                  f"sends; doubled {doubled}")
        finally:
            for p in processes:
                if p.alive():
                    await p.stop()
            await proxy.stop()
            await watcher.close()
