"""Telegram's flood limits switched on in the stand-in (30 sends a second overall, 1 a second to one
chat): every answer the bot gives while it handles a parent's update keeps to them, and one that
still meets a 429 waits it out instead of being lost. Before, the invitation link's two messages
within a second lost the second (the question for the unique code) every time."""

from __future__ import annotations

import asyncio

from core.inbox import UpdateInbox
from tests.stack import (
    activate_invitation,
    answer_invitations,
    give_unique_code,
    invitation_secrets,
    open_invitation,
    register_through_chat,
)

LIMIT_SLACK = 0.05  # the stand-in's tolerance on the one-a-second rule


async def test_every_step_of_onboarding_is_answered_under_the_flood_limits(stack, stand, portal):
    stand.set_limits(global_per_second=30, per_chat_per_second=1, slack=LIMIT_SLACK)
    emails = ["alex@example.org", "dana@example.org"]
    invitations = [await stack.invite(e, child=c, ref=r) for e, c, r in
                   zip(emails, ["Sam", "Kim"], ["CASE-1", "CASE-2"], strict=True)]
    users = [stand.user(first_name="Alex"), stand.user(first_name="Dana")]

    async def journey(user, email: str, child: str, invitation: dict) -> None:  # noqa: ANN001
        token, code = await invitation_secrets(stack, email, child)
        await open_invitation(user, token)  # the privacy notice and the question: two sends at once
        await give_unique_code(user, code, child)
        await register_through_chat(stack, user, email)
        await answer_invitations(user, {f"{child} Jones": True})
        await activate_invitation(stack, invitation["id"])
        await user.wait_for(lambda m: f"activated your access for {child}" in m.text)
        await user.send("/dashboard")
        await user.wait_for(lambda m: f"SEND Dashboard: {child}" in m.text)

    # Two parents at once, the outbox delivering to them meanwhile (one pacer for both).
    await asyncio.gather(*(journey(u, e, c, i) for u, e, c, i in
                           zip(users, emails, ["Sam", "Kim"], invitations, strict=True)))

    # Nothing lost or given up, and the bot kept to the limits it was given.
    await stand.drain()
    inbox = UpdateInbox(portal, stand.bot_id)
    for _ in range(100):  # the last update's handler may still be finishing
        if (await inbox.counts())["pending"] == 0:
            break
        await asyncio.sleep(0.05)
    assert await inbox.counts() == {"pending": 0, "failed": 0}
    for user in users:
        gap = stand.stats.min_gap(user.id)
        assert gap is not None and gap >= 1.0 - LIMIT_SLACK, gap
    print(f"\n429 answers from the stand-in: {stand.stats.rate_limited}")
