"""A chat with the bot in it: its messages, as the bot and as the test see them, and the waits.

"Consumed" messages: :meth:`SimChat.next_message` and :meth:`SimChat.wait_for` hand out each
bot message once, in order, so a test can walk a conversation step by step.
"""

# The test-facing API takes `timeout=` seconds by design (as the brief specifies).
# ruff: noqa: ASYNC109

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..models import BotMessage, ChatAction, Keyboard, ServiceMessage, UserMessage

if TYPE_CHECKING:
    from ..world import Message, World

__all__ = ["DEFAULT_TIMEOUT", "MessageRef", "SimChat", "ref_id"]

DEFAULT_TIMEOUT = 5.0

MessageRef = BotMessage | UserMessage | ServiceMessage | int


def ref_id(ref: MessageRef | None) -> int | None:
    """The message id a reference names (a message or its id)."""
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
