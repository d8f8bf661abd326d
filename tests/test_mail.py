"""Email: .eml files when no SMTP host, SMTP through a real (aiosmtpd) server, and the email
outbox worker riding out a server that is down, answers 4xx, or refuses for good (5xx)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr
from sqlalchemy import select, text

from core.clock import FrozenClock
from core.config import Settings
from core.models import EmailItem
from core.outbox import enqueue_email
from core.portal import Portal
from notifications.mail import FAILED_BODY, SENT_BODY, EmailDelivery, Mailer
from tests.stack import free_port


class Collector:
    """An SMTP handler that keeps what it receives, and can be told to refuse."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None
        self.auth: list[tuple[bytes, bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201, N802
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        if self.data_reply:
            return self.data_reply
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN201
        assert isinstance(auth_data, LoginPassword)
        self.auth.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")


class SMTPServer:
    """A real SMTP server (aiosmtpd, in its own thread) on 127.0.0.1:`port`."""

    def __init__(self, port: int, *, with_auth: bool = False) -> None:
        self.handler = Collector()
        self.port = port
        kwargs: dict[str, object] = {}
        if with_auth:
            kwargs.update(authenticator=self.handler.authenticate, auth_require_tls=False)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=port, **kwargs)

    async def start(self) -> None:
        await asyncio.to_thread(self.controller.start)

    async def stop(self) -> None:
        await asyncio.to_thread(self.controller.stop)


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
async def smtp(smtp_port: int) -> AsyncIterator[SMTPServer]:
    server = SMTPServer(smtp_port)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def smtp_settings(settings: Settings, smtp_port: int) -> Iterator[Settings]:
    settings.mail.smtp_host = "127.0.0.1"
    settings.mail.smtp_port = smtp_port
    settings.mail.smtp_tls = "none"
    settings.mail.smtp_timeout = 5.0
    yield settings


async def queue(portal: Portal, n: int) -> list[int]:
    async with portal.db() as session, session.begin():
        items = [
            enqueue_email(
                session,
                now=portal.clock.now(),
                to_addr=f"parent{i}@example.org",
                subject=f"Subject {i}",
                body=f"Body {i}",
                dedupe_key=f"test:{i}",
            )
            for i in range(n)
        ]
        await session.flush()
        return [it.id for it in items]


async def items(portal: Portal) -> list[EmailItem]:
    async with portal.db() as session:
        return list((await session.scalars(select(EmailItem).order_by(EmailItem.id))).all())


async def test_eml_file_when_no_smtp_host(settings: Settings, clock: FrozenClock, caplog) -> None:
    mailer = Mailer(settings, clock)
    with caplog.at_level(logging.INFO, logger="notifications.mail"):
        await mailer.send("Parent <parent@example.org>", "Your code", "Your code is in the chat.")
    files = list(settings.mail_dir.iterdir())
    assert len(files) == 1 and files[0].suffix == ".eml" and not files[0].name.startswith(".tmp")
    msg = message_from_bytes(files[0].read_bytes(), policy=default_policy)
    assert msg["To"] == "Parent <parent@example.org>"
    assert msg["Subject"] == "Your code"
    assert msg["From"] == settings.mail.smtp_from
    assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith(">")
    assert parsedate_to_datetime(msg["Date"]) == clock.now()
    assert msg.get_content().strip() == "Your code is in the chat."
    # The log names the domain and subject, not the address or the body.
    assert "example.org" in caplog.text and "Your code" in caplog.text
    assert "parent@example.org" not in caplog.text and "in the chat" not in caplog.text


async def test_smtp_send(smtp_settings: Settings, smtp: SMTPServer) -> None:
    await Mailer(smtp_settings).send("parent@example.org", "Hello", "Text body", message_id="<m1@example.invalid>")
    [msg] = smtp.handler.messages
    assert msg["Subject"] == "Hello" and msg["Message-ID"] == "<m1@example.invalid>"
    assert msg.get_content().strip() == "Text body"


async def test_smtp_credentials(smtp_settings: Settings, smtp_port: int) -> None:
    server = SMTPServer(smtp_port, with_auth=True)
    await server.start()
    try:
        smtp_settings.mail.smtp_user = "council"
        smtp_settings.mail.smtp_password = SecretStr("s3cret")
        await Mailer(smtp_settings).send("parent@example.org", "Hello", "Body")
        assert server.handler.auth == [(b"council", b"s3cret")]
        assert len(server.handler.messages) == 1
    finally:
        await server.stop()


async def test_server_down_then_up_loses_nothing(
    portal: Portal, smtp_settings: Settings, smtp_port: int, clock: FrozenClock
) -> None:
    ids = await queue(portal, 3)
    worker = EmailDelivery(portal, Mailer(smtp_settings), "mail-test")
    # Nothing listens on the port: connection refused.
    assert await worker.run_once() >= 1
    rows = await items(portal)
    assert [r.status for r in rows] == ["pending"] * 3
    assert rows[0].attempts == 1 and "SMTPConnect" in (rows[0].last_error or "")
    assert all(r.next_attempt_at > clock.now() for r in rows)
    assert await worker.run_once() == 0  # not due yet

    server = SMTPServer(smtp_port)
    await server.start()
    try:
        clock.advance(minutes=10)
        assert await worker.run_once() == 3
        rows = await items(portal)
        assert [r.status for r in rows] == ["sent"] * 3
        assert all(r.sent_at == clock.now() for r in rows)
        clock.advance(minutes=10)
        assert await worker.run_once() == 0
        got = sorted(m["To"] for m in server.handler.messages)
        assert got == ["parent0@example.org", "parent1@example.org", "parent2@example.org"]
        assert len({m["Message-ID"] for m in server.handler.messages}) == 3
        assert {m["Message-ID"] for m in server.handler.messages} == {
            worker._message_id(i) for i in ids
        }
    finally:
        await server.stop()


async def test_4xx_keeps_retrying(portal: Portal, smtp_settings: Settings, smtp: SMTPServer, clock: FrozenClock) -> None:
    smtp_settings.delivery.delivery_max_attempts = 2
    await queue(portal, 1)
    worker = EmailDelivery(portal, Mailer(smtp_settings), "mail-test")
    smtp.handler.data_reply = "451 4.3.0 Try again later"
    delays = []
    for _ in range(4):
        assert await worker.run_once() == 1
        [row] = await items(portal)
        assert row.status == "pending"
        delays.append((row.next_attempt_at - clock.now()).total_seconds())
        clock.set(row.next_attempt_at)
    assert row.attempts == 4 and "451" in (row.last_error or "")
    assert delays[0] <= 2 and delays[3] >= 8  # exponential
    smtp.handler.data_reply = None
    assert await worker.run_once() == 1
    assert (await items(portal))[0].status == "sent"
    assert len(smtp.handler.messages) == 1


async def test_5xx_fails_after_max_attempts(portal: Portal, smtp_settings: Settings, smtp: SMTPServer, clock: FrozenClock) -> None:
    smtp_settings.delivery.delivery_max_attempts = 3
    await queue(portal, 1)
    worker = EmailDelivery(portal, Mailer(smtp_settings), "mail-test")
    smtp.handler.rcpt_reply = "550 5.1.1 No such user"
    for expected in ("pending", "pending", "failed"):
        assert await worker.run_once() == 1
        [row] = await items(portal)
        assert row.status == expected
        clock.advance(minutes=10)
    assert row.attempts == 3 and "550" in (row.last_error or "")
    assert row.body == FAILED_BODY  # failed for good: the body is not kept either
    assert await worker.run_once() == 0
    assert smtp.handler.messages == []


async def test_a_sent_code_email_keeps_no_code_in_the_database(
    portal: Portal, smtp_settings: Settings, smtp: SMTPServer
) -> None:
    """A one-time code travels in its email's body until the email is sent; then the body is
    blanked in the transaction that marks it sent. A retried email keeps its body meanwhile."""
    from core.accounts.codes import CodeScope, issue_code, new_request_id

    async with portal.db() as session, session.begin():
        await issue_code(
            session,
            key=portal.secret_key,
            now=portal.clock.now(),
            purpose="login",
            request_id=new_request_id(),
            scope=CodeScope(account_id=None, email="parent@example.org", chat_id=None),
            email_to="parent@example.org",
        )
    [queued] = await items(portal)
    code = re.search(r"Your code is (\d{6})\.", queued.body).group(1)
    worker = EmailDelivery(portal, Mailer(smtp_settings, portal.clock), "mail-test")

    smtp.handler.data_reply = "451 4.3.0 Try again later"
    assert await worker.run_once() == 1
    [row] = await items(portal)
    assert row.status == "pending" and code in row.body  # still to be sent: kept

    smtp.handler.data_reply = None
    portal.clock.set(row.next_attempt_at)
    assert await worker.run_once() == 1
    [row] = await items(portal)
    assert row.status == "sent" and row.body == SENT_BODY
    assert row.locked_by == "mail-test" and row.locked_until is None
    async with portal.db() as session:
        stored = (await session.execute(text("SELECT * FROM email_outbox"))).one()
    assert not [v for v in stored if isinstance(v, str) and code in v]
    [msg] = smtp.handler.messages  # the parent got the code
    assert f"Your code is {code}." in msg.get_content()


async def test_expired_lease_is_taken_over(portal: Portal, settings: Settings, clock: FrozenClock) -> None:
    await queue(portal, 1)
    async with portal.db() as session, session.begin():
        row = (await session.scalars(select(EmailItem))).one()
        row.status, row.locked_until = "sending", clock.now() - timedelta(seconds=1)
    worker = EmailDelivery(portal, Mailer(settings, clock), "mail-test")
    assert await worker.run_once() == 1
    [row] = await items(portal)
    assert row.status == "sent" and row.locked_by == "mail-test" and row.body == SENT_BODY
    assert len(list(settings.mail_dir.glob("*.eml"))) == 1


async def test_live_lease_is_left_alone(portal: Portal, settings: Settings, clock: FrozenClock) -> None:
    await queue(portal, 1)
    async with portal.db() as session, session.begin():
        row = (await session.scalars(select(EmailItem))).one()
        row.status, row.locked_until = "sending", clock.now() + timedelta(seconds=60)
    worker = EmailDelivery(portal, Mailer(settings, clock), "mail-test")
    assert await worker.run_once() == 0
    assert (await items(portal))[0].status == "sending"


@pytest.mark.parametrize(
    ("mode", "use_tls", "start_tls"), [("starttls", False, True), ("tls", True, False), ("none", False, False)]
)
async def test_tls_modes_and_credentials_reach_aiosmtplib(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, mode: str, use_tls: bool, start_tls: bool
) -> None:
    seen: dict[str, object] = {}

    async def fake_send(message, **kwargs):  # noqa: ANN001, ANN003, ANN202
        seen.update(kwargs, message=message)
        return {}, "OK"

    monkeypatch.setattr("notifications.mail.aiosmtplib.send", fake_send)
    settings.mail.smtp_host, settings.mail.smtp_port, settings.mail.smtp_tls = "smtp.example.org", 465, mode
    settings.mail.smtp_user, settings.mail.smtp_password = "council", SecretStr("pw")
    await Mailer(settings).send("p@example.org", "S", "B")
    assert (seen["use_tls"], seen["start_tls"]) == (use_tls, start_tls)
    assert (seen["hostname"], seen["port"], seen["username"], seen["password"]) == ("smtp.example.org", 465, "council", "pw")
    assert seen["timeout"] == settings.mail.smtp_timeout
    assert not list(settings.mail_dir.glob("*.eml")) if settings.mail_dir.exists() else True
