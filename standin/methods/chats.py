"""Chats and forum topics: getChat, getChatMember, and create/edit/close/reopen/deleteForumTopic."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..actors import TOPIC_COLORS, SimGroup
from ..checks import bad_request
from .base import Methods, answers

if TYPE_CHECKING:
    from ..params import Params

__all__ = ["ChatMethods"]


class ChatMethods(Methods):
    """getChat, getChatMember and the forum topic methods."""

    @answers("getChat")
    async def get_chat(self, p: Params) -> Any:
        return self.world.resolve_chat(p.raw("chat_id")).full_chat_dict()

    @answers("getChatMember")
    async def get_chat_member(self, p: Params) -> Any:
        w = self.world
        chat = w.resolve_chat(p.raw("chat_id"))
        user_id = p.int("user_id", required=True)
        if isinstance(chat, SimGroup):
            return chat.member_dict(user_id or 0)
        if user_id == w.bot_id:
            return {"status": "member", "user": w.bot_user_dict()}
        if user_id != chat.id:
            raise bad_request("user not found")
        return {"status": "member", "user": w.user(user_id).user_dict()}

    def _forum(self, p: Params) -> SimGroup:
        chat = self.world.writable_chat(p.raw("chat_id"))
        if not isinstance(chat, SimGroup) or not chat.forum:
            raise bad_request("the chat is not a forum")
        return chat

    @answers("createForumTopic")
    async def create_forum_topic(self, p: Params) -> Any:
        chat = self._forum(p)
        name = p.str("name") or ""
        if not name.strip():
            raise bad_request("TOPIC_TITLE_EMPTY")
        if len(name) > 128:
            raise bad_request("TOPIC_TITLE_INVALID")
        color = p.int("icon_color") or TOPIC_COLORS[0]
        if color not in TOPIC_COLORS:
            raise bad_request("TOPIC_ICON_COLOR_INVALID")
        topic = chat.create_topic_message(name, color, self.world.bot_id)
        result: dict[str, Any] = {
            "message_thread_id": topic.thread_id,
            "name": topic.name,
            "icon_color": topic.icon_color,
        }
        if p.has("icon_custom_emoji_id"):
            result["icon_custom_emoji_id"] = p.str("icon_custom_emoji_id")
        return result

    @answers("editForumTopic")
    async def edit_forum_topic(self, p: Params) -> Any:
        topic = self._forum(p).topic(p.int("message_thread_id", required=True) or 0)
        name = p.str("name")
        if name is not None:
            if not name.strip() or len(name) > 128:
                raise bad_request("TOPIC_TITLE_INVALID")
            if name == topic.name:
                raise bad_request("TOPIC_NOT_MODIFIED")
            topic.name = name
        self.world.changed.notify()
        return True

    @answers("closeForumTopic")
    async def close_forum_topic(self, p: Params) -> Any:
        topic = self._forum(p).topic(p.int("message_thread_id", required=True) or 0)
        if topic.closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = True
        return True

    @answers("reopenForumTopic")
    async def reopen_forum_topic(self, p: Params) -> Any:
        topic = self._forum(p).topic(p.int("message_thread_id", required=True) or 0)
        if not topic.closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = False
        return True

    @answers("deleteForumTopic")
    async def delete_forum_topic(self, p: Params) -> Any:
        self._forum(p).remove_topic(p.int("message_thread_id", required=True) or 0)
        return True
