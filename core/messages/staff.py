"""The staff group's record: which staff Telegram account answers as which caseworker
(`StaffDirectory`), and the families' topics and what was posted in them (`StaffGroup`).

The group itself (posting, pacing, making its topics) is the delivery's and the bot's; this is
what they ask and tell: which messages are due in the group, which topic holds a family's
thread, which posts are there (a `staff_posts` row maps a group message to a stored message, so
a caseworker's reply to it answers that message), and a caseworker's reply in a topic, stored
as their message to the carer.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import Actor, audit
from core.messages.models import Message, StaffMember, StaffPost, StaffTopic
from core.messages.service import (
    MAX_SUBJECT,
    MessageService,
    MessageType,
    MessageView,
    NewAttachment,
)
from core.models import OutboxItem
from core.onboarding.models import Case, Child
from core.portal import Portal
from core.upsert import insert_ignore, upsert

NO_CAPTION_BODY = "Please see the attached file."
WARN_WINDOW = timedelta(days=30)  # how far back undelivered notices are looked for
UNDELIVERED = ("blocked", "failed", "emailed")
IN_FLIGHT = ("pending", "sending", "sent")
ADVISORY_LOCK_KEY = 0x45484350_53544146 & 0x7FFF_FFFF_FFFF_FFFF  # "EHCPSTAF"


class StaffDirectory:
    """Staff Telegram accounts mapped to caseworker names (for replies from the staff group)."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    async def map(self, telegram_user_id: int, caseworker_name: str, actor: Actor) -> None:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            await upsert(s, StaffMember.__table__, ["telegram_user_id"], {
                "telegram_user_id": telegram_user_id, "caseworker_name": caseworker_name.strip(),
                "mapped_at": now, "mapped_by": actor.id,
            })
            audit(s, actor, "staff.map", at=now, subject=f"staff:{telegram_user_id}")

    async def unmap(self, telegram_user_id: int, actor: Actor) -> bool:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            done = await s.execute(delete(StaffMember).where(StaffMember.telegram_user_id == telegram_user_id))
            audit(s, actor, "staff.unmap", at=now, subject=f"staff:{telegram_user_id}")
            return bool(done.rowcount)

    async def name_of(self, telegram_user_id: int) -> str | None:
        async with self.portal.db() as s:
            return await s.scalar(
                select(StaffMember.caseworker_name).where(StaffMember.telegram_user_id == telegram_user_id)
            )


@dataclass(frozen=True, slots=True)
class StaffThread:
    """A family's topic: one carer's thread about one case."""

    case_id: int
    account_id: int
    case_reference: str


@dataclass(frozen=True, slots=True)
class ToPost:
    """A message due in the group, and how many of its parts are there already (a crash between
    parts: the rest is posted, never the whole again)."""

    message: MessageView
    child_name: str
    posted: int


@dataclass(frozen=True, slots=True)
class NoticeAttempt:
    """One outbox row of a message's notice: how it ended, and whether it had a chat."""

    status: str
    chat_id: int | None


@dataclass(frozen=True, slots=True)
class Undelivered:
    """A caseworker's message whose notice reached no chat, to be said in its topic once."""

    message_id: int
    thread_id: int
    first_post: int | None  # the group's message that shows it (the line answers it)
    attempts: list[NoticeAttempt]


