"""Forms in chat (the guide's "Actions to Complete", and the request for an EHC needs assessment
from the main menu): a form asked one guidance page or one question at a time.

The core is the source of truth. The dialogue keeps only the response id (and the child's) and
asks `services.form_filling.get(...)` again in every window, showing the item at the response's
`position` (or the review). Every answer is saved by the core as it is given, so a parent who
leaves, or whose bot restarts, comes back exactly where they were: from Actions to Complete, from
the notice's "Open the form" button, or from the main menu. Every id from a button is checked by
the core (NotFound: "That form is no longer available.").

Only the ticks of a "several choices" question live in the dialogue until "Done" (then saved),
and the matches of a list search (the parent typed part of a name).
"""

from __future__ import annotations

import logging
import mimetypes
from html import escape
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Column, Row, Select, Start
from aiogram_dialog.widgets.text import Const, Format

from bot import texts
from bot.dialogs.common import as_id, choices, unexpected_input
from bot.dialogs.onboarding import chat_id_of
from bot.dialogs.states import DashboardSG, FormsSG, MainMenuSG
from core.clock import format_date as format_day
from core.errors import NotFound
from core.files import MAX_UPLOAD_BYTES
from core.forms.answers import AnswerRefused, format_answer
from core.forms.base import FormRefused
from core.forms.form import FormDefinition
from core.forms.lists import search_list
from core.forms.progress import REVIEW
from core.forms.questions import Guidance, Question, QuestionType
from core.forms.responses import ResponseView
from core.services import Services
from core.text import has_visible_text, trim
from core.timescales import format_date

log = logging.getLogger(__name__)

REVIEW_PAGE_CHARS = 3500  # a review page stays well within Telegram's 4,096
ANSWER_IN_REVIEW = 300  # characters of one answer shown in the review (the PDF has it whole)
CHANGE_LABEL = 40  # characters of a question on its "Change" button
MATCHES = 8  # list entries offered after a search
BUTTON_TYPES = (QuestionType.ONE_CHOICE, QuestionType.YES_NO, QuestionType.SEVERAL_CHOICES)
TYPED = (
    QuestionType.TEXT,
    QuestionType.LONG_TEXT,
    QuestionType.DATE,
    QuestionType.NUMBER,
    QuestionType.EMAIL,
    QuestionType.PHONE,
)


# ---------------------------------------------------------------- texts a parent reads


def form_not_available() -> str:
    return "That form is no longer available. Please choose an option below."


def choose_a_button() -> str:
    return "Please choose one of the buttons below."


def type_your_answer() -> str:
    return "Please type your answer."


def send_the_file() -> str:
    return "Please send the file itself (as a document or photo), or press Done with files."


def file_needed() -> str:
    return "This question needs at least one file. Please send it here first."


def pdf_caption() -> str:
    return "Your answers so far. Nothing has been sent to the SEND team."


def saved_and_closed(own: bool) -> str:
    where = "from the main menu" if own else "from Actions to Complete"
    return f"Your answers are saved. You can carry on any time {where}."


def file_received(name: str) -> str:
    return f"📎 Received {escape(name)}. Send another, or press Done with files."


def files_removed() -> str:
    return "The files were removed. You can send others."


def confirm_text() -> str:
    return (
        "Have you entered all the information you need to? You will not be able to make any "
        'further changes once you press the "Submit" button.'
    )


def _prompt(q: Question) -> str:
    t = q.type
    if t is QuestionType.ONE_CHOICE:
        return "Choose one of the buttons below."
    if t is QuestionType.YES_NO:
        return "Choose Yes or No below."
    if t is QuestionType.SEVERAL_CHOICES:
        return "Tap each one that applies (✅ marks your choices), then tap Done."
    if t is QuestionType.LIST_CHOICE:
        return "Type part of the name, and I will show you the ones that match."
    if t is QuestionType.FILE:
        return "Send the file here: a PDF, a Word document or a photo, up to 20 MB."
    if t is QuestionType.DATE:
        return "Type the date, for example 3/2/2027."
    if t is QuestionType.NUMBER:
        return "Type a number."
    if t is QuestionType.EMAIL:
        return "Type the email address."
    if t is QuestionType.PHONE:
        return "Type the phone number."
    return "Type your answer below."


# ---------------------------------------------------------------- helpers


def _services(manager: DialogManager) -> Services:
    return manager.middleware_data["services"]


def _bot(manager: DialogManager) -> Bot:
    return manager.middleware_data["bot"]


