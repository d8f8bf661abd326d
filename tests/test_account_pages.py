"""The account pages over real HTTP: "Forgotten password", changing the password, changing the
email. The code step is what the chat does (`PageFlow.submit_code`); codes are read from the
email outbox; time moves only with the FrozenClock."""

from __future__ import annotations

import re
from html import escape as html_escape

import aiohttp
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from core.accounts import AccountService, LoginStatus, StartStatus
from core.accounts.models import Account, AccountRequest, OneTimeCode, PasswordHistory, RateEvent
from core.models import AuditEntry, Chat, EmailItem, OutboxItem, PageLink
from core.onboarding.links import ChatLinkService
from core.page_flow import GO_BACK_TO_PAGE, NOT_LOGGED_IN, CodeOutcome, PageFlow
from core.page_links import LinkState, PageLinks, Purpose
from web import bound_port, make_csrf_token, start_web
from web.account_pages import account_pages

PASSWORD = "Correct Horse Battery 42"
NEW_PASSWORD = "Purple Otter Kayak 2031"
EMAIL = "sam.patel@example.org"
CHAT = 5151
OTHER_CHAT = 6262
EXPIRED = "This link has expired or has already been used"


# ------------------------------------------------------------------ fixtures and helpers


@pytest.fixture
async def web(portal):
    runner = await start_web(portal, [account_pages()], port=0)
    portal.settings.http.public_url = f"http://127.0.0.1:{bound_port(runner)}"
    async with aiohttp.ClientSession() as http:
        yield Browser(http)
    await runner.cleanup()


class Browser:
    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http
        self.last_url = ""

    async def get(self, url: str) -> tuple[int, str]:
        async with self.http.get(url) as r:
            html = await r.text()
        assert_plain_english(html)
        return r.status, html

    async def post(self, url: str, fields: dict[str, str], *, form_url: str | None = None,
                   action: str | None = None, csrf: bool = True) -> tuple[int, str]:
        """GET `form_url` (default `url`), then POST its form (the one posting to `action`)."""
        data = dict(fields)
        if csrf:
            status, html = await self.get(form_url or url)
            assert status == 200, html
            data["_csrf"] = csrf_of(html, action)
        async with self.http.post(url, data=data) as r:
            html = await r.text()
            self.last_url = str(r.url)
        assert_plain_english(html)
        return r.status, html


def csrf_of(html: str, action: str | None = None) -> str:
    forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*>\s*<input type="hidden" name="_csrf" '
                       r'value="([^"]+)"', html)
    assert forms, html
    if action is None:
        return forms[0][1]
    return next(token for act, token in forms if act == action)


def assert_plain_english(html: str) -> None:
    """Every page: a proper English page with a heading, and nothing a parent should never see."""
    assert '<html lang="en-GB">' in html and "<h1>" in html, html
    text = re.sub(r"<[^>]+>", " ", html)
    for bad in ("Traceback", "None", "Exception", "request_id", "_csrf", "null", "undefined"):
        assert bad not in text, (bad, text)
    assert not re.search(r"\{\w*\}", text), text  # no template left unfilled


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


async def emails_to(portal, addr: str) -> list[EmailItem]:
    async with portal.db() as s:
        return list((await s.scalars(select(EmailItem).where(EmailItem.to_addr == addr).order_by(EmailItem.id))).all())


async def code_sent_to(portal, addr: str) -> str:
    mails = [m for m in await emails_to(portal, addr) if "Your code is" in m.body]
    assert mails, f"no code emailed to {addr}"
    return re.search(r"Your code is (\d{6})\.", mails[-1].body).group(1)


async def chat_notices(portal, chat_id: int) -> list[str]:
    async with portal.db() as s:
        return list((await s.scalars(select(OutboxItem.text).where(OutboxItem.chat_id == chat_id)
                                     .order_by(OutboxItem.id))).all())


