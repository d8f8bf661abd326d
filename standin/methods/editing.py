"""Changing what was sent: editMessageText, editMessageCaption, editMessageReplyMarkup,
deleteMessage(s), and answerCallbackQuery for the presses on the buttons.

As on Telegram, an edit without ``reply_markup`` removes the inline keyboard, an edit that
changes nothing is refused ("message is not modified"), and a message older than 48 hours can't
be deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import checks
from ..actors import SimGroup
from ..checks import ApiError, bad_request
from ..models import BotMessage, Keyboard, UserMessage
from ..world import DELETE_WINDOW
from .base import Methods, answers
from .sending import parse_markup

if TYPE_CHECKING:
    from ..params import Params

__all__ = ["EditingMethods"]

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


class EditingMethods(Methods):
    """editMessageText, editMessageCaption, editMessageReplyMarkup, deleteMessage(s),
    answerCallbackQuery."""

    def _editable(self, p: Params) -> tuple[Any, BotMessage]:
        if p.has("inline_message_id"):
            raise bad_request("message to edit not found")
        chat = self.world.writable_chat(p.raw("chat_id"))
        target = chat.get(p.int("message_id", required=True))
        if target is None or target.deleted or not isinstance(target, BotMessage | UserMessage):
            raise bad_request("message to edit not found")
        if isinstance(target, UserMessage):
            raise bad_request("message can't be edited")
        return chat, target

    @staticmethod
    def _inline(msg: BotMessage) -> Keyboard | None:
        markup = msg.reply_markup
        return markup if markup is not None and markup.kind == "inline" else None

    def _apply_edit(self, msg: BotMessage, markup: Keyboard | None) -> None:
        """Set the new inline keyboard (an edit without one removes it) and mark edited."""
        if markup is not None or self._inline(msg) is not None:
            msg.reply_markup = markup
        msg.edited = True
        msg.edit_date = self.world.now()

    def _admit_edit(
        self,
        p: Params,
        chat: Any,
        msg: BotMessage,
        change: tuple[str | None, str | None],
        entities: Any,
    ) -> tuple[Keyboard | None, float]:
        """Check an edit that makes the text (or caption) ``change`` = (old, new): refused when it
        changes nothing (text, entities, keyboard), else admitted by the flood limits, the old
        text kept in ``msg.versions`` if the text changes. Returns the new inline keyboard and
        the admission time."""
        markup = parse_markup(p, chat, inline_only=True)
        old, new = change
        if new == old and entities == msg.entities and markup == self._inline(msg):
            raise bad_request(NOT_MODIFIED)
        at = self.world.admit_send(chat.id)
        if new != old:
            msg.versions.append(msg.text)
        return markup, at

    def _edited(self, msg: BotMessage, markup: Keyboard | None, method: str, at: float) -> Any:
        """Finish an admitted edit: the keyboard, the edit mark, the send record, the result."""
        self._apply_edit(msg, markup)
        self.world.record_send(msg, method, at)
        return self.world.message_dict(msg)

    @answers("editMessageText")
    async def edit_message_text(self, p: Params) -> Any:
        chat, msg = self._editable(p)
        if msg.document is not None or msg.photo is not None:
            raise bad_request("there is no text in the message to edit")
        parse_mode = p.str("parse_mode")
        text, entities = checks.check_message_text(p.str("text"), parse_mode, p.json("entities"))
        markup, at = self._admit_edit(p, chat, msg, (msg.text, text), entities)
        msg.text, msg.html, msg.parse_mode, msg.entities = text, p.str("text"), parse_mode, entities
        preview = p.json("link_preview_options")
        if isinstance(preview, dict):
            msg.link_preview_options = preview
            msg.link_preview_disabled = bool(preview.get("is_disabled"))
        return self._edited(msg, markup, "editMessageText", at)

    @answers("editMessageCaption")
    async def edit_message_caption(self, p: Params) -> Any:
        chat, msg = self._editable(p)
        if msg.document is None and msg.photo is None:
            raise bad_request("there is no caption in the message to edit")
        parse_mode = p.str("parse_mode")
        caption, entities = checks.check_caption(
            p.str("caption"), parse_mode, p.json("caption_entities")
        )
        markup, at = self._admit_edit(p, chat, msg, (msg.caption, caption), entities)
        msg.caption, msg.text, msg.html = caption, caption or "", p.str("caption")
        msg.parse_mode, msg.entities = parse_mode, entities
        return self._edited(msg, markup, "editMessageCaption", at)

    @answers("editMessageReplyMarkup")
    async def edit_message_reply_markup(self, p: Params) -> Any:
        chat, msg = self._editable(p)
        markup = parse_markup(p, chat, inline_only=True)
        if markup == self._inline(msg):
            raise bad_request(NOT_MODIFIED)
        self._apply_edit(msg, markup)
        self.world.changed.notify()
        return self.world.message_dict(msg)

    def _delete(self, chat: Any, message_id: int) -> None:
        target = chat.get(message_id)
        if target is None or target.deleted:
            raise bad_request("message to delete not found")
        if self.world.now() - target.date > DELETE_WINDOW:
            raise bad_request("message can't be deleted")
        if isinstance(chat, SimGroup) and chat.bot_status != "administrator":
            raise bad_request("message can't be deleted")
        target.deleted = True
        self.world.changed.notify()

    @answers("deleteMessage")
    async def delete_message(self, p: Params) -> Any:
        chat = self.world.resolve_chat(p.raw("chat_id"))
        self._delete(chat, p.int("message_id", required=True) or 0)
        return True

    @answers("deleteMessages")
    async def delete_messages(self, p: Params) -> Any:
        chat = self.world.resolve_chat(p.raw("chat_id"))
        ids = p.json("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must be a non-empty list of at most 100 ids")
        for message_id in ids:
            try:
                self._delete(chat, int(message_id))
            except ApiError:
                continue  # Telegram skips messages it can't delete
        return True

    @answers("answerCallbackQuery")
    async def answer_callback_query(self, p: Params) -> Any:
        w = self.world
        record = w.callbacks.get(p.str("callback_query_id") or "")
        if record is None or record.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.str("text")
        if text and len(text) > checks.MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        record.text = text
        record.show_alert = p.bool("show_alert")
        record.url = p.str("url")
        record.cache_time = p.int("cache_time")
        w.changed.notify()
        return True
