"""Messages between a carer and the SEND team (PRODUCT.md journey 5; the guide's "Messages").

Every call from the chat side names the chat, and the core works out the account and checks its
active access to the child; a message id from a button is only ever looked up within that
account's own thread. Sending from either side writes the other side's notice in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import Actor, audit, audit_poll
from core.db import in_commit_order
from core.errors import NotFound, Refused
from core.files import FileRefused, FileStore, check_upload, folder_store, safe_filename
from core.messages.models import Attachment, Message, StaffPost
from core.messages.notices import MessageToCarer
from core.notices import Recipient
from core.onboarding._common import case_by_reference
from core.onboarding.models import AccessGrant, Case, ChatLink, Child
from core.portal import Portal

MAX_BODY = 20_000
MAX_SUBJECT = 200
MAX_ATTACHMENTS = 10
PAGE_SIZE = 5


class MessageType(StrEnum):
    EHC_NEEDS_ASSESSMENT = "ehc_needs_assessment"
    ANNUAL_REVIEW = "annual_review"
    SCHOOL_PLACEMENT = "school_placement"
    GENERAL = "general"


TYPE_NAMES = {
    MessageType.EHC_NEEDS_ASSESSMENT: "EHC Needs Assessment (0-20 weeks)",
    MessageType.ANNUAL_REVIEW: "Annual Review",
    MessageType.SCHOOL_PLACEMENT: "School Placement",
    MessageType.GENERAL: "General",
}


class MessageRefused(Refused):
    """What the sender is told, plainly; `code` for the API."""


@dataclass(frozen=True, slots=True)
class NewAttachment:
    data: bytes
    filename: str | None
    mime: str | None
    telegram_file_id: str | None = None


@dataclass(frozen=True, slots=True)
class KeptFile:
    """A parent's upload already checked and stored (while they are still writing the message);
    plain data, so a dialogue can keep it in its state and send it later."""

    sha256: str
    size: int
    mime: str
    filename: str
    telegram_file_id: str | None = None


@dataclass(frozen=True, slots=True)
class AttachmentView:
    id: int
    filename: str
    mime: str
    size: int
    sha256: str
    telegram_file_id: str | None


@dataclass(frozen=True, slots=True)
class MessageView:
    id: int
    case_id: int
    case_reference: str
    child_id: int
    account_id: int
    direction: str
    type: str
    type_name: str
    subject: str
    body: str
    sender_name: str
    recipient_name: str
    reply_to_id: int | None
    source: str
    created_at: datetime
    read_at: datetime | None
    attachments: list[AttachmentView]


@dataclass(frozen=True, slots=True)
class Page:
    items: list[MessageView]
    page: int  # 0-based
    pages: int
    total: int


def check_text(subject: str, body: str) -> tuple[str, str]:
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject:
        raise MessageRefused("Please give the message a subject.", "no_subject")
    if len(subject) > MAX_SUBJECT:
        raise MessageRefused(f"The subject can be up to {MAX_SUBJECT} characters. Please make it shorter.",
                             "subject_too_long")
    if not body:
        raise MessageRefused("Please write the message.", "no_text")
    if len(body) > MAX_BODY:
        raise MessageRefused(
            f"That message is too long: it can be up to {MAX_BODY:,} characters. Please send it in two "
            "messages.",
            "too_long",
        )
    return subject, body


class MessageService:
    def __init__(self, portal: Portal, files: FileStore | None = None) -> None:
        self.portal = portal
        self._team_name: str | None = None
        self.files = files or folder_store(portal.settings.storage.data_dir)

    # ------------------------------------------------------------------ the parent's side

    async def send_from_parent(
        self,
        chat_id: int,
        child_id: int,
        *,
        type: MessageType | str,
        subject: str,
        body: str,
        attachments: Sequence[NewAttachment] = (),
        kept: Sequence[KeptFile] = (),
        reply_to_id: int | None = None,
        client_key: str | None = None,
    ) -> MessageView:
        """Store a parent's message to the SEND team (with its attachments: new ones, or files
        kept earlier with `keep_upload`). Refused (NotFound) if the chat may not see the child, or
        `reply_to_id` is not a message of this thread."""
        kind = MessageType(type)
        subject, body = check_text(subject, body)
        if len(attachments) + len(kept) > MAX_ATTACHMENTS:
            raise MessageRefused(f"A message can have up to {MAX_ATTACHMENTS} files.", "too_many_files")
        files = [await self.keep_upload(a.data, a.mime, a.filename, a.telegram_file_id) for a in attachments]
        for k in kept:
            if not await self.files.exists(k.sha256):
                raise MessageRefused("A file was lost before sending. Please send it again.", "file_lost")
            files.append(k)
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            account_id, child, case = await self._access(s, chat_id, child_id)
            if client_key is not None:
                sent = await s.scalar(
                    select(Message).where(Message.account_id == account_id, Message.client_key == client_key)
                )
                if sent is not None:  # the same Send again (after a crash): already stored
                    return await self._view(s, sent, case)
            if reply_to_id is not None:
                await self._own(s, account_id, child.id, reply_to_id)
            sender = await _account_name(s, account_id)
            await in_commit_order(s, "messages")  # `?after=` polls never skip one
            msg = Message(
                case_id=case.id, child_id=child.id, account_id=account_id, direction="to_team",
                type=kind.value, subject=subject, body=body, sender_name=sender,
                recipient_name=case.caseworker_name or self._team(), reply_to_id=reply_to_id,
                source="chat", sent_by=f"account:{account_id}", created_at=now, client_key=client_key,
            )
            s.add(msg)
            await s.flush()
            for f in files:
                s.add(Attachment(
                    message_id=msg.id, sha256=f.sha256, filename=f.filename, mime=f.mime, size=f.size,
                    created_at=now, telegram_file_id=f.telegram_file_id,
                ))
            audit(s, Actor.parent(account_id), "message.send", at=now, child_id=child.id, subject=f"message:{msg.id}")
            await s.flush()
            return await self._view(s, msg, case)

    async def keep_upload(
        self, data: bytes, mime: str | None, filename: str | None, telegram_file_id: str | None = None
    ) -> KeptFile:
        """Check a parent's upload (size, type) and store it now, before the message is sent, so
        nothing they sent is lost. Raises FileRefused with the answer to give."""
        kind = check_upload(data, mime, filename)
        digest = await self.files.put(data)
        return KeptFile(digest, len(data), kind, safe_filename(filename, kind), telegram_file_id)

    async def page(self, chat_id: int, child_id: int, box: str, page: int = 0, per_page: int = PAGE_SIZE) -> Page:
        """Inbox (`box="inbox"`: to the parent) or Sent Items (`"sent"`), newest first, a page at a time."""
        direction = {"inbox": "to_parent", "sent": "to_team"}[box]
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            account_id, child, case = await self._access(s, chat_id, child_id)
            where = (Message.account_id == account_id, Message.child_id == child.id, Message.direction == direction)
            total = await s.scalar(select(func.count()).select_from(Message).where(*where)) or 0
            pages = max(1, -(-total // per_page))
            page = min(max(0, page), pages - 1)
            rows = (
                await s.scalars(
                    select(Message).where(*where).order_by(Message.id.desc()).offset(page * per_page).limit(per_page)
                )
            ).all()
            audit(s, Actor.parent(account_id), f"message.list.{box}", at=now, child_id=child.id)
            return Page([await self._view(s, m, case, with_files=False) for m in rows], page, pages, total)

    async def open(self, chat_id: int, message_id: int) -> MessageView:
        """A message of this chat's own thread (marked read if it was sent to the parent)."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            account_id = await _account_for_chat(s, chat_id)
            msg = await s.get(Message, message_id) if account_id is not None else None
            if msg is None or msg.account_id != account_id or not await _has_access(s, account_id, msg.child_id):
                raise NotFound("no such message")
            if msg.direction == "to_parent" and msg.read_at is None:
                msg.read_at = now
            case = await s.get(Case, msg.case_id)
            audit(s, Actor.parent(account_id), "message.read", at=now, child_id=msg.child_id, subject=f"message:{msg.id}")
            return await self._view(s, msg, case)

    async def attachment_for_chat(self, chat_id: int, message_id: int, attachment_id: int) -> tuple[AttachmentView, bytes]:
        return await self._attachment(await self.open(chat_id, message_id), attachment_id)

    async def remember_file_id(self, attachment_id: int, file_id: str) -> None:
        async with self.portal.db() as s, s.begin():
            await s.execute(update(Attachment).where(Attachment.id == attachment_id).values(telegram_file_id=file_id))

    @staticmethod
    async def unread_for(s: AsyncSession, account_id: int, case_id: int) -> int:
        """New (unread) messages from the SEND team to this carer about this case: one query."""
        return await s.scalar(MessageService.unread_query(account_id, case_id)) or 0

    @staticmethod
    def unread_query(account_id: Any, case_id: Any) -> Select[tuple[int]]:
        """(`account_id`, `case_id`: values, or bound parameters for a statement built once.)"""
        return select(func.count()).select_from(Message).where(
            Message.account_id == account_id, Message.case_id == case_id,
            Message.direction == "to_parent", Message.read_at.is_(None),
        )

    # ------------------------------------------------------------------ the SEND team's side

    async def send_to_parent(
        self,
        actor: Actor,
        case_reference: str,
        *,
        sender_name: str,
        type: MessageType | str,
        subject: str,
        body: str,
        account_id: int | None = None,
        reply_to_id: int | None = None,
        attachments: Sequence[NewAttachment] = (),
        source: str = "api",
        staff_post: tuple[int, int] | None = None,
    ) -> MessageView:
        """A caseworker's message to one carer (by account, or the author of `reply_to_id`). The
        carer's notice (who wrote about what, with Read and Reply) is written in the same
        transaction; at night it arrives silently, not later. `staff_post` (staff chat id, message
        id) is a reply written in the staff group: it is recorded with the message, in the same
        transaction, and the same post again returns the message stored the first time."""
        kind = MessageType(type)
        subject, body = check_text(subject, body)
        files = [await self.keep_upload(a.data, a.mime, a.filename) for a in attachments]
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            case = await case_by_reference(s, case_reference)
            if staff_post is not None:
                posted = await s.get(StaffPost, staff_post)
                if posted is not None:  # the same staff message again (a repeated update)
                    return await self._view(s, await s.get(Message, posted.message_id), case)
            if reply_to_id is not None:
                original = await s.get(Message, reply_to_id)
                if original is None or original.case_id != case.id:
                    raise NotFound("no such message on this case")
                if account_id is not None and account_id != original.account_id:
                    raise MessageRefused("reply_to belongs to another carer's thread.", "wrong_thread")
                account_id = original.account_id
            if account_id is None:
                raise MessageRefused("Say which carer the message is for: account_id or reply_to.", "no_recipient")
            recipient = await _name_if_access(s, account_id, case.child_id)
            if recipient is None:
                raise MessageRefused("That carer has no active access to this child.", "no_access")
            await in_commit_order(s, "messages")  # `?after=` polls never skip one
            msg = Message(
                case_id=case.id, child_id=case.child_id, account_id=account_id, direction="to_parent",
                type=kind.value, subject=subject, body=body, sender_name=sender_name,
                recipient_name=recipient, reply_to_id=reply_to_id, source=source, sent_by=actor.id,
                created_at=now,
            )
            s.add(msg)
            await s.flush()
            for f in files:
                s.add(Attachment(
                    message_id=msg.id, sha256=f.sha256, filename=f.filename, mime=f.mime, size=f.size,
                    created_at=now,
                ))
            if staff_post is not None:
                s.add(StaffPost(staff_chat_id=staff_post[0], staff_message_id=staff_post[1], message_id=msg.id))
                msg.staff_posted_at = now  # it is in the staff group already
            child = await s.get(Child, case.child_id)
            await self._notify(s, msg, child, now, bool(files))
            audit(s, actor, "message.send", at=now, child_id=case.child_id, subject=f"message:{msg.id}")
            await s.flush()
            return await self._view(s, msg, case, with_files=bool(files))

    async def list_for_case(self, actor: Actor, case_reference: str, *, after_id: int = 0, limit: int = 50) -> list[MessageView]:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            case = await case_by_reference(s, case_reference)
            rows = (
                await s.scalars(
                    select(Message).where(Message.case_id == case.id, Message.id > after_id).order_by(Message.id).limit(limit)
                )
            ).all()
            audit(s, actor, "message.list", at=now, child_id=case.child_id)
            return [await self._view(s, m, case) for m in rows]

    async def since(self, actor: Actor, cursor: int = 0, limit: int = 100) -> list[MessageView]:
        """Every message after `cursor` (an id), oldest first: a case system polls with the last id."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            rows = (await s.scalars(select(Message).where(Message.id > cursor).order_by(Message.id).limit(limit))).all()
            views = []
            for m in rows:
                views.append(await self._view(s, m, await s.get(Case, m.case_id)))
            audit_poll(s, actor, "message.poll", (m.child_id for m in rows), at=now, subject=f"after:{cursor}")
            return views

    async def get_for_team(self, actor: Actor, message_id: int) -> MessageView:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            msg = await s.get(Message, message_id)
            if msg is None:
                raise NotFound("no such message")
            audit(s, actor, "message.read", at=now, child_id=msg.child_id, subject=f"message:{msg.id}")
            return await self._view(s, msg, await s.get(Case, msg.case_id))

    async def mark_read_by_team(self, actor: Actor, message_id: int) -> MessageView:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            msg = await s.get(Message, message_id)
            if msg is None or msg.direction != "to_team":
                raise NotFound("no such message from a parent")
            if msg.read_at is None:
                msg.read_at = now
            audit(s, actor, "message.mark_read", at=now, child_id=msg.child_id, subject=f"message:{msg.id}")
            return await self._view(s, msg, await s.get(Case, msg.case_id))

    async def attachment_for_team(self, actor: Actor, message_id: int, attachment_id: int) -> tuple[AttachmentView, bytes]:
        return await self._attachment(await self.get_for_team(actor, message_id), attachment_id)

    async def _attachment(self, view: MessageView, attachment_id: int) -> tuple[AttachmentView, bytes]:
        """One of a message's files and its bytes (the message already read, and audited)."""
        found = next((a for a in view.attachments if a.id == attachment_id), None)
        if found is None:
            raise NotFound("no such file")
        return found, await self.files.get(found.sha256)

    # ------------------------------------------------------------------ inside a transaction

    def _team(self) -> str:
        if self._team_name is None:
            name = self.portal.settings.onboarding.send_team_name.removeprefix("the ").strip()
            self._team_name = name or "SEND team"
        return self._team_name

    @staticmethod
    async def _access(s: AsyncSession, chat_id: int, child_id: int) -> tuple[int, Child, Case]:
        account_id = await _account_for_chat(s, chat_id)
        if account_id is None or not await _has_access(s, account_id, child_id):
            raise NotFound("no such child")
        row = (await s.execute(select(Child, Case).join(Case, Case.child_id == Child.id).where(Child.id == child_id))).first()
        if row is None:
            raise NotFound("no such child")
        return account_id, row[0], row[1]

    @staticmethod
    async def _own(s: AsyncSession, account_id: int, child_id: int, message_id: int) -> Message:
        msg = await s.get(Message, message_id)
        if msg is None or msg.account_id != account_id or msg.child_id != child_id:
            raise NotFound("no such message")
        return msg

    async def _notify(self, s: AsyncSession, msg: Message, child: Child, now: datetime, files: bool) -> None:
        await self.portal.events.publish(s, MessageToCarer(
            at=now, child_id=child.id, recipients=(Recipient(msg.account_id, f"message:{msg.id}"),),
            message_id=msg.id, sender_name=msg.sender_name, child_forename=child.forename, subject=msg.subject,
            type_name=TYPE_NAMES[MessageType(msg.type)], with_files=files,
        ))

    @staticmethod
    async def _view(s: AsyncSession, m: Message, case: Case | None, *, with_files: bool = True) -> MessageView:
        files: list[AttachmentView] = []
        if with_files:
            rows = (await s.scalars(select(Attachment).where(Attachment.message_id == m.id).order_by(Attachment.id))).all()
            files = [AttachmentView(a.id, a.filename, a.mime, a.size, a.sha256, a.telegram_file_id) for a in rows]
        return MessageView(
            id=m.id, case_id=m.case_id, case_reference=case.case_reference if case else "", child_id=m.child_id,
            account_id=m.account_id, direction=m.direction, type=m.type, type_name=TYPE_NAMES[MessageType(m.type)],
            subject=m.subject, body=m.body, sender_name=m.sender_name, recipient_name=m.recipient_name,
            reply_to_id=m.reply_to_id, source=m.source, created_at=m.created_at, read_at=m.read_at,
            attachments=files,
        )


