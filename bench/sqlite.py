"""SQLite settings, measured: what a commit costs with `synchronous=NORMAL` and `FULL` (WAL), and how
long writers of one busy process wait for their turn.

    .venv/bin/python -m bench.sqlite [--commits 2000] [--writers 64] [--each 40]

A fresh database in a temporary folder, through the product's own engine (WAL, the write gate,
BEGIN IMMEDIATE). Part 1: `--commits` small write transactions one after another, for each
`synchronous` mode: commits a second and the 50th/99th percentile of one commit. Part 2:
`--writers` tasks at once, each doing `--each` times a read then a write transaction that holds
the lock a little (as a handler does): how long the longest waited for its turn (this is what the
busy timeout must cover), and that none failed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from core.db import create_engine, create_session_factory


async def commits(path: Path, mode: str, n: int) -> tuple[float, float, float]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}", busy_timeout_ms=5000, synchronous=mode)
    db = create_session_factory(engine)
    try:
        async with db() as s, s.begin():
            await s.execute(text("create table if not exists t (id integer primary key, v text)"))
        times = []
        start = time.perf_counter()
        for i in range(n):
            t0 = time.perf_counter()
            async with db() as s, s.begin():
                await s.execute(text("insert into t (v) values (:v)"), {"v": f"row {i}"})
            times.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
    finally:
        await engine.dispose()
    times.sort()
    return n / elapsed, statistics.median(times) * 1000, times[int(len(times) * 0.99)] * 1000


async def writers(path: Path, tasks: int, each: int) -> tuple[float, float, int, float]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}", busy_timeout_ms=60_000)
    db = create_session_factory(engine, busy_timeout_ms=60_000)
    waits: list[float] = []
    failures = 0
    try:
        async with db() as s, s.begin():
            await s.execute(text("create table if not exists w (id integer primary key, v text)"))

        async def one(k: int) -> None:
            nonlocal failures
            for i in range(each):
                async with db() as s:
                    await s.execute(text("select count(*) from w"))
                t0 = time.perf_counter()
                try:
                    async with db() as s, s.begin():
                        waits.append(time.perf_counter() - t0)
                        await s.execute(text("insert into w (v) values (:v)"), {"v": f"{k}:{i}"})
                        await asyncio.sleep(0.002)  # a handler's work inside the transaction
                except Exception:  # noqa: BLE001 - counted
                    failures += 1

        start = time.perf_counter()
        await asyncio.gather(*(one(k) for k in range(tasks)))
        elapsed = time.perf_counter() - start
    finally:
        await engine.dispose()
    waits.sort()
    return waits[len(waits) // 2] * 1000, waits[-1] * 1000, failures, tasks * each / elapsed


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("NORMAL", "FULL"):
            rate, p50, p99 = await commits(Path(tmp) / f"{mode}.db", mode, args.commits)
            print(f"synchronous={mode:6}  {rate:7.0f} commits/s   one commit p50 {p50:.2f} ms  p99 {p99:.2f} ms")
        p50, worst, failed, rate = await writers(Path(tmp) / "w.db", args.writers, args.each)
        print(f"{args.writers} writers x {args.each}: {rate:.0f} writes/s, wait for a turn p50 {p50:.1f} ms, "
              f"longest {worst:.0f} ms, failed {failed}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--commits", type=int, default=2000)
    p.add_argument("--writers", type=int, default=64)
    p.add_argument("--each", type=int, default=40)
    asyncio.run(main(p.parse_args()))
