"""Onboarding in the guide's order: the unique code, register or log in (on a page, never a
password in the chat), the emailed code typed here, then "Invitations awaiting approval"."""

from __future__ import annotations

import logging
from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Multiselect, Radio, Row, Start, SwitchTo, WebApp
from aiogram_dialog.widgets.text import Const, Format

from bot import texts
from bot.dialogs.common import unexpected_input
from bot.dialogs.states import MainMenuSG
from bot.services import Services
from core.onboarding import CheckOutcome, NotYourInvitation, OnboardingError
from core.page_flow import CodeOutcome
from core.page_links import Purpose

log = logging.getLogger(__name__)


class OnboardingSG(StatesGroup):
    unique_code = State()
    account = State()
    page = State()
    invitations = State()
    confirm = State()
    done = State()


def _services(manager: DialogManager) -> Services:
    return manager.middleware_data["services"]


def chat_id_of(manager: DialogManager) -> int:
    """The chat of the event, whatever the event (message, button, or an error being handled)."""
    return manager.middleware_data["event_chat"].id


async def _delete(message: Message) -> None:
    """Codes are deleted from the chat once read (the chat is stored by Telegram)."""
    try:
        await message.delete()
    except TelegramBadRequest:
        pass


# ---------------------------------------------------------------- the unique code


