"""Messages in chat (the guide's "Messages"): New Message, Inbox, Sent Items, read, Reply.

Every window asks the core again, and the core checks the chat's access each time: a child,
message or file id from a button (crafted or not) is never trusted. The draft (type, subject,
text, and the files the core has already stored) lives in the dialogue state, which is kept in
the database, so a restart keeps the parent's place. A file is checked and stored the moment it
arrives; the message is stored before the parent is told it was sent.

A long text is taken in several chat messages (Telegram clients split a long paste into pieces
of 4096 characters): each piece is added to the draft. A long message is shown in several chat
messages, each within Telegram's limit, with the window (its buttons) below the last.
"""

from __future__ import annotations

import logging
import mimetypes
import secrets
from typing import Any

from aiogram import Bot, F
from aiogram.enums import ContentType
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Row, Start, SwitchTo
from aiogram_dialog.widgets.text import Const, Format

from bot import texts
from bot.dialogs.common import as_id, choices, unexpected_input
from bot.dialogs.onboarding import chat_id_of
from bot.dialogs.states import DashboardSG, MainMenuSG, MessagesSG
from core.clock import format_datetime
from core.files import MAX_UPLOAD_BYTES, FileRefused
from core.messages.service import (
    MAX_ATTACHMENTS,
    MAX_BODY,
    MAX_SUBJECT,
    TYPE_NAMES,
    KeptFile,
    MessageRefused,
    MessageType,
    MessageView,
    NotFound,
)
from core.services import Services
from core.text import has_visible_text, trim

log = logging.getLogger(__name__)

BOXES = {"inbox": MessagesSG.inbox, "sent": MessagesSG.sent}
SUBJECT_IN_LIST = 40  # characters of a subject shown on a list button


def _services(manager: DialogManager) -> Services:
    return manager.middleware_data["services"]


def _bot(manager: DialogManager) -> Bot:
    return manager.middleware_data["bot"]


def _child_id(manager: DialogManager) -> int | None:
    value = manager.dialog_data.get("child_id")
    return value if isinstance(value, int) else None




def _type_name(value: str | None) -> str:
    try:
        return TYPE_NAMES[MessageType(value)]
    except ValueError:
        return ""


def _reply_subject(subject: str) -> str:
    subject = subject.strip()
    return (subject if subject.lower().startswith("re:") else f"Re: {subject}")[:MAX_SUBJECT]


def _new_draft(**values: Any) -> dict[str, Any]:
    draft = {"type": None, "subject": None, "body": "", "files": [], "reply_to": None, "note": None,
             "key": secrets.token_urlsafe(16)}  # Send is idempotent by this key
    draft.update(values)
    return draft


def _draft(manager: DialogManager) -> dict[str, Any] | None:
    draft = manager.dialog_data.get("draft")
    return draft if isinstance(draft, dict) else None


async def _kind_answer(message: Message, manager: DialogManager, text: str) -> None:
    """A plain answer to input the step did not expect, then the step's question again below it."""
    await message.answer(text)
    manager.show_mode = ShowMode.SEND


async def _child_name(manager: DialogManager) -> str | None:
    """The chosen child's name, if the chat may see the child (asked of the core once per child)."""
    child_id = _child_id(manager)
    if child_id is None:
        return None
    known = manager.dialog_data.get("child_name")
    if isinstance(known, list) and len(known) == 2 and known[0] == child_id:
        return known[1]
    ov = await _services(manager).dashboard.overview(chat_id_of(manager), child_id)
    if ov.dashboard is None:
        return None
    name = f"{ov.dashboard.child_forename} {ov.dashboard.child_surname}"
    manager.dialog_data["child_name"] = [child_id, name]
    return name


# ---------------------------------------------------------------- starting, and the child


