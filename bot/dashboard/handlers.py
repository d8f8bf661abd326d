"""/dashboard, /settings, and the "SEND Dashboard" button under a notice or reminder
(`DashboardButton`: the dialogue checks access again, so a forged id shows nothing), and "What
can I do?" under a notice (`RightsButton`, likewise)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, ShowMode, StartMode

from bot.callbacks import DashboardButton, RightsButton, usable_id
from bot.dialogs.states import DashboardSG, SettingsSG
from bot.filters import inline


def dashboard_router() -> Router:
    router = Router(name="dashboard")

    @router.message(Command("dashboard"), inline(F.chat.type == "private"))
    async def dashboard(message: Message, dialog_manager: DialogManager) -> None:
        await dialog_manager.start(DashboardSG.main, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)

    @router.message(Command("settings"), inline(F.chat.type == "private"))
    async def settings(message: Message, dialog_manager: DialogManager) -> None:
        await dialog_manager.start(SettingsSG.main, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)

    @router.callback_query(DashboardButton.filter(), inline(F.message.chat.type == "private"))
    async def from_notice(query: CallbackQuery, callback_data: DashboardButton, dialog_manager: DialogManager) -> None:
        await query.answer()
        child_id = usable_id(callback_data.child_id) or -1
        await dialog_manager.start(
            DashboardSG.main, data={"child_id": child_id}, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND
        )

    @router.callback_query(RightsButton.filter(), inline(F.message.chat.type == "private"))
    async def rights_from_notice(query: CallbackQuery, callback_data: RightsButton,
                                 dialog_manager: DialogManager) -> None:
        """ "What can I do?" under a notice: the rights page (the dialogue checks access again)."""
        await query.answer()
        child_id = usable_id(callback_data.child_id) or -1
        await dialog_manager.start(
            DashboardSG.rights, data={"child_id": child_id, "topic": callback_data.topic},
            mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND,
        )

    return router
