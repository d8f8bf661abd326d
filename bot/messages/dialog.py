"""Messages in chat (the guide's "Messages"): the menu (New Message, Inbox, Sent Items), the
child it is about, and the dialogue made of it, New Message (bot.messages.compose) and reading
(bot.messages.reading). Started by /messages, the menu, the dashboard, or a notice's Read and
Reply (bot.messages.handlers).
"""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.types import CallbackQuery
from aiogram_dialog import Dialog, DialogManager, StartMode
from aiogram_dialog.widgets.kbd import Button, SwitchTo
from aiogram_dialog.widgets.text import Const, Format

from bot import texts as shared_texts
from bot.dialogs.common import as_id, chat_id_of, choices
from bot.dialogs.states import DashboardSG, MessagesSG
from bot.messages import texts
from bot.messages.common import (
    BOXES,
    button_window,
    child_id_of,
    from_the_top,
    main_menu_button,
    remember_child,
    services_of,
)
from bot.messages.compose import compose_windows
from bot.messages.draft import new_draft, reply_subject, start_draft
from bot.messages.reading import reading_windows, send_long
from core.errors import NotFound
from core.messages.service import MAX_BODY, MessageType


async def _on_start(start_data: Any, manager: DialogManager) -> None:
    data = start_data if isinstance(start_data, dict) else {}
    child_id = data.get("child_id")
    if isinstance(child_id, int):
        manager.dialog_data["child_id"] = child_id
    if isinstance(data.get("open_id"), int):  # a notice's Read
        manager.dialog_data["open_id"] = data["open_id"]
        manager.dialog_data["box"] = data.get("box") if data.get("box") in BOXES else "inbox"
        try:
            view = await services_of(manager).messages.open(chat_id_of(manager), data["open_id"])
        except NotFound:
            return  # the window says it is not available
        await send_long(manager, view)
        return
    if isinstance(data.get("reply_to"), int):  # a notice's Reply
        manager.dialog_data["draft"] = new_draft(
            type=data.get("type") or MessageType.GENERAL.value,
            subject=reply_subject(str(data.get("subject") or "")),
            reply_to=data["reply_to"],
        )
        return
    if isinstance(data.get("question"), str):  # "Ask the SEND team" under an answer: the question filled in
        question = data["question"][:MAX_BODY]
        manager.dialog_data["draft"] = new_draft(
            type=MessageType.GENERAL.value, subject=texts.question_subject(), body=question,
            note=texts.question_filled_in(question) if question.strip() else None,
        )
        manager.dialog_data["then"] = MessagesSG.text.state  # after choosing the child
    if child_id_of(manager) is None:
        ov = await services_of(manager).dashboard.overview(chat_id_of(manager))
        if ov.dashboard is not None:
            manager.dialog_data["child_id"] = ov.dashboard.child_id
        elif ov.account_id is not None and len(ov.children) > 1:
            await manager.switch_to(MessagesSG.choose)
            return
    manager.dialog_data.pop("then", None)


async def menu_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    svc = services_of(dialog_manager)
    ov = await svc.dashboard.overview(chat_id_of(dialog_manager), child_id_of(dialog_manager))
    base = {"has": False, "several": len(ov.children) > 1, "inbox_label": "📥 Inbox"}
    if ov.account_id is None:
        return {**base, "text": texts.messages_needs_login()}
    d = ov.dashboard
    if d is None:
        if not ov.children:
            return {**base, "text": texts.messages_no_child()}
        if child_id_of(dialog_manager) is None:
            return {**base, "text": texts.messages_choose_child()}
        return {**base, "text": shared_texts.child_not_available()}
    name = f"{d.child_forename} {d.child_surname}"
    remember_child(dialog_manager, d.child_id, name)
    unread = d.counts.messages
    return {
        **base,
        "has": True,
        "text": texts.messages_title(name, unread),
        "inbox_label": f"📥 Inbox ({unread} new)" if unread else "📥 Inbox",
    }


async def choose_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    ov = await services_of(dialog_manager).dashboard.overview(chat_id_of(dialog_manager))
    return {
        "prompt": texts.messages_choose_child(),
        "children": [(f"{c.forename} {c.surname}", str(c.child_id)) for c in ov.children],
    }


async def _chosen(callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str) -> None:
    child_id = as_id(item_id)
    ov = await services_of(manager).dashboard.overview(chat_id_of(manager), child_id)
    if ov.dashboard is None:
        await callback.answer(shared_texts.child_not_available(), show_alert=True)
        return
    remember_child(
        manager, child_id, f"{ov.dashboard.child_forename} {ov.dashboard.child_surname}"
    )
    then = manager.dialog_data.pop("then", None)
    await manager.switch_to(MessagesSG.text if then == MessagesSG.text.state else MessagesSG.menu)


async def _open_dashboard(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await manager.start(
        DashboardSG.main, data={"child_id": child_id_of(manager)}, mode=StartMode.RESET_STACK
    )


def _box_button(label: Format | Const, box: str) -> SwitchTo:
    """Inbox or Sent Items, from the first page."""

    async def first_page(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
        await from_the_top(manager, box)

    return SwitchTo(label, id=box, state=BOXES[box], on_click=first_page, when="has")


def messages_dialog() -> Dialog:
    return Dialog(
        button_window(
            SwitchTo(
                Const("✉️ New Message"), id="new", state=MessagesSG.type, on_click=start_draft,
                when="has",
            ),
            _box_button(Format("{inbox_label}"), "inbox"),
            _box_button(Const("📤 Sent Items"), "sent"),
            SwitchTo(
                Const("🔁 Switch child"), id="switch", state=MessagesSG.choose, when=F["several"]
            ),
            Button(Const("📊 SEND Dashboard"), id="dash", on_click=_open_dashboard, when="has"),
            main_menu_button(),
            state=MessagesSG.menu,
            getter=menu_getter,
        ),
        button_window(
            choices("child", "children", _chosen, "👤 {item[0]}"),
            main_menu_button(),
            state=MessagesSG.choose,
            getter=choose_getter,
            text="{prompt}",
        ),
        *compose_windows(),
        *reading_windows(),
        on_start=_on_start,
    )


__all__ = ["messages_dialog"]
