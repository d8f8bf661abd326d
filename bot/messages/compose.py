"""New Message (and Reply): Message Type, Subject, the text in parts, files, a preview, Send.

The draft (type, subject, text, and the files the core has already stored) lives in the
dialogue state, which is kept in the database, so a restart keeps the parent's place. A file is
checked and stored the moment it arrives; the message is stored before the parent is told it
was sent, once, whatever is pressed twice (Send is idempotent by the draft's key).

A long text is taken in several chat messages (Telegram clients split a long paste into pieces
of 4096 characters): each piece is added to the draft.
"""

from __future__ import annotations

import logging
import mimetypes
from typing import Any

from aiogram.enums import ContentType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, ShowMode, Window
from aiogram_dialog.widgets.input import MessageInput, TextInput
from aiogram_dialog.widgets.kbd import Button, Row, SwitchTo
from aiogram_dialog.widgets.text import Const, Format

from bot import texts as shared_texts
from bot.dialogs.common import chat_id_of, choices
from bot.dialogs.states import MessagesSG
from bot.files import sniff_image
from bot.messages import texts
from bot.messages.common import (
    bot_of,
    button_window,
    child_id_of,
    child_name,
    from_the_top,
    kind_answer,
    services_of,
)
from bot.messages.draft import clear_note, draft_of, new_draft, no_draft, type_name
from core.errors import NotFound
from core.files import MAX_UPLOAD_BYTES, FileRefused
from core.messages.service import (
    MAX_ATTACHMENTS,
    MAX_BODY,
    MAX_SUBJECT,
    TYPE_NAMES,
    KeptFile,
    MessageType,
)
from core.text import has_visible_text, trim
from notifications.chat_text import compose

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- type, subject


async def type_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    name = await child_name(dialog_manager)
    forename = name.split(" ")[0] if name else "your child"
    return {
        "text": texts.choose_message_type(forename),
        "types": [(TYPE_NAMES[t], t.value) for t in MessageType],
    }


async def _type_chosen(
    callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str
) -> None:
    draft = draft_of(manager)
    if draft is None or item_id not in {t.value for t in MessageType}:
        await callback.answer(texts.message_type_not_known(), show_alert=True)
        return
    draft["type"] = item_id
    await manager.switch_to(MessagesSG.subject)


async def subject_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    draft = draft_of(dialog_manager) or {}
    return {"text": texts.ask_subject(type_name(draft.get("type")))}


def _subject(typed: str) -> str:
    """A subject as typed, on one line; refused (ValueError: what to say) if empty or too long."""
    subject = trim(" ".join(typed.split()))
    if not has_visible_text(subject):  # nothing, or only spaces and invisible characters
        raise ValueError(texts.subject_needed())
    if len(subject) > MAX_SUBJECT:
        raise ValueError(texts.subject_too_long(MAX_SUBJECT))
    return subject


async def _on_subject(message: Message, _w: Any, manager: DialogManager, subject: str) -> None:
    if await no_draft(message, manager):
        return
    draft = draft_of(manager)
    draft["subject"] = subject
    draft["note"] = None
    await manager.switch_to(MessagesSG.text)


async def _subject_refused(
    message: Message, _w: Any, manager: DialogManager, error: ValueError
) -> None:
    if not await no_draft(message, manager):
        await kind_answer(message, manager, str(error))


