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


async def test_the_same_update_id_twice_in_one_batch_is_stored_once(portal):
    inbox = UpdateInbox(portal, bot_id=7)
    batch = [(4, 1, {"update_id": 4, "n": "first"}), (4, 1, {"update_id": 4, "n": "copy"}), (5, 1, {"update_id": 5})]
    assert await inbox.store(batch) == [4, 5]
    assert [(p.update_id, p.payload.get("n")) for p in await inbox.pending()] == [(4, "first"), (5, None)]


async def test_a_failed_update_is_kept_with_its_json_and_reason_and_can_be_retried(portal, clock):
    inbox = UpdateInbox(portal, bot_id=7)
    await inbox.store([(5, 1, {"update_id": 5, "my_chat_member": {"chat": {"id": 1}}})])
    assert await inbox.record_attempt(5) == 1
    assert await inbox.record_attempt(5) == 2
    await inbox.mark_failed(5, "cannot be read: my_chat_member.date: Field required")
    assert await inbox.pending() == []
    assert await inbox.load(5) is None
    [failed] = await inbox.failed()
    assert (failed.update_id, failed.chat_id, failed.attempts) == (5, 1, 2)
    assert failed.error.startswith("cannot be read") and '"my_chat_member"' in failed.payload
    assert await inbox.counts() == {"pending": 0, "failed": 1}
    # A repeat of it is still dropped; the operator can put it back after a fix.
    assert await inbox.store([(5, 1, {"update_id": 5})]) == []
    assert await inbox.retry_failed() == 1
    assert [p.update_id for p in await inbox.pending()] == [5]
    assert (await inbox.pending())[0].attempts == 0


async def test_cleanup_and_forget_chat(portal, clock):
    inbox = UpdateInbox(portal, bot_id=7)
    await inbox.store([(1, 100, {"update_id": 1}), (2, 200, {"update_id": 2})])
    await inbox.mark_processed(1)
    clock.advance(timedelta(days=3))
    assert await inbox.cleanup() == 1
    await inbox.forget_chat(200)
    assert await inbox.pending() == []
