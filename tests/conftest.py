from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.clock import FrozenClock
from core.config import Settings
from core.migrations import upgrade_async
from core.portal import Portal
from ehcp.bootstrap import build_portal

TEST_DATABASE = os.environ.get("EHCP_TEST_DATABASE_URL")  # postgresql+asyncpg://user@host:port/db
# A test of SQLite's own behaviour (WAL, its write lock, PRAGMAs): not run on PostgreSQL.
sqlite_only = pytest.mark.skipif(TEST_DATABASE is not None, reason="SQLite's own behaviour")
# With it (`make test-postgres` starts one), every test runs with EHCP_REDIS_URL set: one chat's
# updates locked in Redis, the flood limit shared through it.
TEST_REDIS = os.environ.get("EHCP_TEST_REDIS_URL")


@pytest.fixture(autouse=True)
def _shared_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """With EHCP_TEST_REDIS_URL, every Settings the test builds uses that Redis, emptied first
    (a flood-control pause or a lock of the test before must not reach this one)."""
    if not TEST_REDIS:
        yield
        return
    import redis

    client = redis.Redis.from_url(TEST_REDIS)
    try:
        client.flushdb()
    finally:
        client.close()
    monkeypatch.setenv("EHCP_REDIS_URL", TEST_REDIS)
    yield


def _admin(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        con = await asyncpg.connect(TEST_DATABASE.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await con.execute(sql)
        finally:
            await con.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
def _template_database() -> Iterator[str | None]:
    """On PostgreSQL: one database migrated to the latest schema, copied for each test (a copy
    takes a fraction of the migrations' time)."""
    if not TEST_DATABASE:
        yield None
        return
    name = f"tpl_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    asyncio.run(upgrade_async(TEST_DATABASE.rsplit("/", 1)[0] + "/" + name))
    try:
        yield name
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def _own_database(_template_database: str | None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """With EHCP_TEST_DATABASE_URL (PostgreSQL), each test gets a database of its own, a copy of
    the migrated template, dropped after; every Settings the test builds reads it from
    EHCP_DATABASE_URL (the sandbox and tests that name their own database keep theirs). Without
    it: SQLite files in the test's folder."""
    if not TEST_DATABASE:
        yield
        return
    name = f"t_{uuid.uuid4().hex[:16]}"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{_template_database}"')
    monkeypatch.setenv("EHCP_DATABASE_URL", TEST_DATABASE.rsplit("/", 1)[0] + "/" + name)
    try:
        yield
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def clock() -> FrozenClock:
    # A Tuesday afternoon in London (GMT), well away from quiet hours.
    return FrozenClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "var"
    d.mkdir()
    return d


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, secret_key="test-secret-key-" + "x" * 32)


@pytest.fixture
async def portal(settings: Settings, clock: FrozenClock) -> Portal:
    await upgrade_async(settings.storage.resolved_database_url())
    p = build_portal(settings, clock)
    yield p
    await p.close()


@pytest.fixture
async def stand():
    from standin import BotAPIStandIn

    s = BotAPIStandIn(token="123456:TEST-token-abcdefghijklmnop", bot_username="ehcp_test_bot", bot_name="SEND Portal")
    await s.start()
    yield s
    await s.stop()


@pytest.fixture
async def running_bot(portal, stand):
    from tests.harness import RunningBot

    rb = RunningBot(portal, stand)
    await rb.start()
    yield rb
    await rb.stop()


@pytest.fixture
async def stack(portal, stand):
    from tests.stack import start_stack

    s, cleanups = await start_stack(portal, stand)
    yield s
    for c in cleanups:
        await c()


@pytest.fixture
async def browser():
    """Debian's Chromium through Playwright's async API (tests/browser.py)."""
    from playwright.async_api import async_playwright

    from tests.browser import ARGS, CHROMIUM, HAVE_CHROMIUM

    assert HAVE_CHROMIUM, f"no Chromium at {CHROMIUM}: install Debian's chromium package (.ci/run does)"
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            await b.close()
