"""Onboarding end to end: the API's invitation, the emails, the chat, the pages, activation."""

from __future__ import annotations

from sqlalchemy import select

from core.onboarding.models import AccessGrant
from tests.stack import body, deep_link_token, register_through_chat, unique_code


async def test_a_new_parent_goes_from_the_invitation_to_activated_access(stack, stand, portal):
    email = "alex.jones@example.org"
    invitation = await stack.invite(email)
    assert invitation["status"] == "sent"

    invite_mail = await stack.mail.wait_for(email, "invitation")
    text = body(invite_mail)
    token, code = deep_link_token(text), unique_code(text)
    assert len(token) <= 64

    alex = stand.user(first_name="Alex")
    await alex.send(f"/start {token}")
    assert "your privacy" in (await alex.next_message()).text
    ask = await alex.next_message()
    assert "unique code" in ask.text

    typed_code = await alex.send(code)
    assert "identity is confirmed for Sam" in (await alex.next_message()).text
    assert typed_code.deleted  # the code is taken out of the chat once read

    typed = await register_through_chat(stack, alex, email)
    assert typed.deleted
    linked_mail = await stack.mail.wait_for(email, "linked")
    assert "Telegram" in body(linked_mail)

    invitations = await alex.wait_for(lambda m: "Invitations awaiting approval" in m.text)
    await alex.press(invitations, "Sam Jones")
    await alex.press(invitations, "Yes")
    await alex.press(invitations, "Confirm")
    confirm = await alex.wait_for(lambda m: "not be able to make any further changes" in m.text, include_consumed=True)
    await alex.press(confirm, "Submit")
    done = await alex.wait_for(lambda m: "SEND team will now activate your access" in m.text, include_consumed=True)
    assert "Sam" in done.text
    await stack.mail.wait_for(email, "")  # the confirming email
    status, listed = await stack.api("GET", f"/v1/invitations/{invitation['id']}")
    assert listed["status"] == "accepted"

    async with portal.db() as s:
        grant = (await s.scalars(select(AccessGrant))).one()
    status, activated = await stack.api("POST", f"/v1/access/{grant.id}/activate", {}, key="act-1")
    assert status == 200, activated
    notice = await alex.wait_for(lambda m: "activated your access" in m.text)
    assert "Sam" in notice.text

    await alex.send("/start")
    menu = await alex.wait_for(lambda m: "Main menu" in m.text)
    assert "You can see: Sam Jones" in menu.text
