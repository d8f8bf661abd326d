"""What the forms dialogue's windows share: the response they show (asked of the core again each
time), going where the core says the parent is, saving an answer or moving, and the buttons on
several windows (Create PDF, Save and close, Main menu).

The dialogue keeps only the response id (and the child's); every id from a button is checked by
the core (NotFound: "That form is no longer available.").
"""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram import Bot
from aiogram.fsm.state import State
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram_dialog import DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.kbd import Button, Start
from aiogram_dialog.widgets.text import Const, Format

from bot.dialogs.common import chat_id_of, services_of, unexpected_input
from bot.dialogs.states import DashboardSG, FormsSG, MainMenuSG
from bot.forms import texts
from core.errors import NotFound
from core.forms.answers import AnswerRefused
from core.forms.base import FormRefused
from core.forms.progress import REVIEW
from core.forms.questions import Guidance, Question, QuestionType
from core.forms.responses import ResponseView

ANSWER_IN_REVIEW = 300  # characters of one answer shown in the review (the PDF has it whole)
CHANGE_LABEL = 40  # characters of a question on its "Change" button


def bot_of(manager: DialogManager) -> Bot:
    return manager.middleware_data["bot"]


def rid_of(manager: DialogManager) -> int:
    """The response the dialogue shows (-1 if none: the core then finds nothing)."""
    value = manager.dialog_data.get("rid")
    return value if isinstance(value, int) else -1


def child_id_of(manager: DialogManager) -> int | None:
    value = manager.dialog_data.get("child_id")
    return value if isinstance(value, int) else None


def shorten(text: str, limit: int, more: str = "…") -> str:
    return text if len(text) <= limit else text[: limit - 1] + more


def item_of(view: ResponseView) -> Guidance | Question | None:
    """The guidance page or question at the response's position (None: the review)."""
    if view.position == REVIEW:
        return None
    try:
        return view.form.item(view.position)
    except KeyError:
        return None


def question_of(view: ResponseView) -> Question | None:
    item = item_of(view)
    return item if isinstance(item, Question) else None


def header(view: ResponseView, item: Guidance | Question) -> str:
    """ "Parental Preference Form / Step 4 of 6: Name · Question 2 of 5"."""
    form = view.form
    step_no, steps, q_no, q_count = form.progress(item.id or "", view.answers)
    step_name = form.steps[step_no - 1].name
    line = f"Step {step_no} of {steps}: {escape(step_name)}"
    if isinstance(item, Question) and q_count:
        line += f" · Question {q_no} of {q_count}"
    return f"<b>{escape(form.title)}</b>\n{line}"


_VIEW = "ehcp_form_view"  # the response as last read or written while this update is handled


async def load_view(manager: DialogManager) -> ResponseView:
    """The response, read once per update: a handler and the window it shows next share it, and
    a change (an answer, a move, a file) leaves the view it returned for the window to show."""
    rid = rid_of(manager)
    kept = manager.middleware_data.get(_VIEW)
    if kept is not None and kept.id == rid:
        return kept
    view = await services_of(manager).form_filling.get(chat_id_of(manager), rid)
    manager.middleware_data[_VIEW] = view
    return view


def keep_view(manager: DialogManager, view: ResponseView | None) -> None:
    """The response as a change left it (None: read it again when next wanted)."""
    if view is None:
        manager.middleware_data.pop(_VIEW, None)
    else:
        manager.middleware_data[_VIEW] = view


async def gone(manager: DialogManager) -> None:
    """The form can no longer be seen (access ended, assignment withdrawn): say so, then the menu."""
    await bot_of(manager).send_message(chat_id_of(manager), texts.form_not_available())
    await manager.start(MainMenuSG.menu, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)


async def again(manager: DialogManager, text: str) -> None:
    """A kind answer, then the window (the question) again below it."""
    await bot_of(manager).send_message(chat_id_of(manager), text)
    manager.show_mode = ShowMode.SEND


def forget_ticks(manager: DialogManager) -> None:
    """Ticks not saved with Done are dropped when the parent moves on (see question.py)."""
    manager.dialog_data.pop("multi", None)


