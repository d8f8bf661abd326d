"""What the parent types or sends while a guidance page or a question is shown (and on the
results of a list search): a typed answer for the core to check, a file for a file question, or
part of a name to search a list for. Anything else gets a kind answer and the question again.
"""

from __future__ import annotations

import logging
import mimetypes
from html import escape

from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.input import MessageInput

from bot import texts as shared_texts
from bot.dialogs.common import chat_id_of
from bot.dialogs.states import FormsSG
from bot.files import sniff_image
from bot.forms import texts
from bot.forms.common import (
    again,
    answer,
    bot_of,
    gone,
    item_of,
    keep_view,
    rid_of,
    services_of,
    view_or_gone,
)
from core.errors import NotFound
from core.files import MAX_UPLOAD_BYTES
from core.forms.answers import AnswerRefused
from core.forms.base import FormRefused
from core.forms.lists import search_list
from core.forms.questions import Question, QuestionType
from core.forms.responses import ResponseView
from core.text import has_visible_text, trim

log = logging.getLogger(__name__)

MATCHES = 8  # list entries offered after a search
BUTTON_TYPES = (QuestionType.ONE_CHOICE, QuestionType.YES_NO, QuestionType.SEVERAL_CHOICES)


async def on_input(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    """Anything the parent sends while a guidance page or a question is shown."""
    view = await view_or_gone(manager)
    if view is None:
        return
    item = item_of(view)
    if not isinstance(item, Question):
        await again(manager, texts.choose_a_button())
        return
    q = item
    text = message.text
    if q.type is QuestionType.FILE:
        if message.document or message.photo:
            await _take_file(message, manager, q)
        else:
            await again(manager, texts.send_the_file())
        return
    if text is None:
        await again(manager, texts.type_your_answer() if q.type not in BUTTON_TYPES else texts.choose_a_button())
        return
    if q.type is QuestionType.SEVERAL_CHOICES:
        await again(manager, texts.choose_a_button())
        return
    if q.type in (QuestionType.ONE_CHOICE, QuestionType.YES_NO):
        # A typed "yes" or an option's name is taken; anything else: the buttons, please.
        await answer(manager, q, text, refused=texts.choose_a_button())
        return
    if not has_visible_text(text):  # only spaces and invisible characters: nothing to read
        await again(manager, texts.type_your_answer())
        return
    if q.type is QuestionType.LIST_CHOICE:
        await _search(manager, q, text)
        return
    await answer(manager, q, trim(text))  # typed types: the core checks and says what is wanted


async def _search(manager: DialogManager, q: Question, text: str) -> None:
    """Part of a name typed for a list question: its matches, shown as buttons (`search`)."""
    query = trim(" ".join(text.split()))[:100]
    if not query:
        await again(manager, texts.type_your_answer())
        return
    manager.dialog_data["query"] = query
    manager.dialog_data["matches"] = search_list(q, query, MATCHES)
    await manager.switch_to(FormsSG.search)


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
        await again(manager, shared_texts.file_too_big())  # Telegram would not give a bot a file this big
        return
    try:
        got = await bot_of(manager).download(file_id)
    except (TelegramAPIError, OSError):
        log.warning("could not download a parent's file", exc_info=True)
        await again(manager, shared_texts.file_not_fetched())
        return
    data = got.read() if got is not None else b""
    if message.photo:
        mime = sniff_image(data)
        filename = f"photo.{mime.split('/')[1].replace('jpeg', 'jpg')}"
    keep_view(manager, None)
    try:
        view = await services_of(manager).form_filling.add_file(
            chat_id_of(manager), rid_of(manager), q.id, data, mime, filename, file_id
        )
    except NotFound:
        await gone(manager)
        return
    except (AnswerRefused, FormRefused) as exc:
        await again(manager, escape(exc.message))
        return
    keep_view(manager, view)
    await again(manager, texts.file_received(_kept_name(view, q.id, filename or "the file")))
