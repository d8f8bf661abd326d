"""Pieces every dialogue window shares."""

from __future__ import annotations

from typing import Any

from aiogram.types import Message
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Column, Select
from aiogram_dialog.widgets.text import Format

from bot import texts


async def _unexpected(message: Message, _widget: MessageInput, manager: DialogManager) -> None:
    await message.answer(texts.unexpected_text())
    manager.show_mode = ShowMode.SEND  # show the window again below the answer


def unexpected_input() -> MessageInput:
    """For windows that expect a button: a kind answer to anything typed or sent, then the window again."""
    return MessageInput(_unexpected)


def as_id(item_id: str) -> int:
    """A button's item id as a number (-1 for anything else: the core then finds nothing)."""
    return int(item_id) if item_id.isdigit() and len(item_id) < 19 else -1


def choices(widget_id: str, items: str, on_click: Any, label: str = "{item[0]}") -> Column:
    """One button per item, in a column: items are (label, id) pairs from the getter. The id a
    press brings back is never trusted: `on_click` asks the core."""
    return Column(
        Select(Format(label), id=widget_id, item_id_getter=lambda x: x[1], items=items, on_click=on_click)
    )