async def make_account(portal, email: str = EMAIL, password: str = PASSWORD) -> int:
    form = {"forename": "Sam", "surname": "Patel", "street": "Orchard Lane", "town": "Worcester",
            "postcode": "WR2 5AA", "email": email, "password": password, "confirm_password": password}
    accounts = AccountService(portal)
    started = await accounts.start_registration(form)
    assert started.status is StartStatus.CODE_SENT, started
    done = await accounts.confirm_registration(started.request_id, await code_sent_to(portal, email))
    assert done.ok and done.account_id is not None
    return done.account_id


async def linked_account(portal, chat_id: int = CHAT) -> int:
    account_id = await make_account(portal)
    await ChatLinkService(portal).link_chat(account_id, chat_id)
    return account_id


async def new_link(portal, chat_id: int, purpose: Purpose) -> str:
    links = PageLinks(portal)
    return links.url(await links.create(chat_id, purpose))


async def state_of(portal, url: str) -> LinkState:
    link = await PageLinks(portal).open(url.rsplit("/", 1)[1])
    assert link is not None
    return link.state


async def reset_link_from_login(web: Browser, portal, chat_id: int = CHAT) -> tuple[str, str]:
    """The parent on the login page taps "Forgotten password?": (login url, reset url)."""
    login = await new_link(portal, chat_id, Purpose.LOGIN)
    status, html = await web.get(login)
    assert status == 200 and "Forgotten password?" in html
    action = path_of(login) + "/forgotten"
    status, html = await web.post(login + "/forgotten", {}, form_url=login, action=action)
    assert status == 200 and "<h1>Forgotten password</h1>" in html, html
    reset = web.last_url
    assert reset != login and re.fullmatch(r"http://127\.0\.0\.1:\d+/p/[A-Za-z0-9_-]+", reset)
    return login, reset


async def can_log_in(portal, email: str, password: str) -> bool:
    result = await AccountService(portal).start_login(email, password)
    return result.status is LoginStatus.CODE_SENT


# ------------------------------------------------------------------ forgotten password


