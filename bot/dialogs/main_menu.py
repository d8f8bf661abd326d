"""The main menu: where every journey starts, and where a stale button sends you back to."""

from __future__ import annotations

from aiogram_dialog import Dialog, Window
from aiogram_dialog.widgets.kbd import Start
from aiogram_dialog.widgets.text import Const

from bot import texts
from bot.dialogs.common import unexpected_input
from bot.dialogs.states import HelpSG, MainMenuSG


def main_menu_dialog() -> Dialog:
    return Dialog(
        Window(
            Const(texts.main_menu_title()),
            Start(Const("❓ Help"), id="help", state=HelpSG.main),
            Start(Const("🔒 Privacy and your data"), id="privacy", state=HelpSG.privacy),
            unexpected_input(),
            state=MainMenuSG.menu,
        ),
    )
