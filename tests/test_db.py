"""The database frame: SQLite in WAL mode with a busy timeout, times kept in UTC, migrations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from core.audit import Actor, audit
from core.models import AuditEntry


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_foreign_keys(portal):
    async with portal.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


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
