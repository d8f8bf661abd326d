"""Onboarding refusals end to end: each wrong, stale, replayed or forged step gets a clear answer,
and nothing is stored wrongly (checked in the chat, through the caseworker API and in the
database). Time passes only on the FrozenClock, never by sleeping."""

from __future__ import annotations

import re

from aiogram_dialog.utils import CB_SEP
from sqlalchemy import select

from core.accounts import StartStatus
from core.accounts.models import Account, AccountRequest, OneTimeCode
from core.models import AuditEntry, PageLink
from core.onboarding.models import AccessGrant, ChatLink, Invitation
from tests.stack import (
    REGISTRATION,
    PageForm,
    answer_data,
    answer_invitations,
    count,
    create_account,
    give_unique_code,
    invitation_secrets,
    login_through_chat,
    open_invitation,
    page_url,
    register_through_chat,
    seen_by,
    six_digit_code,
    submit_login,
    verified_user,
)


async def invitation_row(portal, invitation_id: int) -> Invitation:  # noqa: ANN001
    async with portal.db() as s:
        return await s.get(Invitation, invitation_id)


def latest(user, text: str):  # noqa: ANN001, ANN201
    """The newest message (not deleted) that contains `text`."""
    found = [m for m in user.messages if text in m.text and not m.deleted]
    assert found, user.transcript()
    return found[-1]


def other(code: str, *choices: str) -> str:
    return next(c for c in choices if c != code)


# ------------------------------------------------------------------ the unique code


async def test_a_wrong_unique_code_says_the_tries_left_and_five_lock_the_invitation(stack, stand, portal):
    email = "alex.jones@example.org"
    invitation = await stack.invite(email)
    token, code = await invitation_secrets(stack, email)
    wrong = other(code, "ABCD-EFGH", "HGFE-DCBA")

    alex = stand.user(first_name="Alex")
    await open_invitation(alex, token)
    typed = await alex.send("hello, is this right?")
    said = await alex.wait_for(lambda m: "does not look like the unique code" in m.text)
    await alex.wait_until(lambda: typed.deleted, what="the text to be deleted")
    assert (await invitation_row(portal, invitation["id"])).wrong_tries == 0  # not counted as a try

    for left in (4, 3, 2, 1):
        typed = await alex.send(wrong)
        said = await alex.wait_for(lambda m: "That code is not right" in m.text)
        assert f"You have {left} more {'try' if left == 1 else 'tries'}." in said.text
        await alex.wait_for(lambda m: "Verify your identity" in m.text)  # the question again
        await alex.wait_until(lambda t=typed: t.deleted, what="the wrong code to be deleted")
    await alex.send(wrong)
    locked = await alex.wait_for(lambda m: "locked" in m.text)
    assert "Contact the SEND team: they can send you a new invitation." in locked.text
    await alex.wait_for(lambda m: "Main menu" in m.text)

    # The SEND team sees a locked invitation; nothing was verified, nobody answered.
    _, seen = await stack.api("GET", f"/v1/invitations/{invitation['id']}")
    assert (seen["status"], seen["locked"], seen["verified_at"]) == ("sent", True, None)
    assert seen["grant_status"] == "pending"
    row = await invitation_row(portal, invitation["id"])
    assert row.wrong_tries == 5 and row.verified_at is None and row.response is None

    # The link now says so, and even the right code no longer opens it.
    alex.mark_read()
    await alex.send(f"/start {token}")
    assert "This invitation is locked" in (await alex.next_message()).text
    await alex.next_message()  # the menu
    assert (await invitation_row(portal, invitation["id"])).verified_at is None
    assert "Sam" not in seen_by(alex)  # a wrong code never reveals whose invitation it is

    # A resend by the SEND team unlocks it with a new code; the old one stays dead.
    after = len(stack.mail.messages)
    status, _ = await stack.api("POST", f"/v1/invitations/{invitation['id']}/resend", {}, key="resend")
    assert status == 200
    new_token, new_code = await invitation_secrets(stack, email, after=after)
    await alex.send(f"/start {token}")
    assert "does not work here" in (await alex.next_message()).text
    alex.mark_read()
    await open_invitation(alex, new_token)
    await give_unique_code(alex, new_code)