def _rid(manager: DialogManager) -> int:
    value = manager.dialog_data.get("rid")
    return value if isinstance(value, int) else -1


def _child_id(manager: DialogManager) -> int | None:
    value = manager.dialog_data.get("child_id")
    return value if isinstance(value, int) else None


def _answered(view: ResponseView) -> int:
    return sum(1 for v in view.answers.values() if v not in (None, "", []))


def _item(view: ResponseView) -> Guidance | Question | None:
    if view.position == REVIEW:
        return None
    try:
        return view.form.item(view.position)
    except KeyError:
        return None


def _question(view: ResponseView) -> Question | None:
    item = _item(view)
    return item if isinstance(item, Question) else None


async def _view(manager: DialogManager) -> ResponseView:
    return await _services(manager).form_filling.get(chat_id_of(manager), _rid(manager))


async def _gone(manager: DialogManager, callback: CallbackQuery | None = None) -> None:
    """The form can no longer be seen (access ended, assignment withdrawn): say so, then the menu."""
    await _bot(manager).send_message(chat_id_of(manager), form_not_available())
    await manager.start(MainMenuSG.menu, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)


async def _again(manager: DialogManager, text: str, callback: CallbackQuery | None = None) -> None:
    """A kind answer, then the window (the question) again below it."""
    await _bot(manager).send_message(chat_id_of(manager), text)
    manager.show_mode = ShowMode.SEND


async def _go(manager: DialogManager, view: ResponseView) -> None:
    """Show where the core says the parent is: the review, or the item at the position."""
    manager.dialog_data["rid"] = view.id
    if view.child_id is not None:
        manager.dialog_data["child_id"] = view.child_id
    target = FormsSG.review if view.position == REVIEW else FormsSG.item
    if manager.current_context().state != target:
        await manager.switch_to(target)


async def _home(manager: DialogManager) -> None:
    """Back to where the parent came from: Actions to Complete, or the forms they can start."""
    home = FormsSG.start if manager.dialog_data.get("home") == "start" else FormsSG.actions
    await manager.switch_to(home)


# ---------------------------------------------------------------- starting


async def _on_start(start_data: Any, manager: DialogManager) -> None:
    data = start_data if isinstance(start_data, dict) else {}
    if isinstance(data.get("child_id"), int):
        manager.dialog_data["child_id"] = data["child_id"]
    manager.dialog_data["home"] = "start" if data.get("home") == "start" else "actions"
    if manager.current_context().state == FormsSG.start:
        manager.dialog_data["home"] = "start"
    if isinstance(data.get("rid"), int):  # the notice's "Open the form": the core already said yes
        manager.dialog_data["rid"] = data["rid"]
        try:
            view = await _view(manager)
        except NotFound:
            return  # the window says it is not available
        await _go(manager, view)


# ---------------------------------------------------------------- Actions to Complete


async def actions_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    svc = _services(dialog_manager)
    chat_id = chat_id_of(dialog_manager)
    base: dict[str, Any] = {"items": []}
    ov = await svc.dashboard.overview(chat_id, _child_id(dialog_manager))
    if ov.account_id is None:
        return {**base, "text": texts.dashboard_needs_login()}
    d = ov.dashboard
    if d is None:
        if not ov.children:
            return {**base, "text": texts.dashboard_no_child()}
        return {**base, "text": texts.child_not_available()}
    dialog_manager.dialog_data["child_id"] = d.child_id
    try:
        actions = await svc.form_filling.actions(chat_id, d.child_id)
    except NotFound:
        return {**base, "text": texts.child_not_available()}
    lines = [f"✍️ <b>Actions to Complete</b> for {escape(d.child_forename)}"]
    if not actions:
        lines += ["", "No items to complete."]
    for a in actions:
        lines += ["", f"<b>{escape(a.title)}</b>"]
        lines.append(f"Due {format_date(a.due_date)}" if a.due_date else "No due date")
        if a.note:
            lines.append(f"Note from the SEND team: {escape(a.note)}")
        if a.response_id is not None:
            n = a.answered
            lines.append(f"Started: {n} answer{'' if n == 1 else 's'} saved")
    if actions:
        lines += ["", "Tap a form to open it. Every answer is saved as you give it."]
    return {
        **base,
        "text": "\n".join(lines),
        "items": [(f"📝 {a.title}", str(a.assignment_id)) for a in actions],
    }


