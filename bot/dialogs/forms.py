"""Forms dialogue (being built)."""

from __future__ import annotations

from aiogram_dialog import Dialog, Window
from aiogram_dialog.widgets.kbd import Cancel
from aiogram_dialog.widgets.text import Const

from bot.dialogs.states import FormsSG


def forms_dialog() -> Dialog:
    return Dialog(Window(Const("Coming soon."), Cancel(Const("Back")), state=FormsSG.actions))