async def go(manager: DialogManager, view: ResponseView) -> None:
    """Show where the core says the parent is: the review, or the item at the position."""
    forget_ticks(manager)
    keep_view(manager, view)
    manager.dialog_data["rid"] = view.id
    if view.child_id is not None:
        manager.dialog_data["child_id"] = view.child_id
    target = FormsSG.review if view.position == REVIEW else FormsSG.item
    if manager.current_context().state != target:
        await manager.switch_to(target)


async def home(manager: DialogManager) -> None:
    """Back to where the parent came from: Actions to Complete, or the forms they can start."""
    forget_ticks(manager)
    target = FormsSG.start if manager.dialog_data.get("home") == "start" else FormsSG.actions
    await manager.switch_to(target)


async def draft_or_why_not(manager: DialogManager) -> ResponseView | str:
    """For a window that changes the answers: the response, or what to say instead (the form is
    no longer available, or it has been sent)."""
    try:
        view = await load_view(manager)
    except NotFound:
        return texts.form_not_available()
    return view if view.status == "draft" else texts.already_sent(view.form.title)


async def view_or_gone(manager: DialogManager) -> ResponseView | None:
    """The response, or None after saying it is gone (and showing the menu)."""
    try:
        return await load_view(manager)
    except NotFound:
        await gone(manager)
        return None


async def current_question(
    manager: DialogManager, callback: CallbackQuery | None = None, *of: QuestionType
) -> tuple[ResponseView, Question] | None:
    """The response and the question it is at, of one of the types `of` if given (None, after
    saying so: gone, or not such a question: "Please choose one of the buttons below.")."""
    view = await view_or_gone(manager)
    if view is None:
        return None
    q = question_of(view)
    if q is None or (of and q.type not in of):
        if callback is not None:
            await callback.answer(texts.choose_a_button(), show_alert=True)
        return None
    return view, q


async def answer(
    manager: DialogManager, q: Question, raw: str | list[str] | None, refused: str | None = None
) -> None:
    """Save one answer (the core checks it and moves on), or say why not and ask again."""
    try:
        view = await services_of(manager).form_filling.answer(chat_id_of(manager), rid_of(manager), q.id, raw)
    except NotFound:
        await gone(manager)
        return
    except AnswerRefused as exc:
        await again(manager, escape(refused or exc.message))
        return
    except FormRefused as exc:  # sent already (an old window)
        await again(manager, escape(exc.message))
        return
    await go(manager, view)


async def move(manager: DialogManager, to: str, callback: CallbackQuery) -> None:
    """Next, back, to the review or to a question (the core says where that is)."""
    try:
        view = await services_of(manager).form_filling.move(chat_id_of(manager), rid_of(manager), to)
    except NotFound:
        await gone(manager)
        return
    except (AnswerRefused, FormRefused) as exc:
        await callback.answer(exc.message, show_alert=True)
        return
    await go(manager, view)


async def create_pdf(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    svc = services_of(manager)
    try:
        name, data = await svc.form_filling.pdf(chat_id_of(manager), rid_of(manager))
    except NotFound:
        await gone(manager)
        return
    await bot_of(manager).send_document(
        chat_id_of(manager),
        BufferedInputFile(data, filename=name),
        caption=texts.pdf_caption(),
        protect_content=svc.portal.settings.product.protect_documents,
    )
    manager.show_mode = ShowMode.SEND  # the window again, below the PDF


async def save_and_close(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    own = manager.dialog_data.get("home") == "start"
    await bot_of(manager).send_message(chat_id_of(manager), texts.saved_and_closed(own))
    manager.show_mode = ShowMode.SEND
    await home(manager)


def main_menu_button() -> Start:
    return Start(
        Const("⬅️ Main menu"), id="formsmenu", state=MainMenuSG.menu, mode=StartMode.RESET_STACK
    )


def button_window(*widgets: Any, state: State, getter: Any) -> Window:
    """A window that shows the getter's text and waits for a button, with Main menu last
    (anything typed or sent is answered kindly, and the window shown again)."""
    return Window(
        Format("{text}"), *widgets, main_menu_button(), unexpected_input(), state=state, getter=getter
    )


async def to_dashboard(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await manager.start(DashboardSG.main, data={"child_id": child_id_of(manager)}, mode=StartMode.RESET_STACK)