async def _open_action(
    callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str
) -> None:
    try:
        view = await _services(manager).form_filling.open_assignment(chat_id_of(manager), as_id(item_id))
    except NotFound:
        await callback.answer(form_not_available(), show_alert=True)
        return
    manager.dialog_data["home"] = "actions"
    manager.dialog_data.pop("multi", None)
    await _go(manager, view)


async def _to_dashboard(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await manager.start(
        DashboardSG.main, data={"child_id": _child_id(manager)}, mode=StartMode.RESET_STACK
    )


# ---------------------------------------------------------------- forms a parent starts


def _own_forms(manager: DialogManager) -> list[FormDefinition]:
    forms = _services(manager).form_filling.parent_forms()
    return sorted(forms, key=lambda f: (not f.creates_case, f.title))


async def start_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    svc = _services(dialog_manager)
    chat_id = chat_id_of(dialog_manager)
    account = await svc.chat_links.account_for_chat(chat_id)
    if account is None:
        return {"text": texts.dashboard_needs_login(), "items": []}
    try:
        drafts = {d.form.id: d for d in await svc.form_filling.drafts(chat_id)}
    except NotFound:
        drafts = {}
    lines = [
        "📝 <b>Request an EHC needs assessment</b>",
        "",
        "An EHC needs assessment is when the council looks at your child's special educational "
        "needs and the help they need. You can ask for one here: the council must tell you "
        "within 6 weeks whether it will carry it out.",
    ]
    items = []
    for form in _own_forms(dialog_manager):
        draft = drafts.get(form.id)
        if form.description and not form.creates_case:
            lines += ["", f"<b>{escape(form.title)}</b>: {escape(form.description)}"]
        if draft is None:
            items.append((f"▶️ Start: {form.title}", form.id))
        else:
            n = _answered(draft)
            saved = f"{n} answer{'' if n == 1 else 's'} saved"
            items.append((f"▶️ Carry on ({saved}): {form.title}", form.id))
    lines += ["", "Every answer is saved as you give it. Nothing is sent until you press Submit."]
    return {"text": "\n".join(lines), "items": items}


async def _start_own(
    callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str
) -> None:
    try:
        view = await _services(manager).form_filling.start_own(chat_id_of(manager), item_id)
    except NotFound:
        await callback.answer(form_not_available(), show_alert=True)
        return
    manager.dialog_data["home"] = "start"
    manager.dialog_data.pop("multi", None)
    await _go(manager, view)


# ---------------------------------------------------------------- one item


def _header(view: ResponseView, item: Guidance | Question) -> str:
    form = view.form
    step_no, steps, q_no, q_count = form.progress(item.id or "", view.answers)
    step_name = form.steps[step_no - 1].name
    line = f"Step {step_no} of {steps}: {escape(step_name)}"
    if isinstance(item, Question) and q_count:
        line += f" · Question {q_no} of {q_count}"
    return f"<b>{escape(form.title)}</b>\n{line}"


def _multi(manager: DialogManager, view: ResponseView, q: Question) -> list[str]:
    """The ticks of a several-choices question: kept here until Done, first from the saved answer."""
    multi = manager.dialog_data.get("multi")
    if not isinstance(multi, dict) or multi.get("rid") != view.id or multi.get("qid") != q.id:
        saved = view.answers.get(q.id)
        values = [str(v) for v in saved] if isinstance(saved, list) else []
        multi = {"rid": view.id, "qid": q.id, "values": values}
        manager.dialog_data["multi"] = multi
    return list(multi["values"])


async def item_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ok": False,
        "guidance": False,
        "options": [],
        "is_multi": False,
        "is_file": False,
        "has_files": False,
        "can_skip": False,
        "at_review": False,
        "keep": False,
    }
    try:
        view = await _view(dialog_manager)
    except NotFound:
        return {**base, "text": form_not_available()}
    if view.status != "draft":
        return {**base, "text": f"Your {escape(view.form.title)} has already been sent."}
    item = _item(view)
    if item is None:
        return {
            **base,
            "at_review": True,
            "text": f"<b>{escape(view.form.title)}</b>\nAll the questions are answered. "
            "Please check your answers.",
        }
    lines = [_header(view, item), ""]
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
    lines += ["", _prompt(q)]
    value = view.answers.get(q.id)
    if value not in (None, "", []):
        shown = format_answer(q, value)
        if len(shown) > ANSWER_IN_REVIEW:
            shown = shown[: ANSWER_IN_REVIEW - 1] + "…"
        lines += ["", f"Your answer so far: {escape(shown)}"]
    options: list[tuple[str, str]] = []
    if q.type is QuestionType.YES_NO:
        options = [("Yes", "yes"), ("No", "no")]
    elif q.type is QuestionType.ONE_CHOICE:
        options = [(o.label, o.value) for o in q.options or []]
    elif q.type is QuestionType.SEVERAL_CHOICES:
        ticked = _multi(dialog_manager, view, q)
        options = [
            (("✅ " if o.value in ticked else "▫️ ") + o.label, o.value) for o in q.options or []
        ]
    return {
        **base,
        "ok": True,
        "text": "\n".join(lines),
        "options": options,
        "is_multi": q.type is QuestionType.SEVERAL_CHOICES,
        "is_file": q.type is QuestionType.FILE,
        "has_files": q.type is QuestionType.FILE and bool(value),
        "can_skip": not q.required and q.type is not QuestionType.FILE,
        # already answered (they came Back): go on, keeping the answer
        "keep": value not in (None, "", [])
        and q.type not in (QuestionType.FILE, QuestionType.SEVERAL_CHOICES),
    }


