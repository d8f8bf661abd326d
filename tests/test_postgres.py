"""What only PostgreSQL can get wrong (these run when EHCP_TEST_DATABASE_URL names a PostgreSQL
server, as `.ci/run`'s second pass does; see tests/conftest.py).

The caseworker API's polls page by id (`GET /v1/messages?after=`, `GET /v1/form-submissions?after=`).
On PostgreSQL ids come from a sequence when a row is inserted, not when it commits: without care,
a transaction holding id 41 can commit after a poll has read id 42 and moved past 41 for ever.
Message inserts take one advisory lock (`core.db.in_commit_order`), so ids commit in order."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import insert, select, text

from core.db import in_commit_order
from core.messages.models import Message
from tests.conftest import TEST_DATABASE
from tests.test_messages_api import alex, api  # noqa: F401 - fixtures: the case EHC-0001 and its carer

pytestmark = pytest.mark.skipif(not TEST_DATABASE, reason="needs EHCP_TEST_DATABASE_URL (PostgreSQL)")


async def test_a_later_message_waits_for_an_earlier_one_to_commit(portal, alex):  # noqa: F811
    row = {"case_id": alex.case_id, "child_id": alex.child_id, "account_id": alex.account_id, "direction": "to_team",
           "type": "general", "subject": "s", "body": "b", "sender_name": "A", "recipient_name": "B",
           "source": "chat", "sent_by": "test"}
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> int:
        async with portal.db() as s, s.begin():
            await in_commit_order(s, "messages")
            got = (await s.execute(insert(Message).values(**row, created_at=portal.clock.now())
                                   .returning(Message.id))).scalar_one()
            first_in.set()
            await release.wait()
            return got

    async def fast() -> int:
        await first_in.wait()
        async with portal.db() as s, s.begin():
            await in_commit_order(s, "messages")
            return (await s.execute(insert(Message).values(**row, created_at=portal.clock.now())
                                    .returning(Message.id))).scalar_one()

    t1 = asyncio.create_task(slow())
    t2 = asyncio.create_task(fast())
    await first_in.wait()
    # The second insert is waiting for the lock (seen in PostgreSQL's lock table), not inserting.
    async with portal.db() as s:
        for _ in range(500):
            waiting = await s.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))
            if waiting:
                break
            await s.rollback()
            await asyncio.sleep(0.01)
    assert waiting == 1 and not t2.done()
    async with portal.db() as s:
        seen = (await s.scalars(select(Message.id))).all()
    assert seen == []  # nothing committed: a poll now sees neither
    release.set()
    low, high = await t1, await t2
    assert low < high
