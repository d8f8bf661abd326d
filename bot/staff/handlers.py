"""The staff group (EHCP_STAFF_CHAT_ID): caseworkers' replies in a family's topic go to the parent.

This router comes first and takes every message and button press from the staff group, so that
nothing meant for parents ever answers there. Messages in other groups are not its business (the
parent-facing handlers answer in private chats only). The bot's own membership changes in any
group are logged with the group's id, which is how an administrator finds EHCP_STAFF_CHAT_ID.

A message in a family's topic (one recorded in `staff_topics` by the relay) from a staff member
whose Telegram account is mapped to a caseworker name is stored as that caseworker's message to
the carer of the topic, with the carer's notice (Read and Reply) written in the same transaction
(MessageService.send_to_parent); it is recorded in `staff_posts` so the relay never posts it
again and a repeated update is not sent twice; the topic is told it went. Its subject and type
follow the message it answers: the posted message it replies to, else the parent's latest.
An unmapped member is asked to be mapped first, and nothing is stored.
"""

from __future__ import annotations

import io
import logging
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message
from sqlalchemy import select

from core.audit import Actor
from core.config import Settings
from core.files import MAX_UPLOAD_BYTES, FileRefused
from core.messages.models import Message as StoredMessage
from core.messages.models import StaffPost, StaffTopic
from core.messages.service import (
    MAX_SUBJECT,
    MessageRefused,
    MessageService,
    MessageType,
    NewAttachment,
    NotFound,
)
from core.messages.staff import StaffDirectory
from core.onboarding.models import Case
from core.portal import Portal
from core.services import Services

log = logging.getLogger(__name__)

NO_CAPTION_BODY = "Please see the attached file."


def _staff_chat(settings: Settings) -> int | None:
    return settings.telegram.staff_chat_id


async def in_staff_chat(event: Message | ChatMemberUpdated, settings: Settings) -> bool:
    staff = _staff_chat(settings)
    return staff is not None and event.chat.id == staff


async def button_in_staff_chat(query: CallbackQuery, settings: Settings) -> bool:
    staff = _staff_chat(settings)
    return staff is not None and query.message is not None and query.message.chat.id == staff


def staff_router() -> Router:
    router = Router(name="staff")
    router.message.filter(in_staff_chat)
    router.callback_query.filter(button_in_staff_chat)
    router.my_chat_member.filter(F.chat.type.in_({"group", "supergroup"}))

    @router.message()
    async def staff_message(message: Message, bot: Bot, portal: Portal, services: Services) -> None:
        await StaffReply(portal, bot, services.messages, services.staff).handle(message)

    @router.callback_query()
    async def staff_button(query: CallbackQuery) -> None:
        await query.answer()  # the bot shows no buttons there: a press does nothing

    @router.my_chat_member()
    async def group_membership(event: ChatMemberUpdated, settings: Settings) -> None:
        """The bot added to a group, or its rights changed: logged with the group's id (the id
        EHCP_STAFF_CHAT_ID needs). Nothing is said in the group."""
        status = event.new_chat_member.status
        staff = event.chat.id == _staff_chat(settings)
        log.info(
            "the bot is now %s in the group %r (id %s)%s",
            status,
            event.chat.title,
            event.chat.id,
            " (the staff group)" if staff else "",
        )
        if staff and status != "administrator":
            log.error(
                "the bot is not an administrator in the staff group: it cannot post families' "
                "messages there"
            )

    return router


