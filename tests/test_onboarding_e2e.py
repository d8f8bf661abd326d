"""Onboarding end to end, beyond the new parent's journey: an existing account, two children,
two carers of one child, and leaving (/logout, revocation by the SEND team, "delete my data").

Each test drives the real bot through the Bot API stand-in, the parents' pages over HTTP and a
real SMTP server, and checks three things: what the parent sees, what the SEND team gets through
the API, and what is stored.
"""

from __future__ import annotations

from sqlalchemy import select

from core.accounts.models import Account, AccountRequest, OneTimeCode, RateEvent
from core.models import Chat, DialogState, InboundUpdate, OutboxItem, PageLink
from core.onboarding.models import AccessGrant, ChatLink, Invitation
from tests.stack import (
    PASSWORD,
    answer_invitations,
    body,
    count,
    create_account,
    give_unique_code,
    invitation_secrets,
    login_page,
    login_through_chat,
    open_invitation,
    register_through_chat,
    seen_by,
    six_digit_code,
    submit_login,
    verified_user,
)


async def activate(stack, invitation_id: int) -> None:  # noqa: ANN001
    _, inv = await stack.api("GET", f"/v1/invitations/{invitation_id}")
    status, grant = await stack.api("POST", f"/v1/access/{inv['grant_id']}/activate", {}, key=f"act-{invitation_id}")
    assert status == 200 and grant["status"] == "active", grant


async def main_menu(user):  # noqa: ANN001, ANN201
    await user.send("/start")
    return await user.wait_for(lambda m: "Main menu" in m.text)


# ------------------------------------------------------------------ an existing account


async def test_an_existing_account_logs_in_from_the_chat_and_accepts(stack, stand, portal):
    email = "alex.jones@example.org"
    account_id = await create_account(stack, email)
    invitation = await stack.invite(email)
    alex = await verified_user(stack, stand, email)
    url = await login_page(alex)
    code_mail = await submit_login(stack, alex, url, email)
    assert "to finish logging in" in body(code_mail)
    typed = await alex.send(six_digit_code(code_mail))
    linked = await alex.wait_for(lambda m: "You are logged in, and this chat is now linked" in m.text)
    assert "emailed you" in linked.text
    await alex.wait_until(lambda: typed.deleted, what="the login code to be deleted from the chat")
    assert "was linked to a Telegram chat" in body(await stack.mail.wait_for(email, "linked"))

    done = await answer_invitations(alex, {"Sam Jones": True})
    assert "You accepted the invitation for Sam" in done.text
    assert "SEND team will now activate your access" in done.text
    confirming = await stack.mail.wait_for(email, "your invitation response")
    assert "You accepted access for Sam" in body(confirming)

    # The SEND team sees the answer, from this account, and the chat logged in to it.
    _, seen = await stack.api("GET", f"/v1/invitations/{invitation['id']}")
    assert seen["status"] == "accepted" and seen["grant_status"] == "accepted"
    _, access = await stack.api("GET", f"/v1/children/{seen['child_id']}/access")
    assert [(g["account_id"], g["status"]) for g in access["grants"]] == [(account_id, "accepted")]
    _, chats = await stack.api("GET", f"/v1/accounts/{account_id}/chats")
    assert [c["chat_id"] for c in chats["chats"]] == [alex.id]

    # Logging in made no second account, and no password ever went through the chat.
    assert await count(portal, Account) == 1
    assert PASSWORD not in seen_by(alex)
    assert all(PASSWORD not in m.text for m in alex.user_messages)
    assert not [m for m in stack.mail.to(email) if PASSWORD in body(m)]

    await activate(stack, invitation["id"])
    notice = await alex.wait_for(lambda m: "activated your access" in m.text)
    assert "Sam" in notice.text
    menu = await main_menu(alex)
    assert "You can see: Sam Jones" in menu.text