async def test_forgotten_password_from_the_login_page_to_a_new_password(web, portal, clock):
    await make_account(portal)
    flow = PageFlow(portal)
    login, reset = await reset_link_from_login(web, portal)

    # The reset link belongs to the same chat; the login page it came from no longer works.
    link = await PageLinks(portal).open(reset.rsplit("/", 1)[1])
    assert link.chat_id == CHAT and link.purpose is Purpose.RESET
    status, html = await web.get(login)
    assert status == 410 and EXPIRED in html

    status, html = await web.post(reset, {"email": "  Sam.Patel@Example.org "})
    assert status == 200 and "Check your email" in html and "I have typed the code" in html
    assert "type the 6-digit code here" in (await chat_notices(portal, CHAT))[-1]
    code = await code_sent_to(portal, EMAIL)
    assert "reset your password" in (await emails_to(portal, EMAIL))[-1].subject

    # Before the code, the page still waits; a wrong code or another chat changes nothing.
    clock.advance(minutes=2)
    status, html = await web.get(reset)
    assert status == 200 and "Check your email" in html and "New password" not in html
    assert (await flow.submit_code(OTHER_CHAT, code)).outcome is CodeOutcome.NO_PAGE
    wrong = await flow.submit_code(CHAT, "000000" if code != "000000" else "111111")
    assert wrong.outcome is CodeOutcome.PROBLEM and "not right" in wrong.message

    result = await flow.submit_code(CHAT, code)
    assert result.outcome is CodeOutcome.VERIFIED_GO_BACK
    assert result.purpose is Purpose.RESET and result.account_id is None
    assert result.message == GO_BACK_TO_PAGE
    assert await state_of(portal, reset) is LinkState.VERIFIED
    assert (await flow.submit_code(CHAT, code)).outcome is CodeOutcome.NO_PAGE  # nothing waits now
    assert await flow.new_code(CHAT) is None

    # The same page, reloaded, asks for the new password and lists the rules.
    clock.advance(minutes=1)
    status, html = await web.get(reset)
    assert status == 200 and "Choose a new password" in html
    for rule in AccountService(portal).password_rules():
        assert html_escape(rule) in html

    status, html = await web.post(reset, {"password": "password", "confirm_password": "password"})
    assert status == 400 and "<title>Error: Choose a new password</title>" in html and "There is a problem" in html
    assert "at least" in html  # the policy's own words
    status, html = await web.post(reset, {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "x"})
    assert status == 400 and "The two passwords are not the same" in html
    status, html = await web.post(reset, {"password": PASSWORD, "confirm_password": PASSWORD})
    assert status == 400 and "different from your current password" in html
    assert await state_of(portal, reset) is LinkState.VERIFIED

    status, html = await web.post(reset, {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert status == 200, html
    assert "Your password has been changed" in html and "You can log in from the chat." in html
    assert "Your password has been changed" in (await chat_notices(portal, CHAT))[-1]
    assert "your password was changed" in (await emails_to(portal, EMAIL))[-1].subject
    assert await state_of(portal, reset) is LinkState.USED

    status, html = await web.get(reset)
    assert status == 410 and EXPIRED in html
    status, html = await web.post(reset, {"password": "Another Good One 77"}, csrf=False)
    assert status == 403
    assert await can_log_in(portal, EMAIL, NEW_PASSWORD)
    assert not await can_log_in(portal, EMAIL, PASSWORD)


async def test_forgotten_password_gives_the_same_answer_for_an_unknown_email(web, portal):
    await make_account(portal)
    _, known = await reset_link_from_login(web, portal, CHAT)
    _, unknown = await reset_link_from_login(web, portal, OTHER_CHAT)
    before = len(await emails_to(portal, "nobody@example.org"))

    known_status, known_html = await web.post(known, {"email": EMAIL})
    unknown_status, unknown_html = await web.post(unknown, {"email": "nobody@example.org"})
    assert known_status == unknown_status == 200
    assert known_html.replace(path_of(known), "X") == unknown_html.replace(path_of(unknown), "X")
    assert (await chat_notices(portal, CHAT))[-1] == (await chat_notices(portal, OTHER_CHAT))[-1]
    assert len(await emails_to(portal, "nobody@example.org")) == before  # nothing sent there

    # Whatever is typed for the unknown email is simply a wrong code, as for the known one.
    flow = PageFlow(portal)
    code = await code_sent_to(portal, EMAIL)
    guess = "123456" if code != "123456" else "654321"
    known_wrong = await flow.submit_code(CHAT, guess)
    unknown_wrong = await flow.submit_code(OTHER_CHAT, guess)
    assert known_wrong.outcome is unknown_wrong.outcome is CodeOutcome.PROBLEM
    assert known_wrong.message == unknown_wrong.message
    assert await flow.new_code(CHAT) == await flow.new_code(OTHER_CHAT)

    status, html = await web.post(unknown, {"email": "not an email"}, csrf=False)
    assert status == 403  # a form without its CSRF field
    _, fresh = await reset_link_from_login(web, portal, OTHER_CHAT)
    status, html = await web.post(fresh, {"email": "not an email"})
    assert status == 400 and "Please enter a full email address" in html


async def test_a_new_reset_code_replaces_the_old_one(web, portal, clock):
    await make_account(portal)
    _, reset = await reset_link_from_login(web, portal)
    await web.post(reset, {"email": EMAIL})
    first = await code_sent_to(portal, EMAIL)
    clock.advance(minutes=1)
    flow = PageFlow(portal)
    assert "We have sent you an email with a code" in await flow.new_code(CHAT)
    second = await code_sent_to(portal, EMAIL)
    if first != second:
        assert (await flow.submit_code(CHAT, first)).outcome is CodeOutcome.PROBLEM
    assert (await flow.submit_code(CHAT, second)).outcome is CodeOutcome.VERIFIED_GO_BACK


async def test_reset_links_expire(web, portal, clock):
    await make_account(portal)
    _, reset = await reset_link_from_login(web, portal)
    await web.post(reset, {"email": EMAIL})
    assert (await PageFlow(portal).submit_code(CHAT, await code_sent_to(portal, EMAIL))).outcome \
        is CodeOutcome.VERIFIED_GO_BACK
    status, html = await web.get(reset)
    token = csrf_of(html)
    clock.advance(minutes=31)
    async with web.http.post(reset, data={"_csrf": token, "password": NEW_PASSWORD,
                                          "confirm_password": NEW_PASSWORD}) as r:
        assert r.status == 410 and EXPIRED in await r.text()
    assert await can_log_in(portal, EMAIL, PASSWORD)

    # A login page's "Forgotten password?" no longer works once the login link has expired.
    login = await new_link(portal, CHAT, Purpose.LOGIN)
    status, html = await web.get(login)
    token = csrf_of(html, path_of(login) + "/forgotten")
    clock.advance(minutes=31)
    async with web.http.post(login + "/forgotten", data={"_csrf": token}) as r:
        assert r.status == 410 and EXPIRED in await r.text()


async def test_forgotten_password_is_only_offered_from_a_login_link(web, portal):
    for purpose in (Purpose.REGISTER, Purpose.RESET, Purpose.CHANGE_PASSWORD):
        url = await new_link(portal, CHAT, purpose)
        async with web.http.get(url) as r:
            html = await r.text()
        assert "Forgotten password?" not in html
        # Even with a valid CSRF token made for that path, no reset link is made from it.
        token = make_csrf_token(portal.secret_key, path_of(url) + "/forgotten", portal.clock.now())
        async with web.http.post(url + "/forgotten", data={"_csrf": token}) as r:
            assert r.status == 410
    async with portal.db() as s:
        resets = await s.scalar(select(func.count()).select_from(PageLink).where(PageLink.purpose == "reset"))
    assert resets == 1  # only the one the test made itself


# ------------------------------------------------------------------ change password


async def test_change_password_for_a_linked_chat(web, portal, clock):
    await linked_account(portal)
    url = await new_link(portal, CHAT, Purpose.CHANGE_PASSWORD)
    status, html = await web.get(url)
    assert status == 200 and "Change your password" in html and "Current password" in html
    for rule in AccountService(portal).password_rules():
        assert html_escape(rule) in html

    status, html = await web.post(url, {"current_password": "Not My Password 1", "password": NEW_PASSWORD,
                                        "confirm_password": NEW_PASSWORD})
    assert status == 400 and "That password is not right" in html
    status, html = await web.post(url, {"current_password": PASSWORD, "password": PASSWORD,
                                        "confirm_password": PASSWORD})
    assert status == 400 and "different from your current password" in html
    status, html = await web.post(url, {"current_password": PASSWORD, "password": NEW_PASSWORD,
                                        "confirm_password": "something else"})
    assert status == 400 and "The two passwords are not the same" in html
    assert await state_of(portal, url) is LinkState.OPEN

    status, html = await web.post(url, {"current_password": PASSWORD, "password": NEW_PASSWORD,
                                        "confirm_password": NEW_PASSWORD})
    assert status == 200 and "Your password has been changed" in html, html
    assert "Your password has been changed" in (await chat_notices(portal, CHAT))[-1]
    assert "your password was changed" in (await emails_to(portal, EMAIL))[-1].subject
    assert await state_of(portal, url) is LinkState.USED
    status, html = await web.get(url)
    assert status == 410 and EXPIRED in html
    assert await can_log_in(portal, EMAIL, NEW_PASSWORD)
    assert (await PageFlow(portal).submit_code(CHAT, "123456")).outcome is CodeOutcome.NO_PAGE

    # The history: going back to the old password is refused.
    clock.advance(minutes=5)
    again = await new_link(portal, CHAT, Purpose.CHANGE_PASSWORD)
    status, html = await web.post(again, {"current_password": NEW_PASSWORD, "password": PASSWORD,
                                          "confirm_password": PASSWORD})
    assert status == 400 and "different from your previous" in html
    assert await can_log_in(portal, EMAIL, NEW_PASSWORD)


async def test_signed_in_pages_need_the_chat_still_linked(web, portal, clock):
    # A chat that was never linked.
    for purpose in (Purpose.CHANGE_PASSWORD, Purpose.CHANGE_EMAIL):
        status, html = await web.get(await new_link(portal, OTHER_CHAT, purpose))
        assert status == 410 and EXPIRED in html

    # A chat unlinked after the page was opened.
    account_id = await linked_account(portal)
    url = await new_link(portal, CHAT, Purpose.CHANGE_PASSWORD)
    status, html = await web.get(url)
    assert status == 200
    token = csrf_of(html)
    await ChatLinkService(portal).unlink_chat(CHAT, "logout")
    async with web.http.post(url, data={"_csrf": token, "current_password": PASSWORD, "password": NEW_PASSWORD,
                                        "confirm_password": NEW_PASSWORD}) as r:
        assert r.status == 410 and EXPIRED in await r.text()
    assert await can_log_in(portal, EMAIL, PASSWORD)

    # A link made while the chat was logged in to one account never acts for another one.
    other = await make_account(portal, "other@example.org")
    await ChatLinkService(portal).link_chat(other, CHAT)
    early = await new_link(portal, CHAT, Purpose.CHANGE_PASSWORD)
    status, html = await web.get(early)
    assert status == 200
    clock.advance(minutes=1)
    await ChatLinkService(portal).unlink_chat(CHAT, "logout")
    await ChatLinkService(portal).link_chat(account_id, CHAT)
    status, html = await web.get(early)
    assert status == 410 and EXPIRED in html


# ------------------------------------------------------------------ change email


async def test_change_email_sends_the_code_to_the_new_address(web, portal, clock):
    account_id = await linked_account(portal)
    new_email = "sam.new@example.org"
    url = await new_link(portal, CHAT, Purpose.CHANGE_EMAIL)
    status, html = await web.get(url)
    assert status == 200 and "Change your email address" in html

    status, html = await web.post(url, {"password": "Wrong Password 99", "email": new_email})
    assert status == 400 and "That password is not right" in html and new_email in html
    status, html = await web.post(url, {"password": PASSWORD, "email": "sam at example"})
    assert status == 400 and "Please enter a full email address" in html
    status, html = await web.post(url, {"password": PASSWORD, "email": EMAIL.upper()})
    assert status == 400 and "already your email address" in html
    assert await state_of(portal, url) is LinkState.OPEN

    old_mails = len(await emails_to(portal, EMAIL))
    status, html = await web.post(url, {"password": PASSWORD, "email": new_email})
    assert status == 200 and "Check your email" in html and new_email in html
    assert "new email address" in (await chat_notices(portal, CHAT))[-1]
    code = await code_sent_to(portal, new_email)
    assert len(await emails_to(portal, EMAIL)) == old_mails  # no code to the old address
    status, html = await web.get(url)
    assert status == 200 and "already emailed a code to your new email address" in html

    flow = PageFlow(portal)
    clock.advance(minutes=1)
    assert "We have sent you an email with a code" in await flow.new_code(CHAT)
    code = await code_sent_to(portal, new_email)
    wrong = await flow.submit_code(CHAT, "000000" if code != "000000" else "111111")
    assert wrong.outcome is CodeOutcome.PROBLEM and "not right" in wrong.message
    result = await flow.submit_code(CHAT, code)
    assert result.outcome is CodeOutcome.EMAIL_CHANGED
    assert result.purpose is Purpose.CHANGE_EMAIL and result.account_id == account_id
    assert new_email in result.message

    assert (await AccountService(portal).get_account(account_id)).email == new_email
    told = (await emails_to(portal, EMAIL))[-1]
    assert "your email address was changed" in told.subject and new_email in told.body
    async with portal.db() as s:
        assert (await s.get(Chat, CHAT)).fallback_email == new_email
    assert await state_of(portal, url) is LinkState.USED
    status, html = await web.get(url)
    assert status == 410 and EXPIRED in html
    assert (await flow.submit_code(CHAT, code)).outcome is CodeOutcome.NO_PAGE
    assert await can_log_in(portal, new_email, PASSWORD)


async def test_change_email_to_an_address_with_an_account_changes_nothing(web, portal):
    account_id = await linked_account(portal)
    await make_account(portal, "taken@example.org")
    url = await new_link(portal, CHAT, Purpose.CHANGE_EMAIL)
    status, html = await web.post(url, {"password": PASSWORD, "email": "taken@example.org"})
    assert status == 200 and "Check your email" in html  # the same answer as for a free address
    assert "already has an account" in (await emails_to(portal, "taken@example.org"))[-1].subject
    result = await PageFlow(portal).submit_code(CHAT, "123456")
    assert result.outcome is CodeOutcome.PROBLEM
    assert (await AccountService(portal).get_account(account_id)).email == EMAIL


async def test_change_email_code_after_the_chat_was_unlinked(web, portal):
    account_id = await linked_account(portal)
    url = await new_link(portal, CHAT, Purpose.CHANGE_EMAIL)
    await web.post(url, {"password": PASSWORD, "email": "sam.new@example.org"})
    code = await code_sent_to(portal, "sam.new@example.org")
    await ChatLinkService(portal).unlink_chat(CHAT, "logout")
    flow = PageFlow(portal)
    result = await flow.submit_code(CHAT, code)
    assert result.outcome is CodeOutcome.PROBLEM and result.message == NOT_LOGGED_IN
    assert await flow.new_code(CHAT) == NOT_LOGGED_IN
    assert (await AccountService(portal).get_account(account_id)).email == EMAIL


# ------------------------------------------------------------------ links and CSRF


async def test_expired_replaced_and_used_links(web, portal, clock):
    await linked_account(portal)
    url = await new_link(portal, CHAT, Purpose.CHANGE_PASSWORD)
    status, html = await web.get(url)
    assert status == 200
    clock.advance(minutes=31)
    status, html = await web.get(url)
    assert status == 410 and "This link has expired" in html

    first = await new_link(portal, CHAT, Purpose.CHANGE_EMAIL)
    status, html = await web.get(first)
    token = csrf_of(html)
    await new_link(portal, CHAT, Purpose.CHANGE_PASSWORD)  # a newer link for the chat
    async with web.http.post(first, data={"_csrf": token, "password": PASSWORD, "email": "x@example.org"}) as r:
        assert r.status == 410 and EXPIRED in await r.text()

    status, html = await web.get(portal.settings.http.public_url + "/p/no-such-link")
    assert status == 410 and EXPIRED in html


async def test_posts_without_csrf_are_refused_and_change_nothing(web, portal):
    await linked_account(portal)
    for purpose, fields in (
        (Purpose.CHANGE_PASSWORD, {"current_password": PASSWORD, "password": NEW_PASSWORD,
                                   "confirm_password": NEW_PASSWORD}),
        (Purpose.CHANGE_EMAIL, {"password": PASSWORD, "email": "sam.new@example.org"}),
    ):
        url = await new_link(portal, CHAT, purpose)
        status, html = await web.post(url, fields, csrf=False)
        assert status == 403 and "This page has expired" in html
        assert await state_of(portal, url) is LinkState.OPEN

    login = await new_link(portal, CHAT, Purpose.LOGIN)
    status, _ = await web.post(login + "/forgotten", {}, csrf=False)
    assert status == 403
    # The login form's own token is not good for the "Forgotten password?" form.
    status, html = await web.get(login)
    async with web.http.post(login + "/forgotten", data={"_csrf": csrf_of(html, path_of(login))}) as r:
        assert r.status == 403
    assert await state_of(portal, login) is LinkState.OPEN
    async with portal.db() as s:
        assert await s.scalar(select(func.count()).select_from(PageLink).where(PageLink.purpose == "reset")) == 0
    assert await can_log_in(portal, EMAIL, PASSWORD)
    assert not await emails_to(portal, "sam.new@example.org")


async def test_pages_never_show_a_password_back(web, portal):
    await linked_account(portal)
    url = await new_link(portal, CHAT, Purpose.CHANGE_PASSWORD)
    _, html = await web.post(url, {"current_password": PASSWORD, "password": "short", "confirm_password": "short"})
    assert PASSWORD not in html and 'value="short"' not in html
    url = await new_link(portal, CHAT, Purpose.CHANGE_EMAIL)
    _, html = await web.post(url, {"password": PASSWORD, "email": "bad"})
    assert PASSWORD not in html


# ------------------------------------------------------------------ a page's step and its chat notice: one transaction


class FailAfterTheNotice(Exception):
    pass


class NoticeFault:
    """When on: once a chat notice has been written (whoever writes it, in whichever transaction),
    that transaction fails before it commits (a crash, a full disk)."""

    @staticmethod
    def _fail_after_a_notice(session: Session, *_: object) -> None:
        if any(isinstance(row, OutboxItem) for row in session.new):
            raise FailAfterTheNotice

    def on(self) -> None:
        event.listen(Session, "before_flush", self._fail_after_a_notice)

    def off(self) -> None:
        if event.contains(Session, "before_flush", self._fail_after_a_notice):
            event.remove(Session, "before_flush", self._fail_after_a_notice)


@pytest.fixture
def notice_fault():
    fault = NoticeFault()
    yield fault
    fault.off()


async def everything(portal) -> dict[str, list[tuple]]:
    """Every row a page's step could write or change, table by table."""
    out = {}
    async with portal.db() as s:
        for model in (Account, AccountRequest, OneTimeCode, PasswordHistory, RateEvent, AuditEntry,
                      EmailItem, OutboxItem, PageLink):
            table = model.__table__
            rows = await s.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [tuple(r) for r in rows.all()]
    return out


async def reset_link_verified(web: Browser, portal) -> str:
    """A "Forgotten password" link whose code the chat has had: the page asks for the new password."""
    url = await new_link(portal, CHAT, Purpose.RESET)
    await web.post(url, {"email": EMAIL})
    assert (await PageFlow(portal).submit_code(CHAT, await code_sent_to(portal, EMAIL))).outcome \
        is CodeOutcome.VERIFIED_GO_BACK
    return url


REGISTRATION = {"forename": "Sam", "surname": "Patel", "street": "Orchard Lane", "town": "Worcester",
                "postcode": "WR2 5AA", "email": "robin@example.org", "password": PASSWORD,
                "confirm_password": PASSWORD}


@pytest.mark.parametrize(("step", "fields", "told"), [
    ("register", REGISTRATION, "We have emailed you a code to confirm your email address."),
    ("login", {"email": EMAIL, "password": PASSWORD}, "We have emailed you a code."),
    ("reset", {"email": EMAIL}, "we have emailed it a code to reset your password"),
    ("new password", {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}, 'choose "I already have'),
    ("change password", {"current_password": PASSWORD, "password": NEW_PASSWORD,
                         "confirm_password": NEW_PASSWORD}, "If you did not do this"),
    ("change email", {"password": PASSWORD, "email": "sam.new@example.org"}, "your new email address"),
])
async def test_a_page_step_and_its_chat_notice_are_one_transaction(web, portal, notice_fault, step, fields, told):
    """What a page's form does (the account's step: a request and its emailed code, or the new
    password and its email; the link's new state) and the chat's notice about it are committed
    together: a failure after the notice was written leaves none of them."""
    if step == "register":
        url = await new_link(portal, CHAT, Purpose.REGISTER)
    elif step == "login":
        await make_account(portal)
        url = await new_link(portal, CHAT, Purpose.LOGIN)
    elif step == "reset":
        await make_account(portal)
        url = await new_link(portal, CHAT, Purpose.RESET)
    elif step == "new password":
        await make_account(portal)
        url = await reset_link_verified(web, portal)
    else:
        await linked_account(portal)
        url = await new_link(portal, CHAT, Purpose.CHANGE_PASSWORD if step == "change password" else Purpose.CHANGE_EMAIL)
    state = await state_of(portal, url)
    await web.get(url)  # opening the page is not the step
    before = await everything(portal)
    notices = len(await chat_notices(portal, CHAT))

    notice_fault.on()
    status, html = await web.post(url, fields)
    assert status == 500 and "Something went wrong" in html
    assert await everything(portal) == before  # no request, code, email, password, audit entry or notice
    assert await state_of(portal, url) is state

    notice_fault.off()
    status, html = await web.post(url, fields)
    assert status == 200, html
    after = await chat_notices(portal, CHAT)
    assert len(after) == notices + 1 and told in after[-1]
    assert await state_of(portal, url) in (LinkState.SUBMITTED, LinkState.USED)
