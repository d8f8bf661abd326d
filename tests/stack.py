"""The whole product on loopback for end-to-end tests: the bot (against the Bot API stand-in),
the caseworker API, the parents' pages, the delivery workers and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import aiohttp
from aiosmtpd.controller import Controller

from core.api import bound_port, start_api
from core.api.onboarding import api as onboarding_api
from core.config import MailSettings
from core.tokens import create_token
from core.web import bound_port as web_port
from core.web import start_web
from core.web.account_pages import account_pages
from notifications.worker import run_delivery
from tests.harness import RunningBot


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

    async def wait_for(self, to: str, subject_part: str, *, after: int = 0, timeout: float = 10) -> EmailMessage:
        def find() -> EmailMessage | None:
            for m in self.messages[after:]:
                if to.lower() in str(m["To"]).lower() and subject_part.lower() in str(m["Subject"]).lower():
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
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def api(self, method: str, path: str, json: Any = None, *, key: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if key:
            headers["Idempotency-Key"] = key
        async with self.http.request(method, self.api_url + path, json=json, headers=headers) as r:
            return r.status, await r.json()

    async def invite(self, email: str, child: str = "Sam", surname: str = "Jones", ref: str = "CASE-1",
                     parent: str = "Alex") -> dict:
        status, data = await self.api("POST", "/v1/invitations", {
            "parent_email": email, "parent_forename": parent, "parent_surname": surname,
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
    web = await start_web(portal, [account_pages()], port=0)
    portal.settings.http.public_url = f"http://127.0.0.1:{web_port(web)}"
    api = await start_api(portal, [onboarding_api], port=0, purge_every=None)
    token = await create_token(portal, "case-system")
    running = RunningBot(portal, stand)
    await running.start()
    stack = Stack(
        portal=portal, stand=stand, bot=running, mail=mailbox,
        api_url=f"http://127.0.0.1:{bound_port(api)}", token=token, http=aiohttp.ClientSession(),
    )
    delivery = asyncio.create_task(run_delivery(portal, running.bot, stack._stop))

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


def page_url(text: str) -> str:
    match = re.search(r"(http://127\.0\.0\.1:\d+/p/[A-Za-z0-9_-]+)", text)
    assert match, text
    return match.group(1)