async def on_unique_code(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    svc = _services(manager)
    invitation_id = manager.start_data.get("invitation_id") if manager.start_data else None
    typed = message.text or ""
    await _delete(message)
    if not invitation_id or not typed:
        await message.answer(texts.unique_code_needed())
        manager.show_mode = ShowMode.SEND
        return
    check = await svc.invitations.check_unique_code(invitation_id, message.chat.id, typed)
    if check.verified:
        manager.dialog_data["child"] = check.child_forename or ""
        await message.answer(texts.identity_confirmed(check.child_forename))
        await _after_identity(manager)
        return
    await message.answer(texts.unique_code_answer(check.outcome, check.tries_left))
    if check.outcome in (CheckOutcome.LOCKED, CheckOutcome.EXPIRED, CheckOutcome.USED, CheckOutcome.UNKNOWN):
        await manager.start(MainMenuSG.menu, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)
        return
    manager.show_mode = ShowMode.SEND


async def _after_identity(manager: DialogManager) -> None:
    """Linked already: straight to the invitations. Otherwise: register or log in."""
    svc = _services(manager)
    chat_id = chat_id_of(manager)
    if await svc.chat_links.account_for_chat(chat_id) is not None:
        await manager.switch_to(OnboardingSG.invitations, show_mode=ShowMode.SEND)
    else:
        await manager.switch_to(OnboardingSG.account, show_mode=ShowMode.SEND)


# ---------------------------------------------------------------- register or log in: the page


async def _open_page(manager: DialogManager, purpose: Purpose) -> None:
    svc = _services(manager)
    token = await svc.page_links.create(chat_id_of(manager), purpose)
    manager.dialog_data["page_url"] = svc.page_links.url(token)
    manager.dialog_data["purpose"] = purpose.value
    await manager.switch_to(OnboardingSG.page)


async def on_register(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await _open_page(manager, Purpose.REGISTER)


async def on_login(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await _open_page(manager, Purpose.LOGIN)


async def on_new_link(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await _open_page(manager, Purpose(manager.dialog_data.get("purpose", Purpose.LOGIN.value)))


async def page_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    url = dialog_manager.dialog_data.get("page_url", "")
    purpose = Purpose(dialog_manager.dialog_data.get("purpose", Purpose.LOGIN.value))
    mini_app = url.startswith("https://")
    return {
        "text": texts.page_prompt(purpose is Purpose.REGISTER, url, mini_app),
        "url": url,
        "mini_app": mini_app,
    }


async def on_email_code(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    svc = _services(manager)
    chat_id = message.chat.id
    typed = (message.text or "").strip()
    await _delete(message)
    result = await svc.page_flow.submit_code(chat_id, typed)
    if result.outcome is CodeOutcome.NO_PAGE:
        await message.answer(texts.fill_in_page_first())
        manager.show_mode = ShowMode.SEND
        return
    if result.outcome is CodeOutcome.PROBLEM:
        await message.answer(texts.code_problem(result.message))
        manager.show_mode = ShowMode.SEND
        return
    await svc.chat_links.link_chat(result.account_id, chat_id)
    await message.answer(texts.chat_linked(result.purpose is Purpose.REGISTER))
    pending = await svc.invitations.pending_invitations_for(result.account_id)
    if pending:
        await manager.switch_to(OnboardingSG.invitations, show_mode=ShowMode.SEND)
    else:
        await message.answer(texts.no_invitations_waiting())
        await manager.start(MainMenuSG.menu, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)


async def on_new_code(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    answer = await _services(manager).page_flow.new_code(callback.from_user.id)
    await callback.answer((answer or texts.fill_in_page_first())[:190], show_alert=True)


# ---------------------------------------------------------------- invitations awaiting approval


async def invitations_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    svc = _services(dialog_manager)
    account_id = await svc.chat_links.account_for_chat(chat_id_of(dialog_manager))
    pending = await svc.invitations.pending_invitations_for(account_id) if account_id else []
    return {
        "invitations": [(str(p.invitation_id), f"{p.child_forename} {p.child_surname}") for p in pending],
        "answers": [("yes", "Yes"), ("no", "No")],
        "none": not pending,
    }


async def on_confirm(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    chosen = manager.find("children").get_checked()
    answer = manager.find("continue").get_checked()
    if not chosen:
        await callback.answer("Please tick the child (or children) first.", show_alert=True)
        return
    if answer is None:
        await callback.answer('Please choose "Yes" or "No" first.', show_alert=True)
        return
    await manager.switch_to(OnboardingSG.confirm)


async def confirm_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    yes = dialog_manager.find("continue").get_checked() == "yes"
    names = dict((await invitations_getter(dialog_manager))["invitations"])
    chosen = [names.get(i, "") for i in dialog_manager.find("children").get_checked() if i in names]
    return {"summary": texts.confirm_summary(chosen, yes)}


async def on_submit(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    svc = _services(manager)
    chat_id = callback.from_user.id
    account_id = await svc.chat_links.account_for_chat(chat_id)
    yes = manager.find("continue").get_checked() == "yes"
    try:
        chosen = [int(i) for i in manager.find("children").get_checked()]
    except ValueError:
        chosen = []
    if account_id is None or not chosen:
        await callback.answer(texts.stale_choice(), show_alert=True)
        await manager.start(MainMenuSG.menu, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)
        return
    try:
        result = await svc.invitations.respond(account_id, chat_id, {i: yes for i in chosen})
    except (NotYourInvitation, OnboardingError):
        await callback.answer(texts.stale_choice(), show_alert=True)
        await manager.switch_to(OnboardingSG.invitations)
        return
    manager.dialog_data["done"] = texts.response_done(
        [c.child_forename for c in result.accepted], [c.child_forename for c in result.declined]
    )
    await manager.switch_to(OnboardingSG.done)


def onboarding_dialog() -> Dialog:
    to_menu = Start(Const("Main menu"), id="menu", state=MainMenuSG.menu, mode=StartMode.RESET_STACK)
    return Dialog(
        Window(
            Const(texts.unique_code_prompt()),
            MessageInput(on_unique_code),
            to_menu,
            state=OnboardingSG.unique_code,
        ),
        Window(
            Const(texts.account_question()),
            Button(Const("Register for new account"), id="register", on_click=on_register),
            Button(Const("I already have an account"), id="login", on_click=on_login),
            unexpected_input(),
            state=OnboardingSG.account,
        ),
        Window(
            Format("{text}"),
            WebApp(Const("Open the form"), Format("{url}"), when="mini_app"),
            Button(Const("Please send me a new code"), id="new_code", on_click=on_new_code),
            Button(Const("Get a new link"), id="new_link", on_click=on_new_link),
            SwitchTo(Const("⬅️ Back"), id="back", state=OnboardingSG.account),
            MessageInput(on_email_code),
            state=OnboardingSG.page,
            getter=page_getter,
        ),
        Window(
            Const(texts.invitations_intro()),
            Const(texts.no_invitations_waiting(), when="none"),
            Multiselect(
                Format("☑️ {item[1]}"), Format("⬜ {item[1]}"),
                id="children", item_id_getter=lambda item: item[0], items="invitations",
            ),
            Const("Do you wish to continue setting up your account?"),
            Row(
                Radio(
                    Format("🔘 {item[1]}"), Format("⚪ {item[1]}"),
                    id="continue", item_id_getter=lambda item: item[0], items="answers",
                ),
            ),
            Button(Const("Confirm"), id="confirm", on_click=on_confirm, when=lambda d, *_: not d.get("none")),
            to_menu,
            unexpected_input(),
            state=OnboardingSG.invitations,
            getter=invitations_getter,
        ),
        Window(
            Format("{summary}"),
            Const(texts.submit_warning()),
            Row(
                SwitchTo(Const("Cancel"), id="cancel", state=OnboardingSG.invitations),
                Button(Const("Submit"), id="submit", on_click=on_submit),
            ),
            unexpected_input(),
            state=OnboardingSG.confirm,
            getter=confirm_getter,
        ),
        Window(
            Format("{dialog_data[done]}"),
            to_menu,
            unexpected_input(),
            state=OnboardingSG.done,
        ),
    )