async def test_a_wrong_password_on_the_login_page_sends_no_code(stack, stand, portal):
    email = "alex.jones@example.org"
    await create_account(stack, email)
    alex = stand.user(first_name="Alex")
    await alex.send("/start")
    menu = await alex.wait_for(lambda m: "Main menu" in m.text)
    await alex.press(menu, "I already have an account")
    prompt = await alex.wait_for(lambda m: "log in with your email address" in m.text, include_consumed=True)

    from tests.stack import PageForm, page_url

    form = PageForm(stack.http, page_url(prompt.text))
    mails = len(stack.mail.messages)
    for wrong_email, wrong_password in ((email, "Not The Password 99"), ("nobody@example.org", PASSWORD)):
        status, html = await form.submit({"email": wrong_email, "password": wrong_password})
        # The same answer whether the address has an account or not.
        assert status == 400 and "do not match an account" in html, html
    alex.mark_read()
    await alex.ensure_no_message()
    assert len(stack.mail.messages) == mails  # no code sent
    assert await count(portal, OneTimeCode, OneTimeCode.purpose == "login") == 0
    assert await count(portal, ChatLink) == 0

    # The right password on the same page still works.
    url = page_url(prompt.text)
    code_mail = await submit_login(stack, alex, url, email)
    await alex.send(six_digit_code(code_mail))
    await alex.wait_for(lambda m: "this chat is now linked" in m.text)
    await alex.wait_for(lambda m: "no invitations waiting" in m.text)
    assert "not activated access to a child yet" in (await alex.wait_for(lambda m: "Main menu" in m.text)).text


# ------------------------------------------------------------------ two children


async def test_a_parent_accepts_one_child_and_declines_the_other_in_one_submit(stack, stand, portal):
    email = "alex.jones@example.org"
    sam = await stack.invite(email, child="Sam", ref="CASE-1")
    ruby = await stack.invite(email, child="Ruby", ref="CASE-2")
    alex = await verified_user(stack, stand, email)
    await register_through_chat(stack, alex, email)

    window = await alex.wait_for(lambda m: "Invitations awaiting approval" in m.text)
    names = [b.text for b in window.reply_markup.buttons]
    assert any("Sam Jones" in n for n in names) and any("Ruby Jones" in n for n in names)

    done = await answer_invitations(alex, {"Sam Jones": True, "Ruby Jones": False})
    assert "You accepted the invitation for Sam" in done.text
    assert "You declined the invitation for Ruby" in done.text
    confirming = body(await stack.mail.wait_for(email, "your invitation response"))
    assert "You accepted access for Sam" in confirming and "You said no to access for Ruby" in confirming

    _, seen_sam = await stack.api("GET", f"/v1/invitations/{sam['id']}")
    _, seen_ruby = await stack.api("GET", f"/v1/invitations/{ruby['id']}")
    assert (seen_sam["status"], seen_sam["grant_status"]) == ("accepted", "accepted")
    assert (seen_ruby["status"], seen_ruby["grant_status"]) == ("declined", "declined")
    _, declined = await stack.api("GET", "/v1/invitations?status=declined")
    assert [i["id"] for i in declined["items"]] == [ruby["id"]]

    # A declined child cannot be activated; the accepted one can.
    status, refused = await stack.api("POST", f"/v1/access/{seen_ruby['grant_id']}/activate", {}, key="ruby")
    assert status == 409, refused
    await activate(stack, sam["id"])
    await alex.wait_for(lambda m: "activated your access for Sam" in m.text)

    menu = await main_menu(alex)
    assert "You can see: Sam Jones." in menu.text
    assert "Ruby" not in menu.text
    assert not any("Invitations awaiting approval" in b.text for b in menu.reply_markup.buttons)

    # Ruby's own invitation link is used up by the answer.
    ruby_token, _ = await invitation_secrets(stack, email, "Ruby")
    alex.mark_read()
    await alex.send(f"/start {ruby_token}")
    assert "already been answered" in (await alex.next_message()).text
    async with portal.db() as s:
        grants = {g.invitation_id: g.status for g in (await s.scalars(select(AccessGrant))).all()}
    assert grants == {sam["id"]: "active", ruby["id"]: "declined"}


# ------------------------------------------------------------------ two carers of one child

