"""Onboarding end to end: the API's invitation, the emails, the chat, the pages, activation."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.onboarding.models import AccessGrant
from tests.stack import PageForm, body, page_url, six_digit_code

PASSWORD = "Correct Horse Battery 42"  # 24 characters, upper case, digit, spaces


def deep_link_token(email_body: str) -> str:
    return re.search(r"\?start=([A-Za-z0-9_-]+)", email_body).group(1)


def unique_code(email_body: str) -> str:
    match = re.search(r"unique verification code is:\s*([A-Z0-9-]+)", email_body)
    assert match, email_body
    return match.group(1)


REGISTRATION = {
    "forename": "Alex", "surname": "Jones", "house": "12", "street": "High Street", "area": "",
    "town": "Worcester", "postcode": "wr1 2ab", "password": PASSWORD, "confirm_password": PASSWORD,
}


async def register_through_chat(stack, user, email: str):
    """From the account question to a linked chat, as a new parent does it."""
    question = await user.wait_for(lambda m: "Do you already have an account" in m.text)
    await user.press(question, "Register for new account")
    prompt = await user.wait_for(lambda m: "never type your password" in m.text, include_consumed=True)
    url = page_url(prompt.text)
    status, html = await PageForm(stack.http, url).submit({**REGISTRATION, "email": email})
    assert status == 200 and "Check your email" in html, html
    await user.wait_for(lambda m: "type the 6-digit code here" in m.text)
    code = six_digit_code(await stack.mail.wait_for(email, "Confirm your email"))
    typed = await user.send(code)
    linked = await user.wait_for(lambda m: "this chat is now linked" in m.text)
    assert linked is not None
    return typed


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
