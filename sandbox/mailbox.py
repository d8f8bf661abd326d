"""The sandbox's mailbox: a real SMTP server on loopback (aiosmtpd) that keeps every email the
product sends, instead of sending it anywhere. The product talks to it exactly as it talks to a
council's mail server (aiosmtplib, no TLS on loopback)."""

from __future__ import annotations

import asyncio
import itertools
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://[^\s<>\"')]+")


@dataclass(frozen=True, slots=True)
class Mail:
    id: int
    at: datetime
    sender: str
    to: str
    subject: str
    text: str
    links: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "from": self.sender, "to": self.to,
                "subject": self.subject, "text": self.text, "links": self.links}


def _text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class MailSink:
    """aiosmtpd's handler: each message read, kept, and the sandbox's page told (from aiosmtpd's
    own thread into the sandbox's event loop)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, changed: Callable[[], None]) -> None:
        self.loop = loop
        self.changed = changed
        self.mails: list[Mail] = []
        self._ids = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        text = _text_of(msg)
        mail = Mail(
            id=next(self._ids), at=datetime.now(UTC), sender=str(msg.get("From", envelope.mail_from)),
            to=", ".join(envelope.rcpt_tos), subject=str(msg.get("Subject", "")), text=text,
            links=list(dict.fromkeys(LINK.findall(text))),
        )
        self.loop.call_soon_threadsafe(self._keep, mail)
        return "250 Message accepted for delivery"

    def _keep(self, mail: Mail) -> None:
        self.mails.append(mail)
        self.changed()


class Mailbox:
    """Start and stop the sink's SMTP server on `host`, any free port."""

    def __init__(self, host: str, changed: Callable[[], None]) -> None:
        self.host = host
        self.sink = MailSink(asyncio.get_running_loop(), changed)
        self.port = free_port(host)
        self._controller = Controller(self.sink, hostname=host, port=self.port)

    @property
    def mails(self) -> list[Mail]:
        return self.sink.mails

    def start(self) -> int:
        self._controller.start()
        return self.port

    def stop(self) -> None:
        self._controller.stop()
