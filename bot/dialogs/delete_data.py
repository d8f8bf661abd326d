""""Delete my data from this chat": say what goes and what stays, ask, then do it."""

from __future__ import annotations

from aiogram.types import CallbackQuery
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.kbd import Button, Row, Start
from aiogram_dialog.widgets.text import Const

from bot.dialogs.common import unexpected_input
from bot.dialogs.states import DeleteDataSG, MainMenuSG
from bot.onboarding import texts as onboarding_texts
from core.services import Services


async def on_delete(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    svc: Services = manager.middleware_data["services"]
    chat_id = callback.from_user.id
    await manager.reset_stack(remove_keyboard=True)
    await svc.chat_links.delete_chat_data(chat_id)
    # What the accounts and the pages keep because of the chat: its page links, the chat id on
    # codes and requests it asked for, its hourly rate records.
    await svc.page_links.forget_chat(chat_id)
    await svc.accounts.forget_chat(chat_id)
    await callback.answer()
    await callback.message.answer(onboarding_texts.data_deleted())
    manager.show_mode = ShowMode.NO_UPDATE


def delete_data_dialog() -> Dialog:
    return Dialog(
        Window(
            Const(onboarding_texts.delete_data_question()),
            Row(
                Button(Const("Yes, delete it"), id="yes", on_click=on_delete),
                Start(Const("No, keep it"), id="no", state=MainMenuSG.menu, mode=StartMode.RESET_STACK),
            ),
            unexpected_input(),
            state=DeleteDataSG.confirm,
        ),
    )