JO = {
    "forename": "Jo", "surname": "Smith", "house": "Flat 3", "street": "Mill Lane", "town": "Malvern",
    "postcode": "WR14 1AA",
}
ALEX_ADDRESS = ("High Street", "WR1 2AB", "Worcester")
JO_ADDRESS = ("Mill Lane", "Flat 3", "WR14 1AA", "Malvern")


async def test_two_carers_of_one_child_each_link_their_own_chat_and_see_nothing_of_each_other(stack, stand, portal):
    alex_email, jo_email = "alex.jones@example.org", "jo.smith@example.net"
    inv_alex = await stack.invite(alex_email, parent="Alex", ref="CASE-7")
    inv_jo = await stack.invite(jo_email, parent="Jo", parent_surname="Smith", ref="CASE-7")
    assert inv_alex["child_id"] == inv_jo["child_id"]
    alex_token, alex_code = await invitation_secrets(stack, alex_email)
    jo_token, jo_code = await invitation_secrets(stack, jo_email)

    alex = stand.user(first_name="Alex")
    jo = stand.user(first_name="Jo")
    await open_invitation(alex, alex_token)
    await give_unique_code(alex, alex_code)
    # Jo quoted her code to the SEND team by phone: her link skips it.
    status, verified = await stack.api("POST", f"/v1/invitations/{inv_jo['id']}/verify", {"code": jo_code}, key="v")
    assert status == 200 and verified["verified_by"] == "phone", verified
    await jo.send(f"/start {jo_token}")
    await jo.wait_for(lambda m: "identity is confirmed for Sam" in m.text)
    assert not any("Verify your identity" in m.text for m in jo.messages)
    await register_through_chat(stack, alex, alex_email)
    await register_through_chat(stack, jo, jo_email, **JO)

    for user in (alex, jo):
        window = await user.wait_for(lambda m: "Invitations awaiting approval" in m.text)
        # Each sees their own invitation only: one row for Sam.
        assert sum("Sam Jones" in b.text for b in window.reply_markup.buttons) == 1
        await answer_invitations(user, {"Sam Jones": True})

    _, access = await stack.api("GET", f"/v1/children/{inv_alex['child_id']}/access")
    assert sorted(g["carer_forename"] for g in access["grants"]) == ["Alex", "Jo"]
    assert len({g["account_id"] for g in access["grants"]}) == 2
    assert "email" not in str(access)  # the carers' names, never their addresses

    await activate(stack, inv_alex["id"])
    await activate(stack, inv_jo["id"])
    for user in (alex, jo):
        await user.wait_for(lambda m: "activated your access for Sam" in m.text)
        assert "You can see: Sam Jones" in (await main_menu(user)).text

    async with portal.db() as s:
        links = {link.chat_id: link.account_id for link in (await s.scalars(select(ChatLink))).all()}
        accounts = {a.id: a.email for a in (await s.scalars(select(Account))).all()}
    assert {accounts[links[alex.id]], accounts[links[jo.id]]} == {alex_email, jo_email}
    assert accounts[links[jo.id]] == jo_email

    # Neither ever sees the other's email or address, in the chat or by email.
    alex_saw, jo_saw = seen_by(alex), seen_by(jo)
    alex_mail = "\n".join(str(m["Subject"]) + body(m) for m in stack.mail.to(alex_email))
    jo_mail = "\n".join(str(m["Subject"]) + body(m) for m in stack.mail.to(jo_email))
    for other in (jo_email, "Smith", *JO_ADDRESS):
        assert other not in alex_saw and other not in alex_mail, other
    for other in (alex_email, *ALEX_ADDRESS):
        assert other not in jo_saw and other not in jo_mail, other
    assert all(jo_email not in str(m["To"]) for m in stack.mail.to(alex_email))


# ------------------------------------------------------------------ leaving: each cuts the chat off


