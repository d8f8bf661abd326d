"""The whole product on loopback for end-to-end tests: the bot (against the Bot API stand-in),
the caseworker API, the parents' pages, the delivery workers and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, TypeVar

import aiohttp
from aiosmtpd.controller import Controller

from api import bound_port, start_api
from api.cases import api as cases_api
from api.documents import api as documents_api
from api.forms import api as forms_api
from api.messages import api as messages_api
from api.onboarding import api as onboarding_api
from core.config import MailSettings
from core.services import Services
from core.tokens import create_token
from notifications.worker import run_delivery
from tests.harness import RunningBot
from web import bound_port as web_port
from web import start_web
from web.account_pages import account_pages

T = TypeVar("T")


@contextlib.asynccontextmanager
async def api_server(portal: Any, routes: list) -> AsyncIterator[tuple[str, str]]:
    """The caseworker API with `routes` on a free loopback port: (its address, the bearer token
    of a "case-system" API token)."""
    token = await create_token(portal, "case-system")
    runner = await start_api(portal, routes, host="127.0.0.1", port=0, purge_every=None)
    try:
        yield f"http://127.0.0.1:{bound_port(runner)}", token
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def api_client(portal: Any, routes: list, client: Callable[[aiohttp.ClientSession, str, str], T]) -> AsyncIterator[T]:
    """`api_server`, and a client of it: `client(http session, address, token)`."""
    async with api_server(portal, routes) as (base, token), aiohttp.ClientSession() as http:
        yield client(http, base, token)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """An SMTP server's inbox, readable from the test's event loop."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._cond = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()
        return "250 OK"

    async def wait_for(
        self, to: str, subject_part: str, *, after: int = 0, timeout: float = 10, containing: str = ""  # noqa: ASYNC109
    ) -> EmailMessage:
        """The first email (from the `after`-th on) to `to` whose subject has `subject_part` and
        whose body has `containing`, waiting for it to arrive."""

        def find() -> EmailMessage | None:
            for m in self.messages[after:]:
                if (
                    to.lower() in str(m["To"]).lower()
                    and subject_part.lower() in str(m["Subject"]).lower()
                    and containing in body(m)
                ):
                    return m
            return None

        def wait() -> EmailMessage | None:
            with self._cond:
                self._cond.wait_for(lambda: find() is not None, timeout)
                return find()

        found = await asyncio.to_thread(wait)
        if found is None:
            seen = [(str(m["To"]), str(m["Subject"])) for m in self.messages]
            raise AssertionError(f"no email to {to} about {subject_part!r}; got {seen}")
        return found

    def to(self, addr: str) -> list[EmailMessage]:
        return [m for m in self.messages if addr.lower() in str(m["To"]).lower()]


def body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def six_digit_code(msg: EmailMessage) -> str:
    match = re.search(r"\b(\d{6})\b", body(msg))
    assert match, body(msg)
    return match.group(1)


