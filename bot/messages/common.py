"""What the messages dialogue's windows share: the services, the chosen child, kind answers, and
the shape of a window that waits for a button."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.types import Message
from aiogram_dialog import DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.kbd import Start
from aiogram_dialog.widgets.text import Const, Format

from bot.dialogs.common import chat_id_of, services_of, unexpected_input
from bot.dialogs.states import MainMenuSG, MessagesSG

BOXES = {"inbox": MessagesSG.inbox, "sent": MessagesSG.sent}


def page_of(box: str) -> str:
    """The id of the widget that keeps a box's page (aiogram-dialog's StubScroll; the core pages)."""
    return f"{box}_page"


async def from_the_top(manager: DialogManager, box: str) -> None:
    """The box is shown from its first page next time."""
    await manager.find(page_of(box)).set_page(0)


def bot_of(manager: DialogManager) -> Bot:
    return manager.middleware_data["bot"]


def child_id_of(manager: DialogManager) -> int | None:
    value = manager.dialog_data.get("child_id")
    return value if isinstance(value, int) else None


def remember_child(manager: DialogManager, child_id: int, name: str) -> None:
    manager.dialog_data["child_id"] = child_id
    manager.dialog_data["child_name"] = [child_id, name]


async def child_name(manager: DialogManager) -> str | None:
    """The chosen child's name, if the chat may see the child (asked of the core once per child)."""
    child_id = child_id_of(manager)
    if child_id is None:
        return None
    known = manager.dialog_data.get("child_name")
    if isinstance(known, list) and len(known) == 2 and known[0] == child_id:
        return known[1]
    ov = await services_of(manager).dashboard.overview(chat_id_of(manager), child_id)
    if ov.dashboard is None:
        return None
    name = f"{ov.dashboard.child_forename} {ov.dashboard.child_surname}"
    remember_child(manager, child_id, name)
    return name


async def kind_answer(message: Message, manager: DialogManager, text: str) -> None:
    """A plain answer to input the step did not expect, then the step's question again below it."""
    await message.answer(text)
    manager.show_mode = ShowMode.SEND


def main_menu_button() -> Start:
    return Start(
        Const("⬅️ Main menu"), id="mainmenu", state=MainMenuSG.menu, mode=StartMode.RESET_STACK
    )


def button_window(*widgets: Any, state: Any, getter: Any, text: str = "{text}") -> Window:
    """A window that shows the getter's text and waits for a button (anything typed or sent is
    answered kindly, and the window shown again)."""
    return Window(Format(text), *widgets, unexpected_input(), state=state, getter=getter)
