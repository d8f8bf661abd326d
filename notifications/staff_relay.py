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
by the bot (bot/staff/); they are recorded there and never posted again here.

What is due, the topics and the posts are the core's record (core.messages.staff.StaffGroup):
the relay asks it what is due and tells it what it posted; it only delivers. On PostgreSQL
several delivery processes may run this job: a session advisory lock (the core's posting turn)
lets one of them do a tick at a time. On SQLite there is one process.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
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

from core.messages.service import AttachmentView, MessageService, MessageView
from core.messages.staff import NoticeAttempt, StaffGroup, ToPost
from core.portal import Portal
from notifications.chat_text import compose

log = logging.getLogger(__name__)

TOPIC_NAME_LIMIT = 128
GROUP_PER_MINUTE = 20  # Telegram: about 20 messages a minute to one group
BATCH = 20  # messages looked at per tick
RESCAN_SECONDS = 60.0  # how often the whole table is looked at again (not only from the floor)
PAUSE_ON_ERROR = 30.0  # seconds to wait after an error Telegram will likely give again


@dataclass(frozen=True, slots=True)
class _Part:
    html: str | None = None  # a text message
    attachment: AttachmentView | None = None  # or a document


def topic_name(child: str, case_reference: str, carer: str) -> str:
    """'Sam Jones · CASE-1 · Alex Jones', cut to Telegram's 128 characters."""
    name = " · ".join(p for p in (child.strip(), case_reference.strip(), carer.strip()) if p)
    if len(name) > TOPIC_NAME_LIMIT:
        name = name[: TOPIC_NAME_LIMIT - 1].rstrip() + "…"
    return name or "A family"


def message_header(m: MessageView) -> str:
    """The first line(s) of a message as posted in its topic (HTML)."""
    if m.direction == "to_team":
        first = f"💬 <b>From {escape(m.sender_name)}</b> · {escape(m.type_name)}"
    else:
        who = escape(m.sender_name)
        first = f"↪️ <b>{who} replied</b> (by the case system) · {escape(m.type_name)}"
    return f"{first}\nSubject: {escape(m.subject)}"


def message_texts(m: MessageView, files: int) -> list[str]:
    """The message as one or more HTML texts Telegram will take (each within 4096 characters)."""
    footer = f"📎 {files} attached file{'s' if files != 1 else ''} below." if files else ""
    parts = compose(message_header(m), m.body, footer)
    if footer and not parts[-1].endswith(footer):
        parts.append(footer)
    return parts


def file_missing_text(filename: str) -> str:
    return f"📎 {escape(filename)}: this file could not be found in the portal's storage."


def undelivered_text(rows: Sequence[NoticeAttempt]) -> str:
    """The line for the topic, from the notice's outbox rows (their status and chat)."""
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


class StaffRelay:
    """Posts families' messages (and replies sent by the API) into the staff group's topics."""

    def __init__(
        self,
        portal: Portal,
        bot: Bot,
        *,
        messages: MessageService | None = None,
        staff: StaffGroup | None = None,
    ) -> None:
        self.portal = portal
        self.bot = bot
        self.messages = messages or MessageService(portal)
        self.staff = staff or StaffGroup(portal, self.messages)
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
        async with self.staff.posting_turn() as mine:
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

    # ------------------------------------------------------------------ messages

    async def _due(self) -> list[int]:
        now = time.monotonic()
        if now >= self._rescan_at:  # now and then from the start: a late commit of a lower id
            self._floor, self._rescan_at = 0, now + RESCAN_SECONDS
        ids, top = await self.staff.due(self._floor, BATCH)
        self._floor = ids[0] if ids else top + 1
        return ids

    async def _post_messages(self, chat_id: int) -> int:
        posted = 0
        for message_id in await self._due():
            due = await self.staff.to_post(chat_id, message_id)
            m = due.message
            parts = [_Part(html=t) for t in message_texts(m, len(m.attachments))]
            parts += [_Part(attachment=a) for a in m.attachments]
            thread_id: int | None = None
            for part in parts[due.posted :]:
                if not self._may_send():
                    return posted
                if thread_id is None:
                    thread_id = await self._topic(chat_id, due)
                    if not self._may_send():  # making the topic used this slot
                        return posted
                try:
                    sent_id = await self._send_part(chat_id, thread_id, part)
                except TelegramBadRequest as exc:
                    if (
                        "thread not found" in exc.message.lower()
                        or "topic_deleted" in exc.message.lower()
                    ):
                        log.warning("staff group: topic %s is gone; a new one will be made", thread_id)
                        await self.staff.forget_topic(chat_id, thread_id, m.id)
                        return posted
                    raise
                await self.staff.record_post(chat_id, sent_id, m.id)
                posted += 1
            await self._finish(chat_id, m)
        return posted

    async def _finish(self, chat_id: int, m: MessageView) -> None:
        await self.staff.mark_posted(m.id)

    async def _send_part(self, chat_id: int, thread_id: int, part: _Part) -> int:
        if part.html is not None:
            return await self._say(chat_id, thread_id, part.html)
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
            return await self._say(chat_id, thread_id, file_missing_text(a.filename))
        sent = await self.bot.send_document(
            chat_id, BufferedInputFile(data, filename=a.filename), message_thread_id=thread_id
        )
        self._did_send()
        if sent.document is not None:
            await self.messages.remember_file_id(a.id, sent.document.file_id)
        return sent.message_id

    async def _say(
        self, chat_id: int, thread_id: int, html: str, reply_to: int | None = None
    ) -> int:
        sent = await self.bot.send_message(
            chat_id,
            html,
            message_thread_id=thread_id,
            parse_mode="HTML",
            reply_parameters=ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
            if reply_to
            else None,
        )
        self._did_send()
        return sent.message_id

    # ------------------------------------------------------------------ topics

    async def _topic(self, chat_id: int, due: ToPost) -> int:
        """The topic of the message's (case, carer) thread, made and recorded on first need."""
        m = due.message
        found = await self.staff.topic_of(chat_id, m.case_id, m.account_id)
        if found is not None:
            return int(found)
        carer = m.sender_name if m.direction == "to_team" else m.recipient_name
        name = topic_name(due.child_name, m.case_reference, carer)
        created = await self.bot.create_forum_topic(chat_id, name)
        self._did_send()
        stored = await self.staff.record_topic(
            chat_id, created.message_thread_id, m.case_id, m.account_id
        )
        if stored != created.message_thread_id:  # another relay made one first: use that one
            with contextlib.suppress(TelegramAPIError):
                await self.bot.delete_forum_topic(chat_id, created.message_thread_id)
        log.info(
            "staff group: topic %s made for case %s, account %s", stored, m.case_id, m.account_id
        )
        return stored

    # ------------------------------------------------------------------ undelivered notices

    async def _post_warnings(self, chat_id: int) -> int:
        """One line in the topic for each caseworker's message whose notice reached no chat."""
        posted = 0
        for message_id in await self.staff.undelivered(chat_id):
            if not self._may_send():
                break
            found = await self.staff.undelivered_one(chat_id, message_id)
            if found is None:
                continue  # not (yet) shown in the group, or still trying
            sent_id = await self._say(
                chat_id, found.thread_id, undelivered_text(found.attempts), found.first_post
            )
            await self.staff.record_said(chat_id, message_id, sent_id)
            posted += 1
        return posted


__all__ = [
    "StaffRelay",
    "file_missing_text",
    "message_header",
    "message_texts",
    "topic_name",
    "undelivered_text",
]