async def _answer(
    manager: DialogManager,
    q: Question,
    raw: str | list[str] | None,
    callback: CallbackQuery | None = None,
    refused: str | None = None,
) -> None:
    """Save one answer (the core checks it and moves on), or say why not and ask again."""
    try:
        view = await _services(manager).form_filling.answer(chat_id_of(manager), _rid(manager), q.id, raw)
    except NotFound:
        await _gone(manager, callback)
        return
    except AnswerRefused as exc:
        await _again(manager, escape(refused or exc.message), callback)
        return
    except FormRefused as exc:  # sent already (an old window)
        await _again(manager, escape(exc.message), callback)
        return
    manager.dialog_data.pop("multi", None)
    await _go(manager, view)


async def _current_question(
    manager: DialogManager, callback: CallbackQuery | None = None
) -> tuple[ResponseView, Question] | None:
    try:
        view = await _view(manager)
    except NotFound:
        await _gone(manager, callback)
        return None
    q = _question(view)
    if q is None:
        if callback is not None:
            await callback.answer(choose_a_button(), show_alert=True)
        return None
    return view, q


async def _option(callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str) -> None:
    found = await _current_question(manager, callback)
    if found is None:
        return
    view, q = found
    if q.type is QuestionType.SEVERAL_CHOICES:
        ticked = _multi(manager, view, q)
        if item_id not in {o.value for o in q.options or []}:
            await callback.answer(choose_a_button(), show_alert=True)
            return
        ticked = [v for v in ticked if v != item_id] if item_id in ticked else [*ticked, item_id]
        manager.dialog_data["multi"]["values"] = ticked
        return
    if q.type not in (QuestionType.ONE_CHOICE, QuestionType.YES_NO):
        await callback.answer(choose_a_button(), show_alert=True)
        return
    await _answer(manager, q, item_id, callback)