async def test_the_unique_code_is_refused_once_the_invitation_has_expired(stack, stand, portal, clock):
    email = "alex.jones@example.org"
    invitation = await stack.invite(email)
    token, code = await invitation_secrets(stack, email)
    alex = stand.user(first_name="Alex")
    await open_invitation(alex, token)
    clock.advance(days=28, minutes=1)
    await alex.send(code)
    said = await alex.wait_for(lambda m: "expired" in m.text)
    assert "contact the SEND team" in said.text and "Sam" not in said.text
    _, seen = await stack.api("GET", f"/v1/invitations/{invitation['id']}")
    assert seen["status"] == "expired" and seen["verified_at"] is None


# ------------------------------------------------------------------ the emailed code


async def at_the_login_code(stack, stand, email: str):  # noqa: ANN001, ANN201
    """A parent with an account, on the login page from the main menu, the form sent: the chat
    waits for the emailed code. Returns (user, the code's email, the account's id)."""
    account_id = await create_account(stack, email)
    alex = stand.user(first_name="Alex")
    await alex.send("/start")
    menu = await alex.wait_for(lambda m: "Main menu" in m.text)
    await alex.press(menu, "I already have an account")
    prompt = await alex.wait_for(lambda m: "log in with your email address" in m.text, include_consumed=True)
    return alex, await submit_login(stack, alex, page_url(prompt.text), email), account_id


async def chats_of(stack, account_id: int) -> list[int]:  # noqa: ANN001
    """The chats logged in to the account, as the SEND team sees them."""
    status, data = await stack.api("GET", f"/v1/accounts/{account_id}/chats")
    assert status == 200, data
    return [c["chat_id"] for c in data["chats"]]


async def type_code(user, code: str, expect: str, *, refused: bool = True):  # noqa: ANN001, ANN201
    """Type a code in the chat: it is deleted, the bot answers with `expect`, and, if the code was
    refused, shows the step again (its buttons: a new code, a new link)."""
    typed = await user.send(code)
    said = await user.wait_for(lambda m: expect in m.text)
    await user.wait_until(lambda: typed.deleted, what="the typed code to be deleted")
    if refused:
        await user.wait_for(lambda m: "never type your password" in m.text)
    return said


async def test_a_wrong_other_purpose_or_expired_emailed_code_links_nothing(stack, stand, portal, clock):
    email = "alex.jones@example.org"
    alex, code_mail, account_id = await at_the_login_code(stack, stand, email)
    right = six_digit_code(code_mail)

    said = await type_code(alex, other(right, "000000", "111111"), "That code is not right")
    assert "Please send me a new code" in said.text

    # A code sent for something else (a password reset asked for from this chat) is not this one.
    after = len(stack.mail.messages)
    reset = await stack.services.accounts.request_password_reset(email, chat_id=alex.id)
    assert reset.status is StartStatus.CODE_SENT
    reset_code = six_digit_code(await stack.mail.wait_for(email, "reset your password", after=after))
    if reset_code != right:
        await type_code(alex, reset_code, "That code is not right")

    # Ten minutes on, the right code has run out.
    clock.advance(minutes=11)
    said = await type_code(alex, right, "has run out")
    assert "ask for a new code" in said.text
    assert await count(portal, ChatLink) == 0 and await chats_of(stack, account_id) == []
    assert await count(portal, AuditEntry, AuditEntry.action == "account.login") == 0

    # "Please send me a new code": a new code by email, and it works.
    after = len(stack.mail.messages)
    answer = await alex.press(latest(alex, "never type your password"), "Please send me a new code")
    assert "sent you an email with a code" in answer.text
    new_code = six_digit_code(await stack.mail.wait_for(email, "log in", after=after))
    await type_code(alex, new_code, "this chat is now linked", refused=False)
    assert await chats_of(stack, account_id) == [alex.id]


async def test_a_used_login_code_does_not_log_in_again(stack, stand, portal):
    email = "alex.jones@example.org"
    alex, code_mail, account_id = await at_the_login_code(stack, stand, email)
    used = six_digit_code(code_mail)
    await type_code(alex, used, "this chat is now linked", refused=False)
    await alex.send("/logout")
    await alex.wait_for(lambda m: "You have logged out" in m.text)

    # Logging in again: the old email's code is refused, the new one works.
    menu = await alex.wait_for(lambda m: "You are not logged in" in m.text)
    await alex.press(menu, "I already have an account")
    prompt = alex.message(menu.message_id)  # the menu turns into the login step
    assert "log in with your email address" in prompt.text
    new_mail = await submit_login(stack, alex, page_url(prompt.text), email)
    new_code = six_digit_code(new_mail)
    if new_code != used:
        await type_code(alex, used, "That code is not right")
        assert await count(portal, ChatLink, ChatLink.active_chat_id == alex.id) == 0
    await type_code(alex, new_code, "this chat is now linked", refused=False)
    # The used code does nothing more once the chat is linked: it is not taken for anything.
    typed = await alex.send(used)
    assert "did not understand" in (await alex.wait_for(lambda m: "did not understand" in m.text)).text
    assert typed is not None
    assert await count(portal, ChatLink) == 2  # the first link (ended) and this one


