"""Posting families' messages into the staff group's topics (when EHCP_STAFF_CHAT_ID is set).

A scheduler job (`StaffRelay.run_once`, ticked with the delivery workers). Each tick:

1. Every message not yet shown in the staff group (`staff_posted_at` null) that a parent sent,
   or that a caseworker sent by the API (source "api"), oldest first, is posted in the topic of
   its (case, carer) thread: the topic is made on first need and recorded in `staff_topics`.
   A message is a list of parts (its text, split at Telegram's 4096 characters, then one
   document per attachment). Each posted part is recorded at once as a `staff_posts` row (the
   group's message id -> our message), so a caseworker can reply to it, and the number of such
   rows says how far a message got: after a crash the rest is posted, never the whole again
   (at most the one part Telegram accepted in the instant before the crash is repeated). Once
   every part is there, `staff_posted_at` is set.
2. A caseworker's message whose notice could not reach the parent's chat (every outbox row for
   it ended blocked, failed or emailed) gets one line in its topic saying so. That it was said
   is recorded as a marker row in `staff_posts` with the negative message id as its
   `staff_message_id` (Telegram's message ids are positive), so no schema change is needed.

Pacing, without sleeping: one send to the group at most every 1/`delivery_rate_per_chat`
seconds and 20 a minute (Telegram's limits for one group); a send that would break them waits
for a later tick. A 429 waits its `retry_after`. Replies from the staff group itself are handled
by the bot (bot/handlers/staff.py); they are recorded there and never posted again here.

On PostgreSQL several delivery processes may run this job: a session advisory lock lets one of
them do a tick at a time. On SQLite there is one process.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from html import escape

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, ReplyParameters
from sqlalchemy import Row, delete, func, or_, select, text, update

from core.audit import Actor, audit
from core.messages.models import Attachment, Message, StaffPost, StaffTopic
from core.messages.service import TYPE_NAMES, MessageService, MessageType
from core.models import OutboxItem
from core.onboarding.models import Case, Child
from core.portal import Portal
from core.upsert import insert_ignore

log = logging.getLogger(__name__)

TOPIC_NAME_LIMIT = 128
TEXT_LIMIT = 4096
GROUP_PER_MINUTE = 20  # Telegram: about 20 messages a minute to one group
BATCH = 20  # messages looked at per tick
RESCAN_SECONDS = 60.0  # how often the whole table is looked at again (not only from the floor)
WARN_WINDOW = timedelta(days=30)  # how far back undelivered notices are looked for
PAUSE_ON_ERROR = 30.0  # seconds to wait after an error Telegram will likely give again
ADVISORY_LOCK_KEY = 0x45484350_53544146 & 0x7FFF_FFFF_FFFF_FFFF  # "EHCPSTAF"
UNDELIVERED = ("blocked", "failed", "emailed")
IN_FLIGHT = ("pending", "sending", "sent")


@dataclass(frozen=True, slots=True)
class _Part:
    html: str | None = None  # a text message
    attachment: Attachment | None = None  # or a document


def topic_name(child: str, case_reference: str, carer: str) -> str:
    """'Sam Jones · CASE-1 · Alex Jones', cut to Telegram's 128 characters."""
    name = " · ".join(p for p in (child.strip(), case_reference.strip(), carer.strip()) if p)
    if len(name) > TOPIC_NAME_LIMIT:
        name = name[: TOPIC_NAME_LIMIT - 1].rstrip() + "…"
    return name or "A family"


def message_header(m: Message) -> str:
    """The first line(s) of a message as posted in its topic (HTML)."""
    kind = TYPE_NAMES[MessageType(m.type)]
    if m.direction == "to_team":
        first = f"💬 <b>From {escape(m.sender_name)}</b> · {escape(kind)}"
    else:
        who = escape(m.sender_name)
        first = f"↪️ <b>{who} replied</b> (by the case system) · {escape(kind)}"
    return f"{first}\nSubject: {escape(m.subject)}"


def message_texts(m: Message, files: int) -> list[str]:
    """The message as one or more HTML texts Telegram will take (each within 4096 characters)."""
    from bot.texts import compose

    footer = f"📎 {files} attached file{'s' if files != 1 else ''} below." if files else ""
    parts = compose(message_header(m), m.body, footer)
    if footer and not parts[-1].endswith(footer):
        parts.append(footer)
    return parts


