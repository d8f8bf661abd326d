"""The database: engine and session factory (no globals), SQLite pragmas, UTC datetimes.

Two kinds of transaction, told apart by how they are opened:

- `async with portal.db() as s, s.begin():` is a **unit of work that writes**. On SQLite it
  waits its turn at this process's write gate (first come, first served), then opens with
  `BEGIN IMMEDIATE`, so it never fails half-way for want of the write lock. On PostgreSQL it is
  an ordinary transaction.
- `async with portal.db() as s:` with no `begin()` **only reads**: a deferred `BEGIN` that
  takes no write lock (WAL lets it read beside a writer) and is rolled back when closed.

`portal.db.unit_of_work()` opens one write transaction that every `portal.db()` in the same task
joins until it ends (each inner `begin()` becomes a savepoint): the caseworker API uses it to
commit a request's effects and its Idempotency-Key's answer together, or neither.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, event, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    AsyncSessionTransaction,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

T = TypeVar("T")

WRITE = "ehcp_write"  # connection execution option: this transaction writes (BEGIN IMMEDIATE)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC; gives back aware UTC. Refuses naive input."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def is_transient(exc: BaseException) -> bool:
    """A database error worth trying again: a lock that did not come free in time, a lost
    connection or a serialisation conflict (never a constraint or a programming error)."""
    if not isinstance(exc, OperationalError):
        return bool(getattr(exc, "connection_invalidated", False))
    text = str(exc.orig if exc.orig is not None else exc).lower()
    return any(
        part in text
        for part in ("database is locked", "database table is locked", "busy", "could not serialize",
                     "deadlock", "connection", "terminating", "timeout", "disk i/o")
    )


async def persist(what: str, write: Callable[[], Awaitable[T]], *, tries: int = 12) -> T:
    """Run a small write until it gets through a busy database (backing off up to ~2 minutes
    in all): a result that was reached must not be lost to a passing lock."""
    delay = 0.1
    for attempt in range(1, tries + 1):
        try:
            return await write()
        except Exception as exc:
            if not is_transient(exc) or attempt == tries:
                raise
            log.warning("%s: the database is busy (%s); trying again in %.1f s", what, type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 20.0)
    raise AssertionError("unreachable")


class WriteGate:
    """One writer at a time in this process, in the order they asked (SQLite only).

    SQLite lets one connection write at once; its own busy handler lets waiters retry at
    random, so under load one of them can wait past the busy timeout and fail with "database
    is locked" while others get through. Here the writers of this process queue instead, and
    only the one at the head asks SQLite for the lock (other processes still wait on SQLite's
    busy timeout).
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self.waiting = 0
        self.turns = 0  # write transactions so far
        self.longest_wait = 0.0  # seconds, the longest any of them waited for its turn

    async def acquire(self) -> None:
        me = asyncio.current_task()
        if me is not None and self._owner is me:
            raise RuntimeError(
                "a write transaction was opened inside another one in the same task: it would wait "
                "for itself. Pass the session down, or use portal.db.unit_of_work()."
            )
        self.waiting += 1
        asked = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                await self._lock.acquire()
        except TimeoutError:
            raise OperationalError(
                "BEGIN IMMEDIATE", None,
                sqlite3.OperationalError(f"database is locked (no write turn within {self.timeout:.0f} s)"),
            ) from None
        finally:
            self.waiting -= 1
        self._owner = me
        self.turns += 1
        self.longest_wait = max(self.longest_wait, time.monotonic() - asked)

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def release(self) -> None:
        self._owner = None
        self._lock.release()


class _WriteTransaction:
    """`session.begin()`: the write gate (SQLite), then the transaction, begun IMMEDIATE."""

    def __init__(self, session: PortalSession) -> None:
        self.session = session
        self._tx: AsyncSessionTransaction | None = None
        self._gated = False

    async def __aenter__(self) -> AsyncSessionTransaction:
        gate = self.session.write_gate
        if gate is not None:
            await gate.acquire()
            self._gated = True
        try:
            self._tx = AsyncSession.begin(self.session)
            await self._tx.__aenter__()
            # Take the connection now, marked as a writer: the "begin" hook says IMMEDIATE.
            await self.session.connection(execution_options={WRITE: True})
        except BaseException:
            if self._tx is not None and self._tx.is_active:
                await self._tx.rollback()
            self._release()
            raise
        return self._tx

    async def __aexit__(self, *exc: Any) -> bool | None:
        try:
            assert self._tx is not None
            return await self._tx.__aexit__(*exc)
        finally:
            self._release()

    def _release(self) -> None:
        if self._gated:
            self._gated = False
            assert self.session.write_gate is not None
            self.session.write_gate.release()