async def test_too_many_wrong_codes_kill_the_code_then_stop_the_chat_for_an_hour(stack, stand, portal, clock):
    email = "alex.jones@example.org"
    alex, code_mail, account_id = await at_the_login_code(stack, stand, email)
    right = six_digit_code(code_mail)
    wrong = other(right, "000000", "111111")
    for _ in range(4):
        await type_code(alex, wrong, "That code is not right")
    await type_code(alex, wrong, "tried too many times")
    said = await type_code(alex, right, "tried too many times")  # the right one is dead too
    assert "ask for a new code" in said.text

    after = len(stack.mail.messages)
    await alex.press(latest(alex, "never type your password"), "Please send me a new code")
    second = six_digit_code(await stack.mail.wait_for(email, "log in", after=after))
    wrong = other(second, "000000", "111111")
    for _ in range(4):
        await type_code(alex, wrong, "That code is not right")
    await type_code(alex, wrong, "tried too many times")

    # Ten wrong codes in the hour: even a fresh, right code waits an hour.
    after = len(stack.mail.messages)
    await alex.press(latest(alex, "never type your password"), "Please send me a new code")
    third = six_digit_code(await stack.mail.wait_for(email, "log in", after=after))
    said = await type_code(alex, third, "too many tries for now")
    assert "wait an hour" in said.text
    assert await count(portal, ChatLink) == 0 and await chats_of(stack, account_id) == []

    # An hour on, the page link has run out too: the chat says how to get a new one.
    clock.advance(minutes=61)
    said = await type_code(alex, third, "link to the page has expired")
    assert "Get a new link" in said.text
    window = latest(alex, "never type your password")
    await alex.press(window, "Get a new link")
    new_url = page_url(alex.message(window.message_id).text)
    fresh = six_digit_code(await submit_login(stack, alex, new_url, email))
    await type_code(alex, fresh, "this chat is now linked", refused=False)
    assert await chats_of(stack, account_id) == [alex.id]


# ------------------------------------------------------------------ deep links


async def test_a_replayed_deep_link_after_acceptance_changes_nothing(stack, stand, portal):
    email = "alex.jones@example.org"
    invitation = await stack.invite(email)
    alex = await verified_user(stack, stand, email)
    await register_through_chat(stack, alex, email)
    await answer_invitations(alex, {"Sam Jones": True})
    _, before = await stack.api("GET", f"/v1/invitations/{invitation['id']}")

    token, _ = await invitation_secrets(stack, email)  # the invitation's link again
    alex.mark_read()
    await alex.send(f"/start {token}")
    said = await alex.next_message()
    assert "already been answered" in said.text and "Nothing more is needed" in said.text
    assert "Main menu" in (await alex.next_message()).text
    _, after = await stack.api("GET", f"/v1/invitations/{invitation['id']}")
    assert after == before

    # From another chat, the used link says only that it does not work there.
    eve = stand.user(first_name="Eve")
    await eve.send(f"/start {token}")
    await eve.wait_for(lambda m: "does not work here" in m.text)
    assert "Sam" not in seen_by(eve) and email not in seen_by(eve)


async def test_an_expired_deep_link_is_refused_and_binds_nothing(stack, stand, portal, clock):
    email = "alex.jones@example.org"
    invitation = await stack.invite(email)
    token, _code = await invitation_secrets(stack, email)
    clock.advance(days=28, minutes=1)
    alex = stand.user(first_name="Alex")
    await alex.send(f"/start {token}")
    said = await alex.wait_for(lambda m: "expired" in m.text)
    assert "contact the SEND team for a new invitation" in said.text
    await alex.wait_for(lambda m: "Main menu" in m.text)
    _, seen = await stack.api("GET", f"/v1/invitations/{invitation['id']}")
    assert seen["status"] == "expired"
    row = await invitation_row(portal, invitation["id"])
    assert row.bound_chat_id is None and row.verified_at is None
    assert "Sam" not in seen_by(alex)


