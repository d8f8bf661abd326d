"""The main menu: where every journey starts, and where a stale button sends you back to.

What it offers depends on the chat: not linked (log in, register) or linked to an account.
"""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram.types import CallbackQuery
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.kbd import Button, Start
from aiogram_dialog.widgets.text import Const, Format

from bot import texts
from bot.dialogs.common import chat_id_of, unexpected_input
from bot.dialogs.states import (
    DashboardSG,
    DeleteDataSG,
    FormsSG,
    HelpSG,
    MainMenuSG,
    MessagesSG,
    OnboardingSG,
    SettingsSG,
)
from bot.onboarding import texts as onboarding_texts
from bot.onboarding.dialog import start_page
from core.page_links import Purpose
from core.services import Services


async def menu_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    svc: Services = dialog_manager.middleware_data["services"]
    chat_id = chat_id_of(dialog_manager)
    account_id = await svc.chat_links.account_for_chat(chat_id)
    pending = len(await svc.invitations.pending_invitations_for(account_id)) if account_id else 0
    children = await svc.access.children_for_account(account_id) if account_id else []
    if account_id is None:
        status = "You are not logged in. Log in or register to see your child's information."
    elif children:
        names = escape(", ".join(f"{c.forename} {c.surname}" for c in children))
        status = f"You are logged in. You can see: {names}."
    else:
        status = (
            "You are logged in. The SEND team has not activated access to a child yet. "
            "We will tell you here when they do."
        )
    return {"linked": account_id is not None, "pending": pending, "status": status}


async def _start_login(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await start_page(manager, Purpose.LOGIN)


async def _start_register(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await start_page(manager, Purpose.REGISTER)


async def _change_password(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await start_page(manager, Purpose.CHANGE_PASSWORD)


async def _change_email(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await start_page(manager, Purpose.CHANGE_EMAIL)


async def _logout(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    svc: Services = manager.middleware_data["services"]
    unlinked = await svc.chat_links.unlink_chat(chat_id_of(manager), "logout")
    await callback.answer()
    await callback.message.answer(onboarding_texts.logged_out(unlinked is not None))
    await manager.start(MainMenuSG.menu, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)


def main_menu_dialog() -> Dialog:
    return Dialog(
        Window(
            Const(texts.main_menu_title()),
            Format("{status}"),
            Start(
                Format("📨 Invitations awaiting approval ({pending})"),
                id="invitations", state=OnboardingSG.invitations, when="pending",
            ),
            Button(Const("🔑 I already have an account"), id="login", on_click=_start_login, when=~_linked()),
            Button(Const("📝 Register for new account"), id="register", on_click=_start_register, when=~_linked()),
            Start(Const("📊 SEND Dashboard"), id="dashboard", state=DashboardSG.main, when=_linked()),
            Start(Const("💬 Messages"), id="messages", state=MessagesSG.menu, when=_linked()),
            Start(Const("📝 Request an EHC needs assessment"), id="request", state=FormsSG.start, when=_linked()),
            Start(Const("⚙️ Settings and reminders"), id="settings", state=SettingsSG.main, when=_linked()),
            Button(Const("🔑 Change my password"), id="chpw", on_click=_change_password, when=_linked()),
            Button(Const("✉️ Change my email address"), id="chemail", on_click=_change_email, when=_linked()),
            Button(Const("🚪 Log out of this chat"), id="logout", on_click=_logout, when=_linked()),
            Start(Const("❓ Help"), id="help", state=HelpSG.main),
            Start(Const("🔒 Privacy and your data"), id="privacy", state=HelpSG.privacy),
            Start(Const("🗑 Delete my data from this chat"), id="delete", state=DeleteDataSG.confirm,
                  mode=StartMode.NORMAL),
            unexpected_input(),
            state=MainMenuSG.menu,
            getter=menu_getter,
        ),
    )


def _linked():  # noqa: ANN202
    from aiogram import F

    return F["linked"]
