"""Multi-step dialogues (aiogram-dialog), one module per dialogue with its states."""

from __future__ import annotations

from aiogram import Router


def dialog_routers() -> list[Router]:
    """Every dialogue, built fresh (a router can be attached to one parent only)."""
    from bot.dashboard.dialog import dashboard_dialog
    from bot.dashboard.settings import settings_dialog
    from bot.dialogs.common import PressGuard
    from bot.dialogs.delete_data import delete_data_dialog
    from bot.dialogs.help import help_dialog
    from bot.dialogs.main_menu import main_menu_dialog
    from bot.documents.dialog import documents_dialog
    from bot.forms.dialog import forms_dialog
    from bot.messages.dialog import messages_dialog
    from bot.onboarding.dialog import onboarding_dialog

    dialogs = [
        main_menu_dialog(), help_dialog(), onboarding_dialog(), delete_data_dialog(),
        dashboard_dialog(), settings_dialog(), messages_dialog(), documents_dialog(), forms_dialog(),
    ]
    for dialog in dialogs:  # presses noted; a late tap on a window that has moved does nothing
        dialog.callback_query.middleware(PressGuard())
    return dialogs