class StaffReply:
    """One message in the staff group, handled."""

    def __init__(
        self, portal: Portal, bot: Bot, messages: MessageService, staff: StaffDirectory
    ) -> None:
        self.portal = portal
        self.bot = bot
        self.messages = messages
        self.staff = staff

    async def handle(self, message: Message) -> None:
        user = message.from_user
        if user is None or user.is_bot or message.sender_chat is not None:
            return  # the bot itself, another bot, or someone posting as the group or a channel
        if not (message.text or message.caption or message.document or message.photo):
            if not _other_content(message):
                return  # a service message: a topic made, a member joined...
        chat_id = message.chat.id
        if not message.is_topic_message or message.message_thread_id is None:
            return  # the General topic: not a family's
        topic = await self._topic(chat_id, message.message_thread_id)
        if topic is None:
            return  # a topic the staff made themselves
        if await self._already_sent(chat_id, message.message_id):
            return  # the same update again (after a restart): it was sent
        name = await self.staff.name_of(user.id)
        if name is None:
            await self._say(
                message,
                f"Please ask an administrator to map your Telegram account (id {user.id}) to your "
                f'caseworker name first: <code>ehcp-bot staff map {user.id} "Your Name"</code>.',
            )
            return
        if (message.text or "").startswith("/"):
            await self._say(message, "Commands are not sent to the family. Nothing was sent.")
            return
        if _other_content(message):
            await self._say(
                message,
                "Only text, documents and photos can be sent to the family. Nothing was sent.",
            )
            return
        await self._send(message, topic, user.id, name)

    async def _send(self, message: Message, topic: StaffTopic, user_id: int, name: str) -> None:
        chat_id = message.chat.id
        answered = await self._answered(chat_id, topic, message)
        async with self.portal.db() as s:
            reference = await s.scalar(select(Case.case_reference).where(Case.id == topic.case_id))
        if reference is None:
            return
        try:
            files = await self._files(message)
        except FileRefused as exc:
            await self._say(message, f"{escape(exc.message)} Nothing was sent.")
            return
        body = (message.text or message.caption or "").strip() or (NO_CAPTION_BODY if files else "")
        subject = _re(answered.subject) if answered is not None else f"A message from {name}"
        kind = answered.type if answered is not None else MessageType.GENERAL.value
        try:
            view = await self.messages.send_to_parent(
                Actor.caseworker(f"staff:{user_id}"),
                reference,
                sender_name=name,
                type=kind,
                subject=subject,
                body=body,
                account_id=topic.account_id,
                reply_to_id=answered.id if answered is not None else None,
                attachments=files,
                source="staff_group",
                staff_post=(chat_id, message.message_id),
            )
        except (MessageRefused, FileRefused) as exc:
            await self._say(message, f"{escape(exc.message)} Nothing was sent.")
            return
        except NotFound:
            await self._say(
                message, "This family's case or message is no longer there. Nothing was sent."
            )
            return
        if message.document is not None and view.attachments:  # the parent's chat can reuse it
            await self.messages.remember_file_id(view.attachments[0].id, message.document.file_id)
        log.info("staff reply %s stored as message %s", message.message_id, view.id)
        confirm = await self._say(message, f"✅ Sent to {escape(view.recipient_name)}.")
        if confirm is not None:  # a reply to the confirmation answers the same message
            async with self.portal.db() as s, s.begin():
                s.add(
                    StaffPost(staff_chat_id=chat_id, staff_message_id=confirm, message_id=view.id)
                )

    # ------------------------------------------------------------------ lookups

    async def _topic(self, chat_id: int, thread_id: int) -> StaffTopic | None:
        async with self.portal.db() as s:
            return await s.scalar(
                select(StaffTopic).where(
                    StaffTopic.staff_chat_id == chat_id, StaffTopic.thread_id == thread_id
                )
            )

    async def _already_sent(self, chat_id: int, message_id: int) -> bool:
        async with self.portal.db() as s:
            return await s.get(StaffPost, (chat_id, message_id)) is not None

    async def _answered(
        self, chat_id: int, topic: StaffTopic, message: Message
    ) -> StoredMessage | None:
        """The message this one answers: the posted one it replies to (in this topic's thread),
        else the parent's latest in the thread, else the thread's latest."""
        thread = (
            StoredMessage.case_id == topic.case_id,
            StoredMessage.account_id == topic.account_id,
        )
        async with self.portal.db() as s:
            target = message.reply_to_message
            if target is not None and target.message_id != message.message_thread_id:
                post = await s.get(StaffPost, (chat_id, target.message_id))
                if post is not None:
                    found = await s.get(StoredMessage, post.message_id)
                    if found is not None and (found.case_id, found.account_id) == (
                        topic.case_id,
                        topic.account_id,
                    ):
                        return found
            for where in ((*thread, StoredMessage.direction == "to_team"), thread):
                found = await s.scalar(
                    select(StoredMessage).where(*where).order_by(StoredMessage.id.desc()).limit(1)
                )
                if found is not None:
                    return found
        return None

    async def _files(self, message: Message) -> list[NewAttachment]:
        """The document or photo of the message, downloaded (checked again when stored)."""
        if message.document is not None:
            doc = message.document
            if doc.file_size is not None and doc.file_size > MAX_UPLOAD_BYTES:
                raise FileRefused("That file is too big. Files can be up to 20 MB.", "too_big")
            return [
                NewAttachment(
                    await self._download(doc.file_id), doc.file_name, doc.mime_type, doc.file_id
                )
            ]
        if message.photo:
            photo = message.photo[-1]  # the largest size
            if photo.file_size is not None and photo.file_size > MAX_UPLOAD_BYTES:
                raise FileRefused("That photo is too big. Files can be up to 20 MB.", "too_big")
            data = await self._download(photo.file_id)
            png = data.startswith(b"\x89PNG")  # Telegram's photos are JPEG; a PNG stays PNG
            return [
                NewAttachment(
                    data, "photo.png" if png else "photo.jpg", "image/png" if png else "image/jpeg"
                )
            ]
        return []

    async def _download(self, file_id: str) -> bytes:
        buffer = io.BytesIO()
        await self.bot.download(file_id, destination=buffer)
        return buffer.getvalue()

    async def _say(self, message: Message, text: str) -> int | None:
        """A short answer in the topic, as a reply; a failure to say it is only logged."""
        try:
            sent = await message.reply(text, parse_mode="HTML")
        except TelegramAPIError as exc:
            log.warning("could not answer in the staff group: %s", exc)
            return None
        return sent.message_id


def _re(subject: str) -> str:
    subject = subject.strip()
    while subject.lower().startswith("re:"):
        subject = subject[3:].strip()
    return f"Re: {subject}"[:MAX_SUBJECT]


def _other_content(message: Message) -> bool:
    """A kind of message that is not for the family: a sticker, voice note, video, poll..."""
    return any(
        getattr(message, kind, None) is not None
        for kind in (
            "sticker",
            "voice",
            "video",
            "video_note",
            "audio",
            "animation",
            "poll",
            "location",
            "contact",
            "venue",
            "dice",
            "story",
        )
    )


__all__ = ["StaffReply", "staff_router"]
