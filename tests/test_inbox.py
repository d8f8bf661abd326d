"""The update inbox: stored before acknowledged, a repeated update_id handled once."""

from __future__ import annotations

from datetime import timedelta

from core.inbox import UpdateInbox


async def test_repeat_is_dropped_and_pending_survives_until_processed(portal, clock):
    inbox = UpdateInbox(portal, bot_id=7)
    assert await inbox.store([(1, 100, {"update_id": 1}), (2, 100, {"update_id": 2})]) == [1, 2]
    assert await inbox.store([(2, 100, {"update_id": 2}), (3, 200, {"update_id": 3})]) == [3]
    assert [p.update_id for p in await inbox.pending()] == [1, 2, 3]

    await inbox.mark_processed(1)
    pending = await inbox.pending()
    assert [p.update_id for p in pending] == [2, 3]
    assert pending[0].payload == {"update_id": 2}
    # Processed updates are still remembered: a late repeat is dropped.
    assert await inbox.store([(1, 100, {"update_id": 1})]) == []


async def test_failed_update_is_retried_then_given_up(portal):
    inbox = UpdateInbox(portal, bot_id=7, max_attempts=2)
    await inbox.store([(5, 1, {"update_id": 5})])
    assert await inbox.mark_failed_attempt(5) is True
    assert [p.update_id for p in await inbox.pending()] == [5]
    assert await inbox.mark_failed_attempt(5) is False
    assert await inbox.pending() == []


async def test_cleanup_and_forget_chat(portal, clock):
    inbox = UpdateInbox(portal, bot_id=7)
    await inbox.store([(1, 100, {"update_id": 1}), (2, 200, {"update_id": 2})])
    await inbox.mark_processed(1)
    clock.advance(timedelta(days=3))
    assert await inbox.cleanup() == 1
    await inbox.forget_chat(200)
    assert await inbox.pending() == []