async def test_a_deep_link_used_from_a_second_chat_is_refused_and_reveals_nothing(stack, stand, portal):
    email = "alex.jones@example.org"
    invitation = await stack.invite(email)
    token, code = await invitation_secrets(stack, email)
    alex = stand.user(first_name="Alex")
    await open_invitation(alex, token)

    eve = stand.user(first_name="Eve")
    await eve.send(f"/start {token}")
    said = await eve.wait_for(lambda m: "does not work here" in m.text)
    assert "your own invitation email" in said.text
    await eve.wait_for(lambda m: "Main menu" in m.text)
    await eve.send(code)  # Eve has the code too: it leads nowhere in her chat
    await eve.wait_for(lambda m: "did not understand" in m.text)
    for secret in ("Sam", "Jones", email, "Alex"):
        assert secret not in seen_by(eve), secret

    row = await invitation_row(portal, invitation["id"])
    assert row.bound_chat_id == alex.id and row.wrong_tries == 0 and row.verified_at is None
    _, seen = await stack.api("GET", f"/v1/invitations/{invitation['id']}")
    assert (seen["status"], seen["locked"]) == ("sent", False)

    await give_unique_code(alex, code)  # the first chat goes on as before


# ------------------------------------------------------------------ the pages


async def at_the_register_page(stand):  # noqa: ANN001, ANN201
    alex = stand.user(first_name="Alex")
    await alex.send("/start")
    menu = await alex.wait_for(lambda m: "Main menu" in m.text)
    await alex.press(menu, "Register for new account")
    prompt = await alex.wait_for(lambda m: "register your account" in m.text, include_consumed=True)
    return alex, page_url(prompt.text)


async def test_a_page_link_opened_twice_works_until_its_step_completes(stack, stand, portal):
    email = "alex.jones@example.org"
    alex, url = await at_the_register_page(stand)
    form = PageForm(stack.http, url)
    for _ in range(2):  # a link preview, then the parent: both see the form
        status, html = await form.get()
        assert status == 200 and "Register for new account" in html and 'name="_csrf"' in html
    second_form_csrf = html.split('name="_csrf" value="')[1].split('"')[0]
    status, html = await form.submit({**REGISTRATION, "email": email})
    assert status == 200 and "Check your email" in html
    status, html = await form.get()  # opened again before the code: says what to do
    assert status == 200 and "already emailed you a code" in html
    # The other copy of the form, sent too, is refused: one form per link.
    data = {**REGISTRATION, "email": "someone.else@example.org", "_csrf": second_form_csrf}
    async with stack.http.post(url, data=data) as r:
        assert r.status == 410 and "expired" in await r.text()
    assert await count(portal, AccountRequest) == 1

    code = six_digit_code(await stack.mail.wait_for(email, "Confirm your email"))
    await type_code(alex, code, "this chat is now linked", refused=False)
    status, html = await form.get()
    assert status == 410 and "expired" in html
    assert await count(portal, Account) == 1


async def test_an_expired_page_link_is_refused_and_stores_nothing(stack, stand, portal, clock):
    email = "alex.jones@example.org"
    alex, url = await at_the_register_page(stand)
    form = PageForm(stack.http, url)
    status, html = await form.get()
    csrf = html.split('name="_csrf" value="')[1].split('"')[0]
    clock.advance(minutes=31)
    status, html = await form.get()
    assert status == 410 and "expired" in html
    async with stack.http.post(url, data={**REGISTRATION, "email": email, "_csrf": csrf}) as r:
        assert r.status == 410
    assert await count(portal, AccountRequest) == 0 and await count(portal, OneTimeCode) == 0
    assert not stack.mail.to(email)

    # In the chat: the way to a new link; the new one works, the old one stays dead.
    said = await type_code(alex, "123456", "link to the page has expired")
    assert "Get a new link" in said.text
    window = latest(alex, "never type your password")
    await alex.press(window, "Get a new link")
    new_url = page_url(alex.message(window.message_id).text)
    assert new_url != url
    status, html = await PageForm(stack.http, new_url).submit({**REGISTRATION, "email": email})
    assert status == 200 and "Check your email" in html
    assert (await form.get())[0] == 410


