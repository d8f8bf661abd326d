"""Check your answers, then Submit: every answer shown, a page at a time, each with Change; the
guide's warning before Submit ("You will not be able to make any further changes"); the copy
of what was sent; and what happens next.

A review page is kept by aiogram-dialog's StubScroll (the pages are worked out from the answers
each time); a Change button brings back an index into the page's questions, and the core is
asked again where that question is.
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram_dialog import DialogManager, ShowMode, Window
from aiogram_dialog.widgets.kbd import Button, NextPage, PrevPage, Row, StubScroll, SwitchTo
from aiogram_dialog.widgets.text import Const, Format

from bot import texts as shared_texts
from bot.dialogs.common import as_id, chat_id_of, choices
from bot.dialogs.states import FormsSG
from bot.forms import texts
from bot.forms.common import (
    ANSWER_IN_REVIEW,
    CHANGE_LABEL,
    bot_of,
    button_window,
    create_pdf,
    draft_or_why_not,
    gone,
    keep_view,
    load_view,
    move,
    rid_of,
    save_and_close,
    services_of,
    shorten,
    to_dashboard,
    view_or_gone,
)
from core.clock import format_date as format_day
from core.errors import NotFound
from core.forms.answers import format_answer
from core.forms.base import FormRefused
from core.forms.questions import Question
from core.forms.responses import ResponseView
from core.timescales import format_date

log = logging.getLogger(__name__)

REVIEW_PAGE_CHARS = 3500  # a review page stays well within Telegram's 4,096
PAGES = "review_pages"  # the StubScroll that keeps the review's page


def review_pages(view: ResponseView) -> list[tuple[str, list[tuple[str, str]]]]:
    """The review as pages of (text, [(Change label, question id)]), each within the limit."""
    form = view.form
    title = f"<b>{escape(form.title)}</b>\nPlease check your answers."
    pages: list[tuple[str, list[tuple[str, str]]]] = []
    text, changes, step_shown = title, [], None
    for item in form.visible_items(view.answers):
        if not isinstance(item, Question):
            continue
        step = form.steps[form.step_of(item.id)].name
        shown = shorten(format_answer(item, view.answers.get(item.id)), ANSWER_IN_REVIEW, "… (in full in the PDF)")
        block = f"<b>{escape(item.text)}</b>\n{escape(shown)}"
        heading = f"\n\n<u>{escape(step)}</u>" if step != step_shown else ""
        if changes and len(text) + len(heading) + len(block) + 2 > REVIEW_PAGE_CHARS:
            pages.append((text, changes))
            text, changes = title + " (continued)", []
            heading = f"\n\n<u>{escape(step)}</u>"
        text += heading + "\n\n" + block
        step_shown = step
        changes.append((f"✏️ Change: {shorten(item.text, CHANGE_LABEL)}", item.id))
    pages.append((text, changes))
    return pages


async def review_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"ok": False, "changes": [], "pages": 1}
    view = await draft_or_why_not(dialog_manager)
    if isinstance(view, str):
        return {**base, "text": view}
    pages = review_pages(view)
    scroll = dialog_manager.find(PAGES)
    if "review_page" in dialog_manager.dialog_data:  # a place saved before the StubScroll kept it
        await scroll.set_page(int(dialog_manager.dialog_data.pop("review_page") or 0))
    page = min(max(await scroll.get_page(), 0), len(pages) - 1)
    await scroll.set_page(page)
    text, changes = pages[page]
    if len(pages) > 1:
        text += f"\n\nPage {page + 1} of {len(pages)}."
    return {
        **base,
        "ok": True,
        "text": text,
        # the button brings back an index into this page's questions; the core is asked again
        "changes": [(label, f"{page}.{i}") for i, (label, _qid) in enumerate(changes)],
        "pages": len(pages),
    }


async def _change(callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str) -> None:
    view = await view_or_gone(manager)
    if view is None:
        return
    pages = review_pages(view)
    page_s, _, index_s = item_id.partition(".")
    page, index = as_id(page_s), as_id(index_s)
    if not 0 <= page < len(pages) or not 0 <= index < len(pages[page][1]):
        await callback.answer(texts.choose_a_button(), show_alert=True)
        return
    await move(manager, pages[page][1][index][1], callback)


async def _review_back(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await move(manager, "back", callback)


async def _forget_refusal(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    manager.dialog_data.pop("refused", None)


# ---------------------------------------------------------------- Submit


async def confirm_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"ok": False, "missing": False, "missing_label": ""}
    try:
        view = await load_view(dialog_manager)
    except NotFound:
        return {**base, "text": texts.form_not_available()}
    missing = view.form.missing(view.answers)
    refused = dialog_manager.dialog_data.get("refused")
    if missing:
        text = refused or (
            "Some answers are still needed before you can submit:\n"
            + "\n".join(f"• {q.text}" for q in missing)
        )
        return {
            **base,
            "ok": True,
            "missing": True,
            "text": f"<b>{escape(view.form.title)}</b>\n\n{escape(text)}",
            "missing_label": f"✏️ Answer: {shorten(missing[0].text, CHANGE_LABEL)}",
        }
    return {**base, "ok": True, "text": f"<b>{escape(view.form.title)}</b>\n\n{texts.confirm_text()}"}


async def _first_missing(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    view = await view_or_gone(manager)
    if view is None:
        return
    missing = view.form.missing(view.answers)
    if not missing:
        await manager.switch_to(FormsSG.confirm)
        return
    manager.dialog_data.pop("refused", None)
    await move(manager, missing[0].id, callback)


async def _submit(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    svc = services_of(manager)
    chat_id = chat_id_of(manager)
    keep_view(manager, None)
    try:
        view = await svc.form_filling.submit(chat_id, rid_of(manager))
    except NotFound:
        await gone(manager)
        return
    except FormRefused as exc:
        manager.dialog_data["refused"] = exc.message
        return
    manager.dialog_data["child_id"] = view.child_id
    when = format_day(view.submitted_at) if view.submitted_at else ""
    await bot_of(manager).send_message(chat_id, texts.sent_with_copy(view.form.title, when))
    try:
        name, data = await svc.form_filling.pdf(chat_id, view.id)
    except (NotFound, OSError):
        log.exception("the copy of a submitted form could not be made")
        await bot_of(manager).send_message(chat_id, shared_texts.something_went_wrong())
    else:
        await bot_of(manager).send_document(
            chat_id,
            BufferedInputFile(data, filename=name),
            protect_content=svc.portal.settings.product.protect_documents,
        )
    await manager.switch_to(FormsSG.done, show_mode=ShowMode.SEND)


async def done_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    svc = services_of(dialog_manager)
    chat_id = chat_id_of(dialog_manager)
    try:
        view = await load_view(dialog_manager)
    except NotFound:
        return {"text": texts.form_not_available(), "has_case": False, "is_request": False}
    has_case = view.child_id is not None
    if view.form.creates_case:
        due = None
        if view.child_id is not None:
            ov = await svc.dashboard.overview(chat_id, view.child_id)
            if ov.dashboard is not None:
                due = next(
                    (k.due for k in ov.dashboard.key_dates if k.key == "decision_to_assess"), None
                )
        by = f" by {format_date(due)}" if due else " within 6 weeks"
        return {"text": texts.request_sent(by), "has_case": has_case, "is_request": True}
    return {"text": texts.form_sent(), "has_case": has_case, "is_request": False}


async def _home_is_actions(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    manager.dialog_data["home"] = "actions"


def _not_first(pager: dict[str, Any], _w: Any, _m: DialogManager) -> bool:
    return pager["current_page"] > 0


def _not_last(pager: dict[str, Any], _w: Any, _m: DialogManager) -> bool:
    return pager["current_page"] + 1 < pager["pages"]


def _can_submit(data: dict, _w: Any, _m: DialogManager) -> bool:
    return bool(data.get("ok")) and not data.get("missing")


def _not_request(data: dict, _w: Any, _m: DialogManager) -> bool:
    return bool(data.get("has_case")) and not data.get("is_request")


def review_windows() -> list[Window]:
    return [
        button_window(
            choices("change", "changes", _change),
            StubScroll(PAGES, pages="pages"),
            Row(
                PrevPage(PAGES, "r_prev", Const("◀️"), when=_not_first),
                NextPage(PAGES, "r_next", Const("▶️"), when=_not_last),
            ),
            Row(
                Button(Const("📄 Create PDF"), id="r_pdf", on_click=create_pdf, when="ok"),
                SwitchTo(
                    Const("✅ Submit"), id="r_submit", state=FormsSG.confirm, on_click=_forget_refusal, when="ok"
                ),
            ),
            Button(Const("⬅️ Back"), id="r_back", on_click=_review_back, when="ok"),
            Button(Const("💾 Save and close"), id="r_close", on_click=save_and_close, when="ok"),
            state=FormsSG.review,
            getter=review_getter,
        ),
        button_window(
            Button(Format("{missing_label}"), id="missing", on_click=_first_missing, when="missing"),
            Row(
                SwitchTo(
                    Const("✖️ Cancel"), id="c_cancel", state=FormsSG.review, on_click=_forget_refusal, when="ok"
                ),
                Button(Const("✅ Submit"), id="c_submit", on_click=_submit, when=_can_submit),
            ),
            state=FormsSG.confirm,
            getter=confirm_getter,
        ),
        button_window(
            Button(Const("📊 SEND Dashboard"), id="d_dash", on_click=to_dashboard, when="has_case"),
            SwitchTo(
                Const("✍️ Actions to Complete"),
                id="d_actions",
                state=FormsSG.actions,
                on_click=_home_is_actions,
                when=_not_request,
            ),
            state=FormsSG.done,
            getter=done_getter,
        ),
    ]