async def linked_parent_with_a_child(stack, stand, email: str = "alex.jones@example.org"):  # noqa: ANN001, ANN201
    """A parent whose chat is linked (by logging in), with Sam active and Ruby still awaiting
    approval; the invitations window left open. Returns (user, account id, invitations window)."""
    account_id = await create_account(stack, email)
    sam = await stack.invite(email, child="Sam", ref="CASE-1")
    await stack.invite(email, child="Ruby", ref="CASE-2")
    alex = await verified_user(stack, stand, email)
    await login_through_chat(stack, alex, email)
    await answer_invitations(alex, {"Sam Jones": True})
    await activate(stack, sam["id"])
    await alex.wait_for(lambda m: "activated your access for Sam" in m.text)
    menu = await main_menu(alex)
    assert "You can see: Sam Jones" in menu.text
    await alex.press(menu, "Invitations awaiting approval (1)")
    window = await alex.wait_for(lambda m: "Invitations awaiting approval" in m.text and "Ruby" in seen_by_msg(m),
                                 include_consumed=True)
    return alex, account_id, window


def seen_by_msg(msg) -> str:  # noqa: ANN001
    return msg.text + " ".join(b.text for b in (msg.reply_markup.buttons if msg.reply_markup else []))


async def assert_cut_off(stack, alex, account_id: int) -> None:  # noqa: ANN001
    """The chat reaches no child and no invitation, and nothing is linked to it."""
    assert await count(stack.portal, ChatLink, ChatLink.active_chat_id == alex.id) == 0
    _, chats = await stack.api("GET", f"/v1/accounts/{account_id}/chats")
    assert chats["chats"] == []
    menu = await main_menu(alex)
    assert "You are not logged in" in menu.text
    assert "Sam" not in seen_by_msg(menu) and "Ruby" not in seen_by_msg(menu)
    assert not any("Invitations awaiting approval" in b.text for b in menu.reply_markup.buttons)


async def test_logout_cuts_the_chat_off_and_emails_the_holder(stack, stand, portal):
    email = "alex.jones@example.org"
    alex, account_id, window = await linked_parent_with_a_child(stack, stand, email)
    old_yes = window.reply_markup.find("Yes").callback_data
    after = len(stack.mail.messages)

    await alex.send("/logout")
    said = await alex.wait_for(lambda m: "You have logged out" in m.text)
    assert "no longer linked" in said.text
    unlinked = await stack.mail.wait_for(email, "unlinked", after=after)
    assert "because you logged out" in body(unlinked)

    # The invitations window left open no longer works, and reveals nothing.
    answer = await alex.press_data(window, old_yes)
    assert answer.text == "That button no longer works."
    await alex.wait_for(lambda m: "no longer works" in m.text)
    await assert_cut_off(stack, alex, account_id)
    _, ruby = await stack.api("GET", "/v1/invitations?case_reference=CASE-2")
    assert ruby["items"][0]["status"] == "verified" or ruby["items"][0]["status"] == "sent"
    assert await count(portal, Account) == 1  # the account stays; only the chat is unlinked

    await alex.send("/logout")
    assert "nothing to log out of" in (await alex.wait_for(lambda m: "log out" in m.text)).text


async def test_revocation_by_the_send_team_cuts_the_chat_off_and_emails_the_holder(stack, stand, portal):
    email = "alex.jones@example.org"
    alex, account_id, window = await linked_parent_with_a_child(stack, stand, email)
    after = len(stack.mail.messages)

    status, revoked = await stack.api("POST", f"/v1/chats/{alex.id}/revoke", {}, key="revoke-1")
    assert status == 200 and revoked["account_id"] == account_id, revoked
    notice = await alex.wait_for(lambda m: "unlinked from your portal account" in m.text)
    assert "Sam" not in notice.text
    assert "by the SEND team" in body(await stack.mail.wait_for(email, "unlinked", after=after))

    # The window still open in the chat now lists nothing, and its buttons change nothing.
    yes = window.reply_markup.find("Yes").callback_data
    answer = await alex.press_data(window, yes)
    assert answer.text and "no longer available" in answer.text
    await alex.wait_until(lambda: "no invitations waiting" in alex.message(window.message_id).text,
                          what="the window to show that nothing is waiting")
    window = alex.message(window.message_id)
    assert "Ruby" not in seen_by_msg(window) and window.reply_markup.find("Confirm") is None
    await alex.press(window, "Main menu")
    await alex.wait_for(lambda m: "You are not logged in" in m.text, include_consumed=True)
    await assert_cut_off(stack, alex, account_id)
    _, ruby = await stack.api("GET", "/v1/invitations?case_reference=CASE-2")
    assert ruby["items"][0]["status"] in ("sent", "verified")

    status, again = await stack.api("POST", f"/v1/chats/{alex.id}/revoke", {}, key="revoke-2")
    assert status == 404, again


