"""Pieces every dialogue window shares."""

from __future__ import annotations

from aiogram.types import Message
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.widgets.input import MessageInput

from bot import texts


async def _unexpected(message: Message, _widget: MessageInput, manager: DialogManager) -> None:
    await message.answer(texts.unexpected_text())
    manager.show_mode = ShowMode.SEND  # show the window again below the answer


def unexpected_input() -> MessageInput:
    """For windows that expect a button: a kind answer to anything typed or sent, then the window again."""
    return MessageInput(_unexpected)