async def _account_for_chat(s: AsyncSession, chat_id: int) -> int | None:
    return await s.scalar(select(ChatLink.account_id).where(ChatLink.active_chat_id == chat_id))


async def _has_access(s: AsyncSession, account_id: int, child_id: int) -> bool:
    found = await s.scalar(
        select(AccessGrant.id).where(
            AccessGrant.account_id == account_id, AccessGrant.child_id == child_id, AccessGrant.status == "active"
        ).limit(1)
    )
    return found is not None


async def _account_name(s: AsyncSession, account_id: int) -> str:
    from core.accounts.models import Account

    acc = await s.get(Account, account_id)
    return f"{acc.forename} {acc.surname}".strip() if acc else "A parent"


async def _name_if_access(s: AsyncSession, account_id: int, child_id: int) -> str | None:
    """The carer's name as a message shows it, if they have active access to the child (None if
    not): `_has_access` and `_account_name` in one query."""
    from core.accounts.models import Account

    granted = (
        select(AccessGrant.id)
        .where(AccessGrant.account_id == account_id, AccessGrant.child_id == child_id, AccessGrant.status == "active")
        .exists()
    )
    row = (await s.execute(
        select(granted.label("granted"), Account.forename, Account.surname).where(Account.id == account_id)
    )).first()
    if row is None or not row.granted:  # no such account, or no active access
        return None
    return f"{row.forename} {row.surname}".strip()


__all__ = [
    "MAX_BODY",
    "AttachmentView",
    "FileRefused",
    "KeptFile",
    "MessageRefused",
    "MessageService",
    "MessageType",
    "MessageView",
    "NewAttachment",
    "NotFound",
    "Page",
    "TYPE_NAMES",
]
