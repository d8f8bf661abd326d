"""How fast the bot answers a crowd, against a bare aiogram echo bot in the same run.

    .venv/bin/python -m bench.updates [--parents 500] [--updates 5000] [--crowds 1,100,1000]
                                      [--no-echo] [--no-latency] [--no-throughput]
                                      [--postgres] [--web N]

`make bench-updates` runs the throughput part (with the echo bot), `make bench-latency` the
latency part.

The product runs as an operator runs it (`ehcp-bot run`, its own process, SQLite) against the Bot
API stand-in (in this process, over loopback HTTP). Seeded, untimed: N linked parents, each with
a case of about 20 events (the reminder benchmark's cases, padded with decision letters). Then:

- **throughput**: `--updates` `/dashboard` updates queued at once (spread over the parents),
  until every dashboard has arrived: updates a second, and the product's CPU time per update
  (from /proc); the same number of messages to a bare aiogram echo bot (`bench/echo_bot.py`, its
  own process, its own stand-in): its rate and CPU per update; the ratio of the two rates;
- **latency**: for each crowd size K, K parents send `/dashboard` at the same moment: p50, p95,
  p99 and max from the update being offered to its dashboard arriving, and how many never came
  (within 120 s);
- the product's peak memory (VmHWM) and the machine's load average while it ran.

`--postgres` runs it on a throwaway PostgreSQL server (Debian's, as `make test-postgres` does)
with a throwaway Redis; `--web N` runs N `ehcp-bot web` replicas receiving by webhook behind a
round-robin proxy (bench/proxy.py) instead of one `ehcp-bot run` polling (Redis is then used,
as replicas need it); CPU and memory are then summed over the replicas.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, insert, select

from bench.reminders import seed
from core.cases.events import EventKind
from core.cases.models import CaseEvent
from core.cases.service import rebuild_key_date_index
from core.config import Settings
from core.migrations import upgrade_async
from core.onboarding.models import ChatLink
from ehcp.bootstrap import build_portal
from standin import BotAPIStandIn

TOKEN = "123456:BENCH-updates-token"
ECHO_TOKEN = "654321:BENCH-echo-token"
ROOT = Path(__file__).resolve().parent.parent
EVENTS_PER_CASE = 20


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stop_process(proc: subprocess.Popen[bytes], sig: int, seconds: float) -> None:
    """Ask a process to stop; kill it if it has not after `seconds`."""
    proc.send_signal(sig)
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.kill()


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def seed_parents(data_dir: Path, settings: Settings, stand: BotAPIStandIn, n: int) -> list[Any]:
    """n cases with a linked carer each (a chat of the stand-in), about 20 events a case."""
    await upgrade_async(settings.storage.resolved_database_url())
    portal = build_portal(settings)
    try:
        await seed(portal, n, 7)
        now = datetime.now(UTC)
        users = [stand.user(first_name=f"Parent{i}") for i in range(1, n + 1)]
        async with portal.engine.begin() as conn:
            await conn.execute(insert(ChatLink.__table__), [
                {"account_id": i, "chat_id": u.id, "active_chat_id": u.id, "linked_at": now}
                for i, u in enumerate(users, 1)
            ])
            have = dict((await conn.execute(
                select(CaseEvent.case_id, func.count()).group_by(CaseEvent.case_id)
            )).all())
            rows = []
            for case_id in range(1, n + 1):
                for k in range(EVENTS_PER_CASE - have.get(case_id, 0)):
                    rows.append({"case_id": case_id, "kind": EventKind.DECISION_LETTER.value,
                                 "on": datetime(2024, 1, 1 + k % 28).date(), "details": {"about": "a letter"},
                                 "recorded_at": now, "recorded_by": "bench"})
            if rows:
                await conn.execute(insert(CaseEvent.__table__), rows)
        await rebuild_key_date_index(portal)
    finally:
        await portal.close()
    return users


def start_product(data_dir: Path, stand: BotAPIStandIn, api_port: int, *, role: str = "run",
                  **extra: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EHCP_")}
    env.update({
        "EHCP_DATA_DIR": str(data_dir), "EHCP_SECRET_KEY": "bench-" + "x" * 40, "EHCP_BOT_TOKEN": stand.token,
        "EHCP_TELEGRAM_API_BASE": stand.base_url, "EHCP_POLLING_TIMEOUT": "1", "EHCP_API_PORT": str(api_port),
        "EHCP_WEB_PORT": str(api_port + 1), "EHCP_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", **extra,
    })
    log = (data_dir / f"{role}-{api_port}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "ehcp", role], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


class Product:
    """What answers the parents: one `ehcp-bot run` polling, or N `ehcp-bot web` replicas by
    webhook behind a proxy. CPU time and peak memory are summed over its processes."""

    def __init__(self, procs: list[subprocess.Popen[bytes]], proxy: Any = None) -> None:
        self.procs = procs
        self.proxy = proxy

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids)

    def peak_rss_mb(self) -> float:
        return sum(peak_rss_mb(pid) for pid in self.pids)

    async def stop(self) -> None:
        for p in self.procs:
            stop_process(p, signal.SIGTERM, 30)
        if self.proxy is not None:
            await self.proxy.stop()


async def start(data_dir: Path, stand: BotAPIStandIn, web: int, env: dict[str, str]) -> Product:
    base = 28000 + os.getpid() % 500 * 8
    if web == 0:
        proc = start_product(data_dir, stand, base, **env)
        await wait_healthy(f"http://127.0.0.1:{base}", proc)
        return Product([proc])
    from bench.proxy import Proxy, free_port

    hooks = [free_port() for _ in range(web)]
    proxy = Proxy([f"http://127.0.0.1:{p}/telegram/webhook" for p in hooks])
    await proxy.start()
    procs = [start_product(data_dir, stand, base + 2 * i, role="web", EHCP_WEBHOOK_URL=proxy.url,
                           EHCP_WEBHOOK_SECRET="bench-webhook-secret-0123456789", EHCP_WEBHOOK_PORT=str(hook), **env)
             for i, hook in enumerate(hooks)]
    for i, proc in enumerate(procs):
        await wait_healthy(f"http://127.0.0.1:{base + 2 * i}", proc)
    await until(stand, lambda: stand.world.webhook is not None, 30)
    return Product(procs, proxy)


async def wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if proc.poll() is not None:
                raise SystemExit("the product exited while starting")
            try:
                async with http.get(url + "/v1/health") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the product did not start")


def dashboards(stand: BotAPIStandIn) -> list[Any]:
    return [r for r in stand.sent_log if r.method.lower() == "sendmessage" and "SEND Dashboard:" in (r.message.text or "")]


async def until(stand: BotAPIStandIn, condition: Any, timeout: float) -> bool:  # noqa: ASYNC109
    return await stand.world.changed.wait_for(condition, timeout)


async def throughput(stand: BotAPIStandIn, users: list[Any], updates: int, product: Product) -> dict[str, float]:
    before, cpu0 = len(dashboards(stand)), product.cpu()
    t0 = time.perf_counter()
    for j in range(updates):
        await users[j % len(users)].send("/dashboard")
    ok = await until(stand, lambda: len(dashboards(stand)) - before >= updates, 900)
    elapsed = time.perf_counter() - t0
    done = len(dashboards(stand)) - before
    return {"updates": updates, "answered": done, "seconds": elapsed, "rate": done / elapsed,
            "cpu_ms": (product.cpu() - cpu0) * 1000 / max(done, 1), "complete": ok}


async def echo_throughput(updates: int, senders: int) -> dict[str, float]:
    stand = BotAPIStandIn(token=ECHO_TOKEN, bot_username="echo_bench_bot")
    await stand.start()
    proc = subprocess.Popen(  # noqa: ASYNC220 - it runs on its own; nothing waits here
        [sys.executable, "-m", "bench.echo_bot", stand.token, stand.base_url], cwd=ROOT
    )
    try:
        users = [stand.user(first_name=f"E{i}") for i in range(senders)]
        await users[0].send("warm up")
        await until(stand, lambda: len(stand.sent_log) >= 1, 60)
        before, cpu0 = len(stand.sent_log), cpu_seconds(proc.pid)
        t0 = time.perf_counter()
        for j in range(updates):
            await users[j % senders].send(f"hello {j}")
        await until(stand, lambda: len(stand.sent_log) - before >= updates, 300)
        elapsed = time.perf_counter() - t0
        done = len(stand.sent_log) - before
        return {"rate": done / elapsed, "cpu_ms": (cpu_seconds(proc.pid) - cpu0) * 1000 / max(done, 1)}
    finally:
        stop_process(proc, signal.SIGINT, 10)
        await stand.stop()


async def latency(stand: BotAPIStandIn, users: list[Any], crowd: int) -> dict[str, float]:
    chosen = users[:crowd]
    await asyncio.sleep(1.5)  # a quiet moment between runs
    start_index = len(stand.sent_log)
    sent_at: dict[int, float] = {}
    for u in chosen:
        await u.send("/dashboard")
        sent_at[u.id] = time.monotonic()
    wanted = set(sent_at)

    def arrived() -> dict[int, float]:
        got: dict[int, float] = {}
        for r in stand.sent_log[start_index:]:
            if r.chat_id in wanted and r.chat_id not in got and "SEND Dashboard:" in (r.message.text or ""):
                got[r.chat_id] = r.at
        return got

    await until(stand, lambda: len(arrived()) >= len(wanted), 120)
    got = arrived()
    times = [got[c] - sent_at[c] for c in got]
    return {"crowd": crowd, "p50": pct(times, 50), "p95": pct(times, 95), "p99": pct(times, 99),
            "max": max(times) if times else float("nan"), "unanswered": len(wanted) - len(got)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with contextlib.ExitStack() as servers:
        env: dict[str, str] = {}
        if args.postgres:
            from tests.postgres_server import throwaway_server

            env["EHCP_DATABASE_URL"] = servers.enter_context(throwaway_server())
        if args.postgres or args.web:
            from tests.redis_server import throwaway_redis

            env["EHCP_REDIS_URL"] = servers.enter_context(throwaway_redis())
        return await _run(args, env)


async def _run(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"load_before": os.getloadavg(), "engine": "PostgreSQL" if args.postgres else "SQLite",
                           "redis": "EHCP_REDIS_URL" in env,
                           "processes": f"{args.web} x ehcp-bot web (webhook)" if args.web else "1 x ehcp-bot run (polling)"}
    parents = max(args.parents, max(args.crowds) if args.crowds and not args.no_latency else 0)
    with tempfile.TemporaryDirectory(prefix="ehcp-bench-updates-") as tmp:
        data_dir = Path(tmp)
        settings = Settings(_env_file=None, data_dir=data_dir, secret_key="bench-" + "x" * 40,
                            database_url=env.get("EHCP_DATABASE_URL"))
        stand = BotAPIStandIn(token=TOKEN, bot_username="ehcp_bench_bot")
        await stand.start()
        t = time.perf_counter()
        users = await seed_parents(data_dir, settings, stand, parents)
        out["seed_seconds"] = time.perf_counter() - t
        product = await start(data_dir, stand, args.web, env)
        try:
            # Warm up: one dashboard for a few parents (imports, caches, the first connections).
            out["warmup"] = await throughput(stand, users[:20], 20, product)
            spy = None
            if args.profile:  # py-spy (pip install py-spy) samples the product while it works
                spy = subprocess.Popen(["py-spy", "record", "--nonblocking", "-p", str(product.pids[0]), "-f", "raw", "-r", "200",  # noqa: ASYNC220
                                        "-o", args.profile], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                await asyncio.sleep(1)
            if not args.no_throughput:
                out["throughput"] = await throughput(stand, users[: args.parents], args.updates, product)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
            if not args.no_latency:
                out["latency"] = [await latency(stand, users, k) for k in args.crowds]
            out["peak_rss_mb"] = product.peak_rss_mb()
        finally:
            await product.stop()
            await stand.stop()
    if not args.no_echo and not args.no_throughput:
        out["echo"] = await echo_throughput(args.updates, min(args.parents, 500))
        out["ratio"] = out["throughput"]["rate"] / out["echo"]["rate"]
    out["load_after"] = os.getloadavg()
    return out


def report(r: dict[str, Any]) -> None:
    print(f"product            {r['processes']} on {r['engine']}{' with Redis' if r['redis'] else ''}")
    print(f"seeded             {r['seed_seconds']:.0f} s")
    if "throughput" in r:
        tp = r["throughput"]
        print(f"product            {tp['answered']}/{tp['updates']} /dashboard in {tp['seconds']:.1f} s: "
              f"{tp['rate']:.1f} updates/s, {tp['cpu_ms']:.1f} ms CPU per update")
    if "echo" in r:
        print(f"bare aiogram echo  {r['echo']['rate']:.1f} updates/s, {r['echo']['cpu_ms']:.2f} ms CPU per update")
        print(f"ratio              {r['ratio']:.3f}")
    for lat in r.get("latency", []):
        print(f"{lat['crowd']:>5} at once      p50 {lat['p50']:.3f} s  p95 {lat['p95']:.3f} s  p99 {lat['p99']:.3f} s  "
              f"max {lat['max']:.3f} s  unanswered {lat['unanswered']}")
    print(f"product peak RSS   {r['peak_rss_mb']:.0f} MB")
    print(f"load average       before {r['load_before'][0]:.2f}, after {r['load_after'][0]:.2f}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parents", type=int, default=500)
    p.add_argument("--updates", type=int, default=5000)
    p.add_argument("--crowds", type=lambda s: [int(x) for x in s.split(",")], default=[1, 100, 1000])
    p.add_argument("--no-echo", action="store_true")
    p.add_argument("--no-latency", action="store_true")
    p.add_argument("--no-throughput", action="store_true")
    p.add_argument("--profile", help="write a py-spy raw profile of the throughput run here")
    p.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL server, with Redis")
    p.add_argument("--web", type=int, default=0, help="N ehcp-bot web replicas by webhook behind a proxy (0: ehcp-bot run)")
    report(asyncio.run(run(p.parse_args(argv))))


if __name__ == "__main__":
    main()
