"""One guidance page or one question at a time, with its progress ("Step 4 of 6: Parental
Preference Form · Question 2 of 5"), and its buttons: the choices, Next, Skip, Done with files,
Back, Create PDF, Save and close. What the parent types or sends here is in `input`.

Choices are aiogram-dialog's own widgets: one choice and yes/no a Select (a press is the answer),
several choices a Multiselect whose ticks stay in the dialogue until Done (then saved). Every
value from a button is checked again by the core.
"""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram.types import CallbackQuery
from aiogram_dialog import CancelEventProcessing, DialogManager, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Column, Multiselect, Row
from aiogram_dialog.widgets.text import Const, Format

from bot.dialogs.common import chat_id_of, choices
from bot.dialogs.states import FormsSG
from bot.forms import texts
from bot.forms.common import (
    ANSWER_IN_REVIEW,
    again,
    answer,
    create_pdf,
    current_question,
    draft_or_why_not,
    gone,
    header,
    home,
    item_of,
    keep_view,
    main_menu_button,
    move,
    rid_of,
    save_and_close,
    services_of,
    shorten,
    view_or_gone,
)
from bot.forms.input import on_input
from core.errors import NotFound
from core.forms.answers import format_answer
from core.forms.base import FormRefused
from core.forms.progress import REVIEW
from core.forms.questions import Guidance, Question, QuestionType
from core.forms.responses import ResponseView

TICKS = "tick"  # the Multiselect of a several-choices question


async def ticked(manager: DialogManager, view: ResponseView, q: Question) -> list[str]:
    """The ticks of a several-choices question. They are kept by the Multiselect until Done; when
    the question is first shown (or shown again after the parent moved on) they are the saved
    answer's. `dialog_data["multi"]` says which question the ticks are for."""
    ticks = manager.find(TICKS)
    multi = manager.dialog_data.get("multi")
    here = isinstance(multi, dict) and multi.get("rid") == view.id and multi.get("qid") == q.id
    if not here or "values" in multi:
        if here:  # a place saved before the Multiselect kept the ticks: its ticks as they were
            values = [str(v) for v in multi["values"]]
        else:
            saved = view.answers.get(q.id)
            values = [str(v) for v in saved] if isinstance(saved, list) else []
        await ticks.reset_checked()
        for value in values:
            await ticks.set_checked(value, True)
        manager.dialog_data["multi"] = {"rid": view.id, "qid": q.id}
    return [str(v) for v in ticks.get_checked()]


async def item_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ok": False,
        "guidance": False,
        "options": [],
        "choices": [],
        "is_multi": False,
        "is_file": False,
        "has_files": False,
        "can_skip": False,
        "at_review": False,
        "keep": False,
    }
    view = await draft_or_why_not(dialog_manager)
    if isinstance(view, str):
        return {**base, "text": view}
    item = item_of(view)
    if item is None:
        return {
            **base,
            "at_review": True,
            "text": f"<b>{escape(view.form.title)}</b>\nAll the questions are answered. "
            "Please check your answers.",
        }
    lines = [header(view, item), ""]
    if isinstance(item, Guidance):
        if item.title:
            lines.append(f"<b>{escape(item.title)}</b>")
        lines.append(escape(item.guidance.strip()))
        return {**base, "ok": True, "guidance": True, "text": "\n".join(lines)}
    q = item
    lines.append(f"<b>{escape(q.text)}</b>")
    if q.hint:
        lines.append(f"<i>{escape(q.hint)}</i>")
    if not q.required:
        lines.append("(You can skip this one.)")
    lines += ["", texts.prompt(q)]
    value = view.answers.get(q.id)
    if value not in (None, "", []):
        lines += ["", f"Your answer so far: {escape(shorten(format_answer(q, value), ANSWER_IN_REVIEW))}"]
    options: list[tuple[str, str]] = []
    if q.type is QuestionType.YES_NO:
        options = [("Yes", "yes"), ("No", "no")]
    elif q.type is QuestionType.ONE_CHOICE:
        options = [(o.label, o.value) for o in q.options or []]
    elif q.type is QuestionType.SEVERAL_CHOICES:
        await ticked(dialog_manager, view, q)
    return {
        **base,
        "ok": True,
        "text": "\n".join(lines),
        "options": options,
        "choices": [(o.label, o.value) for o in q.options or []] if q.type is QuestionType.SEVERAL_CHOICES else [],
        "is_multi": q.type is QuestionType.SEVERAL_CHOICES,
        "is_file": q.type is QuestionType.FILE,
        "has_files": q.type is QuestionType.FILE and bool(value),
        "can_skip": not q.required and q.type is not QuestionType.FILE,
        # already answered (they came Back): go on, keeping the answer
        "keep": value not in (None, "", [])
        and q.type not in (QuestionType.FILE, QuestionType.SEVERAL_CHOICES),
    }