async def test_delete_my_data_cuts_the_chat_off_erases_the_chat_and_keeps_the_records(stack, stand, portal):
    email = "alex.jones@example.org"
    alex, account_id, window = await linked_parent_with_a_child(stack, stand, email)
    old_yes = window.reply_markup.find("Yes").callback_data
    after = len(stack.mail.messages)

    await alex.send("/deletemydata")
    question = await alex.wait_for(lambda m: "Delete my data from this chat" in m.text)
    assert "kept, as the law requires" in question.text
    await alex.press(question, "Yes, delete it")
    done = await alex.wait_for(lambda m: "erased what we kept" in m.text)
    assert "council are kept" in done.text and "48 hours" in done.text
    assert "because you asked to delete your data" in body(await stack.mail.wait_for(email, "unlinked", after=after))
    alex.mark_read()
    await alex.ensure_no_message()

    # Nothing is left that exists only because of the chat...
    chat = alex.id
    assert await count(portal, Chat, Chat.chat_id == chat) == 0
    assert await count(portal, DialogState, DialogState.chat_id == chat) == 0
    assert await count(portal, OutboxItem, OutboxItem.chat_id == chat) == 0
    assert await count(portal, ChatLink, ChatLink.chat_id == chat) == 0
    assert await count(portal, Invitation, Invitation.bound_chat_id == chat) == 0
    assert await count(portal, PageLink, PageLink.chat_id == chat) == 0
    assert await count(portal, OneTimeCode, OneTimeCode.chat_id == chat) == 0
    assert await count(portal, AccountRequest, AccountRequest.chat_id == chat) == 0
    assert await count(portal, RateEvent, RateEvent.scope == f"chat:{chat}") == 0
    assert await count(portal, InboundUpdate, InboundUpdate.chat_id == chat) == 0
    # ...and the council's records stay.
    assert await count(portal, Account) == 1
    assert await count(portal, AccessGrant, AccessGrant.status == "active") == 1
    _, chats = await stack.api("GET", f"/v1/accounts/{account_id}/chats")
    assert chats["chats"] == []

    # A button left from before reaches nothing.
    answer = await alex.press_data(window, old_yes)
    assert answer.text == "That button no longer works."
    await alex.wait_for(lambda m: "no longer works" in m.text)
    menu = await alex.wait_for(lambda m: "Main menu" in m.text)
    assert "You are not logged in" in menu.text

    await alex.send("/start")
    assert "your privacy" in (await alex.wait_for(lambda m: "privacy" in m.text)).text  # a new chat to us
    menu = await alex.wait_for(lambda m: "Main menu" in m.text)
    assert "You are not logged in" in menu.text and "Sam" not in seen_by_msg(menu)


async def test_a_name_with_markup_characters_is_shown_safely(stack, stand, portal):
    """A surname like 'Jones <3' must not stop the menu from showing (HTML is escaped)."""
    from sqlalchemy import select

    from core.onboarding.models import AccessGrant

    email = "kim@example.org"
    await stack.invite(email, child="Sam", surname="Jones <3", ref="CASE-LT")
    kim = await verified_user(stack, stand, email, "Kim")
    await register_through_chat(stack, kim, email)
    await answer_invitations(kim, {"Sam Jones <3": True})
    async with portal.db() as s:
        grant = (await s.scalars(select(AccessGrant))).one()
    status, _ = await stack.api("POST", f"/v1/access/{grant.id}/activate", {})
    assert status == 200
    await kim.wait_for(lambda m: "activated your access" in m.text)
    sent = await kim.send("/start")
    menu = await kim.wait_for(lambda m: "Main menu" in m.text and m.message_id > sent.message_id)
    assert "Sam Jones <3" in menu.text
