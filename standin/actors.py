"""The test-facing side of the world: chats, simulated users and groups.

A :class:`SimUser` is both a person and their private chat with the bot (``chat id == user
id``); a :class:`SimGroup` is a supergroup, optionally a forum with topics. Both keep the bot's
messages (current versions) and let a test wait for them without sleeping: every wait is a
:class:`~standin.world.Signal` wait that re-checks its condition whenever the world changes.

"Consumed" messages: :meth:`SimChat.next_message` and :meth:`SimChat.wait_for` hand out each
bot message once, in order, so a test can walk a conversation step by step.
"""

# The test-facing API takes `timeout=` seconds by design (as the brief specifies).
# ruff: noqa: ASYNC109

from __future__ import annotations

import mimetypes
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .checks import bad_request, forbidden, image_size
from .formatting import detect_entities
from .models import (
    BotMessage,
    CallbackAnswer,
    ChatAction,
    FileInfo,
    Keyboard,
    ServiceMessage,
    Topic,
    UserMessage,
)
from .world import check_not_blocked

if TYPE_CHECKING:
    from .world import Message, World

__all__ = ["SimChat", "SimGroup", "SimUser"]

DEFAULT_TIMEOUT = 5.0
TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)

MessageRef = BotMessage | UserMessage | ServiceMessage | int


def _ref_id(ref: MessageRef | None) -> int | None:
    if ref is None or isinstance(ref, int):
        return ref
    return ref.message_id


