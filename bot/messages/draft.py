"""The draft of a New Message or Reply, kept in the dialogue state (so in the database: a restart
keeps it): its type, subject, text so far, the files the core has already stored, what it
answers, the note to show, and the key that makes Send idempotent."""

from __future__ import annotations

import secrets
from typing import Any

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Button

from bot.dialogs.states import MessagesSG
from bot.messages import texts
from bot.messages.common import kind_answer
from core.messages.service import MAX_SUBJECT, TYPE_NAMES, MessageType


def type_name(value: str | None) -> str:
    try:
        return TYPE_NAMES[MessageType(value)]
    except ValueError:
        return ""


def reply_subject(subject: str) -> str:
    subject = subject.strip()
    return (subject if subject.lower().startswith("re:") else f"Re: {subject}")[:MAX_SUBJECT]


def new_draft(**values: Any) -> dict[str, Any]:
    draft = {"type": None, "subject": None, "body": "", "files": [], "reply_to": None, "note": None,
             "key": secrets.token_urlsafe(16)}  # Send is idempotent by this key
    draft.update(values)
    return draft


def draft_of(manager: DialogManager) -> dict[str, Any] | None:
    draft = manager.dialog_data.get("draft")
    return draft if isinstance(draft, dict) else None


async def no_draft(message: Message, manager: DialogManager) -> bool:
    """Typed or sent with no draft (it was sent or cancelled meanwhile): said, and the menu."""
    if draft_of(manager) is not None:
        return False
    await kind_answer(message, manager, texts.nothing_to_send())
    await manager.switch_to(MessagesSG.menu)
    return True


async def start_draft(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    manager.dialog_data["draft"] = new_draft()


async def clear_note(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    draft = draft_of(manager)
    if draft is not None:
        draft["note"] = None
