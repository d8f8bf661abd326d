"""A simulated Telegram user and their private chat with the bot: what a person does.

Sending texts, documents and photos (to the bot or into a group), tapping reply-keyboard and
inline buttons, blocking and unblocking the bot. Each act is queued as the update Telegram would
send; a button press waits for the bot's answerCallbackQuery.
"""

# The test-facing API takes `timeout=` seconds by design (as the brief specifies).
# ruff: noqa: ASYNC109

from __future__ import annotations

import mimetypes
import secrets
from typing import TYPE_CHECKING, Any

from ..checks import image_size
from ..formatting import detect_entities
from ..models import BotMessage, CallbackAnswer, FileInfo, UserMessage
from ..world import check_not_blocked
from .chat import DEFAULT_TIMEOUT, MessageRef, SimChat, ref_id
from .group import SimGroup

if TYPE_CHECKING:
    from ..world import World

__all__ = ["SimUser"]


class SimUser(SimChat):
    """A simulated Telegram user and their private chat with the bot."""

    type = "private"

    def __init__(
        self,
        world: World,
        user_id: int,
        *,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        started: bool = True,
    ) -> None:
        super().__init__(world, user_id)
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.started = started
        """Whether the user has ever opened the chat (the bot can't write first)."""
        self.blocked = False
        self.deactivated = False

    def user_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def chat_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data

    def check_bot_can_write(self) -> None:
        check_not_blocked(self)

    def __repr__(self) -> str:
        return f"<SimUser {self.first_name} id={self.id}>"

    # ------------------------------------------------------------ acting

    async def send(self, text: str, *, reply_to: MessageRef | None = None) -> UserMessage:
        """Send a text message to the bot (commands get ``bot_command`` entities)."""
        return self._post(self, text=text, reply_to=reply_to)

    async def choose(self, text: str) -> UserMessage:
        """Tap a button of the reply keyboard the bot showed (sends its text)."""
        if self.keyboard is None or self.keyboard.find(text) is None:
            shown = [b.text for b in self.keyboard.buttons] if self.keyboard else []
            raise AssertionError(f"no reply keyboard button {text!r}; keyboard: {shown}")
        button = self.keyboard.find(text)
        assert button is not None
        if self.keyboard.raw.get("one_time_keyboard"):
            self.keyboard = None
        return self._post(self, text=button.text)

    async def send_in(
        self,
        group: SimGroup,
        text: str,
        *,
        thread_id: int | None = None,
        reply_to: MessageRef | None = None,
    ) -> UserMessage:
        """Send a text message in a group (optionally in a forum topic, replying to a message)."""
        return self._post(group, text=text, thread_id=thread_id, reply_to=reply_to)

    async def send_document(
        self,
        data: bytes,
        *,
        filename: str = "document.pdf",
        mime_type: str | None = None,
        caption: str | None = None,
        chat: SimGroup | None = None,
        thread_id: int | None = None,
        reply_to: MessageRef | None = None,
    ) -> UserMessage:
        """Upload a document to the bot (or into ``chat``); the bot can getFile/download it."""
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        info = self._world.add_file(
            "document", data, filename=filename, mime_type=mime, uploaded_by=self.id
        )
        return self._post(
            chat or self, document=info, caption=caption, thread_id=thread_id, reply_to=reply_to
        )

    async def send_photo(
        self,
        data: bytes,
        *,
        caption: str | None = None,
        chat: SimGroup | None = None,
        thread_id: int | None = None,
        reply_to: MessageRef | None = None,
    ) -> UserMessage:
        """Send a photo (PNG/JPEG/GIF/WebP bytes) to the bot or into ``chat``."""
        size = image_size(data)
        if size is None:
            raise AssertionError("send_photo needs PNG, JPEG, GIF or WebP bytes")
        info = self._world.add_file(
            "photo", data, width=size[0], height=size[1], uploaded_by=self.id
        )
        return self._post(
            chat or self, photo=info, caption=caption, thread_id=thread_id, reply_to=reply_to
        )

    async def press(
        self,
        msg: BotMessage,
        text: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        wait: bool = True,
    ) -> CallbackAnswer:
        """Press the inline button whose text is (or contains) ``text`` on the message's
        *current* version. Waits for the bot's answerCallbackQuery unless ``wait=False``."""
        current = self._current_bot_message(msg)
        keyboard = current.reply_markup
        if keyboard is None or keyboard.kind != "inline":
            raise AssertionError(f"message {current.short()} has no inline keyboard")
        button = keyboard.find(text)
        if button is None:
            raise AssertionError(
                f"no button {text!r} on {current.short()}; buttons: "
                f"{[b.text for b in keyboard.buttons]}"
            )
        if button.callback_data is None:
            raise AssertionError(
                f"button {button.text!r} is a {button.kind} button "
                f"({button.url or button.web_app_url}), not a callback button"
            )
        return await self._callback(current, button.callback_data, timeout, wait)

    async def press_data(
        self,
        msg: BotMessage,
        data: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        wait: bool = True,
    ) -> CallbackAnswer:
        """Send a callback query with arbitrary ``data`` from ``msg`` (a forged button)."""
        return await self._callback(self._current_bot_message(msg), data, timeout, wait)

    async def block(self) -> None:
        """Block the bot: the bot gets ``my_chat_member`` (member → kicked); sends get 403."""
        if self.blocked:
            return
        self.blocked = True
        self._queue_my_chat_member("member", "kicked")

    async def unblock(self) -> None:
        """Unblock (restart) the bot: ``my_chat_member`` (kicked → member)."""
        if not self.blocked:
            return
        self.blocked = False
        self.started = True
        self._queue_my_chat_member("kicked", "member")

    # ------------------------------------------------------------ internals

    def _queue_my_chat_member(self, old: str, new: str) -> None:
        bot = self._world.bot_user_dict()

        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"status": status, "user": bot}
            if status == "kicked":
                data["until_date"] = 0
            return data

        self._world.queue_update(
            "my_chat_member",
            {
                "chat": self.chat_dict(),
                "from": self.user_dict(),
                "date": self._world.now(),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def _current_bot_message(self, msg: BotMessage) -> BotMessage:
        chat = self._world.chats[msg.chat_id]
        current = chat.get(msg.message_id)
        if not isinstance(current, BotMessage):
            raise AssertionError(f"message {msg.message_id} is not a bot message in {chat.id}")
        if current.deleted:
            raise AssertionError(f"message {current.short()} was deleted")
        if isinstance(chat, SimGroup) and not chat.is_member(self):
            raise AssertionError(f"{self!r} is not a member of {chat!r}")
        if isinstance(chat, SimUser) and chat is not self:
            raise AssertionError(f"{self!r} can't see {chat!r}'s private chat")
        return current

    async def _callback(
        self, msg: BotMessage, data: str, timeout: float, wait: bool
    ) -> CallbackAnswer:
        world = self._world
        chat = world.chats[msg.chat_id]
        query_id = str(secrets.randbits(62) + 10**17)
        answer = CallbackAnswer(
            id=query_id,
            user_id=self.id,
            chat_id=chat.id,
            message_id=msg.message_id,
            data=data,
            update_id=0,
        )
        world.callbacks[query_id] = answer
        answer.update_id = world.queue_update(
            "callback_query",
            {
                "id": query_id,
                "from": self.user_dict(),
                "message": world.message_dict(msg),
                "chat_instance": chat.chat_instance,
                "data": data,
            },
        )
        if wait and not await world.changed.wait_for(lambda: answer.answered, timeout):
            raise AssertionError(
                f"the bot did not answer the callback query {data!r} (update "
                f"{answer.update_id}) within {timeout}s"
            )
        return answer

    def _post(
        self,
        chat: SimChat,
        *,
        text: str | None = None,
        caption: str | None = None,
        document: FileInfo | None = None,
        photo: FileInfo | None = None,
        thread_id: int | None = None,
        reply_to: MessageRef | None = None,
    ) -> UserMessage:
        world = self._world
        if chat is self:
            if self.blocked:  # a user must unblock the bot before writing to it
                self.blocked = False
                self._queue_my_chat_member("kicked", "member")
            self.started = True
            thread_id = None
        elif isinstance(chat, SimGroup):
            if not chat.is_member(self):
                raise AssertionError(f"{self!r} is not a member of {chat!r}; add_member() first")
            if thread_id is not None and thread_id not in chat.topic_ids():
                raise AssertionError(
                    f"no topic with thread id {thread_id} in {chat!r}; topics: {chat.topics}"
                )
        else:
            raise AssertionError(f"{self!r} can't write in {chat!r}")
        reply_id = ref_id(reply_to)
        if reply_id is not None and chat.get(reply_id) is None:
            raise AssertionError(f"no message {reply_id} to reply to in chat {chat.id}")
        msg = UserMessage(
            message_id=chat.new_message_id(),
            chat_id=chat.id,
            user_id=self.id,
            date=world.now(),
            update_id=0,
            text=text or "",
            caption=caption,
            thread_id=thread_id,
            document=document,
            photo=photo,
            reply_to_message_id=reply_id,
            entities=detect_entities(text or caption or ""),
        )
        chat.store(msg)
        if isinstance(chat, SimGroup) and chat.bot_status != "administrator":
            return msg  # the bot is not there to see it
        msg.update_id = world.queue_update("message", world.message_dict(msg))
        return msg