class SimChat:
    """A chat with the bot in it: its messages and the waits tests use."""

    type: str = "private"

    def __init__(self, world: World, chat_id: int) -> None:
        self._world = world
        self.id = chat_id
        self._items: dict[int, Message] = {}
        self._next_message_id = 1
        self._consumed: set[int] = set()
        self.actions: list[ChatAction] = []
        """``sendChatAction`` calls in this chat, oldest first."""
        self.keyboard: Keyboard | None = None
        """The reply keyboard the user currently sees (``None`` when removed or never sent)."""
        self.chat_instance = str(abs(chat_id) * 7919 % 10**18 + 10**17)

    # ------------------------------------------------------------ what the bot sees

    username: str | None = None

    @property
    def is_forum(self) -> bool:
        return False

    def chat_dict(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def full_chat_dict(self) -> dict[str, Any]:
        """``ChatFullInfo`` for getChat."""
        return {
            **self.chat_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def check_bot_can_write(self) -> None:
        """Raise the 403 Telegram gives when the bot may not post here."""

    def resolve_thread(self, thread_id: int | None) -> int | None:
        """The topic a ``message_thread_id`` names (ignored outside forums)."""
        return None

    def get(self, message_id: int) -> Message | None:
        return self._items.get(message_id)

    def new_message_id(self) -> int:
        mid = self._next_message_id
        self._next_message_id += 1
        return mid

    def store(self, msg: Message) -> None:
        self._items[msg.message_id] = msg
        if isinstance(msg, BotMessage) and msg.reply_markup is not None:
            if msg.reply_markup.kind == "reply":
                self.keyboard = msg.reply_markup
            elif msg.reply_markup.kind == "remove":
                self.keyboard = None
        self._world.changed.notify()

    # ------------------------------------------------------------ what the test sees

    @property
    def messages(self) -> list[BotMessage]:
        """The bot's messages here, oldest first, current versions (deleted ones flagged)."""
        return [m for m in self._items.values() if isinstance(m, BotMessage)]

    @property
    def user_messages(self) -> list[UserMessage]:
        """Messages simulated users sent here, oldest first."""
        return [m for m in self._items.values() if isinstance(m, UserMessage)]

    @property
    def last(self) -> BotMessage | None:
        """The bot's latest message here (``None`` if it has not written)."""
        msgs = self.messages
        return msgs[-1] if msgs else None

    def message(self, message_id: int) -> Message:
        msg = self._items.get(message_id)
        if msg is None:
            raise AssertionError(f"no message {message_id} in chat {self.id}")
        return msg

    def mark_read(self) -> None:
        """Consume every bot message so far (the next ``next_message`` waits for a new one)."""
        self._consumed.update(m.message_id for m in self.messages)

    def transcript(self) -> str:
        """Everything in the chat, one line per message, for assertion messages."""
        lines = []
        for m in self._items.values():
            thread = f" (thread {m.thread_id})" if m.thread_id else ""
            if isinstance(m, BotMessage):
                seen = " [consumed]" if m.message_id in self._consumed else ""
                lines.append(f"  bot  {m.short()}{thread}{seen}")
            elif isinstance(m, UserMessage):
                who = self._world.users[m.user_id].first_name
                body = m.text or m.caption or ("<document>" if m.document else "<photo>")
                lines.append(f"  {who}: #{m.message_id} {body[:80]!r}{thread}")
            else:
                lines.append(f"  service #{m.message_id} {sorted(m.payload)}{thread}")
        return "\n".join(lines) or "  (nothing)"

    def _unconsumed(self, thread_id: int | None) -> list[BotMessage]:
        return [
            m
            for m in self.messages
            if m.message_id not in self._consumed
            and (thread_id is None or m.thread_id == thread_id)
        ]

    async def next_message(
        self, timeout: float = DEFAULT_TIMEOUT, *, thread_id: int | None = None
    ) -> BotMessage:
        """The next bot message not yet consumed (waiting for it); marks it consumed."""
        return await self.wait_for(lambda m: True, timeout, thread_id=thread_id)

    async def wait_for(
        self,
        predicate: Callable[[BotMessage], bool],
        timeout: float = DEFAULT_TIMEOUT,
        *,
        thread_id: int | None = None,
        include_consumed: bool = False,
    ) -> BotMessage:
        """The first unconsumed bot message (current version) matching ``predicate``.

        Waits until one exists, marks it consumed and returns it. ``include_consumed`` also
        looks at messages already handed out (for example to wait for an edit).
        """
        found: list[BotMessage] = []

        def ready() -> bool:
            pool = self.messages if include_consumed else self._unconsumed(None)
            for m in pool:
                if (thread_id is None or m.thread_id == thread_id) and predicate(m):
                    found.append(m)
                    return True
            return False

        if not await self._world.changed.wait_for(ready, timeout):
            where = f" thread {thread_id}" if thread_id is not None else ""
            raise AssertionError(
                f"no matching bot message in chat {self.id}{where} within {timeout}s; "
                f"the chat holds:\n{self.transcript()}"
            )
        self._consumed.add(found[0].message_id)
        return found[0]

    async def wait_until(
        self, condition: Callable[[], bool], timeout: float = DEFAULT_TIMEOUT, what: str = ""
    ) -> None:
        """Wait until ``condition()`` holds (re-checked on every change in the world)."""
        if not await self._world.changed.wait_for(condition, timeout):
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what or 'condition'} in chat {self.id}; "
                f"the chat holds:\n{self.transcript()}"
            )

    async def ensure_no_message(self, within: float = 0.3, *, thread_id: int | None = None) -> None:
        """Assert the bot sends nothing new here for ``within`` seconds."""
        if await self._world.changed.wait_for(lambda: bool(self._unconsumed(thread_id)), within):
            raise AssertionError(
                f"unexpected bot message in chat {self.id}: {self._unconsumed(thread_id)[0].short()}"
            )


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
        reply_id = _ref_id(reply_to)
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