async def test_a_page_form_without_its_csrf_token_is_refused_and_stores_nothing(stack, stand, portal):
    email = "alex.jones@example.org"
    alex, url = await at_the_register_page(stand)
    alex.mark_read()
    form = PageForm(stack.http, url)
    status, html = await form.submit({**REGISTRATION, "email": email}, csrf=False)
    assert status == 403 and "expired" in html
    # A token made for another page does not do either.
    _other_alex, other_url = await at_the_register_page(stand)
    _, other_html = await PageForm(stack.http, other_url).get()
    foreign = other_html.split('name="_csrf" value="')[1].split('"')[0]
    async with stack.http.post(url, data={**REGISTRATION, "email": email, "_csrf": foreign}) as r:
        assert r.status == 403

    assert await count(portal, AccountRequest) == 0 and await count(portal, OneTimeCode) == 0
    assert await count(portal, Account) == 0
    async with portal.db() as s:
        link = (await s.scalars(select(PageLink).where(PageLink.chat_id == alex.id))).one()
    assert link.submitted_at is None and link.completed_at is None
    await alex.ensure_no_message()  # the chat was not told a code is on its way
    assert not stack.mail.to(email)

    # The page itself still works with its token.
    status, html = await form.submit({**REGISTRATION, "email": email})
    assert status == 200 and "Check your email" in html


# ------------------------------------------------------------------ text where a button is expected


async def test_text_where_a_button_is_expected_gets_a_kind_answer_and_the_question_again(stack, stand, portal):
    email = "alex.jones@example.org"
    invitation = await stack.invite(email)
    alex = await verified_user(stack, stand, email)

    await alex.wait_for(lambda m: "Do you already have an account" in m.text)
    await alex.send("yes I think so")
    said = await alex.wait_for(lambda m: "did not understand" in m.text)
    assert "Nothing has been sent" in said.text
    again = await alex.wait_for(lambda m: "Do you already have an account" in m.text)
    assert again.reply_markup.find("I already have an account") is not None
    assert await count(portal, PageLink) == 0  # no page was opened for it

    await alex.press(again, "Register for new account")
    prompt = await alex.wait_for(lambda m: "register your account" in m.text, include_consumed=True)
    status, _ = await PageForm(stack.http, page_url(prompt.text)).submit({**REGISTRATION, "email": email})
    assert status == 200
    await alex.wait_for(lambda m: "type the 6-digit code here" in m.text)
    await type_code(alex, six_digit_code(await stack.mail.wait_for(email, "Confirm your email")),
                    "this chat is now linked", refused=False)

    await alex.wait_for(lambda m: "Invitations awaiting approval" in m.text)
    await alex.send("Yes please")
    await alex.wait_for(lambda m: "did not understand" in m.text)
    window = await alex.wait_for(lambda m: "Invitations awaiting approval" in m.text)
    await alex.press_data(window, answer_data(window, "Sam Jones", "Yes"))
    await alex.press(window, "Confirm")
    confirm = await alex.wait_for(lambda m: "not be able to make any further changes" in m.text,
                                  include_consumed=True)
    await alex.send("submit")
    await alex.wait_for(lambda m: "did not understand" in m.text)
    confirm = await alex.wait_for(lambda m: "not be able to make any further changes" in m.text)
    assert "Sam Jones: Yes" in confirm.text  # the answer so far is kept
    _, seen = await stack.api("GET", f"/v1/invitations/{invitation['id']}")
    assert seen["status"] == "verified"  # nothing was sent by typing
    await alex.press(confirm, "Submit")
    await alex.wait_for(lambda m: "answer has been sent" in m.text, include_consumed=True)
    _, seen = await stack.api("GET", f"/v1/invitations/{invitation['id']}")
    assert seen["status"] == "accepted"


# ------------------------------------------------------------------ forged buttons


async def two_families_at_their_invitations(stack, stand):  # noqa: ANN001, ANN201
    families = []
    for first, email, child, surname, ref in (
        ("Alex", "alex.jones@example.org", "Sam", "Jones", "CASE-1"),
        ("Bea", "bea.lee@example.net", "Max", "Lee", "CASE-2"),
    ):
        invitation = await stack.invite(email, child=child, surname=surname, parent=first, ref=ref)
        user = await verified_user(stack, stand, email, first, child)
        await register_through_chat(stack, user, email, forename=first, surname=surname)
        window = await user.wait_for(lambda m: "Invitations awaiting approval" in m.text)
        families.append((user, invitation, window))
    return families