class StaffGroup:
    """What the staff group's faces ask of the core and tell it (see the module's docstring)."""

    def __init__(self, portal: Portal, messages: MessageService) -> None:
        self.portal = portal
        self.messages = messages

    @contextlib.asynccontextmanager
    async def posting_turn(self) -> AsyncIterator[bool]:
        """One poster at a time across processes (a PostgreSQL session advisory lock): yields
        whether this one may post now. SQLite has one process: always yes."""
        engine = self.portal.engine
        if engine.dialect.name != "postgresql":
            yield True
            return
        async with engine.connect() as conn:
            got = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}))
            await conn.commit()
            try:
                yield got
            finally:
                if got:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                    await conn.commit()

    # ------------------------------------------------------------------ posts and topics

    async def is_posted(self, staff_chat_id: int, staff_message_id: int) -> bool:
        """Is this group message one of ours (posted by the relay, or a reply already sent)?"""
        async with self.portal.db() as s:
            return await s.get(StaffPost, (staff_chat_id, staff_message_id)) is not None

    async def record_post(self, staff_chat_id: int, staff_message_id: int, message_id: int) -> None:
        """This group message shows (a part of) this stored message: a reply to it answers it."""
        async with self.portal.db() as s, s.begin():
            s.add(StaffPost(staff_chat_id=staff_chat_id, staff_message_id=staff_message_id, message_id=message_id))

    async def thread_of_topic(self, staff_chat_id: int, thread_id: int) -> StaffThread | None:
        """The family's thread of a topic (None: the General topic, or one the staff made)."""
        async with self.portal.db() as s:
            row = (
                await s.execute(
                    select(StaffTopic.case_id, StaffTopic.account_id, Case.case_reference)
                    .join(Case, Case.id == StaffTopic.case_id)
                    .where(StaffTopic.staff_chat_id == staff_chat_id, StaffTopic.thread_id == thread_id)
                )
            ).first()
        return StaffThread(*row) if row is not None else None

    async def topic_of(self, staff_chat_id: int, case_id: int, account_id: int) -> int | None:
        """The topic (its thread id) of one carer's thread about one case, if it was made."""
        async with self.portal.db() as s:
            return await _topic_of(s, staff_chat_id, case_id, account_id)

    async def record_topic(self, staff_chat_id: int, thread_id: int, case_id: int, account_id: int) -> int:
        """A topic made for a thread; returns the thread's topic as stored (another poster's, if
        it recorded one first: the new one is then not used)."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            await insert_ignore(s, StaffTopic.__table__, {
                "staff_chat_id": staff_chat_id, "thread_id": thread_id, "case_id": case_id,
                "account_id": account_id, "created_at": now,
            })
            return int(await _topic_of(s, staff_chat_id, case_id, account_id))

    async def forget_topic(self, staff_chat_id: int, thread_id: int, message_id: int) -> None:
        """The topic was deleted in the group: forgotten, and this message's parts with it (a
        new topic is made, and the message posted there whole)."""
        async with self.portal.db() as s, s.begin():
            await s.execute(
                delete(StaffTopic).where(StaffTopic.staff_chat_id == staff_chat_id, StaffTopic.thread_id == thread_id)
            )
            await s.execute(
                delete(StaffPost).where(
                    StaffPost.staff_chat_id == staff_chat_id, StaffPost.message_id == message_id,
                    StaffPost.staff_message_id > 0,
                )
            )

    # ------------------------------------------------------------------ what is due in the group

    async def due(self, floor: int, limit: int) -> tuple[list[int], int]:
        """Messages not yet shown in the group (a parent's, or a caseworker's sent by the API),
        from id `floor` on, oldest first; and the highest message id now (below which the rest
        was looked at)."""
        async with self.portal.db() as s:
            top = await s.scalar(select(func.max(Message.id))) or 0
            ids = (
                await s.scalars(
                    select(Message.id)
                    .where(
                        Message.id >= floor, Message.id <= top, Message.staff_posted_at.is_(None),
                        or_(Message.direction == "to_team", Message.source == "api"),
                    )
                    .order_by(Message.id)
                    .limit(limit)
                )
            ).all()
        return list(ids), top

    async def to_post(self, staff_chat_id: int, message_id: int) -> ToPost:
        """A due message with its files, its child's name, and how many parts are posted."""
        async with self.portal.db() as s:
            m = await s.get(Message, message_id)
            view = await MessageService._view(s, m, await s.get(Case, m.case_id))
            child = await s.get(Child, m.child_id)
            posted = await s.scalar(
                select(func.count()).select_from(StaffPost).where(
                    StaffPost.staff_chat_id == staff_chat_id, StaffPost.message_id == message_id,
                    StaffPost.staff_message_id > 0,
                )
            )
        return ToPost(view, f"{child.forename} {child.surname}" if child else "", posted or 0)

    async def mark_posted(self, message_id: int) -> None:
        """Every part of the message is in the group."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            m = await s.get(Message, message_id)
            m.staff_posted_at = now
            audit(s, Actor.system("staff_relay"), "message.staff_post", at=now, child_id=m.child_id,
                  subject=f"message:{m.id}")

    # ------------------------------------------------------------------ undelivered notices

    async def undelivered(self, staff_chat_id: int) -> list[int]:
        """Caseworkers' messages of the last 30 days whose notice ended undelivered (blocked,
        failed or emailed) and that were not yet said in the group, oldest first."""
        cutoff = self.portal.clock.now() - WARN_WINDOW
        async with self.portal.db() as s:
            keys = (
                await s.scalars(
                    select(OutboxItem.dedupe_key).where(
                        OutboxItem.status.in_(UNDELIVERED), OutboxItem.not_before >= cutoff,
                        OutboxItem.dedupe_key.like("message:%"),
                    )
                )
            ).all()
            ids = sorted({mid for mid in map(_message_id, keys) if mid is not None})
            if not ids:
                return []
            said = set(
                (
                    await s.scalars(
                        select(StaffPost.message_id).where(
                            StaffPost.staff_chat_id == staff_chat_id,
                            StaffPost.staff_message_id.in_([-i for i in ids]),
                        )
                    )
                ).all()
            )
        return [i for i in ids if i not in said]

    async def undelivered_one(self, staff_chat_id: int, message_id: int) -> Undelivered | None:
        """What to say about one such message, or None when there is nothing to say (yet): it is
        not in the group, a notice reached a chat or is still trying, or it has no topic."""
        async with self.portal.db() as s:
            m = await s.get(Message, message_id)
            if m is None or m.direction != "to_parent" or m.staff_posted_at is None:
                return None
            rows = (
                await s.execute(
                    select(OutboxItem.status, OutboxItem.chat_id).where(
                        OutboxItem.dedupe_key >= f"message:{message_id}:",
                        OutboxItem.dedupe_key < f"message:{message_id};",  # ';' follows ':'
                    )
                )
            ).all()
            if not rows or any(r.status in IN_FLIGHT for r in rows):
                return None
            thread_id = await _topic_of(s, staff_chat_id, m.case_id, m.account_id)
            if thread_id is None:
                return None
            first = await s.scalar(
                select(func.min(StaffPost.staff_message_id)).where(
                    StaffPost.staff_chat_id == staff_chat_id, StaffPost.message_id == message_id,
                    StaffPost.staff_message_id > 0,
                )
            )
        return Undelivered(message_id, int(thread_id), first, [NoticeAttempt(r.status, r.chat_id) for r in rows])

    async def record_said(self, staff_chat_id: int, message_id: int, staff_message_id: int) -> None:
        """The line about an undelivered notice was posted: never said again (a marker row with
        the negative message id, as Telegram's message ids are positive), and a reply to the line
        answers the message."""
        async with self.portal.db() as s, s.begin():
            await insert_ignore(s, StaffPost.__table__, [
                {"staff_chat_id": staff_chat_id, "staff_message_id": -message_id, "message_id": message_id},
                {"staff_chat_id": staff_chat_id, "staff_message_id": staff_message_id, "message_id": message_id},
            ])

    # ------------------------------------------------------------------ a caseworker's reply

    async def reply(
        self,
        thread: StaffThread,
        *,
        staff_chat_id: int,
        staff_message_id: int,
        replying_to: int | None,
        staff_user_id: int,
        sender_name: str,
        text: str,
        attachments: Sequence[NewAttachment] = (),
    ) -> MessageView:
        """A caseworker's message in a family's topic, stored as their message to the carer of
        the topic (MessageService.send_to_parent: the carer's notice in the same transaction,
        the post recorded with it, the same post again not sent twice). It answers the posted
        message it replies to (`replying_to`, a group message id), else the parent's latest in
        the thread, else the thread's latest; its subject and type follow that message."""
        answered = await self._answered(staff_chat_id, thread, replying_to)
        body = text.strip() or (NO_CAPTION_BODY if attachments else "")
        view = await self.messages.send_to_parent(
            Actor.caseworker(f"staff:{staff_user_id}"),
            thread.case_reference,
            sender_name=sender_name,
            type=answered.type if answered is not None else MessageType.GENERAL.value,
            subject=_re(answered.subject) if answered is not None else f"A message from {sender_name}",
            body=body,
            account_id=thread.account_id,
            reply_to_id=answered.id if answered is not None else None,
            attachments=attachments,
            source="staff_group",
            staff_post=(staff_chat_id, staff_message_id),
        )
        file_id = attachments[0].telegram_file_id if attachments else None
        if file_id and view.attachments:  # the parent's chat can reuse Telegram's copy
            await self.messages.remember_file_id(view.attachments[0].id, file_id)
        return view

    async def _answered(self, staff_chat_id: int, thread: StaffThread, replying_to: int | None) -> Message | None:
        where = (Message.case_id == thread.case_id, Message.account_id == thread.account_id)
        async with self.portal.db() as s:
            if replying_to is not None:
                post = await s.get(StaffPost, (staff_chat_id, replying_to))
                found = await s.get(Message, post.message_id) if post is not None else None
                if found is not None and (found.case_id, found.account_id) == (thread.case_id, thread.account_id):
                    return found
            for conditions in ((*where, Message.direction == "to_team"), where):
                found = await s.scalar(select(Message).where(*conditions).order_by(Message.id.desc()).limit(1))
                if found is not None:
                    return found
        return None


async def _topic_of(s: AsyncSession, staff_chat_id: int, case_id: int, account_id: int) -> int | None:
    return await s.scalar(
        select(StaffTopic.thread_id).where(
            StaffTopic.staff_chat_id == staff_chat_id, StaffTopic.case_id == case_id,
            StaffTopic.account_id == account_id,
        )
    )


def _re(subject: str) -> str:
    subject = subject.strip()
    while subject.lower().startswith("re:"):
        subject = subject[3:].strip()
    return f"Re: {subject}"[:MAX_SUBJECT]


def _message_id(key: str | None) -> int | None:
    parts = (key or "").split(":")
    if len(parts) == 3 and parts[0] == "message" and parts[1].isdigit():
        return int(parts[1])
    return None


__all__ = ["NoticeAttempt", "StaffDirectory", "StaffGroup", "StaffThread", "ToPost", "Undelivered"]
