"""Sending: sendMessage, sendDocument, sendPhoto, sendChatAction, and getFile for files.

Each send checks what Telegram checks, in Telegram's order (the chat, the topic, the content,
the keyboard, the message replied to), then asks the world's flood limits for admission before
anything is stored.
"""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING, Any

from .. import checks
from ..checks import ApiError, bad_request
from ..models import BotMessage, ChatAction, FileInfo, Keyboard
from ..params import MAX_UPLOAD, Upload
from .base import Methods, answers

if TYPE_CHECKING:
    from ..params import Params

__all__ = ["SendingMethods", "parse_markup"]

MAX_PHOTO = 10 * 1024 * 1024
MAX_DOWNLOAD = 20 * 1024 * 1024


def parse_markup(p: Params, chat: Any, *, inline_only: bool = False) -> Keyboard | None:
    """The request's ``reply_markup``, checked for the chat (web-app buttons only in private)."""
    raw = p.json("reply_markup", error="can't parse reply keyboard markup JSON object")
    return checks.parse_reply_markup(raw, private=chat.type == "private", inline_only=inline_only)


class SendingMethods(Methods):
    """sendMessage, sendDocument, sendPhoto, sendChatAction, getFile."""

    def _reply_target(self, p: Params, chat: Any) -> int | None:
        params = p.json("reply_parameters") or {}
        if not isinstance(params, dict):
            raise bad_request("can't parse reply parameters JSON object")
        message_id = params.get("message_id", p.int("reply_to_message_id"))
        if message_id is None:
            return None
        allow = params.get("allow_sending_without_reply") or p.bool("allow_sending_without_reply")
        target = chat.get(int(message_id))
        if target is None or target.deleted:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return int(message_id)

    def _new_message(self, chat: Any, p: Params, method: str, **fields: Any) -> BotMessage:
        return BotMessage(
            message_id=chat.new_message_id(),
            chat_id=chat.id,
            date=self.world.now(),
            method=method,
            disable_notification=p.bool("disable_notification"),
            protect_content=p.bool("protect_content"),
            **fields,
        )

    def _commit(self, chat: Any, msg: BotMessage, at: float) -> Any:
        chat.store(msg)
        self.world.record_send(msg, msg.method, at)
        return self.world.message_dict(msg)

    @answers("sendMessage")
    async def send_message(self, p: Params) -> Any:
        w = self.world
        chat = w.writable_chat(p.raw("chat_id"))
        thread_id = chat.resolve_thread(p.int("message_thread_id"))
        parse_mode = p.str("parse_mode")
        text, entities = checks.check_message_text(p.str("text"), parse_mode, p.json("entities"))
        markup = parse_markup(p, chat)
        reply_id = self._reply_target(p, chat)
        preview = p.json("link_preview_options")
        disabled = bool(isinstance(preview, dict) and preview.get("is_disabled")) or p.bool(
            "disable_web_page_preview"
        )
        at = w.admit_send(chat.id)
        msg = self._new_message(
            chat,
            p,
            "sendMessage",
            thread_id=thread_id,
            text=text,
            html=p.str("text"),
            parse_mode=parse_mode,
            entities=entities,
            reply_markup=markup,
            reply_to_message_id=reply_id,
            link_preview_disabled=disabled,
            link_preview_options=preview if isinstance(preview, dict) else None,
        )
        return self._commit(chat, msg, at)

    async def _send_media(self, p: Params, kind: str) -> Any:
        w = self.world
        method = "sendDocument" if kind == "document" else "sendPhoto"
        chat = w.writable_chat(p.raw("chat_id"))
        thread_id = chat.resolve_thread(p.int("message_thread_id"))
        source = p.file(kind)
        if source is None:
            raise bad_request(f"there is no {kind} in the request")
        existing: FileInfo | None = None
        size: tuple[int, int] | None = None
        if isinstance(source, Upload):
            if not source.data:
                raise bad_request("file must be non-empty")
            if len(source.data) > (MAX_UPLOAD if kind == "document" else MAX_PHOTO):
                raise ApiError(413, "Request Entity Too Large")
            if kind == "photo":
                size = checks.image_size(source.data)
                if size is None:
                    raise bad_request("IMAGE_PROCESS_FAILED")
        else:
            existing = w.files.get(source)
            if existing is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            if existing.kind != kind:
                raise bad_request(
                    f"can't use file of type {existing.kind.title()} as {kind.title()}"
                )
        parse_mode = p.str("parse_mode")
        caption, entities = checks.check_caption(
            p.str("caption"), parse_mode, p.json("caption_entities")
        )
        markup = parse_markup(p, chat)
        reply_id = self._reply_target(p, chat)
        at = w.admit_send(chat.id)
        if existing is not None:
            info = existing
        elif kind == "document":
            assert isinstance(source, Upload)
            filename = source.filename or "document"
            guessed = mimetypes.guess_type(filename)[0]
            given = source.content_type
            mime = guessed or (given if given != "application/octet-stream" else None)
            info = w.add_file(
                "document",
                source.data,
                filename=filename,
                mime_type=mime or "application/octet-stream",
            )
        else:
            assert isinstance(source, Upload) and size is not None
            info = w.add_file("photo", source.data, width=size[0], height=size[1])
        msg = self._new_message(
            chat,
            p,
            method,
            thread_id=thread_id,
            text=caption or "",
            caption=caption,
            html=p.str("caption"),
            parse_mode=parse_mode,
            entities=entities,
            reply_markup=markup,
            reply_to_message_id=reply_id,
            **{kind: info},
        )
        return self._commit(chat, msg, at)

    @answers("sendDocument")
    async def send_document(self, p: Params) -> Any:
        return await self._send_media(p, "document")

    @answers("sendPhoto")
    async def send_photo(self, p: Params) -> Any:
        return await self._send_media(p, "photo")

    @answers("sendChatAction")
    async def send_chat_action(self, p: Params) -> Any:
        chat = self.world.writable_chat(p.raw("chat_id"))
        action = checks.check_chat_action(p.str("action"))
        thread_id = chat.resolve_thread(p.int("message_thread_id"))
        chat.actions.append(ChatAction(action, thread_id, self.world.monotonic()))
        self.world.changed.notify()
        return True

    @answers("getFile")
    async def get_file(self, p: Params) -> Any:
        info = self.world.files.get(p.str("file_id") or "")
        if info is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        if info.size > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return {
            "file_id": info.file_id,
            "file_unique_id": info.file_unique_id,
            "file_size": info.size,
            "file_path": info.file_path,
        }