@dataclass
class Stack:
    portal: Any
    stand: Any
    bot: RunningBot
    mail: Mailbox
    api_url: str
    token: str
    http: aiohttp.ClientSession
    services: Services  # the core's services, as the pages use them
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def api(self, method: str, path: str, json: Any = None, *, key: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if key:
            headers["Idempotency-Key"] = key
        async with self.http.request(method, self.api_url + path, json=json, headers=headers) as r:
            return r.status, await r.json()

    async def invite(self, email: str, child: str = "Sam", surname: str = "Jones", ref: str = "CASE-1",
                     parent: str = "Alex", parent_surname: str | None = None) -> dict:
        status, data = await self.api("POST", "/v1/invitations", {
            "parent_email": email, "parent_forename": parent, "parent_surname": parent_surname or surname,
            "child_forename": child, "child_surname": surname, "child_date_of_birth": "2016-05-04",
            "case_reference": ref,
        })
        assert status == 201, data
        return data


async def start_stack(portal, stand) -> tuple[Stack, list]:  # noqa: ANN001
    mailbox = Mailbox()
    smtp_port = free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    portal.settings.mail = MailSettings(
        _env_file=None, smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_tls="none", smtp_timeout=5
    )
    portal.settings.delivery.delivery_interval = 0.05
    portal.settings.reminders.reminder_interval = 0.05
    services = Services.build(portal)
    web = await start_web(portal, [account_pages()], port=0, services=services)
    portal.settings.http.public_url = f"http://127.0.0.1:{web_port(web)}"
    api = await start_api(portal, [onboarding_api, cases_api, messages_api, documents_api, forms_api], port=0, purge_every=None)
    token = await create_token(portal, "case-system")
    running = RunningBot(portal, stand)
    await running.start()
    stack = Stack(
        portal=portal, stand=stand, bot=running, mail=mailbox,
        api_url=f"http://127.0.0.1:{bound_port(api)}", token=token, http=aiohttp.ClientSession(),
        services=services,
    )
    delivery = asyncio.create_task(run_delivery(portal, running.bot, stack._stop, pacer=running.pacer))

    async def cleanup() -> None:
        stack._stop.set()
        await asyncio.wait_for(delivery, 10)
        await running.stop()
        await stack.http.close()
        await api.cleanup()
        await web.cleanup()
        smtp.stop()

    return stack, [cleanup]


class PageForm:
    """A parent's browser on one of the pages: GET the form, POST it with its CSRF field."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url

    async def get(self) -> tuple[int, str]:
        async with self.http.get(self.url) as r:
            return r.status, await r.text()

    async def submit(self, fields: dict[str, str], *, csrf: bool = True) -> tuple[int, str]:
        status, html = await self.get()
        assert status == 200, html
        data = dict(fields)
        if csrf:
            data["_csrf"] = re.search(r'name="_csrf" value="([^"]+)"', html).group(1)
        async with self.http.post(self.url, data=data) as r:
            return r.status, await r.text()


async def all_handled(portal: Any, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Until every stored update is handled and marked done (a press after this is a new press,
    never the second tap of a double tap, however slow the database)."""
    from core.models import InboundUpdate

    deadline = asyncio.get_running_loop().time() + timeout
    while await count(portal, InboundUpdate, InboundUpdate.processed_at.is_(None), InboundUpdate.failed_at.is_(None)):
        assert asyncio.get_running_loop().time() < deadline, "updates still being handled"
        await asyncio.sleep(0.02)


async def count(portal: Any, model: Any, *where: Any) -> int:
    """How many rows of `model` match: what is stored, as a test checks it."""
    from sqlalchemy import func, select

    async with portal.db() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def rows(portal: Any, model: Any, *where: Any) -> list[Any]:
    """The rows of `model` that match, oldest (lowest id) first."""
    from sqlalchemy import select

    async with portal.db() as s:
        return list((await s.scalars(select(model).where(*where).order_by(model.id))).all())


def page_url(text: str) -> str:
    match = re.search(r"(http://127\.0\.0\.1:\d+/p/[A-Za-z0-9_-]+)", text)
    assert match, text
    return match.group(1)


# ------------------------------------------------------------------ the onboarding journey, step by step

PASSWORD = "Correct Horse Battery 42"  # 24 characters, upper case, digit, spaces

REGISTRATION = {
    "forename": "Alex", "surname": "Jones", "house": "12", "street": "High Street", "area": "",
    "town": "Worcester", "postcode": "wr1 2ab", "password": PASSWORD, "confirm_password": PASSWORD,
}


def deep_link_token(email_body: str) -> str:
    return re.search(r"\?start=([A-Za-z0-9_-]+)", email_body).group(1)


def unique_code(email_body: str) -> str:
    match = re.search(r"unique verification code is:\s*([A-Z0-9-]+)", email_body)
    assert match, email_body
    return match.group(1)


def seen_by(chat: Any) -> str:
    """Everything the bot ever showed in a chat: every version of every message and its buttons."""
    parts: list[str] = []
    for m in chat.messages:
        parts.extend([*m.versions, m.text])
        if m.reply_markup is not None:
            parts.extend(b.text for b in m.reply_markup.buttons)
    return "\n".join(parts)


def live_window(user: Any, part: str, after: int = 0) -> Any:
    """The newest bot message (after message id `after`) with inline buttons whose text has
    `part`: the dialogue's live window (aiogram-dialog takes the buttons off a window once it is
    replaced)."""
    for m in reversed(user.messages):
        if (
            m.message_id > after
            and not m.deleted
            and m.reply_markup is not None
            and m.reply_markup.kind == "inline"
            and part in m.text
        ):
            return m
    return None


async def window(user: Any, part: str, after: int = 0) -> Any:
    """The live window with `part`, waiting for it."""
    await user.wait_until(
        lambda: live_window(user, part, after) is not None, what=f"a window with {part!r}"
    )
    return live_window(user, part, after)


async def invitation_secrets(stack: Stack, email: str, child: str = "Sam", *, after: int = 0) -> tuple[str, str]:
    """(deep-link token, unique code) from the invitation email to `email` for `child`."""
    mail = await stack.mail.wait_for(email, "invitation", after=after, containing=f"for {child} ")
    text = body(mail)
    return deep_link_token(text), unique_code(text)


async def open_invitation(user: Any, token: str) -> Any:
    """/start with the invitation's payload, up to the question for the unique code."""
    await user.send(f"/start {token}")
    return await user.wait_for(lambda m: "unique code" in m.text and "Verify your identity" in m.text)


async def give_unique_code(user: Any, code: str, child: str = "Sam") -> None:
    typed = await user.send(code)
    await user.wait_for(lambda m: f"identity is confirmed for {child}" in m.text)
    await user.wait_until(lambda: typed.deleted, what="the unique code to be deleted")


async def verified_user(stack: Stack, stand: Any, email: str, first_name: str = "Alex", child: str = "Sam") -> Any:
    """A new chat (`first_name`'s) that opened the invitation emailed to `email` for `child` and
    gave its unique code: the identity check done."""
    token, code = await invitation_secrets(stack, email, child)
    user = stand.user(first_name=first_name)
    await open_invitation(user, token)
    await give_unique_code(user, code, child)
    return user


async def register_through_chat(stack: Stack, user: Any, email: str, **fields: str) -> Any:
    """From the account question to a linked chat, as a new parent does it."""
    question = await user.wait_for(lambda m: "Do you already have an account" in m.text)
    await user.press(question, "Register for new account")
    prompt = await user.wait_for(lambda m: "never type your password" in m.text, include_consumed=True)
    url = page_url(prompt.text)
    status, html = await PageForm(stack.http, url).submit({**REGISTRATION, "email": email, **fields})
    assert status == 200 and "Check your email" in html, html
    await user.wait_for(lambda m: "type the 6-digit code here" in m.text)
    code = six_digit_code(await stack.mail.wait_for(email, "Confirm your email"))
    typed = await user.send(code)
    linked = await user.wait_for(lambda m: "this chat is now linked" in m.text)
    assert linked is not None
    return typed


async def login_page(user: Any) -> str:
    """From the account question to the login page's address."""
    question = await user.wait_for(lambda m: "Do you already have an account" in m.text, include_consumed=True)
    await user.press(question, "I already have an account")
    prompt = await user.wait_for(lambda m: "log in with your email address and password" in m.text,
                                 include_consumed=True)
    assert "never type your password" in prompt.text
    return page_url(prompt.text)


async def submit_login(stack: Stack, user: Any, url: str, email: str, password: str = PASSWORD) -> EmailMessage:
    """The login page filled in: the chat is told to expect a code, and the code's email."""
    after = len(stack.mail.messages)
    status, html = await PageForm(stack.http, url).submit({"email": email, "password": password})
    assert status == 200 and "Check your email" in html, html
    await user.wait_for(lambda m: "emailed you a code" in m.text and "6-digit code" in m.text)
    return await stack.mail.wait_for(email, "log in", after=after)


async def login_through_chat(stack: Stack, user: Any, email: str, password: str = PASSWORD) -> Any:
    """From the account question to a chat linked by logging in (email, password, emailed code)."""
    url = await login_page(user)
    code_mail = await submit_login(stack, user, url, email, password)
    typed = await user.send(six_digit_code(code_mail))
    await user.wait_for(lambda m: "You are logged in, and this chat is now linked" in m.text)
    return typed


async def create_account(stack: Stack, email: str, **fields: str) -> int:
    """An account made earlier, outside this chat (through the core's registration)."""
    from core.accounts import StartStatus

    accounts = stack.services.accounts
    after = len(stack.mail.messages)
    started = await accounts.start_registration({**REGISTRATION, "email": email, **fields})
    assert started.status is StartStatus.CODE_SENT, started
    code = six_digit_code(await stack.mail.wait_for(email, "Confirm your email", after=after))
    done = await accounts.confirm_registration(started.request_id, code)
    assert done.ok and done.account_id is not None, done
    return done.account_id


def answer_data(msg: Any, child: str, answer: str) -> str:
    """The callback data of the Yes or No button under a child's name on the invitations window."""
    rows = msg.reply_markup.rows
    for i, row in enumerate(rows):
        if any(child in b.text for b in row):
            for b in rows[i + 1]:
                if answer in b.text:
                    return b.callback_data
    raise AssertionError(f"no {answer!r} for {child!r}: {[[b.text for b in r] for r in rows]}")


async def answer_invitations(user: Any, answers: dict[str, bool]) -> Any:
    """On "Invitations awaiting approval": Yes or No for each child named, Confirm, Submit.
    Returns the message that says the answer was sent."""
    def is_window(m: Any) -> bool:
        return "Invitations awaiting approval" in m.text and m.reply_markup is not None and (
            m.reply_markup.find("Confirm") is not None
        )

    await user.wait_until(lambda: any(is_window(m) for m in user.messages), what="the invitations window")
    window = [m for m in user.messages if is_window(m)][-1]
    for child, yes in answers.items():
        await user.press_data(window, answer_data(user.message(window.message_id), child, "Yes" if yes else "No"))
    await user.press(window, "Confirm")
    confirm = await user.wait_for(lambda m: "not be able to make any further changes" in m.text,
                                  include_consumed=True)
    for child, yes in answers.items():
        assert f"{child}: {'Yes' if yes else 'No'}" in confirm.text, confirm.text
    await user.press(confirm, "Submit")
    return await user.wait_for(lambda m: "answer has been sent to the SEND team" in m.text, include_consumed=True)


async def activate_invitation(stack: Stack, invitation_id: int) -> None:
    """The SEND team activates the carer's access for an answered invitation."""
    _, inv = await stack.api("GET", f"/v1/invitations/{invitation_id}")
    status, grant = await stack.api("POST", f"/v1/access/{inv['grant_id']}/activate", {})
    assert status == 200 and grant["status"] == "active", grant


async def active_parent(stack: Stack, stand: Any, email: str = "alex.jones@example.org",
                        children: tuple[tuple[str, str], ...] = (("Sam", "CASE-1"),),
                        first_name: str = "Alex") -> Any:
    """A parent whose chat is linked (by logging in) with active access to each (child, case
    reference) given: the state every journey after onboarding starts from. Returns the user."""
    await create_account(stack, email)
    invitations = [await stack.invite(email, child=child, ref=ref) for child, ref in children]
    user = await verified_user(stack, stand, email, first_name, children[0][0])
    await login_through_chat(stack, user, email)
    await answer_invitations(user, {f"{child} Jones": True for child, _ in children})
    for inv in invitations:
        await activate_invitation(stack, inv["id"])
        await user.wait_for(lambda m, c=inv["child_forename"]: f"activated your access for {c}" in m.text)
    return user
