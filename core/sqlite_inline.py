"""SQLite run on the event loop's own thread (issue 13): no hop to a worker thread per call.

SQLAlchemy's aiosqlite driver sends every call (cursor, execute, fetch, close, commit) to one
thread per connection and back, two wake-ups each; a `/dashboard` made some forty of them, and
the hops cost more CPU than SQLite's own work. Our statements are small (an index lookup or a
few rows, sub-millisecond in WAL mode on the page cache), so here they run inline instead: the
standard `sqlite3` module under SQLAlchemy's pysqlite dialect, marked as async so the async
engine and sessions work unchanged.

What would block the loop, and how it is kept from doing so:

- **Waiting for a lock.** Writers of this process already queue on `core.db.WriteGate` (an
  asyncio lock), so only another process (a second `ehcp-bot` on the same file) can hold the
  write lock. SQLite's own busy handler would sleep the whole thread; here the connection's busy
  timeout is 0 and a statement told "database is locked" waits with `asyncio.sleep` (other
  updates go on) and tries again, backing off, up to the configured busy timeout. Retrying is
  safe: a statement that met SQLITE_BUSY did nothing.
- **fsync.** A commit with `synchronous=FULL` waits for the disk. Commits run on two threads of
  their own so the loop goes on meanwhile (one hop per write transaction, not per call).

Used for `sqlite+aiosqlite` URLs by `core.db.create_engine`; `EHCP_SQLITE_INLINE=false` keeps the
aiosqlite driver.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.util.concurrency import await_, in_greenlet

# Commits (and their fsync) run here: threads of their own, so a burst of other work on the
# loop's default executor (password hashing, files) never keeps a writer, and with it this
# process's write gate, waiting for a thread.
_COMMITS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sqlite-commit")


def _locked(exc: sqlite3.OperationalError) -> bool:
    """SQLite said "busy" and trying again can help. Not SQLITE_BUSY_SNAPSHOT: a read
    transaction that another connection's commit overtook can never start writing (SQLite's own
    busy handler does not wait for it either); its caller starts again."""
    if getattr(exc, "sqlite_errorcode", None) == getattr(sqlite3, "SQLITE_BUSY_SNAPSHOT", 517):
        return False
    text = str(exc).lower()
    return "database is locked" in text or "database table is locked" in text


def _waiting(conn: InlineConnection, call: Any, *args: Any) -> Any:
    """Try `call` until SQLite stops saying "locked", sleeping on the loop meanwhile."""
    try:
        return call(*args)
    except sqlite3.OperationalError as exc:
        if not _locked(exc):
            raise
    deadline = time.monotonic() + conn.wait_timeout
    delay = 0.001
    wait = (lambda d: await_(asyncio.sleep(d))) if in_greenlet() else time.sleep  # no loop here: a plain wait
    while True:
        if time.monotonic() + delay > deadline:
            return call(*args)  # the last try: its error is the caller's
        wait(delay)
        delay = min(delay * 2, 0.1)
        try:
            return call(*args)
        except sqlite3.OperationalError as exc:
            if not _locked(exc):
                raise


class _Now:
    """An awaitable that is done at once: SQLAlchemy's AsyncConnection insists that a statement
    awaited something, which an inline one need not."""

    __slots__ = ()

    def __await__(self) -> Any:
        return iter(())


_NOW = _Now()


class InlineCursor:
    """A cursor whose rows are read whole at execute (as SQLAlchemy's aiosqlite adapter does),
    so no statement is left in progress when its transaction commits."""

    __slots__ = ("_conn", "_cursor", "_rows", "description", "rowcount", "lastrowid", "arraysize")

    def __init__(self, conn: InlineConnection) -> None:
        self._conn = conn
        self._cursor = sqlite3.Connection.cursor(conn)
        self._rows: collections.deque[Any] = collections.deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def _done(self) -> InlineCursor:
        c = self._cursor
        self.description = c.description
        if c.description is not None:
            self._rows = collections.deque(c.fetchall())
        else:
            self._rows.clear()
        self.rowcount = c.rowcount
        self.lastrowid = c.lastrowid
        return self

    def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        _waiting(self._conn, self._cursor.execute, sql, parameters)
        if in_greenlet():
            await_(_NOW)
        return self._done()

    def executemany(self, sql: str, seq: Any) -> InlineCursor:
        seq = list(seq)  # a retry must see every row again
        _waiting(self._conn, self._cursor.executemany, sql, seq)
        if in_greenlet():
            await_(_NOW)
        return self._done()

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        n = self.arraysize if size is None else size
        rows = self._rows
        return [rows.popleft() for _ in range(min(n, len(rows)))]

    def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Any:
        while self._rows:
            yield self._rows.popleft()

    def close(self) -> None:
        self._rows.clear()
        self._cursor.close()

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's async results call this; the rows are already read."""

    def setinputsizes(self, *args: Any) -> None:
        pass

    def setoutputsize(self, *args: Any) -> None:
        pass


class InlineConnection(sqlite3.Connection):
    wait_timeout: float = 5.0

    def cursor(self, factory: Any = None) -> InlineCursor:  # type: ignore[override]
        return InlineCursor(self)

    def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:  # type: ignore[override]
        return self.cursor().execute(sql, parameters)

    def commit(self) -> None:
        if not self.in_transaction:
            return
        if not in_greenlet():
            super().commit()
            return
        # The commit's fsync off the loop (check_same_thread is off; the connection is used by
        # nobody else meanwhile: its session is awaiting this commit). A task cancelled meanwhile
        # waits for the commit to end before its cancellation goes on: otherwise SQLAlchemy would
        # close the connection on the loop's thread at once, and that close would wait on SQLite's
        # mutex (held through the fsync) with the whole loop stopped.
        done = asyncio.get_running_loop().run_in_executor(_COMMITS, super().commit)
        try:
            await_(asyncio.shield(done))
        except BaseException:
            await_(asyncio.wait([done]))
            raise

    def rollback(self) -> None:
        if self.in_transaction:
            super().rollback()


class _Dbapi:
    """sqlite3, with connections that wait on the loop."""

    def __init__(self) -> None:
        self._sqlite = sqlite3

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqlite, name)

    def connect(self, *args: Any, **kw: Any) -> InlineConnection:
        timeout = float(kw.pop("timeout", 5.0))
        kw["check_same_thread"] = False
        conn = sqlite3.connect(*args, factory=InlineConnection, timeout=0, **kw)
        conn.wait_timeout = timeout
        return conn


class SQLiteDialect_inline(SQLiteDialect_pysqlite):
    driver = "inline"
    is_async = True
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> Any:
        return _Dbapi()

    @classmethod
    def get_pool_class(cls, url: Any) -> type[pool.Pool]:
        if cls._is_url_file_db(url):
            return pool.AsyncAdaptedQueuePool
        return pool.StaticPool

    def get_driver_connection(self, connection: Any) -> Any:
        return connection


registry.register("sqlite.inline", "core.sqlite_inline", "SQLiteDialect_inline")