async def _on_start(start_data: Any, manager: DialogManager) -> None:
    data = start_data if isinstance(start_data, dict) else {}
    child_id = data.get("child_id")
    if isinstance(child_id, int):
        manager.dialog_data["child_id"] = child_id
    if isinstance(data.get("open_id"), int):  # a notice's Read
        manager.dialog_data["open_id"] = data["open_id"]
        manager.dialog_data["box"] = data.get("box") if data.get("box") in BOXES else "inbox"
        try:
            view = await _services(manager).messages.open(chat_id_of(manager), data["open_id"])
        except NotFound:
            return  # the window says it is not available
        await _send_long(manager, view)
        return
    if isinstance(data.get("reply_to"), int):  # a notice's Reply
        manager.dialog_data["draft"] = _new_draft(
            type=data.get("type") or MessageType.GENERAL.value,
            subject=_reply_subject(str(data.get("subject") or "")),
            reply_to=data["reply_to"],
        )
        return
    if _child_id(manager) is None:
        ov = await _services(manager).dashboard.overview(chat_id_of(manager))
        if ov.dashboard is not None:
            manager.dialog_data["child_id"] = ov.dashboard.child_id
        elif ov.account_id is not None and len(ov.children) > 1:
            await manager.switch_to(MessagesSG.choose)


async def menu_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    svc = _services(dialog_manager)
    ov = await svc.dashboard.overview(chat_id_of(dialog_manager), _child_id(dialog_manager))
    base = {"has": False, "several": len(ov.children) > 1, "inbox_label": "📥 Inbox"}
    if ov.account_id is None:
        return {**base, "text": texts.messages_needs_login()}
    d = ov.dashboard
    if d is None:
        if not ov.children:
            return {**base, "text": texts.messages_no_child()}
        if _child_id(dialog_manager) is None:
            return {**base, "text": texts.messages_choose_child()}
        return {**base, "text": texts.child_not_available()}
    dialog_manager.dialog_data["child_id"] = d.child_id
    name = f"{d.child_forename} {d.child_surname}"
    dialog_manager.dialog_data["child_name"] = [d.child_id, name]
    unread = d.counts.messages
    return {
        **base,
        "has": True,
        "text": texts.messages_title(name, unread),
        "inbox_label": f"📥 Inbox ({unread} new)" if unread else "📥 Inbox",
    }


async def choose_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    ov = await _services(dialog_manager).dashboard.overview(chat_id_of(dialog_manager))
    return {
        "prompt": texts.messages_choose_child(),
        "children": [(f"{c.forename} {c.surname}", str(c.child_id)) for c in ov.children],
    }


async def _chosen(callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str) -> None:
    child_id = as_id(item_id)
    ov = await _services(manager).dashboard.overview(chat_id_of(manager), child_id)
    if ov.dashboard is None:
        await callback.answer(texts.child_not_available(), show_alert=True)
        return
    manager.dialog_data["child_id"] = child_id
    manager.dialog_data["child_name"] = [
        child_id,
        f"{ov.dashboard.child_forename} {ov.dashboard.child_surname}",
    ]
    await manager.switch_to(MessagesSG.menu)