async def _multi_done(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    found = await _current_question(manager, callback)
    if found is None:
        return
    view, q = found
    if q.type is not QuestionType.SEVERAL_CHOICES:
        await callback.answer(choose_a_button(), show_alert=True)
        return
    await _answer(manager, q, _multi(manager, view, q), callback)


async def _skip(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    found = await _current_question(manager, callback)
    if found is None:
        return
    await _answer(manager, found[1], None, callback)


async def _move(manager: DialogManager, to: str, callback: CallbackQuery) -> None:
    try:
        view = await _services(manager).form_filling.move(chat_id_of(manager), _rid(manager), to)
    except NotFound:
        await _gone(manager, callback)
        return
    except (AnswerRefused, FormRefused) as exc:
        await callback.answer(exc.message, show_alert=True)
        return
    manager.dialog_data.pop("multi", None)
    await _go(manager, view)


async def _next(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    try:
        view = await _view(manager)
    except NotFound:
        await _gone(manager, callback)
        return
    item = _item(view)
    if item is None or (isinstance(item, Question) and item.type is QuestionType.FILE):
        await callback.answer(choose_a_button(), show_alert=True)
        return
    await _move(manager, "next", callback)  # the core refuses a required question left empty


async def _files_done(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    found = await _current_question(manager, callback)
    if found is None:
        return
    view, q = found
    if q.type is not QuestionType.FILE:
        await callback.answer(choose_a_button(), show_alert=True)
        return
    if q.required and not view.answers.get(q.id):
        await callback.answer(file_needed(), show_alert=True)
        return
    await _move(manager, "next", callback)


async def _remove_files(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    found = await _current_question(manager, callback)
    if found is None:
        return
    q = found[1]
    try:
        await _services(manager).form_filling.remove_files(chat_id_of(manager), _rid(manager), q.id)
    except NotFound:
        await _gone(manager, callback)
        return
    except FormRefused as exc:
        await callback.answer(exc.message, show_alert=True)
        return
    await _again(manager, files_removed(), callback)


async def _back(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    try:
        view = await _view(manager)
    except NotFound:
        await _gone(manager, callback)
        return
    item = _item(view)
    if item is not None and view.form.previous_item(item.id or "", view.answers) is None:
        # the first item: back to the list (everything is saved)
        manager.dialog_data.pop("multi", None)
        await _home(manager)
        return
    await _move(manager, "back", callback)


async def _create_pdf(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    svc = _services(manager)
    try:
        name, data = await svc.form_filling.pdf(chat_id_of(manager), _rid(manager))
    except NotFound:
        await _gone(manager, callback)
        return
    await _bot(manager).send_document(
        chat_id_of(manager),
        BufferedInputFile(data, filename=name),
        caption=pdf_caption(),
        protect_content=svc.portal.settings.product.protect_documents,
    )
    manager.show_mode = ShowMode.SEND  # the window again, below the PDF


async def _save_and_close(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    own = manager.dialog_data.get("home") == "start"
    await _bot(manager).send_message(chat_id_of(manager), saved_and_closed(own))
    manager.dialog_data.pop("multi", None)
    manager.show_mode = ShowMode.SEND
    await _home(manager)


async def _to_review(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await _move(manager, REVIEW, callback)


# ---------------------------------------------------------------- what the parent sends


def _sniff_image(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"  # Telegram sends photos as JPEG


def _kept_name(view: ResponseView, qid: str, fallback: str) -> str:
    files = view.answers.get(qid)
    if isinstance(files, list) and files and isinstance(files[-1], dict):
        return str(files[-1].get("filename") or fallback)
    return fallback


async def _take_file(message: Message, manager: DialogManager, q: Question) -> None:
    """Check the size Telegram declares, fetch the file, and let the core keep it (or refuse it)."""
    if message.photo:
        photo = message.photo[-1]
        file_id, size, filename, mime = photo.file_id, photo.file_size, None, None
    else:
        doc = message.document
        file_id, size, filename = doc.file_id, doc.file_size, doc.file_name or "document"
        mime = doc.mime_type or mimetypes.guess_type(filename)[0]
    if size is not None and size > MAX_UPLOAD_BYTES:
        await _again(manager, texts.file_too_big())  # Telegram would not give a bot a file this big
        return
    try:
        got = await _bot(manager).download(file_id)
    except (TelegramAPIError, OSError):
        log.warning("could not download a parent's file", exc_info=True)
        await _again(manager, texts.file_not_fetched())
        return
    data = got.read() if got is not None else b""
    if message.photo:
        mime = _sniff_image(data)
        filename = f"photo.{mime.split('/')[1].replace('jpeg', 'jpg')}"
    try:
        view = await _services(manager).form_filling.add_file(
            chat_id_of(manager), _rid(manager), q.id, data, mime, filename, file_id
        )
    except NotFound:
        await _gone(manager)
        return
    except (AnswerRefused, FormRefused) as exc:
        await _again(manager, escape(exc.message))
        return
    await _again(manager, file_received(_kept_name(view, q.id, filename or "the file")))


async def _on_input(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    """Anything the parent sends while a guidance page or a question is shown."""
    try:
        view = await _view(manager)
    except NotFound:
        await _gone(manager)
        return
    item = _item(view)
    if not isinstance(item, Question):
        await _again(manager, choose_a_button())
        return
    q = item
    is_file = bool(message.document or message.photo)
    text = message.text
    if q.type is QuestionType.FILE:
        if is_file:
            await _take_file(message, manager, q)
        else:
            await _again(manager, send_the_file())
        return
    if text is None:
        await _again(manager, type_your_answer() if q.type not in BUTTON_TYPES else choose_a_button())
        return
    if q.type is QuestionType.SEVERAL_CHOICES:
        await _again(manager, choose_a_button())
        return
    if q.type in (QuestionType.ONE_CHOICE, QuestionType.YES_NO):
        # A typed "yes" or an option's name is taken; anything else: the buttons, please.
        await _answer(manager, q, text, refused=choose_a_button())
        return
    if not has_visible_text(text):  # only spaces and invisible characters: nothing to read
        await _again(manager, type_your_answer() if q.type not in BUTTON_TYPES else choose_a_button())
        return
    if q.type is QuestionType.LIST_CHOICE:
        query = trim(" ".join(text.split()))[:100]
        if not query:
            await _again(manager, type_your_answer())
            return
        manager.dialog_data["query"] = query
        manager.dialog_data["matches"] = search_list(q, query, MATCHES)
        await manager.switch_to(FormsSG.search)
        return
    await _answer(manager, q, trim(text))  # typed types: the core checks and says what is wanted


# ---------------------------------------------------------------- a list search


async def search_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"ok": False, "matches": [], "other": False, "other_label": ""}
    try:
        view = await _view(dialog_manager)
    except NotFound:
        return {**base, "text": form_not_available()}
    q = _question(view)
    if q is None or q.type is not QuestionType.LIST_CHOICE:
        return {**base, "ok": True, "text": "Please go back to the question."}
    query = str(dialog_manager.dialog_data.get("query") or "")
    matches = [str(m) for m in dialog_manager.dialog_data.get("matches") or []]
    lines = [_header(view, q), "", f"<b>{escape(q.text)}</b>", ""]
    if matches:
        lines.append(f"These match “{escape(query)}”. Tap the right one:")
    else:
        lines.append(
            f"Nothing on the list matches “{escape(query)}”. Try fewer letters, or another "
            "part of the name. You can type it again here."
        )
    if q.allow_other:
        lines += ["", "If it is not on the list, tap Not on the list to use what you typed."]
    short = query if len(query) <= 30 else query[:29] + "…"
    return {
        **base,
        "ok": True,
        "text": "\n".join(lines),
        "matches": [(m, str(i)) for i, m in enumerate(matches)],
        "other": q.allow_other,
        "other_label": f"✏️ Not on the list: use “{short}”",
    }


async def _match_chosen(
    callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str
) -> None:
    found = await _current_question(manager, callback)
    if found is None:
        return
    q = found[1]
    matches = manager.dialog_data.get("matches") or []
    index = as_id(item_id)
    if q.type is not QuestionType.LIST_CHOICE or not 0 <= index < len(matches):
        await callback.answer(choose_a_button(), show_alert=True)
        return
    await _answer(manager, q, str(matches[index]), callback)


async def _not_on_list(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    found = await _current_question(manager, callback)
    if found is None:
        return
    q = found[1]
    query = str(manager.dialog_data.get("query") or "")
    if q.type is not QuestionType.LIST_CHOICE or not q.allow_other or not query:
        await callback.answer(choose_a_button(), show_alert=True)
        return
    await _answer(manager, q, query, callback)


async def _search_again(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await manager.switch_to(FormsSG.item)


async def _on_search_input(message: Message, w: MessageInput, manager: DialogManager) -> None:
    """Typing again on the search results: a new search (a file or sticker: type, please)."""
    await _on_input(message, w, manager)


# ---------------------------------------------------------------- the review


def _review_pages(view: ResponseView) -> list[tuple[str, list[tuple[str, str]]]]:
    """The review as pages of (text, [(Change label, question id)]), each within the limit."""
    form = view.form
    title = f"<b>{escape(form.title)}</b>\nPlease check your answers."
    pages: list[tuple[str, list[tuple[str, str]]]] = []
    text, changes, step_shown = title, [], None
    for item in form.visible_items(view.answers):
        if not isinstance(item, Question):
            continue
        step = form.steps[form.step_of(item.id)].name
        shown = format_answer(item, view.answers.get(item.id))
        if len(shown) > ANSWER_IN_REVIEW:
            shown = shown[: ANSWER_IN_REVIEW - 1] + "… (in full in the PDF)"
        block = f"<b>{escape(item.text)}</b>\n{escape(shown)}"
        heading = f"\n\n<u>{escape(step)}</u>" if step != step_shown else ""
        if changes and len(text) + len(heading) + len(block) + 2 > REVIEW_PAGE_CHARS:
            pages.append((text, changes))
            text, changes = title + " (continued)", []
            heading = f"\n\n<u>{escape(step)}</u>"
        text += heading + "\n\n" + block
        step_shown = step
        label = item.text if len(item.text) <= CHANGE_LABEL else item.text[: CHANGE_LABEL - 1] + "…"
        changes.append((f"✏️ Change: {label}", item.id))
    pages.append((text, changes))
    return pages


async def review_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ok": False, "changes": [], "has_prev": False, "has_next": False, "page_label": "",
    }
    try:
        view = await _view(dialog_manager)
    except NotFound:
        return {**base, "text": form_not_available()}
    if view.status != "draft":
        return {**base, "text": f"Your {escape(view.form.title)} has already been sent."}
    pages = _review_pages(view)
    page = min(max(int(dialog_manager.dialog_data.get("review_page") or 0), 0), len(pages) - 1)
    dialog_manager.dialog_data["review_page"] = page
    text, changes = pages[page]
    if len(pages) > 1:
        text += f"\n\nPage {page + 1} of {len(pages)}."
    return {
        **base,
        "ok": True,
        "text": text,
        # the button brings back an index into this page's questions; the core is asked again
        "changes": [(label, f"{page}.{i}") for i, (label, _qid) in enumerate(changes)],
        "has_prev": page > 0,
        "has_next": page + 1 < len(pages),
    }


async def _change(callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str) -> None:
    try:
        view = await _view(manager)
    except NotFound:
        await _gone(manager, callback)
        return
    pages = _review_pages(view)
    page_s, _, index_s = item_id.partition(".")
    page, index = as_id(page_s), as_id(index_s)
    if not 0 <= page < len(pages) or not 0 <= index < len(pages[page][1]):
        await callback.answer(choose_a_button(), show_alert=True)
        return
    await _move(manager, pages[page][1][index][1], callback)


def _turn(step: int):  # noqa: ANN202
    async def turn(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
        manager.dialog_data["review_page"] = max(
            0, int(manager.dialog_data.get("review_page") or 0) + step
        )

    return turn


async def _review_back(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await _move(manager, "back", callback)


async def _to_confirm(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    manager.dialog_data.pop("refused", None)
    await manager.switch_to(FormsSG.confirm)


# ---------------------------------------------------------------- Submit


async def confirm_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"ok": False, "missing": False, "missing_label": ""}
    try:
        view = await _view(dialog_manager)
    except NotFound:
        return {**base, "text": form_not_available()}
    missing = view.form.missing(view.answers)
    refused = dialog_manager.dialog_data.get("refused")
    if missing:
        first = missing[0].text
        label = first if len(first) <= CHANGE_LABEL else first[: CHANGE_LABEL - 1] + "…"
        text = refused or (
            "Some answers are still needed before you can submit:\n"
            + "\n".join(f"• {q.text}" for q in missing)
        )
        return {
            **base,
            "ok": True,
            "missing": True,
            "text": f"<b>{escape(view.form.title)}</b>\n\n{escape(text)}",
            "missing_label": f"✏️ Answer: {label}",
        }
    return {**base, "ok": True, "text": f"<b>{escape(view.form.title)}</b>\n\n{confirm_text()}"}


async def _first_missing(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    try:
        view = await _view(manager)
    except NotFound:
        await _gone(manager, callback)
        return
    missing = view.form.missing(view.answers)
    if not missing:
        await manager.switch_to(FormsSG.confirm)
        return
    manager.dialog_data.pop("refused", None)
    await _move(manager, missing[0].id, callback)


async def _submit(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    svc = _services(manager)
    chat_id = chat_id_of(manager)
    try:
        view = await svc.form_filling.submit(chat_id, _rid(manager))
    except NotFound:
        await _gone(manager, callback)
        return
    except FormRefused as exc:
        manager.dialog_data["refused"] = exc.message
        return
    manager.dialog_data["child_id"] = view.child_id
    when = format_day(view.submitted_at) if view.submitted_at else ""
    await _bot(manager).send_message(
        chat_id,
        f"✅ Thank you. Your {escape(view.form.title)} has been sent to the SEND team on {when}. "
        "Here is your copy.",
    )
    try:
        name, data = await svc.form_filling.pdf(chat_id, view.id)
    except (NotFound, OSError):
        log.exception("the copy of a submitted form could not be made")
        await _bot(manager).send_message(chat_id, texts.something_went_wrong())
    else:
        await _bot(manager).send_document(
            chat_id,
            BufferedInputFile(data, filename=name),
            protect_content=svc.portal.settings.product.protect_documents,
        )
    await manager.switch_to(FormsSG.done, show_mode=ShowMode.SEND)


async def done_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    svc = _services(dialog_manager)
    chat_id = chat_id_of(dialog_manager)
    try:
        view = await _view(dialog_manager)
    except NotFound:
        return {"text": form_not_available(), "has_case": False, "is_request": False}
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
        text = (
            "Your request for an EHC needs assessment has been sent. The council must decide"
            f"{by} whether to assess (6 weeks). You can follow it on the SEND Dashboard."
        )
        return {"text": text, "has_case": has_case, "is_request": True}
    return {
        "text": "It is no longer in Actions to Complete. The SEND team will be in touch.",
        "has_case": has_case,
        "is_request": False,
    }


async def _done_actions(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    manager.dialog_data["home"] = "actions"
    await manager.switch_to(FormsSG.actions)


# ---------------------------------------------------------------- the dialogue


def _menu() -> Start:
    return Start(
        Const("⬅️ Main menu"), id="formsmenu", state=MainMenuSG.menu, mode=StartMode.RESET_STACK
    )


def forms_dialog() -> Dialog:
    return Dialog(
        Window(
            Format("{text}"),
            choices("action", "items", _open_action),
            Button(Const("⬅️ Back to the SEND Dashboard"), id="dash", on_click=_to_dashboard),
            _menu(),
            unexpected_input(),
            state=FormsSG.actions,
            getter=actions_getter,
        ),
        Window(
            Format("{text}"),
            choices("own", "items", _start_own),
            _menu(),
            unexpected_input(),
            state=FormsSG.start,
            getter=start_getter,
        ),
        Window(
            Format("{text}"),
            Column(
                Select(
                    Format("{item[0]}"),
                    id="opt",
                    item_id_getter=lambda x: x[1],
                    items="options",
                    on_click=_option,
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
                Button(Const("📄 Create PDF"), id="pdf", on_click=_create_pdf, when="ok"),
            ),
            Button(Const("💾 Save and close"), id="close", on_click=_save_and_close, when="ok"),
            _menu(),
            MessageInput(_on_input),
            state=FormsSG.item,
            getter=item_getter,
        ),
        Window(
            Format("{text}"),
            Column(
                Select(
                    Format("{item[0]}"),
                    id="match",
                    item_id_getter=lambda x: x[1],
                    items="matches",
                    on_click=_match_chosen,
                )
            ),
            Button(Format("{other_label}"), id="other", on_click=_not_on_list, when="other"),
            Button(Const("🔎 Search again"), id="again", on_click=_search_again, when="ok"),
            Button(Const("💾 Save and close"), id="s_close", on_click=_save_and_close, when="ok"),
            _menu(),
            MessageInput(_on_search_input),
            state=FormsSG.search,
            getter=search_getter,
        ),
        Window(
            Format("{text}"),
            choices("change", "changes", _change),
            Row(
                Button(Const("◀️"), id="r_prev", on_click=_turn(-1), when="has_prev"),
                Button(Const("▶️"), id="r_next", on_click=_turn(1), when="has_next"),
            ),
            Row(
                Button(Const("📄 Create PDF"), id="r_pdf", on_click=_create_pdf, when="ok"),
                Button(Const("✅ Submit"), id="r_submit", on_click=_to_confirm, when="ok"),
            ),
            Button(Const("⬅️ Back"), id="r_back", on_click=_review_back, when="ok"),
            Button(Const("💾 Save and close"), id="r_close", on_click=_save_and_close, when="ok"),
            _menu(),
            unexpected_input(),
            state=FormsSG.review,
            getter=review_getter,
        ),
        Window(
            Format("{text}"),
            Button(Format("{missing_label}"), id="missing", on_click=_first_missing, when="missing"),
            Row(
                Button(
                    Const("✖️ Cancel"),
                    id="c_cancel",
                    on_click=_cancel_confirm,
                    when="ok",
                ),
                Button(Const("✅ Submit"), id="c_submit", on_click=_submit, when=_can_submit),
            ),
            _menu(),
            unexpected_input(),
            state=FormsSG.confirm,
            getter=confirm_getter,
        ),
        Window(
            Format("{text}"),
            Button(Const("📊 SEND Dashboard"), id="d_dash", on_click=_to_dashboard, when="has_case"),
            Button(
                Const("✍️ Actions to Complete"),
                id="d_actions",
                on_click=_done_actions,
                when=_not_request,
            ),
            _menu(),
            unexpected_input(),
            state=FormsSG.done,
            getter=done_getter,
        ),
        on_start=_on_start,
    )


def _can_submit(data: dict, _w: Any, _m: DialogManager) -> bool:
    return bool(data.get("ok")) and not data.get("missing")


def _not_request(data: dict, _w: Any, _m: DialogManager) -> bool:
    return bool(data.get("has_case")) and not data.get("is_request")


async def _cancel_confirm(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    manager.dialog_data.pop("refused", None)
    await manager.switch_to(FormsSG.review)


__all__ = ["forms_dialog"]
