"""Plain records of what happened in the simulated world, for tests to inspect.

Everything here is a dataclass with no behaviour beyond convenience lookups. Bot messages are
updated *in place* when the bot edits or deletes them, so a reference a test holds always shows
the current version (``edited``/``deleted`` flags and ``versions`` keep the history).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "BotMessage",
    "Button",
    "CallbackAnswer",
    "ChatAction",
    "FileInfo",
    "Keyboard",
    "Limits",
    "SentRecord",
    "ServiceMessage",
    "Stats",
    "Topic",
    "UserMessage",
    "WebhookConfig",
]


@dataclass(frozen=True)
class Button:
    """One keyboard button as the bot sent it."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    web_app_url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def kind(self) -> str:
        """``callback``, ``url``, ``web_app`` or ``other`` (inline) / ``text`` (reply)."""
        if self.callback_data is not None:
            return "callback"
        if self.url is not None:
            return "url"
        if self.web_app_url is not None:
            return "web_app"
        return "text" if len(self.raw) <= 1 else "other"


KeyboardKind = Literal["inline", "reply", "remove", "force_reply"]


@dataclass(frozen=True)
class Keyboard:
    """A parsed ``reply_markup``: an inline or reply keyboard, a removal, or force-reply."""

    kind: KeyboardKind
    rows: tuple[tuple[Button, ...], ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def buttons(self) -> list[Button]:
        return [b for row in self.rows for b in row]

    def find(self, text: str) -> Button | None:
        """The button whose text is ``text``, else the first whose text contains it."""
        exact = [b for b in self.buttons if b.text == text]
        if exact:
            return exact[0]
        return next((b for b in self.buttons if text in b.text), None)

    def __iter__(self) -> Iterator[tuple[Button, ...]]:
        return iter(self.rows)


@dataclass
class FileInfo:
    """A file known to the stand-in: uploaded by a user or by the bot."""

    file_id: str
    file_unique_id: str
    kind: Literal["document", "photo"]
    data: bytes = field(repr=False)
    file_path: str
    filename: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    uploaded_by: int | None = None  # a user id, or None for the bot

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class BotMessage:
    """A message the bot sent (current version; edits are applied in place)."""

    message_id: int
    chat_id: int
    date: int
    method: str
    thread_id: int | None = None
    text: str = ""
    """The plain text (markup parsed away); for a document/photo, its caption or ``""``."""
    caption: str | None = None
    html: str | None = None
    """The text or caption exactly as the bot sent it (with its markup)."""
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: Keyboard | None = None
    document: FileInfo | None = None
    photo: FileInfo | None = None
    reply_to_message_id: int | None = None
    disable_notification: bool = False
    protect_content: bool = False
    link_preview_disabled: bool = False
    link_preview_options: dict[str, Any] | None = None
    edited: bool = False
    edit_date: int | None = None
    deleted: bool = False
    versions: list[str] = field(default_factory=list)
    """Earlier texts/captions, oldest first (one per edit that changed the text)."""

    @property
    def buttons(self) -> list[Button]:
        """All buttons of the message's keyboard, row by row (empty when none)."""
        return self.reply_markup.buttons if self.reply_markup else []

    def button(self, text: str) -> Button:
        """The button whose text is (or contains) ``text``; AssertionError if none."""
        found = self.reply_markup.find(text) if self.reply_markup else None
        if found is None:
            raise AssertionError(
                f"message {self.message_id} has no button {text!r}; "
                f"buttons: {[b.text for b in self.buttons]}"
            )
        return found

    def short(self) -> str:
        flags = "".join(
            f" [{name}]" for name, on in (("edited", self.edited), ("deleted", self.deleted)) if on
        )
        kind = "document " if self.document else "photo " if self.photo else ""
        return f"#{self.message_id} {kind}{self.text[:80]!r}{flags}"


@dataclass
class UserMessage:
    """A message a simulated user sent (to the bot's private chat or a group)."""

    message_id: int
    chat_id: int
    user_id: int
    date: int
    update_id: int
    text: str = ""
    caption: str | None = None
    thread_id: int | None = None
    document: FileInfo | None = None
    photo: FileInfo | None = None
    reply_to_message_id: int | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False


@dataclass
class ServiceMessage:
    """A service message (for example ``forum_topic_created``) kept for replies and topics."""

    message_id: int
    chat_id: int
    date: int
    from_id: int
    thread_id: int | None
    payload: dict[str, Any]
    deleted: bool = False


@dataclass
class CallbackAnswer:
    """A callback query a user produced, and the bot's answer once it comes."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    update_id: int
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int | None = None


@dataclass(frozen=True)
class SentRecord:
    """One accepted send or edit by the bot (``at`` is the stand-in's monotonic clock)."""

    chat_id: int
    method: str
    message: BotMessage
    at: float


@dataclass(frozen=True)
class ChatAction:
    action: str
    thread_id: int | None
    at: float


@dataclass
class Topic:
    thread_id: int
    name: str
    icon_color: int
    closed: bool = False


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    deliveries: int = 0
    failures: int = 0


@dataclass(frozen=True)
class Limits:
    """Flood limits (see ``BotAPIStandIn.set_limits``); ``None`` turns one off."""

    global_per_second: float | None = 30
    per_chat_per_second: float | None = 1
    slack: float = 0.05
    group_per_minute: int | None = None


@dataclass
class Stats:
    """Counters a test can assert on."""

    requests: Counter[str] = field(default_factory=Counter)
    """API calls by method name (as the bot spelled it)."""
    rate_limited: int = 0
    """429 answers given."""
    errors: list[tuple[str, int, str]] = field(default_factory=list)
    """Every error answer: (method, error_code, description)."""
    send_times: dict[int, list[float]] = field(default_factory=dict)
    """Accepted send/edit times per chat id (monotonic seconds)."""

    def min_gap(self, chat_id: int | None = None) -> float | None:
        """Smallest interval between two accepted sends to one chat (or to ``chat_id``)."""
        chats = [chat_id] if chat_id is not None else list(self.send_times)
        gaps = [
            b - a
            for cid in chats
            for a, b in zip(
                self.send_times.get(cid, []), self.send_times.get(cid, [])[1:], strict=False
            )
        ]
        return min(gaps) if gaps else None
