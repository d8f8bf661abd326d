"""Buttons under notices, as typed data (aiogram's CallbackData). One place for every kind, so a
notice's button and the handler of its press cannot drift apart.

Their packed forms ("dash:12", "doc:7:get", "msg:3:read", "form:5:open") are what parents already
have under the notices in their chats: they stay as they are. A button's data is never trusted:
the core checks the chat's access to whatever id it carries.
"""

from __future__ import annotations

from typing import TypeVar

from aiogram.filters.callback_data import CallbackData


class DashboardButton(CallbackData, prefix="dash"):
    """Open the SEND Dashboard for a child."""

    child_id: int


class RightsButton(CallbackData, prefix="rights"):
    """ "What can I do?" under a notice: a rights page (`topic`, a core/rights.py id; empty: the
    page for the child's stage) for a child."""

    child_id: int
    topic: str = ""


class DocumentButton(CallbackData, prefix="doc"):
    """Receive a published document (`action` "get")."""

    id: int
    action: str = "get"


class MessageButton(CallbackData, prefix="msg"):
    """Read or reply to a message from the SEND team (`action` "read" or "reply")."""

    id: int
    action: str


class FormButton(CallbackData, prefix="form"):
    """Open a form the SEND team asked for (`action` "open")."""

    id: int
    action: str = "open"


class AskButton(CallbackData, prefix="ask"):
    """Under an answer from the knowledge base: "Was this helpful?" (`action` "yes" or "no") and
    "Ask the SEND team" ("team"). `id` and `key` name the question's record (core/questions.py)."""

    id: int
    key: str
    action: str


class GoButton(CallbackData, prefix="go"):
    """Under an answer from the case: open a child's `place` ("sent", "inbox", "actions" or
    "documents"); the dialogue checks access again."""

    place: str
    child_id: int


MAX_ID = 2**63 - 1
T = TypeVar("T", bound=CallbackData)


def parse(kind: type[T], data: str | None) -> T | None:
    """The button's data as `kind`, or None when it is not one (forged, mangled, or from another
    version of the bot)."""
    try:
        return kind.unpack(data or "")
    except (TypeError, ValueError):
        return None


def usable_id(value: int) -> int | None:
    """An id from a button as the core takes it: positive and within a 64-bit column, else None."""
    return value if 0 < value <= MAX_ID else None


__all__ = ["AskButton", "DashboardButton", "DocumentButton", "FormButton", "GoButton", "MessageButton", "RightsButton", "parse", "usable_id"]
