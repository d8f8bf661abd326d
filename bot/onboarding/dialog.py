"""Onboarding in the guide's order: the unique code, register or log in (on a page, never a
password in the chat), the emailed code typed here, then "Invitations awaiting approval"."""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from aiogram import F
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.manager.sub_manager import SubManager
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, ListGroup, Row, Start, SwitchTo, WebApp
from aiogram_dialog.widgets.text import Const, Format

from bot.dialogs.common import chat_id_of, services_of, unexpected_input
from bot.dialogs.states import MainMenuSG, OnboardingSG
from bot.onboarding import texts as onboarding_texts
from core.onboarding import CheckOutcome, OnboardingError, PendingInvitation
from core.page_flow import CodeOutcome
from core.page_links import LinkState, Purpose
from core.services import Services

log = logging.getLogger(__name__)




async def _delete(message: Message) -> None:
    """Codes are deleted from the chat once read (the chat is stored by Telegram)."""
    try:
        await message.delete()
    except TelegramBadRequest:
        pass


# ---------------------------------------------------------------- the unique code


async def on_unique_code(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    svc = services_of(manager)
    invitation_id = manager.start_data.get("invitation_id") if manager.start_data else None
    typed = message.text or ""
    await _delete(message)
    if not invitation_id or not typed:
        await message.answer(onboarding_texts.unique_code_needed())
        manager.show_mode = ShowMode.SEND
        return
    check = await svc.invitations.check_unique_code(invitation_id, message.chat.id, typed)
    if check.verified:
        manager.dialog_data["child"] = check.child_forename or ""
        await message.answer(onboarding_texts.identity_confirmed(check.child_forename))
        await _after_identity(manager)
        return
    await message.answer(onboarding_texts.unique_code_answer(check.outcome, check.tries_left))
    if check.outcome in (CheckOutcome.LOCKED, CheckOutcome.EXPIRED, CheckOutcome.USED, CheckOutcome.UNKNOWN):
        await manager.start(MainMenuSG.menu, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)
        return
    manager.show_mode = ShowMode.SEND


async def _after_identity(manager: DialogManager) -> None:
    """Linked already: straight to the invitations. Otherwise: register or log in."""
    svc = services_of(manager)
    chat_id = chat_id_of(manager)
    if await svc.chat_links.account_for_chat(chat_id) is not None:
        await manager.switch_to(OnboardingSG.invitations, show_mode=ShowMode.SEND)
    else:
        await manager.switch_to(OnboardingSG.account, show_mode=ShowMode.SEND)


# ---------------------------------------------------------------- register or log in: the page


async def _new_page(manager: DialogManager, purpose: Purpose) -> dict[str, str]:
    """A new page link for this chat (any earlier one stops working)."""
    svc = services_of(manager)
    # Only a seed is kept in the dialogue state (stored in the database); the link's token is an
    # HMAC of it under the server key, worked out when the window is shown.
    seed = await svc.page_links.create_seeded(chat_id_of(manager), purpose)
    return {"page_seed": seed, "purpose": purpose.value}


async def _open_page(manager: DialogManager, purpose: Purpose) -> None:
    manager.dialog_data.update(await _new_page(manager, purpose))
    await manager.switch_to(OnboardingSG.page)


async def start_page(manager: DialogManager, purpose: Purpose) -> None:
    """From outside this dialogue (the main menu): straight to the page step."""
    await manager.start(OnboardingSG.page, data=await _new_page(manager, purpose))


async def _on_start(start_data: Any, manager: DialogManager) -> None:
    if isinstance(start_data, dict) and "page_seed" in start_data:
        manager.dialog_data["page_seed"] = start_data["page_seed"]
        manager.dialog_data["purpose"] = start_data["purpose"]


async def on_register(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await _open_page(manager, Purpose.REGISTER)


async def on_login(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await _open_page(manager, Purpose.LOGIN)


async def on_new_link(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await _open_page(manager, Purpose(manager.dialog_data.get("purpose", Purpose.LOGIN.value)))


async def page_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    seed = dialog_manager.dialog_data.get("page_seed")
    url = services_of(dialog_manager).page_links.url_for_seed(seed) if seed else ""
    purpose = Purpose(dialog_manager.dialog_data.get("purpose", Purpose.LOGIN.value))
    mini_app = url.startswith("https://")
    return {
        "text": onboarding_texts.page_prompt(purpose, url, mini_app),
        "url": url,
        "mini_app": mini_app,
        "signing_in": purpose in (Purpose.REGISTER, Purpose.LOGIN, Purpose.RESET),
        "wants_code": purpose is not Purpose.CHANGE_PASSWORD,
    }


async def on_email_code(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    svc = services_of(manager)
    chat_id = message.chat.id
    await _delete(message)
    if message.text is None:  # a photo, sticker, file or voice message: not a code, no try spent
        await message.answer(onboarding_texts.email_code_needed())
        manager.show_mode = ShowMode.SEND
        return
    typed = message.text.strip()
    result = await svc.page_flow.submit_code(chat_id, typed)
    if result.outcome is CodeOutcome.NO_PAGE:
        await message.answer(await _no_page_text(svc, chat_id))
        manager.show_mode = ShowMode.SEND
        return
    if result.outcome is CodeOutcome.PROBLEM:
        await message.answer(onboarding_texts.code_problem(result.message))
        manager.show_mode = ShowMode.SEND
        return
    if result.outcome is not CodeOutcome.LINKED or result.account_id is None:
        # A step that finishes without linking the chat (it says what happens next).
        await message.answer(escape(result.message) or onboarding_texts.fill_in_page_first())
        manager.show_mode = ShowMode.SEND
        return
    await svc.chat_links.link_chat(result.account_id, chat_id)
    await message.answer(onboarding_texts.chat_linked(result.purpose is Purpose.REGISTER))
    pending = await svc.invitations.pending_invitations_for(result.account_id)
    if pending:
        await manager.switch_to(OnboardingSG.invitations, show_mode=ShowMode.SEND)
    else:
        await message.answer(onboarding_texts.no_invitations_waiting())
        await manager.start(MainMenuSG.menu, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)


async def _no_page_text(svc: Services, chat_id: int) -> str:
    """No form is waiting for a code: the link ran out (a new one is needed), or the form on the
    page has not been sent yet."""
    latest = await svc.page_links.latest(chat_id)
    if latest is not None and latest.state is LinkState.EXPIRED:
        return onboarding_texts.page_link_expired()
    return onboarding_texts.fill_in_page_first()


async def on_new_code(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    svc = services_of(manager)
    chat_id = chat_id_of(manager)
    answer = await svc.page_flow.new_code(chat_id)
    await callback.answer((answer or await _no_page_text(svc, chat_id))[:190], show_alert=True)


# ---------------------------------------------------------------- invitations awaiting approval
#
# Each child has a row of its own: tap the name to tick it, then "Yes" or "No" under it (the
# guide's "Do you wish to continue setting up your account?", asked per child, so that a parent
# can accept one child and decline another in one Submit). The answers are kept in the dialogue
# as {invitation id: "yes" | "no" | ""} ("" = ticked, not answered yet). A button's item id is
# never trusted: each press is checked against the invitations the core says are this account's.


def _answers(manager: DialogManager) -> dict[str, str]:
    return manager.dialog_data.setdefault("answers", {})


async def _pending(manager: DialogManager) -> list[PendingInvitation]:
    svc = services_of(manager)
    account_id = await svc.chat_links.account_for_chat(chat_id_of(manager))
    return await svc.invitations.pending_invitations_for(account_id) if account_id else []


async def invitations_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    pending = await _pending(dialog_manager)
    answers = _answers(dialog_manager)
    items = []
    for p in pending:
        key = str(p.invitation_id)
        answer = answers.get(key)
        items.append({
            "id": key,
            "name": f"{p.child_forename} {p.child_surname}",
            "tick": "☑️" if answer is not None else "⬜",
            "yes": ("🔘" if answer == "yes" else "⚪") + " Yes",
            "no": ("🔘" if answer == "no" else "⚪") + " No",
        })
    return {"invitations": items, "none": not pending}


async def _own_item(callback: CallbackQuery, manager: DialogManager) -> tuple[DialogManager, str] | None:
    """The dialogue's manager and the pressed row's invitation id, if it is one of this account's
    pending invitations; otherwise the press is refused and nothing changes."""
    parent: DialogManager = manager.manager if isinstance(manager, SubManager) else manager
    item_id = manager.item_id if isinstance(manager, SubManager) else ""
    if item_id not in {str(p.invitation_id) for p in await _pending(parent)}:
        log.info("refused an invitation button for an invitation not awaiting this chat")
        await callback.answer(onboarding_texts.stale_choice(), show_alert=True)
        return None
    return parent, item_id


async def on_tick(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    own = await _own_item(callback, manager)
    if own is None:
        return
    parent, item_id = own
    answers = _answers(parent)
    if item_id in answers:
        del answers[item_id]
    else:
        answers[item_id] = ""


async def _on_answer(callback: CallbackQuery, manager: DialogManager, answer: str) -> None:
    own = await _own_item(callback, manager)
    if own is None:
        return
    parent, item_id = own
    _answers(parent)[item_id] = answer


async def on_yes(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await _on_answer(callback, manager, "yes")


async def on_no(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await _on_answer(callback, manager, "no")


async def _chosen(manager: DialogManager) -> tuple[list[tuple[PendingInvitation, str]], list[str]]:
    """(ticked pending invitations with their answers, names of ticked ones with no answer yet).
    Anything no longer pending is dropped from the answers."""
    pending = {str(p.invitation_id): p for p in await _pending(manager)}
    answers = _answers(manager)
    for key in [k for k in answers if k not in pending]:
        del answers[key]
    chosen = [(pending[k], a) for k, a in answers.items() if a]
    unanswered = [f"{pending[k].child_forename} {pending[k].child_surname}" for k, a in answers.items() if not a]
    return chosen, unanswered


async def on_confirm(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    chosen, unanswered = await _chosen(manager)
    if unanswered:
        await callback.answer(onboarding_texts.choose_yes_or_no(unanswered[0]), show_alert=True)
        return
    if not chosen:
        await callback.answer(onboarding_texts.tick_first(), show_alert=True)
        return
    await manager.switch_to(OnboardingSG.confirm)


async def confirm_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    chosen, _unanswered = await _chosen(dialog_manager)
    return {
        "summary": onboarding_texts.confirm_summary(
            [(f"{p.child_forename} {p.child_surname}", answer == "yes") for p, answer in chosen]
        )
    }


async def on_submit(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    svc = services_of(manager)
    chat_id = chat_id_of(manager)
    account_id = await svc.chat_links.account_for_chat(chat_id)
    answers = {k: a for k, a in _answers(manager).items() if a in ("yes", "no")}
    try:
        choices = {int(k): a == "yes" for k, a in answers.items()}
    except ValueError:
        choices = {}
    if account_id is None or not choices:
        await callback.answer(onboarding_texts.stale_choice(), show_alert=True)
        await manager.start(MainMenuSG.menu, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)
        return
    try:
        result = await svc.invitations.respond(account_id, chat_id, choices)
    except OnboardingError:  # NotYourInvitation, ChatNotLinked...: stale or forged, nothing changed
        manager.dialog_data["answers"] = {}
        await callback.answer(onboarding_texts.stale_choice(), show_alert=True)
        await manager.switch_to(OnboardingSG.invitations)
        return
    manager.dialog_data["answers"] = {}
    manager.dialog_data["done"] = onboarding_texts.response_done(
        [c.child_forename for c in result.accepted], [c.child_forename for c in result.declined]
    )
    await manager.switch_to(OnboardingSG.done)


def onboarding_dialog() -> Dialog:
    to_menu = Start(Const("Main menu"), id="menu", state=MainMenuSG.menu, mode=StartMode.RESET_STACK)
    return Dialog(
        Window(
            Const(onboarding_texts.unique_code_prompt()),
            MessageInput(on_unique_code),
            to_menu,
            state=OnboardingSG.unique_code,
        ),
        Window(
            Const(onboarding_texts.account_question()),
            Button(Const("Register for new account"), id="register", on_click=on_register),
            Button(Const("I already have an account"), id="login", on_click=on_login),
            unexpected_input(),
            state=OnboardingSG.account,
        ),
        Window(
            Format("{text}"),
            WebApp(Const("Open the form"), Format("{url}"), when="mini_app"),
            Button(Const("Please send me a new code"), id="new_code", on_click=on_new_code, when="wants_code"),
            Button(Const("Get a new link"), id="new_link", on_click=on_new_link),
            SwitchTo(Const("⬅️ Back"), id="back", state=OnboardingSG.account, when="signing_in"),
            Start(Const("Main menu"), id="page_menu", state=MainMenuSG.menu, mode=StartMode.RESET_STACK,
                  when=~F["signing_in"]),
            MessageInput(on_email_code),
            state=OnboardingSG.page,
            getter=page_getter,
        ),
        Window(
            Const(onboarding_texts.invitations_intro()),
            Const(onboarding_texts.no_invitations_waiting(), when="none"),
            ListGroup(
                Button(Format("{item[tick]} {item[name]}"), id="tick", on_click=on_tick),
                Row(
                    Button(Format("{item[yes]}"), id="yes", on_click=on_yes),
                    Button(Format("{item[no]}"), id="no", on_click=on_no),
                ),
                id="inv", item_id_getter=lambda item: item["id"], items="invitations",
            ),
            Button(Const("Confirm"), id="confirm", on_click=on_confirm, when=lambda d, *_: not d.get("none")),
            to_menu,
            unexpected_input(),
            state=OnboardingSG.invitations,
            getter=invitations_getter,
        ),
        Window(
            Format("{summary}"),
            Const(onboarding_texts.submit_warning()),
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
        on_start=_on_start,
    )
