"""The staff group (EHCP_STAFF_CHAT_ID): caseworkers' replies in a family's topic go to the parent.

This router comes first and takes every message and button press from the staff group, so that
nothing meant for parents ever answers there. Messages in other groups are not its business (the
parent-facing handlers answer in private chats only). The bot's own membership changes in any
group are logged with the group's id, which is how an administrator finds EHCP_STAFF_CHAT_ID.

A message in a family's topic (one the relay made) from a staff member whose Telegram account is
mapped to a caseworker name is given to the core (StaffGroup.reply), which stores it as that
caseworker's message to the carer of the topic, with the carer's notice (Read and Reply) in the
same transaction, and records the post so that it is never posted again and a repeated update is
not sent twice; the topic is told it went. An unmapped member is asked to be mapped first, and
nothing is stored.
"""

from __future__ import annotations

import io
import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message

from bot.filters import inline
from bot.staff import texts
from core.config import Settings
from core.errors import NotFound, Refused
from core.files import MAX_UPLOAD_BYTES, FileRefused
from core.messages.service import NewAttachment
from core.messages.staff import StaffDirectory, StaffGroup, StaffThread
from core.services import Services

log = logging.getLogger(__name__)


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
    router.my_chat_member.filter(inline(F.chat.type.in_({"group", "supergroup"})))

    @router.message()
    async def staff_message(message: Message, bot: Bot, services: Services) -> None:
        await StaffReply(bot, services.staff, services.staff_group).handle(message)

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

    def __init__(self, bot: Bot, directory: StaffDirectory, group: StaffGroup) -> None:
        self.bot = bot
        self.directory = directory
        self.group = group

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
        thread = await self.group.thread_of_topic(chat_id, message.message_thread_id)
        if thread is None:
            return  # a topic the staff made themselves
        if await self.group.is_posted(chat_id, message.message_id):
            return  # the same update again (after a restart): it was sent
        name = await self.directory.name_of(user.id)
        if name is None:
            await self._say(message, texts.map_first(user.id))
            return
        if (message.text or "").startswith("/"):
            await self._say(message, texts.no_commands())
            return
        if _other_content(message):
            await self._say(message, texts.only_text_and_files())
            return
        await self._send(message, thread, user.id, name)

    async def _send(self, message: Message, thread: StaffThread, user_id: int, name: str) -> None:
        chat_id = message.chat.id
        target = message.reply_to_message  # a reply to the topic's first message is no reply
        replying_to = (
            target.message_id
            if target is not None and target.message_id != message.message_thread_id
            else None
        )
        try:
            view = await self.group.reply(
                thread,
                staff_chat_id=chat_id,
                staff_message_id=message.message_id,
                replying_to=replying_to,
                staff_user_id=user_id,
                sender_name=name,
                text=message.text or message.caption or "",
                attachments=await self._files(message),
            )
        except Refused as exc:  # a message or a file the core will not take
            await self._say(message, texts.refused(exc.message))
            return
        except NotFound:
            await self._say(message, texts.gone())
            return
        log.info("staff reply %s stored as message %s", message.message_id, view.id)
        confirm = await self._say(message, texts.sent_to(view.recipient_name))
        if confirm is not None:  # a reply to the confirmation answers the same message
            await self.group.record_post(chat_id, confirm, view.id)

    async def _files(self, message: Message) -> list[NewAttachment]:
        """The document or photo of the message, downloaded (checked again when stored)."""
        if message.document is not None:
            doc = message.document
            if doc.file_size is not None and doc.file_size > MAX_UPLOAD_BYTES:
                raise FileRefused(texts.file_too_big(), "too_big")
            return [
                NewAttachment(
                    await self._download(doc.file_id), doc.file_name, doc.mime_type, doc.file_id
                )
            ]
        if message.photo:
            photo = message.photo[-1]  # the largest size
            if photo.file_size is not None and photo.file_size > MAX_UPLOAD_BYTES:
                raise FileRefused(texts.photo_too_big(), "too_big")
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