def _offered(q: Question, value: str) -> bool:
    return value in {o.value for o in q.options or []}


async def _option(callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str) -> None:
    """One choice or yes/no: the press is the answer (the core checks it is one of the options)."""
    found = await current_question(manager, callback)
    if found is None:
        return
    view, q = found
    if q.type is QuestionType.SEVERAL_CHOICES and _offered(q, item_id):
        # a tick from a window shown before the Multiselect kept them
        await ticked(manager, view, q)
        ticks = manager.find(TICKS)
        await ticks.set_checked(item_id, not ticks.is_checked(item_id))
        return
    if q.type not in (QuestionType.ONE_CHOICE, QuestionType.YES_NO):
        await callback.answer(texts.choose_a_button(), show_alert=True)
        return
    await answer(manager, q, item_id)


async def _tick(callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str) -> None:
    """Before the Multiselect ticks or unticks a box: a box the question does not offer (a
    crafted button, or a window of another question) is refused, and nothing is ticked."""
    found = await current_question(manager, callback, QuestionType.SEVERAL_CHOICES)
    if found is None:
        raise CancelEventProcessing
    view, q = found
    if not _offered(q, item_id):
        await callback.answer(texts.choose_a_button(), show_alert=True)
        raise CancelEventProcessing
    await ticked(manager, view, q)  # the ticks are this question's


async def _multi_done(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    found = await current_question(manager, callback, QuestionType.SEVERAL_CHOICES)
    if found is None:
        return
    view, q = found
    await answer(manager, q, await ticked(manager, view, q))


async def _skip(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    found = await current_question(manager, callback)
    if found is None:
        return
    await answer(manager, found[1], None)


async def _next(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    view = await view_or_gone(manager)
    if view is None:
        return
    item = item_of(view)
    if item is None or (isinstance(item, Question) and item.type is QuestionType.FILE):
        await callback.answer(texts.choose_a_button(), show_alert=True)
        return
    await move(manager, "next", callback)  # the core refuses a required question left empty


async def _files_done(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    found = await current_question(manager, callback, QuestionType.FILE)
    if found is None:
        return
    view, q = found
    if q.required and not view.answers.get(q.id):
        await callback.answer(texts.file_needed(), show_alert=True)
        return
    await move(manager, "next", callback)


async def _remove_files(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    found = await current_question(manager, callback, QuestionType.FILE)
    if found is None:
        return
    q = found[1]
    keep_view(manager, None)
    try:
        await services_of(manager).form_filling.remove_files(chat_id_of(manager), rid_of(manager), q.id)
    except NotFound:
        await gone(manager)
        return
    except FormRefused as exc:
        await callback.answer(exc.message, show_alert=True)
        return
    await again(manager, texts.files_removed())


async def _back(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    view = await view_or_gone(manager)
    if view is None:
        return
    item = item_of(view)
    if item is not None and view.form.previous_item(item.id or "", view.answers) is None:
        await home(manager)  # the first item: back to the list (everything is saved)
        return
    await move(manager, "back", callback)


async def _to_review(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await move(manager, REVIEW, callback)


def item_window() -> Window:
    return Window(
        Format("{text}"),
        choices("opt", "options", _option),
        Column(
            Multiselect(
                Format("✅ {item[0]}"),
                Format("▫️ {item[0]}"),
                id=TICKS,
                item_id_getter=lambda x: x[1],
                items="choices",
                on_click=_tick,
                when="is_multi",
            )
        ),
        Button(Const("✅ Done"), id="multi_done", on_click=_multi_done, when="is_multi"),
        Button(Const("Next ➡️"), id="next", on_click=_next, when="guidance"),
        Button(Const("Next ➡️ (keep this answer)"), id="keep", on_click=_next, when="keep"),
        Button(Const("✅ Done with files"), id="files_done", on_click=_files_done, when="is_file"),
        Button(Const("🗑 Remove the files"), id="files_rm", on_click=_remove_files, when="has_files"),
        Button(Const("⏭ Skip"), id="skip", on_click=_skip, when="can_skip"),
        Button(Const("📋 Check your answers"), id="review", on_click=_to_review, when="at_review"),
        Row(
            Button(Const("⬅️ Back"), id="back", on_click=_back, when="ok"),
            Button(Const("📄 Create PDF"), id="pdf", on_click=create_pdf, when="ok"),
        ),
        Button(Const("💾 Save and close"), id="close", on_click=save_and_close, when="ok"),
        main_menu_button(),
        MessageInput(on_input),
        state=FormsSG.item,
        getter=item_getter,
    )

