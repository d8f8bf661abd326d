"""Inbox and Sent Items (a page at a time, newest first), one message read with its files, and
Reply. Every window asks the core again, and the core checks the chat's access each time: a
message or file id from a button (crafted or not) is never trusted.

A long message is shown in several chat messages, each within Telegram's limit, with the window
(its buttons) below the last.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram_dialog import DialogManager, ShowMode, Window
from aiogram_dialog.widgets.kbd import Button, NextPage, PrevPage, Row, StubScroll, SwitchTo
from aiogram_dialog.widgets.text import Const, Format

from bot import texts as shared_texts
from bot.dialogs.common import as_id, chat_id_of, choices
from bot.dialogs.states import MessagesSG
from bot.messages import texts
from bot.messages.common import (
    BOXES,
    bot_of,
    button_window,
    child_id_of,
    child_name,
    page_of,
    services_of,
)
from bot.messages.draft import new_draft, reply_subject, start_draft
from core.clock import format_datetime
from core.errors import NotFound
from core.messages.service import MessageView
from notifications.chat_text import compose

log = logging.getLogger(__name__)

SUBJECT_IN_LIST = 40  # characters of a subject shown on a list button


def _line(v: MessageView) -> str:
    subject = (
        v.subject if len(v.subject) <= SUBJECT_IN_LIST else v.subject[: SUBJECT_IN_LIST - 1] + "…"
    )
    unread = "🔵 " if v.direction == "to_parent" and v.read_at is None else ""
    when = format_datetime(v.created_at)
    return f"{unread}{when} · {v.sender_name} · {v.recipient_name} · {subject}"


def _box_getter(box: str):  # noqa: ANN202
    async def getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
        empty = {"items": [], "pages": 1}
        child_id = child_id_of(dialog_manager)
        name = await child_name(dialog_manager)
        if child_id is None or name is None:
            return {**empty, "text": shared_texts.child_not_available()}
        scroll = dialog_manager.find(page_of(box))
        try:
            page = await services_of(dialog_manager).messages.page(
                chat_id_of(dialog_manager), child_id, box, await scroll.get_page()
            )
        except NotFound:
            return {**empty, "text": shared_texts.child_not_available()}
        if page.page != await scroll.get_page():  # fewer pages now: the last one
            await scroll.set_page(page.page)
        return {
            "text": texts.box_title(name, box, page.total, page.page, page.pages),
            "items": [(_line(v), str(v.id)) for v in page.items],
            "pages": page.pages,
        }

    return getter


async def _open_item(
    callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str
) -> None:
    try:
        view = await services_of(manager).messages.open(chat_id_of(manager), as_id(item_id))
    except NotFound:
        await callback.answer(texts.message_not_available(), show_alert=True)
        return
    await callback.answer()
    manager.dialog_data.update(
        open_id=view.id,
        child_id=view.child_id,
        box="inbox" if view.direction == "to_parent" else "sent",
    )
    await send_long(manager, view)
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
    return compose(header, view.body, footer)


async def send_long(manager: DialogManager, view: MessageView) -> None:
    """A message too long for one chat message: its parts go above the window."""
    parts = _read_parts(view)
    if len(parts) == 1:
        return
    for part in parts:
        await bot_of(manager).send_message(chat_id_of(manager), part)
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
        view = await services_of(dialog_manager).messages.open(
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
        view = await services_of(manager).messages.open(
            chat_id_of(manager), int(manager.dialog_data.get("open_id") or -1)
        )
    except NotFound:
        await callback.answer(texts.message_not_available(), show_alert=True)
        return
    manager.dialog_data["child_id"] = view.child_id
    manager.dialog_data["draft"] = new_draft(
        type=view.type, subject=reply_subject(view.subject), reply_to=view.id
    )
    await manager.switch_to(MessagesSG.text)


async def _send_file(
    callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str
) -> None:
    """One of the message's files, into the chat (Telegram's copy reused once it has one)."""
    svc = services_of(manager)
    try:
        found, data = await svc.messages.attachment_for_chat(
            chat_id_of(manager), int(manager.dialog_data.get("open_id") or -1), as_id(item_id)
        )
    except NotFound:
        await callback.answer(texts.message_not_available(), show_alert=True)
        return
    except OSError:
        log.exception("a stored file could not be read")
        await callback.answer(shared_texts.something_went_wrong(), show_alert=True)
        return
    await callback.answer()
    bot, chat_id = bot_of(manager), chat_id_of(manager)
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


# ---------------------------------------------------------------- the windows


def _not_first(pager: dict[str, Any], _w: Any, _m: DialogManager) -> bool:
    return pager["current_page"] > 0


def _not_last(pager: dict[str, Any], _w: Any, _m: DialogManager) -> bool:
    return pager["current_page"] + 1 < pager["pages"]


def _box_window(box: str) -> Window:
    scroll = page_of(box)
    return button_window(
        choices(f"{box}_item", "items", _open_item),
        StubScroll(scroll, pages="pages"),
        Row(
            PrevPage(scroll, f"{box}_prev", Const("⬅️ Previous"), when=_not_first),
            NextPage(scroll, f"{box}_next", Const("Next ➡️"), when=_not_last),
        ),
        SwitchTo(
            Const("✉️ New Message"), id=f"{box}_new", state=MessagesSG.type, on_click=start_draft
        ),
        SwitchTo(Const("⬅️ Back to Messages"), id=f"{box}_back", state=MessagesSG.menu),
        state=BOXES[box],
        getter=_box_getter(box),
    )


def reading_windows() -> list[Window]:
    return [
        _box_window("inbox"),
        _box_window("sent"),
        button_window(
            choices("file", "files", _send_file),
            Button(Const("↩️ Reply"), id="reply", on_click=_reply, when="can_reply"),
            Button(Format("{back_label}"), id="read_back", on_click=_back_to_box),
            SwitchTo(Const("⬅️ Back to Messages"), id="read_menu", state=MessagesSG.menu),
            state=MessagesSG.read,
            getter=read_getter,
        ),
    ]


__all__ = ["reading_windows", "send_long"]