async def test_another_familys_invitation_reached_by_forged_buttons_is_refused(stack, stand, portal):
    (alex, alex_inv, alex_window), (bea, bea_inv, bea_window) = await two_families_at_their_invitations(stack, stand)
    grants_before = await _grants(portal)

    # Data copied from Bea's buttons, pressed in Alex's chat: refused, nothing said about Bea.
    answer = await alex.press_data(alex_window, answer_data(bea_window, "Max Lee", "Yes"))
    assert answer.text == "That button no longer works."
    await alex.wait_for(lambda m: "no longer works" in m.text and "Nothing has been changed" in m.text)
    menu = await alex.wait_for(lambda m: "Main menu" in m.text)

    # Alex's own buttons, with Bea's invitation id or made-up ids put in: refused the same way.
    await alex.press(menu, "Invitations awaiting approval")
    window = await alex.wait_for(lambda m: "Invitations awaiting approval" in m.text and m.reply_markup is not None
                                 and m.reply_markup.find("Confirm") is not None, include_consumed=True)
    own_yes = answer_data(window, "Sam Jones", "Yes")
    intent, widget = own_yes.split(CB_SEP)
    assert widget.startswith("inv:")  # the row's invitation id is in the data: inv:<id>:<button>
    for forged_id, actions in ((str(bea_inv["id"]), ("yes", "no", "tick")), ("999999", ("yes",)), ("abc", ("tick",))):
        for action in actions:
            forged = f"{intent}{CB_SEP}inv:{forged_id}:{action}"
            answer = await alex.press_data(window, forged)
            assert answer.text == "That choice is no longer available. Nothing has been changed.", (forged, answer)
    current = alex.message(window.message_id)
    # Whole words: a link token's random hex can hold the letters "bea".
    assert not re.search(r"\b(Max|Lee|Bea|bea\.lee)\b", seen_by(alex), re.IGNORECASE), seen_by(alex)
    assert [b.text for b in current.reply_markup.buttons if "Sam" in b.text] == ["⬜ Sam Jones"]
    answer = await alex.press(current, "Confirm")  # nothing chosen by the forged presses
    assert "tick the child" in answer.text

    # Nothing changed for either family.
    assert await _grants(portal) == grants_before
    for inv in (alex_inv, bea_inv):
        _, seen = await stack.api("GET", f"/v1/invitations/{inv['id']}")
        assert (seen["status"], seen["grant_status"]) == ("verified", "pending")
    assert await count(portal, AuditEntry, AuditEntry.action.in_(("invitation.accept", "invitation.decline"))) == 0

    # Each family can still answer its own invitation.
    await answer_invitations(bea, {"Max Lee": False})
    await answer_invitations(alex, {"Sam Jones": True})
    _, seen = await stack.api("GET", f"/v1/invitations/{bea_inv['id']}")
    assert seen["status"] == "declined"
    _, seen = await stack.api("GET", f"/v1/invitations/{alex_inv['id']}")
    assert seen["status"] == "accepted"


async def test_a_stale_answer_submitted_after_the_invitation_changed_is_refused(stack, stand, portal):
    """The confirm window is open; meanwhile the invitation is answered from another chat of the
    same account. Submit is refused and nothing is changed twice."""
    email = "alex.jones@example.org"
    account_id = await create_account(stack, email)
    invitation = await stack.invite(email)
    phone = await verified_user(stack, stand, email)
    await login_through_chat(stack, phone, email)
    window = await phone.wait_for(lambda m: "Invitations awaiting approval" in m.text)
    await phone.press_data(window, answer_data(window, "Sam Jones", "Yes"))
    await phone.press(window, "Confirm")
    confirm = await phone.wait_for(lambda m: "not be able to make any further changes" in m.text, include_consumed=True)

    tablet = stand.user(first_name="Alex")
    await tablet.send("/start")
    await tablet.wait_for(lambda m: "Main menu" in m.text)
    await tablet.press(tablet.last, "I already have an account")
    url = page_url(latest(tablet, "log in with your email").text)
    login_code = six_digit_code(await submit_login(stack, tablet, url, email))
    await type_code(tablet, login_code, "this chat is now linked", refused=False)
    await answer_invitations(tablet, {"Sam Jones": False})

    answer = await phone.press(confirm, "Submit")
    assert "no longer available" in answer.text
    _, seen = await stack.api("GET", f"/v1/invitations/{invitation['id']}")
    assert seen["status"] == "declined"
    async with portal.db() as s:
        grant = (await s.scalars(select(AccessGrant))).one()
    assert (grant.status, grant.account_id) == ("declined", account_id)


async def _grants(portal) -> list[tuple[int, str, int | None]]:  # noqa: ANN001
    async with portal.db() as s:
        return [(g.id, g.status, g.account_id) for g in (await s.scalars(select(AccessGrant).order_by(AccessGrant.id)))]
