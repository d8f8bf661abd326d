"""Pieces every dialogue window shares."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.api.internal import EVENT_SIMULATED, STACK_KEY
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Column, Select
from aiogram_dialog.widgets.text import Format

from bot import texts
from core.services import Services


async def _unexpected(message: Message, _widget: MessageInput, manager: DialogManager) -> None:
    from bot.questions.handlers import answer_question  # the room imports this module

    if await answer_question(message, manager):  # a question, typed where buttons are shown
        manager.show_mode = ShowMode.NO_UPDATE  # the answer and its buttons, below the window
        return
    await message.answer(texts.unexpected_text())
    manager.show_mode = ShowMode.SEND  # show the window again below the answer


def unexpected_input() -> MessageInput:
    """For windows that expect a button: a kind answer to anything typed or sent, then the window
    again; on the menu, help and the dashboard, a logged-in parent's text is a question."""
    return MessageInput(_unexpected)


def chat_id_of(manager: DialogManager) -> int:
    """The chat of the event, whatever the event (message, button, or an error being handled)."""
    return manager.middleware_data["event_chat"].id


def services_of(manager: DialogManager) -> Services:
    """The core's services (the one container, given to every handler by the dispatcher)."""
    return manager.middleware_data["services"]


def as_id(item_id: str) -> int:
    """A button's item id as a number (-1 for anything else: the core then finds nothing)."""
    return int(item_id) if item_id.isdigit() and len(item_id) < 19 else -1


def choices(widget_id: str, items: str, on_click: Any, label: str = "{item[0]}") -> Column:
    """One button per item, in a column: items are (label, id) pairs from the getter. The id a
    press brings back is never trusted: `on_click` asks the core."""
    return Column(
        Select(Format(label), id=widget_id, item_id_getter=lambda x: x[1], items=items, on_click=on_click)
    )


class RecentPresses:
    """The last button press each chat handled in this process, and when its handling ended (a
    bounded record). A press of the same button on the same message that reached the bot before
    that press's handling ended was made before the parent could see its result: the second tap
    of a double tap. The same button pressed again afterwards is a new press."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._last: OrderedDict[int, tuple[int, str, float]] = OrderedDict()

    def note(self, chat_id: int, message_id: int, data: str) -> None:
        """A press of this button was handled (call when its handling has ended)."""
        self._last[chat_id] = (message_id, data, time.monotonic())
        self._last.move_to_end(chat_id)
        while len(self._last) > self._size:
            self._last.popitem(last=False)

    def is_repeat(self, chat_id: int, message_id: int, data: str | None, received: float | None) -> bool:
        """Was this press (that reached the bot at `received`, monotonic) made before the last
        press of the same button had been handled?"""
        last = self._last.get(chat_id)
        if data is None or last is None or last[:2] != (message_id, data):
            return False
        return received is None or received <= last[2]


def presses_of(data: dict[str, Any]) -> RecentPresses:
    """The dispatcher's record of presses (see bot.factory), from a handler's or middleware's data."""
    return data["presses"]


class PressGuard(BaseMiddleware):
    """Every press a dialogue handles is noted (see `RecentPresses`); the second tap of a double
    tap on a window that has since moved is answered quietly and does nothing.

    When a window moves to a new message (a file or an answer was sent above it), the old
    message's buttons are taken away; but a second tap made before that still arrives, from the
    old message. Handled, it would do its work twice (a second file, a second Sent Items window
    on the old message). So a press from a message other than the one the dialogue's stack
    shows now, repeating a press of the same button made before that one was handled, does
    nothing. Any other press from an old copy is handled as before (a tap that crossed the
    bot's re-sending of the window is not lost).
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, CallbackQuery) or event.message is None or data.get(EVENT_SIMULATED):
            return await handler(event, data)
        presses = presses_of(data)
        chat_id, message_id = event.message.chat.id, event.message.message_id
        if _from_old_window(event, data) and presses.is_repeat(
            chat_id, message_id, event.data, data.get("update_received")
        ):
            await event.answer()
            return None
        try:
            return await handler(event, data)
        finally:
            presses.note(chat_id, message_id, event.data or "")


def _from_old_window(query: CallbackQuery, data: dict[str, Any]) -> bool:
    shown = getattr(data.get(STACK_KEY), "last_message_id", None)
    return shown is not None and query.message is not None and query.message.message_id != shown
