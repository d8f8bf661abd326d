"""Where a form is started or taken up again: Actions to Complete (the child's forms the SEND
team asked for, from the dashboard), the forms a parent starts themselves (the request for an
EHC needs assessment, from the main menu), and the dialogue's start from a notice's "Open the
form" (`handlers`). Each opens the response where the core says the parent is.
"""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram.types import CallbackQuery
from aiogram_dialog import DialogManager, Window
from aiogram_dialog.widgets.kbd import Button
from aiogram_dialog.widgets.text import Const

from bot import texts as shared_texts
from bot.dialogs.common import as_id, chat_id_of, choices
from bot.dialogs.states import FormsSG
from bot.forms import texts
from bot.forms.common import button_window, child_id_of, go, load_view, services_of, to_dashboard
from core.errors import NotFound
from core.forms.form import FormDefinition
from core.timescales import format_date


async def on_start(start_data: Any, manager: DialogManager) -> None:
    data = start_data if isinstance(start_data, dict) else {}
    if isinstance(data.get("child_id"), int):
        manager.dialog_data["child_id"] = data["child_id"]
    manager.dialog_data["home"] = "start" if data.get("home") == "start" else "actions"
    if manager.current_context().state == FormsSG.start:
        manager.dialog_data["home"] = "start"
    if isinstance(data.get("rid"), int):  # the notice's "Open the form": the core already said yes
        manager.dialog_data["rid"] = data["rid"]
        try:
            view = await load_view(manager)
        except NotFound:
            return  # the window says it is not available
        await go(manager, view)


# ---------------------------------------------------------------- Actions to Complete


async def actions_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    svc = services_of(dialog_manager)
    chat_id = chat_id_of(dialog_manager)
    base: dict[str, Any] = {"items": []}
    ov = await svc.dashboard.overview(chat_id, child_id_of(dialog_manager))
    if ov.account_id is None:
        return {**base, "text": shared_texts.dashboard_needs_login()}
    d = ov.dashboard
    if d is None:
        if not ov.children:
            return {**base, "text": shared_texts.dashboard_no_child()}
        return {**base, "text": shared_texts.child_not_available()}
    dialog_manager.dialog_data["child_id"] = d.child_id
    try:
        actions = await svc.form_filling.actions(chat_id, d.child_id)
    except NotFound:
        return {**base, "text": shared_texts.child_not_available()}
    lines = [f"✍️ <b>Actions to Complete</b> for {escape(d.child_forename)}"]
    if not actions:
        lines += ["", "No items to complete."]
    for a in actions:
        lines += ["", f"<b>{escape(a.title)}</b>"]
        lines.append(f"Due {format_date(a.due_date)}" if a.due_date else "No due date")
        if a.note:
            lines.append(f"Note from the SEND team: {escape(a.note)}")
        if a.response_id is not None:
            lines.append(f"Started: {texts.answers_saved(a.answered)}")
    if actions:
        lines += ["", "Tap a form to open it. Every answer is saved as you give it."]
    return {
        **base,
        "text": "\n".join(lines),
        "items": [(f"📝 {a.title}", str(a.assignment_id)) for a in actions],
    }


async def _open_action(callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str) -> None:
    try:
        view = await services_of(manager).form_filling.open_assignment(chat_id_of(manager), as_id(item_id))
    except NotFound:
        await callback.answer(texts.form_not_available(), show_alert=True)
        return
    manager.dialog_data["home"] = "actions"
    await go(manager, view)


# ---------------------------------------------------------------- forms a parent starts


def _own_forms(manager: DialogManager) -> list[FormDefinition]:
    forms = services_of(manager).form_filling.parent_forms()
    return sorted(forms, key=lambda f: (not f.creates_case, f.title))


async def start_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    svc = services_of(dialog_manager)
    chat_id = chat_id_of(dialog_manager)
    account = await svc.chat_links.account_for_chat(chat_id)
    if account is None:
        return {"text": shared_texts.dashboard_needs_login(), "items": []}
    try:
        drafts = {d.form.id: d for d in await svc.form_filling.drafts(chat_id)}
    except NotFound:
        drafts = {}
    lines = texts.request_intro()
    items = []
    for form in _own_forms(dialog_manager):
        draft = drafts.get(form.id)
        if form.description and not form.creates_case:
            lines += ["", f"<b>{escape(form.title)}</b>: {escape(form.description)}"]
        if draft is None:
            items.append((f"▶️ Start: {form.title}", form.id))
        else:
            n = sum(1 for v in draft.answers.values() if v not in (None, "", []))
            items.append((f"▶️ Carry on ({texts.answers_saved(n)}): {form.title}", form.id))
    lines += ["", "Every answer is saved as you give it. Nothing is sent until you press Submit."]
    return {"text": "\n".join(lines), "items": items}


async def _start_own(callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str) -> None:
    try:
        view = await services_of(manager).form_filling.start_own(chat_id_of(manager), item_id)
    except NotFound:
        await callback.answer(texts.form_not_available(), show_alert=True)
        return
    manager.dialog_data["home"] = "start"
    await go(manager, view)


def start_windows() -> list[Window]:
    return [
        button_window(
            choices("action", "items", _open_action),
            Button(Const("⬅️ Back to the SEND Dashboard"), id="dash", on_click=to_dashboard),
            state=FormsSG.actions,
            getter=actions_getter,
        ),
        button_window(choices("own", "items", _start_own), state=FormsSG.start, getter=start_getter),
    ]
