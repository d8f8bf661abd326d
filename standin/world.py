"""The simulated Telegram world behind the stand-in: who exists, what was said, what is queued.

:class:`World` is the single source of truth shared by the HTTP side (``server.py``, which
answers the bot) and the test side (``actors.py``, the simulated users and groups). It holds no
sockets and does no I/O, so every rule here runs synchronously inside the event loop; whoever
changes state calls :meth:`World.changed.notify` so that waiters wake up (:class:`Signal`).
"""

# The test-facing API takes `timeout=` seconds by design (as the brief specifies).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from .checks import ApiError, bad_request, forbidden
from .models import (
    BotMessage,
    CallbackAnswer,
    FileInfo,
    Limits,
    SentRecord,
    ServiceMessage,
    Stats,
    UserMessage,
    WebhookConfig,
)

if TYPE_CHECKING:
    from .actors import SimChat, SimGroup, SimUser

__all__ = ["CommandScope", "PendingUpdate", "Signal", "World", "Message"]

Message = BotMessage | UserMessage | ServiceMessage

#: Update types Telegram leaves out unless ``allowed_updates`` names them.
NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

#: Bots may delete messages younger than this (seconds).
DELETE_WINDOW = 48 * 3600


class Signal:
    """Wake-up call for everything that waits on the world (event-driven, no polling).

    ``notify()`` is synchronous and cheap; ``wait_for(predicate, timeout)`` re-checks the
    predicate after every notification until it holds or the timeout passes.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Wait until ``predicate()`` is true; return ``False`` if ``timeout`` passes first."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not predicate():
            event = self._event
            if deadline is None:
                await event.wait()
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True


@dataclass(eq=False)
class PendingUpdate:
    """An update waiting to be fetched (getUpdates) or acknowledged (webhook)."""

    update_id: int
    kind: str
    payload: dict[str, Any]
    delivered: bool = False
    in_flight: bool = False


class CommandScope(NamedTuple):
    """Key of a command list stored by ``setMyCommands``."""

    scope: str = "default"
    chat_id: int | str | None = None
    user_id: int | None = None
    language_code: str = ""


class World:
    """All simulated state. Created and owned by :class:`standin.BotAPIStandIn`."""

    def __init__(
        self,
        *,
        token: str,
        bot_username: str,
        bot_name: str,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        head, sep, _ = token.partition(":")
        if not sep or not head.isdigit():
            raise ValueError(f"token must look like '<bot id>:<secret>', got {token!r}")
        self.token = token
        self.bot_id = int(head)
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.clock = clock
        self.monotonic = monotonic
        self.changed = Signal()

        self.chats: dict[int, SimChat] = {}
        self.users: dict[int, SimUser] = {}
        self._next_user_id = 700_000_001
        self._next_group_id = 1_000_000_001

        self.files: dict[str, FileInfo] = {}
        self.files_by_path: dict[str, FileInfo] = {}
        self._file_counter = 0

        self.updates: list[PendingUpdate] = []
        self._next_update_id = 400_000_001
        self.allowed_updates: list[str] | None = None
        self.webhook: WebhookConfig | None = None
        self.poll_generation = 0
        self.closing = False

        self.callbacks: dict[str, CallbackAnswer] = {}
        self.commands: dict[CommandScope, list[tuple[str, str]]] = {}
        self.settings: dict[str, Any] = {}

        self.limits: Limits | None = None
        self.stats = Stats()
        self.sent_log: list[SentRecord] = []
        self._global_sends: deque[float] = deque()
        self._last_send: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = defaultdict(deque)

    # ---------------------------------------------------------------- time and ids

    def now(self) -> int:
        """The world's wall-clock time as a Unix timestamp (the injectable ``clock``)."""
        return int(self.clock())

    def new_user_id(self) -> int:
        uid = self._next_user_id
        self._next_user_id += 1
        return uid

    def new_group_id(self) -> int:
        gid = -(1_000_000_000_000 + self._next_group_id)
        self._next_group_id += 1
        return gid

    # ---------------------------------------------------------------- JSON shapes

    def bot_user_dict(self, *, full: bool = False) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }
        if full:
            user.update(
                can_join_groups=True,
                can_read_all_group_messages=False,
                supports_inline_queries=False,
                can_connect_to_business=False,
                has_main_web_app=False,
            )
        return user

    def chat_dict(self, chat_id: int) -> dict[str, Any]:
        return self.chats[chat_id].chat_dict()

    def message_dict(self, msg: Message, *, with_reply: bool = True) -> dict[str, Any]:
        """A message as the Bot API serialises it (``Message`` object)."""
        chat = self.chats[msg.chat_id]
        data: dict[str, Any] = {"message_id": msg.message_id}
        if isinstance(msg, BotMessage):
            data["from"] = self.bot_user_dict()
        elif isinstance(msg, UserMessage):
            data["from"] = self.users[msg.user_id].user_dict()
        else:
            sender = self.users.get(msg.from_id)
            data["from"] = sender.user_dict() if sender else self.bot_user_dict()
        data["chat"] = chat.chat_dict()
        data["date"] = msg.date
        if chat.is_forum and msg.thread_id:
            data["message_thread_id"] = msg.thread_id
            data["is_topic_message"] = True
        if isinstance(msg, ServiceMessage):
            data.update(msg.payload)
            return data
        reply_id = msg.reply_to_message_id
        if reply_id is None and chat.is_forum and msg.thread_id:
            reply_id = msg.thread_id  # in a topic, messages answer the topic's first message
        if with_reply and reply_id is not None:
            target = chat.get(reply_id)
            if target is not None and not target.deleted:
                data["reply_to_message"] = self.message_dict(target, with_reply=False)
        if msg.document is not None or msg.photo is not None:
            if msg.document is not None:
                data["document"] = document_dict(msg.document)
            if msg.photo is not None:
                data["photo"] = [photo_size_dict(msg.photo)]
            if msg.caption:
                data["caption"] = msg.caption
            if msg.entities:
                data["caption_entities"] = msg.entities
        else:
            if msg.text:
                data["text"] = msg.text
            if msg.entities:
                data["entities"] = msg.entities
        if isinstance(msg, BotMessage):
            if msg.reply_markup is not None and msg.reply_markup.kind == "inline":
                data["reply_markup"] = msg.reply_markup.raw
            if msg.protect_content:
                data["has_protected_content"] = True
            if msg.edit_date is not None:
                data["edit_date"] = msg.edit_date
            if msg.link_preview_options:
                data["link_preview_options"] = msg.link_preview_options
        return data

    # ---------------------------------------------------------------- update queue

    def queue_update(self, kind: str, body: dict[str, Any]) -> int:
        """Queue an update ``{"update_id": N, kind: body}``; return its update_id."""
        update_id = self._next_update_id
        self._next_update_id += 1
        self.updates.append(PendingUpdate(update_id, kind, {"update_id": update_id, kind: body}))
        self.changed.notify()
        return update_id

    def inject_update(self, raw: dict[str, Any]) -> int:
        """Queue a raw update dict. A missing ``update_id`` gets the next one; an explicit
        (even already confirmed) one is kept, so a duplicate is delivered once more."""
        payload = dict(raw)
        if "update_id" not in payload:
            payload["update_id"] = self._next_update_id
            self._next_update_id += 1
        else:
            self._next_update_id = max(self._next_update_id, int(payload["update_id"]) + 1)
        kinds = [k for k in payload if k != "update_id"]
        if len(kinds) != 1:
            raise ValueError(f"an update has exactly one field besides update_id: {kinds}")
        self.updates.append(PendingUpdate(int(payload["update_id"]), kinds[0], payload))
        self.changed.notify()
        return int(payload["update_id"])

    def is_allowed(self, kind: str) -> bool:
        allowed = self.webhook.allowed_updates if self.webhook else self.allowed_updates
        if not allowed:
            return kind not in NOT_DELIVERED_BY_DEFAULT
        return kind in allowed

    def drop_unwanted(self) -> None:
        """Forget queued updates of types the bot did not ask for (Telegram drops them)."""
        kept = [u for u in self.updates if self.is_allowed(u.kind)]
        if len(kept) != len(self.updates):
            self.updates = kept
            self.changed.notify()

    def confirm(self, offset: int | None) -> None:
        """Apply getUpdates' ``offset``: forget delivered updates with a smaller id.

        A negative offset keeps only the last ``-offset`` updates, as in the Bot API.
        """
        if not offset:
            return
        before = len(self.updates)
        if offset < 0:
            self.updates = self.updates[offset:]
        else:
            self.updates = [u for u in self.updates if not (u.delivered and u.update_id < offset)]
        if len(self.updates) != before:
            self.changed.notify()

    def deliverable(self) -> bool:
        return any(self.is_allowed(u.kind) for u in self.updates)

    def take_updates(self, limit: int) -> list[dict[str, Any]]:
        self.drop_unwanted()
        batch = self.updates[:limit]
        for update in batch:
            update.delivered = True
        return [u.payload for u in batch]

    def drop_pending(self) -> None:
        self.updates.clear()
        self.changed.notify()

    # ---------------------------------------------------------------- chats as the bot sees them

    def resolve_chat(self, chat_id: Any) -> SimChat:
        """The chat a ``chat_id`` parameter names (numeric id or ``@username``)."""
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            name = chat_id[1:].lower()
            for chat in self.chats.values():
                if chat.type != "private" and (chat.username or "").lower() == name:
                    return chat
            raise bad_request("chat not found")
        try:
            cid = int(chat_id)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        chat = self.chats.get(cid)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def writable_chat(self, chat_id: Any) -> SimChat:
        """The chat the bot wants to write to, refusing what Telegram refuses (403s)."""
        chat = self.resolve_chat(chat_id)
        chat.check_bot_can_write()
        return chat

    def user(self, user_id: Any) -> SimUser:
        try:
            return self.users[int(user_id)]
        except (KeyError, TypeError, ValueError):
            raise bad_request("user not found") from None

    def group(self, chat_id: int) -> SimGroup:
        from .actors import SimGroup

        chat = self.chats[chat_id]
        assert isinstance(chat, SimGroup)
        return chat

    # ---------------------------------------------------------------- files

    def add_file(
        self,
        kind: str,
        data: bytes,
        *,
        filename: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
        uploaded_by: int | None = None,
    ) -> FileInfo:
        self._file_counter += 1
        prefix = "BQACAgQAAxkBAAI" if kind == "document" else "AgACAgQAAxkBAAI"
        ext = ""
        if kind == "photo":
            ext = ".jpg"
        elif filename and "." in filename:
            ext = "." + filename.rsplit(".", 1)[1].lower()
        folder = "documents" if kind == "document" else "photos"
        info = FileInfo(
            file_id=f"{prefix}{self._file_counter:04d}{secrets.token_urlsafe(24)}",
            file_unique_id=f"AgAD{self._file_counter:04d}{secrets.token_urlsafe(6)}",
            kind=kind,  # type: ignore[arg-type]
            data=data,
            file_path=f"{folder}/file_{self._file_counter}{ext}",
            filename=filename,
            mime_type=mime_type,
            width=width,
            height=height,
            uploaded_by=uploaded_by,
        )
        self.files[info.file_id] = info
        self.files_by_path[info.file_path] = info
        return info

    # ---------------------------------------------------------------- flood control

    def admit_send(self, chat_id: int) -> float:
        """Check the flood limits for one more send to ``chat_id``; raise 429 if over.

        Returns the monotonic time to record with :meth:`record_send` once accepted.
        """
        now = self.monotonic()
        limits = self.limits
        while self._global_sends and now - self._global_sends[0] >= 1.0:
            self._global_sends.popleft()
        if limits is None:
            return now
        wait = 0.0
        if limits.global_per_second and len(self._global_sends) >= limits.global_per_second:
            wait = max(wait, 1.0 - (now - self._global_sends[0]))
        last = self._last_send.get(chat_id)
        if limits.per_chat_per_second and last is not None:
            gap = 1.0 / limits.per_chat_per_second - limits.slack
            if now - last < gap:
                wait = max(wait, gap - (now - last))
        if limits.group_per_minute and chat_id < 0:
            window = self._group_sends[chat_id]
            while window and now - window[0] >= 60.0:
                window.popleft()
            if len(window) >= limits.group_per_minute:
                wait = max(wait, 60.0 - (now - window[0]))
        if wait > 0:
            self.stats.rate_limited += 1
            retry_after = max(1, math.ceil(wait))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
        return now

    def record_send(self, msg: BotMessage, method: str, at: float) -> None:
        self._global_sends.append(at)
        self._last_send[msg.chat_id] = at
        if msg.chat_id < 0:
            self._group_sends[msg.chat_id].append(at)
        self.stats.send_times.setdefault(msg.chat_id, []).append(at)
        self.sent_log.append(SentRecord(msg.chat_id, method, msg, at))
        self.changed.notify()


def document_dict(info: FileInfo) -> dict[str, Any]:
    data: dict[str, Any] = {"file_id": info.file_id, "file_unique_id": info.file_unique_id}
    if info.filename:
        data["file_name"] = info.filename
    if info.mime_type:
        data["mime_type"] = info.mime_type
    data["file_size"] = info.size
    return data


def photo_size_dict(info: FileInfo) -> dict[str, Any]:
    return {
        "file_id": info.file_id,
        "file_unique_id": info.file_unique_id,
        "width": info.width or 1,
        "height": info.height or 1,
        "file_size": info.size,
    }


def check_not_blocked(user: SimUser) -> None:
    if user.deactivated:
        raise forbidden("user is deactivated")
    if user.blocked:
        raise forbidden("bot was blocked by the user")
    if not user.started:
        raise forbidden("bot can't initiate conversation with a user")