class SimGroup(SimChat):
    """A supergroup with the bot as administrator; with ``forum=True`` it has topics."""

    type = "supergroup"

    def __init__(
        self,
        world: World,
        chat_id: int,
        *,
        title: str,
        forum: bool = False,
        username: str | None = None,
    ) -> None:
        super().__init__(world, chat_id)
        self.title = title
        self.forum = forum
        self.username = username
        self.members: dict[int, str] = {}
        """Member statuses by user id: creator, administrator, member, left or kicked."""
        self.bot_status = "administrator"
        self._topics: dict[int, Topic] = {}
        # Message 1 of a supergroup is its creation; thread id 1 is the forum's General topic.
        self._next_message_id = 2

    def __repr__(self) -> str:
        return f"<SimGroup {self.title!r} id={self.id}>"

    # ------------------------------------------------------------ what the bot sees

    @property
    def is_forum(self) -> bool:
        return self.forum

    def chat_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": "supergroup", "title": self.title}
        if self.username:
            data["username"] = self.username
        if self.forum:
            data["is_forum"] = True
        return data

    def check_bot_can_write(self) -> None:
        if self.bot_status == "kicked":
            raise forbidden("bot was kicked from the supergroup chat")
        if self.bot_status != "administrator":
            raise forbidden("bot is not a member of the supergroup chat")

    def resolve_thread(self, thread_id: int | None) -> int | None:
        if not self.forum or not thread_id or thread_id == 1:
            return None
        if thread_id not in self._topics:
            raise bad_request("message thread not found")
        return thread_id

    def is_member(self, user: SimUser) -> bool:
        return self.members.get(user.id) in ("creator", "administrator", "member")

    def member_dict(self, user_id: int) -> dict[str, Any]:
        """``ChatMember`` for getChatMember."""
        world = self._world
        if user_id == world.bot_id:
            if self.bot_status == "administrator":
                return admin_member_dict(world.bot_user_dict(), bot=True)
            return {
                "status": self.bot_status,
                "user": world.bot_user_dict(),
                **({"until_date": 0} if self.bot_status == "kicked" else {}),
            }
        user = world.user(user_id).user_dict()
        status = self.members.get(user_id, "left")
        if status == "creator":
            return {"status": "creator", "user": user, "is_anonymous": False}
        if status == "administrator":
            return admin_member_dict(user, bot=False)
        if status == "kicked":
            return {"status": "kicked", "user": user, "until_date": 0}
        return {"status": status, "user": user}

    def create_topic_message(self, name: str, icon_color: int, creator_id: int) -> Topic:
        """Record a new topic and its ``forum_topic_created`` service message."""
        mid = self.new_message_id()
        topic = Topic(thread_id=mid, name=name, icon_color=icon_color)
        self._topics[mid] = topic
        self.store(
            ServiceMessage(
                message_id=mid,
                chat_id=self.id,
                date=self._world.now(),
                from_id=creator_id,
                thread_id=mid,
                payload={"forum_topic_created": {"name": name, "icon_color": icon_color}},
            )
        )
        return topic

    def topic(self, thread_id: int) -> Topic:
        try:
            return self._topics[thread_id]
        except KeyError:
            raise bad_request("message thread not found") from None

    def remove_topic(self, thread_id: int) -> None:
        self.topic(thread_id)
        del self._topics[thread_id]
        for m in self._items.values():
            if m.thread_id == thread_id:
                m.deleted = True
        self._world.changed.notify()

    def topic_ids(self) -> set[int]:
        return set(self._topics)

    # ------------------------------------------------------------ what the test sees and does

    @property
    def topics(self) -> dict[str, int]:
        """Topic name → ``message_thread_id`` (later topics win on equal names)."""
        return {t.name: t.thread_id for t in self._topics.values()}

    async def add_member(self, user: SimUser, status: str = "member") -> None:
        """Put ``user`` in the group (``creator``, ``administrator`` or ``member``)."""
        if status not in ("creator", "administrator", "member"):
            raise ValueError(status)
        self.members[user.id] = status
        self._world.changed.notify()

    async def remove_member(self, user: SimUser, *, ban: bool = False) -> None:
        self.members[user.id] = "kicked" if ban else "left"
        self._world.changed.notify()

    async def create_topic(self, name: str, *, by: SimUser | None = None) -> int:
        """A topic a person opens (the bot is not told); returns its thread id."""
        if not self.forum:
            raise AssertionError(f"{self!r} is not a forum")
        creator = by.id if by else next(iter(self.members), self._world.bot_id)
        return self.create_topic_message(name, TOPIC_COLORS[0], creator).thread_id

    async def kick_bot(self, *, by: SimUser | None = None) -> None:
        """Remove the bot from the group: ``my_chat_member`` (administrator → kicked)."""
        world = self._world
        old = self.member_dict(world.bot_id)
        self.bot_status = "kicked"
        actor = by or next(
            (world.users[uid] for uid, s in self.members.items() if s == "creator"), None
        )
        world.queue_update(
            "my_chat_member",
            {
                "chat": self.chat_dict(),
                "from": actor.user_dict() if actor else world.bot_user_dict(),
                "date": world.now(),
                "old_chat_member": old,
                "new_chat_member": self.member_dict(world.bot_id),
            },
        )


def admin_member_dict(user: dict[str, Any], *, bot: bool) -> dict[str, Any]:
    rights = dict.fromkeys(
        (
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_pin_messages",
            "can_manage_topics",
            "can_send_welcome_messages",
        ),
        True,
    )
    return {
        "status": "administrator",
        "user": user,
        "can_be_edited": False,
        "is_anonymous": False,
        "can_promote_members": not bot,
        **rights,
    }