class StaffRelay:
    """Posts families' messages (and replies sent by the API) into the staff group's topics."""

    def __init__(self, portal: Portal, bot: Bot, *, messages: MessageService | None = None) -> None:
        self.portal = portal
        self.bot = bot
        self.messages = messages or MessageService(portal)
        rate = portal.settings.delivery.delivery_rate_per_chat
        self.gap = 1.0 / rate if rate > 0 else 0.0
        self.group_per_minute = GROUP_PER_MINUTE
        self._next_at = 0.0  # monotonic: no send to the group before this
        self._sent: deque[float] = deque()  # monotonic times of the last minute's sends
        self._floor = 0  # every message below this id was posted (or is not for the group)
        self._rescan_at = 0.0

    @property
    def chat_id(self) -> int | None:
        return self.portal.settings.telegram.staff_chat_id

    # ------------------------------------------------------------------ the tick

    async def run_once(self) -> int:
        """Post what is due while the group's limits allow. Returns how many posts were made."""
        chat_id = self.chat_id
        if chat_id is None or not self._may_send():
            return 0
        async with self._exclusive() as mine:
            if not mine:
                return 0
            try:
                done = await self._post_messages(chat_id)
                if self._may_send():
                    done += await self._post_warnings(chat_id)
            except TelegramRetryAfter as exc:
                log.warning("staff group: Telegram asks to wait %ss", exc.retry_after)
                self._pause(float(exc.retry_after))
                return 0
            except (TelegramNetworkError, TelegramServerError) as exc:
                log.warning(
                    "staff group: Telegram unreachable (%s); trying again shortly",
                    type(exc).__name__,
                )
                self._pause(5.0)
                return 0
            except TelegramForbiddenError as exc:
                log.error("staff group %s: the bot may not post there (%s)", chat_id, exc.message)
                self._pause(PAUSE_ON_ERROR)
                return 0
            except TelegramAPIError as exc:
                log.error("staff group %s: Telegram refused a post (%s)", chat_id, exc.message)
                self._pause(PAUSE_ON_ERROR)
                return 0
            return done

    # ------------------------------------------------------------------ pacing

    def _may_send(self) -> bool:
        now = time.monotonic()
        while self._sent and now - self._sent[0] >= 60.0:
            self._sent.popleft()
        if len(self._sent) >= self.group_per_minute:
            self._next_at = max(self._next_at, self._sent[0] + 60.0)
        return now >= self._next_at

    def _did_send(self) -> None:
        now = time.monotonic()
        self._sent.append(now)
        self._next_at = max(self._next_at, now + self.gap)

    def _pause(self, seconds: float) -> None:
        self._next_at = max(self._next_at, time.monotonic() + seconds)

    @contextlib.asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[bool]:
        """One relay at a time across processes (PostgreSQL advisory lock). SQLite: one process."""
        engine = self.portal.engine
        if engine.dialect.name != "postgresql":
            yield True
            return
        async with engine.connect() as conn:
            got = bool(
                await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
            )
            await conn.commit()
            try:
                yield got
            finally:
                if got:
                    await conn.execute(
                        text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY}
                    )
                    await conn.commit()

    # ------------------------------------------------------------------ messages

    async def _due(self) -> list[Message]:
        now = time.monotonic()
        if now >= self._rescan_at:  # now and then from the start: a late commit of a lower id
            self._floor, self._rescan_at = 0, now + RESCAN_SECONDS
        async with self.portal.db() as s:
            top = await s.scalar(select(func.max(Message.id))) or 0
            rows = list(
                (
                    await s.scalars(
                        select(Message)
                        .where(
                            Message.id >= self._floor,
                            Message.id <= top,
                            Message.staff_posted_at.is_(None),
                            or_(Message.direction == "to_team", Message.source == "api"),
                        )
                        .order_by(Message.id)
                        .limit(BATCH)
                    )
                ).all()
            )
        self._floor = rows[0].id if rows else top + 1
        return rows

    async def _post_messages(self, chat_id: int) -> int:
        posted = 0
        for m in await self._due():
            parts, done = await self._parts(chat_id, m)
            thread_id: int | None = None
            for part in parts[done:]:
                if not self._may_send():
                    return posted
                if thread_id is None:
                    thread_id = await self._topic(chat_id, m)
                    if not self._may_send():  # making the topic used this slot
                        return posted
                try:
                    sent_id = await self._send_part(chat_id, thread_id, part)
                except TelegramBadRequest as exc:
                    if (
                        "thread not found" in exc.message.lower()
                        or "topic_deleted" in exc.message.lower()
                    ):
                        await self._forget_topic(chat_id, thread_id, m)
                        return posted
                    raise
                async with self.portal.db() as s, s.begin():
                    s.add(
                        StaffPost(staff_chat_id=chat_id, staff_message_id=sent_id, message_id=m.id)
                    )
                posted += 1
            await self._finish(chat_id, m)
        return posted

    async def _parts(self, chat_id: int, m: Message) -> tuple[list[_Part], int]:
        """The message's parts, and how many of them are already in the group."""
        async with self.portal.db() as s:
            files = list(
                (
                    await s.scalars(
                        select(Attachment)
                        .where(Attachment.message_id == m.id)
                        .order_by(Attachment.id)
                    )
                ).all()
            )
            done = (
                await s.scalar(
                    select(func.count())
                    .select_from(StaffPost)
                    .where(
                        StaffPost.staff_chat_id == chat_id,
                        StaffPost.message_id == m.id,
                        StaffPost.staff_message_id > 0,
                    )
                )
                or 0
            )
        parts = [_Part(html=t) for t in message_texts(m, len(files))]
        parts += [_Part(attachment=a) for a in files]
        return parts, done

    async def _finish(self, chat_id: int, m: Message) -> None:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            await s.execute(update(Message).where(Message.id == m.id).values(staff_posted_at=now))
            audit(
                s,
                Actor.system("staff_relay"),
                "message.staff_post",
                at=now,
                child_id=m.child_id,
                subject=f"message:{m.id}",
            )

    async def _send_part(self, chat_id: int, thread_id: int, part: _Part) -> int:
        if part.html is not None:
            sent = await self.bot.send_message(
                chat_id, part.html, message_thread_id=thread_id, parse_mode="HTML"
            )
            self._did_send()
            return sent.message_id
        a = part.attachment
        assert a is not None
        if a.telegram_file_id:
            try:
                sent = await self.bot.send_document(
                    chat_id, a.telegram_file_id, message_thread_id=thread_id
                )
                self._did_send()
                return sent.message_id
            except TelegramBadRequest as exc:  # a photo's id, or one Telegram forgot: upload it
                if "thread not found" in exc.message.lower():
                    raise
                log.info(
                    "attachment %s: its Telegram file id was refused; uploading the file", a.id
                )
        try:
            data = await self.messages.files.get(a.sha256)
        except (OSError, ValueError):
            log.error("attachment %s (%s) is missing from the file store", a.id, a.sha256)
            sent = await self.bot.send_message(
                chat_id,
                f"📎 {escape(a.filename)}: this file could not be found in the portal's storage.",
                message_thread_id=thread_id,
                parse_mode="HTML",
            )
            self._did_send()
            return sent.message_id
        sent = await self.bot.send_document(
            chat_id, BufferedInputFile(data, filename=a.filename), message_thread_id=thread_id
        )
        self._did_send()
        if sent.document is not None:
            await self.messages.remember_file_id(a.id, sent.document.file_id)
        return sent.message_id

    # ------------------------------------------------------------------ topics

    async def _topic(self, chat_id: int, m: Message) -> int:
        """The topic of the message's (case, carer) thread, made and recorded on first need."""
        async with self.portal.db() as s:
            found = await s.scalar(
                select(StaffTopic.thread_id).where(
                    StaffTopic.staff_chat_id == chat_id,
                    StaffTopic.case_id == m.case_id,
                    StaffTopic.account_id == m.account_id,
                )
            )
            if found is not None:
                return int(found)
            case = await s.get(Case, m.case_id)
            child = await s.get(Child, m.child_id)
        carer = m.sender_name if m.direction == "to_team" else m.recipient_name
        name = topic_name(
            f"{child.forename} {child.surname}" if child else "",
            case.case_reference if case else "",
            carer,
        )
        created = await self.bot.create_forum_topic(chat_id, name)
        self._did_send()
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            await insert_ignore(
                s,
                StaffTopic.__table__,
                {
                    "staff_chat_id": chat_id,
                    "thread_id": created.message_thread_id,
                    "case_id": m.case_id,
                    "account_id": m.account_id,
                    "created_at": now,
                },
            )
            stored = await s.scalar(
                select(StaffTopic.thread_id).where(
                    StaffTopic.staff_chat_id == chat_id,
                    StaffTopic.case_id == m.case_id,
                    StaffTopic.account_id == m.account_id,
                )
            )
        if stored != created.message_thread_id:  # another relay made one first: use that one
            with contextlib.suppress(TelegramAPIError):
                await self.bot.delete_forum_topic(chat_id, created.message_thread_id)
        log.info(
            "staff group: topic %s made for case %s, account %s", stored, m.case_id, m.account_id
        )
        return int(stored)

    async def _forget_topic(self, chat_id: int, thread_id: int, m: Message) -> None:
        """The topic was deleted in the group: a new one is made, and this message posted whole."""
        log.warning("staff group: topic %s is gone; a new one will be made", thread_id)
        async with self.portal.db() as s, s.begin():
            await s.execute(
                delete(StaffTopic).where(
                    StaffTopic.staff_chat_id == chat_id, StaffTopic.thread_id == thread_id
                )
            )
            await s.execute(
                delete(StaffPost).where(
                    StaffPost.staff_chat_id == chat_id,
                    StaffPost.message_id == m.id,
                    StaffPost.staff_message_id > 0,
                )
            )

    # ------------------------------------------------------------------ undelivered notices

    async def _post_warnings(self, chat_id: int) -> int:
        """One line in the topic for each caseworker's message whose notice reached no chat."""
        cutoff = self.portal.clock.now() - WARN_WINDOW
        async with self.portal.db() as s:
            keys = (
                await s.scalars(
                    select(OutboxItem.dedupe_key).where(
                        OutboxItem.status.in_(UNDELIVERED),
                        OutboxItem.not_before >= cutoff,
                        OutboxItem.dedupe_key.like("message:%"),
                    )
                )
            ).all()
            ids = sorted({mid for mid in map(_message_id, keys) if mid is not None})
            if not ids:
                return 0
            said = set(
                (
                    await s.scalars(
                        select(StaffPost.message_id).where(
                            StaffPost.staff_chat_id == chat_id,
                            StaffPost.staff_message_id.in_([-i for i in ids]),
                        )
                    )
                ).all()
            )
        posted = 0
        for mid in ids:
            if mid in said:
                continue
            if not self._may_send():
                break
            posted += await self._warn(chat_id, mid)
        return posted

    async def _warn(self, chat_id: int, message_id: int) -> int:
        async with self.portal.db() as s:
            m = await s.get(Message, message_id)
            if m is None or m.direction != "to_parent" or m.staff_posted_at is None:
                return 0  # not (yet) shown in the group
            rows = (
                await s.execute(
                    select(OutboxItem.status, OutboxItem.chat_id, OutboxItem.last_error).where(
                        OutboxItem.dedupe_key >= f"message:{message_id}:",
                        OutboxItem.dedupe_key < f"message:{message_id};",  # ';' follows ':'
                    )
                )
            ).all()
            if not rows or any(r.status in IN_FLIGHT for r in rows):
                return 0  # reached a chat, or still trying
            thread_id = await s.scalar(
                select(StaffTopic.thread_id).where(
                    StaffTopic.staff_chat_id == chat_id,
                    StaffTopic.case_id == m.case_id,
                    StaffTopic.account_id == m.account_id,
                )
            )
            if thread_id is None:
                return 0
            shown = await s.scalar(
                select(func.min(StaffPost.staff_message_id)).where(
                    StaffPost.staff_chat_id == chat_id,
                    StaffPost.message_id == message_id,
                    StaffPost.staff_message_id > 0,
                )
            )
        sent = await self.bot.send_message(
            chat_id,
            undelivered_text(rows),
            message_thread_id=thread_id,
            parse_mode="HTML",
            reply_parameters=ReplyParameters(message_id=shown, allow_sending_without_reply=True)
            if shown
            else None,
        )
        self._did_send()
        async with self.portal.db() as s, s.begin():
            await insert_ignore(
                s,
                StaffPost.__table__,
                [
                    {
                        "staff_chat_id": chat_id,
                        "staff_message_id": -message_id,
                        "message_id": message_id,
                    },
                    {
                        "staff_chat_id": chat_id,
                        "staff_message_id": sent.message_id,
                        "message_id": message_id,
                    },
                ],
            )
        return 1


def undelivered_text(rows: Sequence[Row]) -> str:
    """The line for the topic, from the notice's outbox rows (status, chat_id, last_error)."""
    emailed = any(r.status == "emailed" for r in rows)
    if any(r.chat_id is not None and r.status in ("blocked", "emailed") for r in rows):
        why = "the parent has blocked the bot"
    elif all(r.chat_id is None for r in rows):
        why = "no Telegram chat is linked to their account"
    else:
        why = "Telegram refused it"
    if emailed:
        return (
            f"⚠️ This reply could not be delivered to the parent in Telegram ({why}); "
            "it was sent by email."
        )
    return (
        f"⚠️ This reply could not be delivered at all ({why}, and there is no email address to "
        "send it to). Please contact the family another way."
    )


def _message_id(key: str | None) -> int | None:
    parts = (key or "").split(":")
    if len(parts) == 3 and parts[0] == "message" and parts[1].isdigit():
        return int(parts[1])
    return None


__all__ = ["StaffRelay", "message_header", "message_texts", "topic_name", "undelivered_text"]
