"""What a family is told, and how it is written: the core decides who is told about what (a
`FamilyNotice` event, with the facts and the recipients), a face words it (a renderer, registered
when the portal is built: the bot words notices for Telegram), and the core writes the words to the
outbox in the same transaction as the change.

    @dataclass(frozen=True, kw_only=True)
    class DocumentPublished(FamilyNotice):
        description: str
        ...

    await portal.events.publish(session, DocumentPublished(at=now, child_id=..., recipients=..., ...))

A `FamilyNotice` with no renderer registered raises when published (nothing is lost silently).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core.events import Event, EventBus, NoHandler
from core.onboarding._common import account_email_and_chats
from core.outbox import NOTICE, enqueue


@dataclass(frozen=True)
class Recipient:
    account_id: int
    key: str  # the outbox's dedupe key for this account (the chat, or "email", is added)


@dataclass(frozen=True, kw_only=True)
class FamilyNotice(Event):
    """Something carers of a child must be told. `recipients`: who (each with the notice's key)."""

    child_id: int | None
    recipients: tuple[Recipient, ...]
    kind: str = NOTICE  # NOTICE (at once, silently at night) or REMINDER (waits for the morning)

    required: ClassVar[bool] = True


@dataclass(frozen=True)
class Button:
    """A button under a notice: `data` is what the face that sends it makes of a press (its own
    encoding), or `url` a link."""

    text: str
    data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Rendered:
    """A notice in words, as the chat shows it (`text`, in the face's `markup`) and as an email
    says it when there is no chat (`email_subject`; the body is the text without markup)."""

    text: str
    email_subject: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    markup: str | None = None  # the chat's text format (the sending face knows it); None: plain


N = TypeVar("N", bound=FamilyNotice)
Renderer = Callable[[Any], Rendered]


@dataclass
class NoticeWriter:
    """The renderers of each kind of notice, and the handler that writes a rendered notice to
    every linked chat of each recipient (to their email when they have none)."""

    renderers: dict[type[FamilyNotice], Renderer] = field(default_factory=dict)

    def renders(self, kind: type[N], renderer: Callable[[N], Rendered]) -> None:
        self.renderers[kind] = renderer

    def renderer_for(self, kind: type[FamilyNotice]) -> Renderer:
        for base in kind.__mro__:
            if base in self.renderers:
                return self.renderers[base]
        raise NoHandler(f"nothing words {kind.__name__}: build the portal with ehcp.bootstrap.build_portal")

    async def write(self, session: AsyncSession, notice: FamilyNotice) -> None:
        rendered = self.renderer_for(type(notice))(notice)
        for recipient in notice.recipients:
            await tell_account(session, recipient, notice, rendered)


async def tell_account(session: AsyncSession, recipient: Recipient, notice: FamilyNotice, rendered: Rendered) -> None:
    """Queue the notice to every chat linked to the account, or to its email when none is: an
    important notice, deduplicated per chat by the recipient's key."""
    email, linked = await account_email_and_chats(session, recipient.account_id)
    chats: list[int | None] = list(linked) or [None]
    buttons = [
        [{"text": b.text, "url": b.url} if b.url else {"text": b.text, "data": b.data} for b in row]
        for row in rendered.buttons
    ]
    for chat_id in chats:
        enqueue(
            session,
            now=notice.at,
            text=rendered.text,
            chat_id=chat_id,
            kind=notice.kind,
            important=True,
            fallback_email=email,
            email_subject=rendered.email_subject,
            child_id=notice.child_id,
            buttons=buttons or None,
            dedupe_key=f"{recipient.key}:{chat_id if chat_id is not None else 'email'}",
            markup=rendered.markup,
        )


def install(bus: EventBus) -> NoticeWriter:
    """The notice writer, subscribed to every FamilyNotice (renderers are added by the faces)."""
    writer = NoticeWriter()
    bus.subscribe(FamilyNotice, writer.write)
    return writer


__all__ = ["Button", "FamilyNotice", "NoticeWriter", "Recipient", "Rendered", "install", "tell_account"]
