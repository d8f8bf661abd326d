"""Help: what the bot can do, how to reach a person, and privacy. Three pages, one dialogue."""

from __future__ import annotations

from typing import Any

from aiogram_dialog import Dialog, DialogManager, StartMode, Window
from aiogram_dialog.widgets.kbd import Back, Start, SwitchTo
from aiogram_dialog.widgets.text import Const, Format

from bot import texts
from bot.dialogs.common import unexpected_input
from bot.dialogs.states import HelpSG, MainMenuSG
from core.config import Settings


async def _texts(dialog_manager: DialogManager, **_: Any) -> dict[str, str]:
    settings: Settings = dialog_manager.middleware_data["settings"]
    return {
        "help": texts.help_text(settings),
        "privacy": texts.privacy_notice(settings),
        "contact": texts.contact_text(settings),
    }


def _to_menu(label: str) -> Start:
    return Start(Const(label), id="menu", state=MainMenuSG.menu, mode=StartMode.RESET_STACK)


def help_dialog() -> Dialog:
    return Dialog(
        Window(
            Format("{help}"),
            SwitchTo(Const("👤 Talk to a person"), id="contact", state=HelpSG.contact),
            SwitchTo(Const("🔒 Privacy and your data"), id="privacy", state=HelpSG.privacy),
            _to_menu("⬅️ Main menu"),
            unexpected_input(),
            state=HelpSG.main,
            getter=_texts,
        ),
        Window(
            Format("{contact}"),
            Back(Const("⬅️ Back")),
            _to_menu("Main menu"),
            unexpected_input(),
            state=HelpSG.contact,
            getter=_texts,
        ),
        Window(
            Format("{privacy}"),
            SwitchTo(Const("⬅️ Back to help"), id="back_help", state=HelpSG.main),
            _to_menu("Main menu"),
            unexpected_input(),
            state=HelpSG.privacy,
            getter=_texts,
        ),
    )