class PortalSession(AsyncSession):
    """An AsyncSession whose `begin()` is a write transaction (see the module's docstring)."""

    def __init__(self, *args: Any, write_gate: WriteGate | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.write_gate = write_gate

    def begin(self) -> _WriteTransaction:  # type: ignore[override]
        return _WriteTransaction(self)


class _Joined:
    """`portal.db()` inside a unit of work: the same session; `begin()` is a savepoint, so a
    service that fails undoes its own part and the caller decides about the rest."""

    def __init__(self, session: PortalSession) -> None:
        self._session = session

    async def __aenter__(self) -> _Joined:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None

    def begin(self) -> AsyncSessionTransaction:
        return self._session.begin_nested()

    async def commit(self) -> None:  # the unit of work commits, once, at its end
        return None

    async def close(self) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


_ambient: ContextVar[tuple[SessionFactory, PortalSession] | None] = ContextVar("ehcp_unit_of_work", default=None)


class SessionFactory:
    """`portal.db()`: a new session, or the unit of work this task is inside (joined)."""

    def __init__(self, engine: AsyncEngine, write_gate: WriteGate | None) -> None:
        self.engine = engine
        self.write_gate = write_gate
        self._maker = async_sessionmaker(
            engine, class_=PortalSession, expire_on_commit=False, write_gate=write_gate
        )

    def __call__(self) -> Any:
        ambient = _ambient.get()
        if ambient is not None and ambient[0] is self:
            return _Joined(ambient[1])
        return self._maker()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[PortalSession]:
        """One write transaction for everything this task does until it ends: committed at
        the end if no error escaped, else rolled back whole."""
        if (ambient := _ambient.get()) is not None and ambient[0] is self:
            raise RuntimeError("already inside a unit of work")
        async with self._maker() as session, session.begin():
            token = _ambient.set((self, session))
            try:
                yield session
            finally:
                _ambient.reset(token)

    @staticmethod
    def in_unit_of_work() -> bool:
        return _ambient.get() is not None


def create_engine(
    url: str, *, busy_timeout_ms: int = 5000, synchronous: str = "FULL", echo: bool = False,
    inline_sqlite: bool = True,
) -> AsyncEngine:
    """An async engine. SQLite gets WAL, a busy timeout, `synchronous` (FULL: a commit survives a
    power cut, not only a crash of the process) and foreign keys on every connection."""
    if synchronous.upper() not in ("NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"synchronous must be NORMAL, FULL or EXTRA, not {synchronous!r}")
    is_sqlite = url.startswith("sqlite")
    kwargs: dict = {"echo": echo}
    if is_sqlite:
        kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000}
        if ":memory:" not in url and "mode=memory" not in url:
            # Readers never wait for each other: enough connections for the bot's concurrent
            # updates, the API's requests and the delivery workers at once.
            kwargs.update(pool_size=20, max_overflow=40, pool_timeout=60)
    else:
        kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
    inline = is_sqlite and inline_sqlite and make_url(url).drivername == "sqlite+aiosqlite"
    if inline:
        import core.sqlite_inline  # noqa: F401  (registers the dialect)

        url = make_url(url).set(drivername="sqlite+inline")
    engine = create_async_engine(url, **kwargs)
    if is_sqlite:
        # The inline driver waits for another process's lock on the loop, not in SQLite.
        busy_pragma = 0 if inline else int(busy_timeout_ms)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            cur = dbapi_conn.cursor()
            # Reading the mode takes no lock; setting it waits for another process's writer.
            cur.execute("PRAGMA journal_mode")
            if str(cur.fetchone()[0]).lower() != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={busy_pragma}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA synchronous={synchronous.upper()}")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn) -> None:  # noqa: ANN001
            # A writer takes the lock at BEGIN, so it waits on the busy timeout instead of
            # failing when a read transaction tries to upgrade; a reader takes no lock at all.
            immediate = conn.get_execution_options().get(WRITE)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        # Let SQLAlchemy's BEGIN hook above decide; pysqlite's own implicit BEGIN is off.
        @event.listens_for(engine.sync_engine, "connect", insert=True)
        def _autocommit_off(dbapi_conn, _record) -> None:  # noqa: ANN001
            dbapi_conn.isolation_level = None

    return engine


def create_session_factory(engine: AsyncEngine, *, busy_timeout_ms: int = 5000) -> SessionFactory:
    gate = WriteGate(busy_timeout_ms / 1000) if is_sqlite(engine) else None
    return SessionFactory(engine, gate)


@asynccontextmanager
async def transaction(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A unit of work: commit on success, roll back on any error."""
    async with factory() as session, session.begin():
        yield session


async def in_commit_order(session: AsyncSession, name: str) -> None:
    """Rows of `name` (a table the caseworker API pages by id, `?after=`) get their ids in the
    order their transactions commit: on PostgreSQL every such insert first takes the same
    transaction-scoped advisory lock, so a row with a smaller id can never commit after a poll
    has passed a larger one. (SQLite has one writer at a time: nothing to do.) Call before the
    insert's flush; the lock is released at commit or rollback."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": f"ehcp:{name}"})


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"