async def _not_subject(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    await kind_answer(message, manager, texts.subject_needed())


# ---------------------------------------------------------------- the text, in parts


async def text_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    draft = draft_of(dialog_manager) or new_draft()
    body = draft.get("body") or ""
    return {
        "text": texts.ask_text(
            type_name(draft.get("type")),
            draft.get("subject") or "",
            len(body),
            draft.get("note"),
            draft.get("reply_to") is not None,
        ),
        "has_body": bool(body.strip()),
    }


async def _on_text(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    if await no_draft(message, manager):
        return
    draft = draft_of(manager)
    piece = message.text or ""
    if not has_visible_text(piece):  # nothing, or only spaces and invisible characters
        await kind_answer(message, manager, texts.text_needed())
        return
    body = draft.get("body") or ""
    joined = f"{body}\n{piece}" if body else piece
    if len(joined.strip()) > MAX_BODY:
        await kind_answer(message, manager, texts.text_too_long(MAX_BODY, len(body)))
        return
    draft["body"] = joined
    draft["note"] = "added"


async def _not_text(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    await kind_answer(message, manager, texts.text_needed())


async def _text_done(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    draft = draft_of(manager)
    if draft is None or not (draft.get("body") or "").strip():
        await callback.answer(texts.text_needed(), show_alert=True)
        return
    draft["note"] = None
    await manager.switch_to(MessagesSG.files)


# ---------------------------------------------------------------- files


async def _take_file(message: Message, manager: DialogManager, draft: dict[str, Any]) -> str:
    """Check and store a photo or document now; the note to show (what was attached, or why not)."""
    files: list[dict[str, Any]] = draft.setdefault("files", [])
    if len(files) >= MAX_ATTACHMENTS:
        return texts.too_many_files(MAX_ATTACHMENTS)
    if message.photo:
        photo = message.photo[-1]
        file_id, size, filename, mime = (
            photo.file_id,
            photo.file_size,
            f"photo-{len(files) + 1}",
            None,
        )
    elif message.document:
        doc = message.document
        file_id, size, filename = doc.file_id, doc.file_size, doc.file_name or "document"
        mime = doc.mime_type or mimetypes.guess_type(filename)[0]
    else:
        return texts.text_needed()
    if size is not None and size > MAX_UPLOAD_BYTES:
        return shared_texts.file_too_big()  # Telegram would not give a bot a file this big
    try:
        got = await bot_of(manager).download(file_id)
    except (TelegramAPIError, OSError):
        log.warning("could not download a parent's file", exc_info=True)
        return shared_texts.file_not_fetched()
    data = got.read() if got is not None else b""
    if message.photo:
        mime = sniff_image(data)
    try:
        kept = await services_of(manager).messages.keep_upload(data, mime, filename, file_id)
    except FileRefused as exc:
        return texts.file_refused(exc.message)
    files.append(
        {
            "sha256": kept.sha256,
            "size": kept.size,
            "mime": kept.mime,
            "filename": kept.filename,
            "telegram_file_id": kept.telegram_file_id,
        }
    )
    return texts.file_kept(kept.filename)


async def files_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    draft = draft_of(dialog_manager) or new_draft()
    files = draft.get("files") or []
    return {
        "text": texts.ask_files(files, draft.get("note")),
        "continue_label": "➡️ Continue" if files else "➡️ No files",
    }


async def _on_file(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    """A photo or document, in the files step or while typing: attached; its caption joins the text."""
    if await no_draft(message, manager):
        return
    draft = draft_of(manager)
    count = len(draft.get("files") or [])
    draft["note"] = await _take_file(message, manager, draft)
    caption = (message.caption or "").strip()
    if caption and len(draft["files"]) > count:  # attached: its caption joins the text
        body = draft.get("body") or ""
        joined = f"{body}\n{caption}" if body else caption
        if len(joined) <= MAX_BODY:
            draft["body"] = joined


async def _not_file(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    await kind_answer(message, manager, texts.file_expected())


# ---------------------------------------------------------------- preview, Send, Cancel


def _preview_messages(draft: dict[str, Any]) -> list[str]:
    header = texts.preview_header(
        type_name(draft.get("type")),
        draft.get("subject") or "",
        draft.get("files") or [],
        draft.get("reply_to") is not None,
    )
    return compose(header, (draft.get("body") or "").strip(), texts.preview_footer())


async def _to_preview(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    draft = draft_of(manager)
    if (
        draft is None
        or not draft.get("type")
        or not draft.get("subject")
        or not (draft.get("body") or "").strip()
    ):
        await callback.answer(texts.nothing_to_send(), show_alert=True)
        return
    draft["note"] = None
    parts = _preview_messages(draft)
    if len(parts) > 1:  # a long message: shown above the window, each part within Telegram's limit
        await callback.answer()
        for part in parts:
            await bot_of(manager).send_message(chat_id_of(manager), part)
        manager.show_mode = ShowMode.SEND
    await manager.switch_to(MessagesSG.preview)


async def preview_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    draft = draft_of(dialog_manager)
    if draft is None:
        return {"text": texts.nothing_to_send(), "ready": False}
    parts = _preview_messages(draft)
    return {
        "text": parts[0] if len(parts) == 1 else texts.preview_long_footer(len(parts)),
        "ready": True,
    }


async def _send(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    svc = services_of(manager)
    draft = draft_of(manager)
    child_id = child_id_of(manager)
    if draft is None or child_id is None:
        await callback.answer(texts.nothing_to_send(), show_alert=True)
        return
    kept = [
        KeptFile(f["sha256"], f["size"], f["mime"], f["filename"], f.get("telegram_file_id"))
        for f in draft.get("files") or []
    ]
    try:
        await svc.messages.send_from_parent(
            chat_id_of(manager),
            child_id,
            type=draft.get("type") or "",
            subject=draft.get("subject") or "",
            body=draft.get("body") or "",
            kept=kept,
            reply_to_id=draft.get("reply_to"),
            client_key=draft.get("key"),
        )
    except NotFound:
        await callback.answer(shared_texts.child_not_available(), show_alert=True)
        return
    except ValueError as exc:  # the core's Refused (said as it is), or a type not known
        await callback.answer()
        await callback.message.answer(getattr(exc, "message", None) or texts.nothing_to_send())
        manager.show_mode = ShowMode.SEND
        return
    # Stored: now the parent is told, and shown Sent Items from the top.
    manager.dialog_data["draft"] = None
    await from_the_top(manager, "sent")
    await callback.answer()
    await callback.message.answer(texts.message_sent(svc.portal.settings.product.response_time))
    await manager.switch_to(MessagesSG.sent, show_mode=ShowMode.SEND)


async def _cancel(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    manager.dialog_data["draft"] = None
    await callback.answer()
    await callback.message.answer(texts.message_not_sent_cancelled())
    await manager.switch_to(MessagesSG.menu, show_mode=ShowMode.SEND)


# ---------------------------------------------------------------- the windows


def _cancel_button() -> Button:
    return Button(Const("✖️ Cancel"), id="cancel", on_click=_cancel)


def _back_to_text(widget_id: str, when: str | None = None) -> SwitchTo:
    return SwitchTo(
        Const("✏️ Add more text"), id=widget_id, state=MessagesSG.text, on_click=clear_note, when=when
    )


FILE_TYPES = [ContentType.DOCUMENT, ContentType.PHOTO]


def compose_windows() -> list[Window]:
    return [
        button_window(
            choices("type", "types", _type_chosen),
            _cancel_button(),
            state=MessagesSG.type,
            getter=type_getter,
        ),
        Window(
            Format("{text}"),
            SwitchTo(Const("⬅️ Back"), id="subject_back", state=MessagesSG.type),
            _cancel_button(),
            TextInput("subject", _subject, on_success=_on_subject, on_error=_subject_refused),
            MessageInput(_not_subject),
            state=MessagesSG.subject,
            getter=subject_getter,
        ),
        Window(
            Format("{text}"),
            Button(Const("✅ Done"), id="done", on_click=_text_done, when="has_body"),
            _cancel_button(),
            MessageInput(_on_text, content_types=ContentType.TEXT),
            MessageInput(_on_file, content_types=FILE_TYPES),
            MessageInput(_not_text),
            state=MessagesSG.text,
            getter=text_getter,
        ),
        Window(
            Format("{text}"),
            Button(Format("{continue_label}"), id="files_done", on_click=_to_preview),
            _back_to_text("files_text"),
            _cancel_button(),
            MessageInput(_on_file, content_types=FILE_TYPES),
            MessageInput(_not_file),
            state=MessagesSG.files,
            getter=files_getter,
        ),
        button_window(
            Row(
                _cancel_button(),
                Button(Const("📤 Send"), id="send", on_click=_send, when="ready"),
            ),
            _back_to_text("preview_text", when="ready"),
            SwitchTo(
                Const("📎 Add a file"),
                id="preview_files",
                state=MessagesSG.files,
                on_click=clear_note,
                when="ready",
            ),
            state=MessagesSG.preview,
            getter=preview_getter,
        ),
    ]


__all__ = ["compose_windows"]
