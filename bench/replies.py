"""How fast the caseworker API answers a crowd: N replies posted at once by the case system.

    .venv/bin/python -m bench.replies [--replies 500] [--runs 3]

The product runs as an operator runs it (`ehcp-bot run`, its own process, SQLite, delivery and the
bot beside the API) against the Bot API stand-in. Seeded, untimed: N linked parents with a case
each (bench.updates' seeding) and an API token. Then, `--runs` times: N `POST
/v1/cases/{reference}/messages` (one per case, each with its own Idempotency-Key) sent at the
same moment over N connections; printed: how long until the last was answered, p50/p95/p99/max
of each request, the answers by status, and the product's CPU per request.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from bench.updates import cpu_seconds, pct, seed_parents, start_product, stop_process, wait_healthy
from core.config import Settings
from core.tokens import create_token
from ehcp.bootstrap import build_portal
from standin import BotAPIStandIn

TOKEN = "123456:BENCH-replies-token"


async def crowd(url: str, token: str, n: int, run: int, pid: int) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        start = asyncio.Event()
        took: list[float] = []
        statuses: Counter[int] = Counter()

        async def one(i: int) -> None:
            body = {"sender_name": "Priya Shah", "subject": f"Your question ({run})",
                    "text": "Thank you for your message. The panel meets on Thursday; I will write after it.",
                    "account_id": i}
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
            await start.wait()
            t = time.perf_counter()
            async with http.post(f"{url}/v1/cases/EHC-{i:07d}/messages", json=body, headers=headers) as r:
                await r.read()
                statuses[r.status] += 1
            took.append(time.perf_counter() - t)

        tasks = [asyncio.create_task(one(i)) for i in range(1, n + 1)]
        await asyncio.sleep(0.5)  # every task waiting at the line
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - t0
        return {"wall": wall, "p50": pct(took, 50), "p95": pct(took, 95), "p99": pct(took, 99), "max": max(took),
                "statuses": dict(statuses), "cpu_ms": (cpu_seconds(pid) - cpu0) * 1000 / n}


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="ehcp-bench-replies-") as tmp:
        data_dir = Path(tmp)
        settings = Settings(_env_file=None, data_dir=data_dir, secret_key="bench-" + "x" * 40)
        stand = BotAPIStandIn(token=TOKEN, bot_username="ehcp_bench_bot")
        await stand.start()
        await seed_parents(data_dir, settings, stand, args.replies)
        portal = build_portal(settings)
        try:
            token = await create_token(portal, "case-system")
        finally:
            await portal.close()
        port = 29000 + os.getpid() % 1000
        proc = start_product(data_dir, stand, port)
        try:
            url = f"http://127.0.0.1:{port}"
            await wait_healthy(url, proc)
            spy = None
            if args.profile:  # py-spy (pip install py-spy) samples the product while it answers
                spy = subprocess.Popen(["py-spy", "record", "-p", str(proc.pid), "-f", "raw", "-r", "100",  # noqa: ASYNC220
                                        "-o", args.profile], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                await asyncio.sleep(1)
            out = [await crowd(url, token, args.replies, k, proc.pid) for k in range(1, args.runs + 1)]
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
            return out
        finally:
            stop_process(proc, signal.SIGTERM, 30)
            await stand.stop()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replies", type=int, default=500)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--profile", help="write a py-spy raw profile of the runs here")
    args = p.parse_args(argv)
    load = os.getloadavg()[0]
    for k, r in enumerate(asyncio.run(run(args)), 1):
        print(f"run {k}: {args.replies} replies at once, all answered in {r['wall']:.2f} s; "
              f"each p50 {r['p50']:.2f} s p95 {r['p95']:.2f} s p99 {r['p99']:.2f} s max {r['max']:.2f} s; "
              f"answers {r['statuses']}; {r['cpu_ms']:.1f} ms CPU per reply")
    print(f"load average       before {load:.2f}, after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
