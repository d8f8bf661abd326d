"""The database frame: SQLite in WAL mode with a busy timeout, times kept in UTC, migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from core.audit import Actor, audit
from core.models import AuditEntry
from tests.conftest import sqlite_only


@sqlite_only
async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_foreign_keys(portal):
    async with portal.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        # SQLite's own busy handler would sleep the event loop's thread: the wait for another
        # process's lock is the driver's, on the loop (core/sqlite_inline.py), as long as the setting.
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 0
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver.wait_timeout == portal.settings.storage.sqlite_busy_timeout_ms / 1000
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 2  # FULL: a commit survives a power cut


async def test_times_are_stored_in_utc_and_come_back_aware(portal):
    summer = datetime(2026, 7, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))  # 09:30 BST
    async with portal.db() as s, s.begin():
        audit(s, Actor.system("test"), "test.event", at=summer, child_id=5, subject="x:1")
    async with portal.db() as s:
        row = (await s.scalars(select(AuditEntry))).one()
        assert row.at == summer and row.at.tzinfo is not None and row.at.utcoffset() == timedelta(0)
        raw = (await s.execute(text("select at from audit_log"))).scalar()
        assert str(raw).startswith("2026-07-01 08:30")  # UTC on disk


async def test_a_naive_datetime_is_refused(portal):
    with pytest.raises(Exception, match="naive"):
        async with portal.db() as s, s.begin():
            audit(s, Actor.system("test"), "x", at=datetime(2026, 1, 1))


async def test_the_audit_log_keeps_who_what_which_child_and_when(portal, clock):
    async with portal.db() as s, s.begin():
        audit(s, Actor.caseworker("case-system"), "notice.read", at=clock.now(), child_id=7, subject="outbox:3")
    async with portal.db() as s:
        row = (await s.scalars(select(AuditEntry))).one()
        assert (row.actor_kind, row.actor_id, row.action, row.child_id, row.subject) == (
            "caseworker", "case-system", "notice.read", 7, "outbox:3"
        )
        assert row.at == clock.now()


# --- readers and writers ------------------------------------------------------------------------


def _other_process_holding_the_write_lock(portal) -> sqlite3.Connection:  # noqa: ANN001
    other = sqlite3.connect(portal.engine.url.database, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    return other


@sqlite_only
async def test_a_writer_waiting_for_another_process_lets_everything_else_go_on(portal):
    """Another process (here a plain connection) holds the write lock. Our writer waits for it
    without stopping the event loop: the other process lets go from a task on the same loop,
    which could not run if the wait blocked the thread, and the write then gets through."""
    async with portal.db() as s:  # the file in WAL mode, as the running product keeps it
        await s.execute(text("select 1"))
    other = _other_process_holding_the_write_lock(portal)

    async def write() -> None:
        async with portal.db() as s, s.begin():
            audit(s, Actor.system("test"), "written.after.waiting", at=datetime(2026, 1, 1, tzinfo=UTC))

    writer = asyncio.create_task(write())
    for _ in range(20):  # the writer has tried, met the lock, and is waiting
        await asyncio.sleep(0)
    assert not writer.done()
    async with portal.db() as reader:  # a reader meanwhile is not held up either
        assert (await reader.execute(text("select count(*) from audit_log"))).scalar() == 0
    other.execute("COMMIT")
    other.close()
    await writer
    async with portal.db() as s:
        assert (await s.execute(text("select action from audit_log"))).scalar() == "written.after.waiting"


@sqlite_only
async def test_a_lock_held_past_the_busy_timeout_fails_the_write_as_busy_not_for_ever(settings, clock):
    from core.db import is_transient
    from core.migrations import upgrade_async
    from ehcp.bootstrap import build_portal

    await upgrade_async(settings.storage.resolved_database_url())
    settings.storage.sqlite_busy_timeout_ms = 100
    portal = build_portal(settings, clock)
    async with portal.db() as s:
        await s.execute(text("select 1"))
    other = _other_process_holding_the_write_lock(portal)
    try:
        with pytest.raises(Exception) as caught:
            async with portal.db() as s, s.begin():
                audit(s, Actor.system("test"), "never", at=datetime(2026, 1, 1, tzinfo=UTC))
        assert is_transient(caught.value) and "locked" in str(caught.value)
    finally:
        other.close()
        await portal.close()


@sqlite_only
async def test_a_reader_takes_no_write_lock(portal):
    """A read transaction (no begin()) must not stop a writer: GETs and dashboards read while the
    bot writes."""
    async with portal.db() as reader:
        assert (await reader.execute(text("select count(*) from audit_log"))).scalar() == 0
        # The reader's transaction is still open; a writer gets through at once.
        async with portal.db() as s, s.begin():
            audit(s, Actor.system("test"), "written.while.reading", at=datetime(2026, 1, 1, tzinfo=UTC))
        # Its snapshot stays as it began (one consistent view per read).
        assert (await reader.execute(text("select count(*) from audit_log"))).scalar() == 0
    async with portal.db() as s:
        assert (await s.execute(text("select count(*) from audit_log"))).scalar() == 1


@sqlite_only
async def test_writers_of_one_process_queue_in_order_and_none_fails(portal):
    """Many writers at once, each holding the lock a while: all get through, first come first served,
    none with "database is locked" (SQLite's own busy handler lets waiters overtake and time out)."""
    portal.db.write_gate.timeout = 30
    order: list[int] = []

    async def writer(n: int) -> None:
        async with portal.db() as s, s.begin():
            order.append(n)
            audit(s, Actor.system("test"), f"w{n}", at=datetime(2026, 1, 1, tzinfo=UTC))
            await asyncio.sleep(0.01)  # a slow transaction

    tasks = []
    for n in range(60):
        tasks.append(asyncio.create_task(writer(n)))
        await asyncio.sleep(0)  # each asks in turn
    await asyncio.gather(*tasks)
    assert order == list(range(60))
    async with portal.db() as s:
        assert (await s.execute(text("select count(*) from audit_log"))).scalar() == 60


@sqlite_only
async def test_a_write_inside_a_write_of_the_same_task_is_refused_at_once(portal):
    with pytest.raises(RuntimeError, match="inside another"):
        async with portal.db() as s, s.begin():
            async with portal.db() as inner, inner.begin():
                pass


async def test_a_unit_of_work_commits_everything_inside_it_or_nothing(portal):
    async def service(name: str) -> None:  # a service that opens its own transaction
        async with portal.db() as s, s.begin():
            audit(s, Actor.system("test"), name, at=datetime(2026, 1, 1, tzinfo=UTC))

    with pytest.raises(RuntimeError, match="after the services ran"):
        async with portal.db.unit_of_work():
            await service("one")
            await service("two")
            raise RuntimeError("after the services ran")
    async with portal.db() as s:
        assert (await s.execute(text("select count(*) from audit_log"))).scalar() == 0

    async with portal.db.unit_of_work():
        await service("one")
        with pytest.raises(ValueError):  # a service that fails undoes only its own part
            async with portal.db() as s, s.begin():
                audit(s, Actor.system("test"), "half", at=datetime(2026, 1, 1, tzinfo=UTC))
                await s.flush()
                raise ValueError("refused")
        await service("two")
    async with portal.db() as s:
        assert sorted((await s.scalars(select(AuditEntry.action))).all()) == ["one", "two"]


async def test_persist_gets_a_small_write_through_a_busy_database_and_nothing_else():
    import sqlite3

    from sqlalchemy.exc import IntegrityError, OperationalError

    from core.db import persist

    tries = {"n": 0}

    async def write() -> str:
        tries["n"] += 1
        if tries["n"] < 3:
            raise OperationalError("UPDATE x", {}, sqlite3.OperationalError("database is locked"))
        return "written"

    assert await persist("a test write", write) == "written" and tries["n"] == 3

    async def refused() -> None:
        tries["n"] += 1
        raise IntegrityError("INSERT x", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))

    tries["n"] = 0
    with pytest.raises(IntegrityError):
        await persist("a refused write", refused)
    assert tries["n"] == 1  # not a passing problem: not tried again


def test_the_driver_waits_for_a_lock_but_not_for_a_snapshot_that_can_never_write(tmp_path):
    """A write lock held elsewhere comes free: worth waiting for. A read transaction overtaken by
    another connection's commit can never start writing (SQLITE_BUSY_SNAPSHOT): waiting would
    only spend the whole busy timeout before the same error."""
    from core.sqlite_inline import _locked

    path = str(tmp_path / "s.sqlite3")
    a = sqlite3.connect(path, isolation_level=None, timeout=0)
    b = sqlite3.connect(path, isolation_level=None, timeout=0)
    a.execute("PRAGMA journal_mode=WAL")
    a.execute("create table t(x)")
    b.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError) as held:
        a.execute("BEGIN IMMEDIATE")
    assert _locked(held.value)
    b.execute("COMMIT")
    a.execute("BEGIN")
    a.execute("select count(*) from t").fetchall()
    b.execute("insert into t values (1)")
    with pytest.raises(sqlite3.OperationalError) as overtaken:
        a.execute("insert into t values (2)")
    assert not _locked(overtaken.value)
    a.close()
    b.close()