async def _open_dashboard(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await manager.start(
        DashboardSG.main, data={"child_id": _child_id(manager)}, mode=StartMode.RESET_STACK
    )


# ---------------------------------------------------------------- New Message: type, subject, text


async def _new_message(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    manager.dialog_data["draft"] = _new_draft()
    await manager.switch_to(MessagesSG.type)


async def type_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    name = await _child_name(dialog_manager)
    forename = name.split(" ")[0] if name else "your child"
    return {
        "text": texts.choose_message_type(forename),
        "types": [(TYPE_NAMES[t], t.value) for t in MessageType],
    }


async def _type_chosen(
    callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str
) -> None:
    draft = _draft(manager)
    if draft is None or item_id not in {t.value for t in MessageType}:
        await callback.answer(texts.message_type_not_known(), show_alert=True)
        return
    draft["type"] = item_id
    await manager.switch_to(MessagesSG.subject)


async def subject_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    draft = _draft(dialog_manager) or {}
    return {"text": texts.ask_subject(_type_name(draft.get("type")))}


async def _on_subject(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    draft = _draft(manager)
    if draft is None:
        await _kind_answer(message, manager, texts.nothing_to_send())
        await manager.switch_to(MessagesSG.menu)
        return
    subject = trim(" ".join((message.text or "").split()))
    if not has_visible_text(subject):  # nothing, or only spaces and invisible characters
        await _kind_answer(message, manager, texts.subject_needed())
        return
    if len(subject) > MAX_SUBJECT:
        await _kind_answer(message, manager, texts.subject_too_long(MAX_SUBJECT))
        return
    draft["subject"] = subject
    draft["note"] = None
    await manager.switch_to(MessagesSG.text)


async def _not_subject(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    await _kind_answer(message, manager, texts.subject_needed())


async def text_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    draft = _draft(dialog_manager) or _new_draft()
    body = draft.get("body") or ""
    return {
        "text": texts.ask_text(
            _type_name(draft.get("type")),
            draft.get("subject") or "",
            len(body),
            draft.get("note"),
            draft.get("reply_to") is not None,
        ),
        "has_body": bool(body.strip()),
    }


async def _on_text(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    draft = _draft(manager)
    if draft is None:
        await _kind_answer(message, manager, texts.nothing_to_send())
        await manager.switch_to(MessagesSG.menu)
        return
    piece = message.text or ""
    if not has_visible_text(piece):  # nothing, or only spaces and invisible characters
        await _kind_answer(message, manager, texts.text_needed())
        return
    body = draft.get("body") or ""
    joined = f"{body}\n{piece}" if body else piece
    if len(joined.strip()) > MAX_BODY:
        await _kind_answer(message, manager, texts.text_too_long(MAX_BODY, len(body)))
        return
    draft["body"] = joined
    draft["note"] = "added"


async def _file_in_text(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    """A photo or document while typing: attached, as in the files step."""
    await _on_file(message, _w, manager)


async def _clear_note(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    draft = _draft(manager)
    if draft is not None:
        draft["note"] = None


async def _not_text(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    await _kind_answer(message, manager, texts.text_needed())


async def _text_done(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    draft = _draft(manager)
    if draft is None or not (draft.get("body") or "").strip():
        await callback.answer(texts.text_needed(), show_alert=True)
        return
    draft["note"] = None
    await manager.switch_to(MessagesSG.files)


# ---------------------------------------------------------------- files


def _sniff_image(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"  # Telegram sends photos as JPEG


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
        return texts.file_too_big()  # Telegram would not give a bot a file this big
    try:
        got = await _bot(manager).download(file_id)
    except (TelegramAPIError, OSError):
        log.warning("could not download a parent's file", exc_info=True)
        return texts.file_not_fetched()
    data = got.read() if got is not None else b""
    if message.photo:
        mime = _sniff_image(data)
    try:
        kept = await _services(manager).messages.keep_upload(data, mime, filename, file_id)
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
    draft = _draft(dialog_manager) or _new_draft()
    files = draft.get("files") or []
    return {
        "text": texts.ask_files(files, draft.get("note")),
        "continue_label": "➡️ Continue" if files else "➡️ No files",
    }


async def _on_file(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    draft = _draft(manager)
    if draft is None:
        await _kind_answer(message, manager, texts.nothing_to_send())
        await manager.switch_to(MessagesSG.menu)
        return
    count = len(draft.get("files") or [])
    draft["note"] = await _take_file(message, manager, draft)
    caption = (message.caption or "").strip()
    if caption and len(draft["files"]) > count:  # attached: its caption joins the text
        body = draft.get("body") or ""
        joined = f"{body}\n{caption}" if body else caption
        if len(joined) <= MAX_BODY:
            draft["body"] = joined


async def _not_file(message: Message, _w: MessageInput, manager: DialogManager) -> None:
    await _kind_answer(message, manager, texts.file_expected())


# ---------------------------------------------------------------- preview, Send, Cancel


def _preview_messages(draft: dict[str, Any]) -> list[str]:
    header = texts.preview_header(
        _type_name(draft.get("type")),
        draft.get("subject") or "",
        draft.get("files") or [],
        draft.get("reply_to") is not None,
    )
    return texts.compose(header, (draft.get("body") or "").strip(), texts.preview_footer())


async def _to_preview(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    draft = _draft(manager)
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
            await _bot(manager).send_message(chat_id_of(manager), part)
        manager.show_mode = ShowMode.SEND
    await manager.switch_to(MessagesSG.preview)


async def preview_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    draft = _draft(dialog_manager)
    if draft is None:
        return {"text": texts.nothing_to_send(), "ready": False}
    parts = _preview_messages(draft)
    return {
        "text": parts[0] if len(parts) == 1 else texts.preview_long_footer(len(parts)),
        "ready": True,
    }


async def _send(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    svc = _services(manager)
    draft = _draft(manager)
    child_id = _child_id(manager)
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
        await callback.answer(texts.child_not_available(), show_alert=True)
        return
    except (MessageRefused, ValueError) as exc:
        await callback.answer()
        await callback.message.answer(getattr(exc, "message", None) or texts.nothing_to_send())
        manager.show_mode = ShowMode.SEND
        return
    # Stored: now the parent is told.
    manager.dialog_data["draft"] = None
    manager.dialog_data["page_sent"] = 0
    await callback.answer()
    await callback.message.answer(texts.message_sent(svc.portal.settings.product.response_time))
    await manager.switch_to(MessagesSG.sent, show_mode=ShowMode.SEND)


async def _cancel(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    manager.dialog_data["draft"] = None
    await callback.answer()
    await callback.message.answer(texts.message_not_sent_cancelled())
    await manager.switch_to(MessagesSG.menu, show_mode=ShowMode.SEND)


# ---------------------------------------------------------------- Inbox and Sent Items


def _line(v: MessageView) -> str:
    subject = (
        v.subject if len(v.subject) <= SUBJECT_IN_LIST else v.subject[: SUBJECT_IN_LIST - 1] + "…"
    )
    unread = "🔵 " if v.direction == "to_parent" and v.read_at is None else ""
    when = format_datetime(v.created_at)
    return f"{unread}{when} · {v.sender_name} · {v.recipient_name} · {subject}"


def _box_getter(box: str):  # noqa: ANN202
    async def getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
        empty = {"items": [], "has_prev": False, "has_next": False}
        child_id = _child_id(dialog_manager)
        name = await _child_name(dialog_manager)
        if child_id is None or name is None:
            return {**empty, "text": texts.child_not_available()}
        try:
            page = await _services(dialog_manager).messages.page(
                chat_id_of(dialog_manager),
                child_id,
                box,
                dialog_manager.dialog_data.get(f"page_{box}", 0),
            )
        except NotFound:
            return {**empty, "text": texts.child_not_available()}
        dialog_manager.dialog_data[f"page_{box}"] = page.page
        return {
            "text": texts.box_title(name, box, page.total, page.page, page.pages),
            "items": [(_line(v), str(v.id)) for v in page.items],
            "has_prev": page.page > 0,
            "has_next": page.page + 1 < page.pages,
        }

    return getter


def _turn(box: str, step: int):  # noqa: ANN202
    async def turn(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
        manager.dialog_data[f"page_{box}"] = max(
            0, int(manager.dialog_data.get(f"page_{box}", 0)) + step
        )

    return turn


def _show_box(box: str):  # noqa: ANN202
    async def show(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
        manager.dialog_data[f"page_{box}"] = 0
        await manager.switch_to(BOXES[box])

    return show


async def _open_item(
    callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str
) -> None:
    try:
        view = await _services(manager).messages.open(chat_id_of(manager), as_id(item_id))
    except NotFound:
        await callback.answer(texts.message_not_available(), show_alert=True)
        return
    await callback.answer()
    manager.dialog_data.update(
        open_id=view.id,
        child_id=view.child_id,
        box="inbox" if view.direction == "to_parent" else "sent",
    )
    await _send_long(manager, view)
    await manager.switch_to(MessagesSG.read)


# ---------------------------------------------------------------- reading one message


def _read_parts(view: MessageView) -> list[str]:
    header = texts.message_header(
        view.type_name,
        view.subject,
        format_datetime(view.created_at),
        view.sender_name,
        view.recipient_name,
    )
    footer = texts.message_footer(len(view.attachments), view.direction == "to_parent")
    return texts.compose(header, view.body, footer)


async def _send_long(manager: DialogManager, view: MessageView) -> None:
    """A message too long for one chat message: its parts go above the window."""
    parts = _read_parts(view)
    if len(parts) == 1:
        return
    for part in parts:
        await _bot(manager).send_message(chat_id_of(manager), part)
    manager.show_mode = ShowMode.SEND


async def read_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    box = dialog_manager.dialog_data.get("box", "inbox")
    base = {
        "files": [],
        "can_reply": False,
        "back_label": "⬅️ Back to Inbox" if box == "inbox" else "⬅️ Back to Sent Items",
    }
    open_id = dialog_manager.dialog_data.get("open_id")
    try:
        view = await _services(dialog_manager).messages.open(
            chat_id_of(dialog_manager), int(open_id or -1)
        )
    except NotFound:
        return {**base, "text": texts.message_not_available()}
    parts = _read_parts(view)
    can_reply = view.direction == "to_parent"
    text = (
        parts[0]
        if len(parts) == 1
        else texts.message_long_footer(
            view.sender_name, view.subject, len(parts), len(view.attachments), can_reply
        )
    )
    return {
        **base,
        "text": text,
        "can_reply": can_reply,
        "files": [
            (f"📎 {a.filename} ({texts.file_size(a.size)})", str(a.id)) for a in view.attachments
        ],
    }


async def _back_to_box(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    box = manager.dialog_data.get("box", "inbox")
    await manager.switch_to(BOXES.get(box, MessagesSG.inbox))


async def _reply(callback: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    try:
        view = await _services(manager).messages.open(
            chat_id_of(manager), int(manager.dialog_data.get("open_id") or -1)
        )
    except NotFound:
        await callback.answer(texts.message_not_available(), show_alert=True)
        return
    manager.dialog_data["child_id"] = view.child_id
    manager.dialog_data["draft"] = _new_draft(
        type=view.type, subject=_reply_subject(view.subject), reply_to=view.id
    )
    await manager.switch_to(MessagesSG.text)


async def _send_file(
    callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str
) -> None:
    """One of the message's files, into the chat (Telegram's copy reused once it has one)."""
    svc = _services(manager)
    try:
        found, data = await svc.messages.attachment_for_chat(
            chat_id_of(manager), int(manager.dialog_data.get("open_id") or -1), as_id(item_id)
        )
    except NotFound:
        await callback.answer(texts.message_not_available(), show_alert=True)
        return
    except OSError:
        log.exception("a stored file could not be read")
        await callback.answer(texts.something_went_wrong(), show_alert=True)
        return
    await callback.answer()
    bot, chat_id = _bot(manager), chat_id_of(manager)
    if found.telegram_file_id:
        try:
            await bot.send_document(chat_id, found.telegram_file_id)
            manager.show_mode = ShowMode.SEND
            return
        except TelegramBadRequest:
            pass  # not usable as a document (a photo's id, or a stale one): upload the file
    sent = await bot.send_document(chat_id, BufferedInputFile(data, filename=found.filename))
    if sent.document is not None and sent.document.file_id != found.telegram_file_id:
        await svc.messages.remember_file_id(found.id, sent.document.file_id)
    manager.show_mode = ShowMode.SEND


# ---------------------------------------------------------------- the dialogue


def _menu() -> Start:
    return Start(
        Const("⬅️ Main menu"), id="mainmenu", state=MainMenuSG.menu, mode=StartMode.RESET_STACK
    )


def _cancel_button() -> Button:
    return Button(Const("✖️ Cancel"), id="cancel", on_click=_cancel)


def _box_window(box: str) -> Window:
    return Window(
        Format("{text}"),
        choices(f"{box}_item", "items", _open_item),
        Row(
            Button(Const("⬅️ Previous"), id=f"{box}_prev", on_click=_turn(box, -1), when="has_prev"),
            Button(Const("Next ➡️"), id=f"{box}_next", on_click=_turn(box, 1), when="has_next"),
        ),
        Button(Const("✉️ New Message"), id=f"{box}_new", on_click=_new_message),
        SwitchTo(Const("⬅️ Back to Messages"), id=f"{box}_back", state=MessagesSG.menu),
        unexpected_input(),
        state=BOXES[box],
        getter=_box_getter(box),
    )


def messages_dialog() -> Dialog:
    return Dialog(
        Window(
            Format("{text}"),
            Button(Const("✉️ New Message"), id="new", on_click=_new_message, when="has"),
            Button(Format("{inbox_label}"), id="inbox", on_click=_show_box("inbox"), when="has"),
            Button(Const("📤 Sent Items"), id="sent", on_click=_show_box("sent"), when="has"),
            SwitchTo(
                Const("🔁 Switch child"), id="switch", state=MessagesSG.choose, when=F["several"]
            ),
            Button(Const("📊 SEND Dashboard"), id="dash", on_click=_open_dashboard, when="has"),
            _menu(),
            unexpected_input(),
            state=MessagesSG.menu,
            getter=menu_getter,
        ),
        Window(
            Format("{prompt}"),
            choices("child", "children", _chosen, "👤 {item[0]}"),
            _menu(),
            unexpected_input(),
            state=MessagesSG.choose,
            getter=choose_getter,
        ),
        Window(
            Format("{text}"),
            choices("type", "types", _type_chosen),
            _cancel_button(),
            unexpected_input(),
            state=MessagesSG.type,
            getter=type_getter,
        ),
        Window(
            Format("{text}"),
            SwitchTo(Const("⬅️ Back"), id="subject_back", state=MessagesSG.type),
            _cancel_button(),
            MessageInput(_on_subject, content_types=ContentType.TEXT),
            MessageInput(_not_subject),
            state=MessagesSG.subject,
            getter=subject_getter,
        ),
        Window(
            Format("{text}"),
            Button(Const("✅ Done"), id="done", on_click=_text_done, when="has_body"),
            _cancel_button(),
            MessageInput(_on_text, content_types=ContentType.TEXT),
            MessageInput(_file_in_text, content_types=[ContentType.DOCUMENT, ContentType.PHOTO]),
            MessageInput(_not_text),
            state=MessagesSG.text,
            getter=text_getter,
        ),
        Window(
            Format("{text}"),
            Button(Format("{continue_label}"), id="files_done", on_click=_to_preview),
            SwitchTo(
                Const("✏️ Add more text"),
                id="files_text",
                state=MessagesSG.text,
                on_click=_clear_note,
            ),
            _cancel_button(),
            MessageInput(_on_file, content_types=[ContentType.DOCUMENT, ContentType.PHOTO]),
            MessageInput(_not_file),
            state=MessagesSG.files,
            getter=files_getter,
        ),
        Window(
            Format("{text}"),
            Row(
                _cancel_button(),
                Button(Const("📤 Send"), id="send", on_click=_send, when="ready"),
            ),
            SwitchTo(
                Const("✏️ Add more text"),
                id="preview_text",
                state=MessagesSG.text,
                on_click=_clear_note,
                when="ready",
            ),
            SwitchTo(
                Const("📎 Add a file"),
                id="preview_files",
                state=MessagesSG.files,
                on_click=_clear_note,
                when="ready",
            ),
            unexpected_input(),
            state=MessagesSG.preview,
            getter=preview_getter,
        ),
        _box_window("inbox"),
        _box_window("sent"),
        Window(
            Format("{text}"),
            choices("file", "files", _send_file),
            Button(Const("↩️ Reply"), id="reply", on_click=_reply, when="can_reply"),
            Button(Format("{back_label}"), id="read_back", on_click=_back_to_box),
            SwitchTo(Const("⬅️ Back to Messages"), id="read_menu", state=MessagesSG.menu),
            unexpected_input(),
            state=MessagesSG.read,
            getter=read_getter,
        ),
        on_start=_on_start,
    )


__all__ = ["messages_dialog"]
