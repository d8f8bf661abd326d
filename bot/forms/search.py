"""A list question (a school, found by typing part of its name): the entries that match what
was typed, as buttons, "Not on the list" where the form allows it, and Search again. Typing again
here is a new search (`input`).

A button brings back an index into the matches the dialogue kept; the answer it makes is checked
by the core again, like a typed one.
"""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram.types import CallbackQuery
from aiogram_dialog import DialogManager, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, SwitchTo
from aiogram_dialog.widgets.text import Const, Format

from bot.dialogs.common import as_id, choices
from bot.dialogs.states import FormsSG
from bot.forms import texts
from bot.forms.common import (
    answer,
    current_question,
    header,
    load_view,
    main_menu_button,
    question_of,
    save_and_close,
    shorten,
)
from bot.forms.input import on_input
from core.errors import NotFound
from core.forms.questions import QuestionType


async def search_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"ok": False, "matches": [], "other": False, "other_label": ""}
    try:
        view = await load_view(dialog_manager)
    except NotFound:
        return {**base, "text": texts.form_not_available()}
    q = question_of(view)
    if q is None or q.type is not QuestionType.LIST_CHOICE:
        return {**base, "ok": True, "text": "Please go back to the question."}
    query = str(dialog_manager.dialog_data.get("query") or "")
    matches = [str(m) for m in dialog_manager.dialog_data.get("matches") or []]
    lines = [header(view, q), "", f"<b>{escape(q.text)}</b>", ""]
    if matches:
        lines.append(f"These match “{escape(query)}”. Tap the right one:")
    else:
        lines.append(
            f"Nothing on the list matches “{escape(query)}”. Try fewer letters, or another "
            "part of the name. You can type it again here."
        )
    if q.allow_other:
        lines += ["", "If it is not on the list, tap Not on the list to use what you typed."]
    return {
        **base,
        "ok": True,
        "text": "\n".join(lines),
        "matches": [(m, str(i)) for i, m in enumerate(matches)],
        "other": q.allow_other,
        "other_label": f"✏️ Not on the list: use “{shorten(query, 30)}”",
    }


async def _match_chosen(callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str) -> None:
    found = await current_question(manager, callback, QuestionType.LIST_CHOICE)
    if found is None:
        return
    q = found[1]
    matches = manager.dialog_data.get("matches") or []
    index = as_id(item_id)
    if not 0 <= index < len(matches):
        await callback.answer(texts.choose_a_button(), show_alert=True)
        return
    await answer(manager, q, str(matches[index]))


async def _not_on_list(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    found = await current_question(manager, callback, QuestionType.LIST_CHOICE)
    if found is None:
        return
    q = found[1]
    query = str(manager.dialog_data.get("query") or "")
    if not q.allow_other or not query:
        await callback.answer(texts.choose_a_button(), show_alert=True)
        return
    await answer(manager, q, query)


def search_window() -> Window:
    return Window(
        Format("{text}"),
        choices("match", "matches", _match_chosen),
        Button(Format("{other_label}"), id="other", on_click=_not_on_list, when="other"),
        SwitchTo(Const("🔎 Search again"), id="again", state=FormsSG.item, when="ok"),
        Button(Const("💾 Save and close"), id="s_close", on_click=save_and_close, when="ok"),
        main_menu_button(),
        MessageInput(on_input),  # typing again: a new search (a file or a sticker: type, please)
        state=FormsSG.search,
        getter=search_getter,
    )
