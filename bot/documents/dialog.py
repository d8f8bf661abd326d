"""Documents to View in chat (the guide's "Documents to View"): the letters and plans the SEND
team published for a child, newest first, a page at a time; tapping one sends the file here.

Every window asks the core again and the core checks the chat's access each time: a child or
document id from a button (crafted or stale) is never trusted. `send_document_to_chat` is shared
with the Receive button under a new-document notice (bot/documents/handlers.py): it answers the
button press, sends the file (Telegram's copy reused once it has one, protected if the council
wants) and records the delivery.
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.kbd import Button, Row, Start
from aiogram_dialog.widgets.text import Const, Format

from bot import texts
from bot.dialogs.common import as_id, chat_id_of, choices, services_of, unexpected_input
from bot.dialogs.states import DashboardSG, DocumentsSG, MainMenuSG
from core.clock import format_date as format_day
from core.documents.service import DocumentPage, DocumentView, NotFound, Withdrawn
from core.services import Services
from core.timescales import format_date

log = logging.getLogger(__name__)

LABEL_LENGTH = 45  # characters of a description on a button

NOT_AVAILABLE = "That document is not available to you."
WITHDRAWN = "That document is no longer available. The SEND team withdrew it."
NOT_SENT = "Sorry, we could not send the document just now. Please try again in a minute."


# ---------------------------------------------------------------- sending a document (shared)


def caption(view: DocumentView) -> str:
    """What goes under the file in the chat."""
    return (
        f"📄 {escape(view.description)}\n"
        f"Published {format_day(view.published_at)} · Document date {format_date(view.document_date)}"
    )


async def send_document_to_chat(
    query: CallbackQuery, services: Services, bot: Bot, document_id: int
) -> tuple[str, int | None]:
    """Answer the press, then send the document into the chat it came from and record the
    delivery. Returns the outcome and the document's child (when the chat may see it):
    "sent", "withdrawn" (a document of this family, withdrawn; the press was answered kindly),
    "not_found" (not this chat's to see; answered with nothing else) or "failed" (answered with
    an apology)."""
    chat_id = query.message.chat.id if query.message else query.from_user.id
    docs = services.documents
    try:
        view, data = await docs.deliver(chat_id, document_id)
    except Withdrawn as exc:
        await query.answer(WITHDRAWN, show_alert=True)
        return "withdrawn", exc.child_id
    except NotFound:
        await query.answer(NOT_AVAILABLE, show_alert=True)
        return "not_found", None
    except OSError:
        log.exception("a stored document could not be read")
        await query.answer(texts.something_went_wrong(), show_alert=True)
        return "failed", None
    await query.answer()
    protect = services.portal.settings.product.protect_documents
    try:
        sent: Message | None = None
        if data is None and view.telegram_file_id:
            try:
                sent = await bot.send_document(
                    chat_id, view.telegram_file_id, caption=caption(view), protect_content=protect
                )
            except TelegramBadRequest:  # a stale id: upload the file instead
                view, data = await docs.deliver(chat_id, document_id, with_bytes=True)
        if sent is None:
            sent = await bot.send_document(
                chat_id,
                BufferedInputFile(data or b"", filename=view.filename),
                caption=caption(view),
                protect_content=protect,
            )
    except (TelegramAPIError, OSError, NotFound):
        log.warning("a document could not be sent", exc_info=True)
        await bot.send_message(chat_id, NOT_SENT)
        return "failed", view.child_id
    file_id = sent.document.file_id if sent.document is not None else None
    await docs.record_delivery(chat_id, document_id, file_id)
    return "sent", view.child_id


# ---------------------------------------------------------------- the list


def _child_id(manager: DialogManager) -> int | None:
    value = manager.dialog_data.get("child_id")
    return value if isinstance(value, int) else None


def _label(n: int, v: DocumentView) -> str:
    text = v.description
    if len(text) > LABEL_LENGTH:
        text = text[: LABEL_LENGTH - 1].rstrip() + "…"
    return f"{'🆕' if not v.received else '📄'} {n}. {text}"


def list_text(p: DocumentPage) -> str:
    lines = [f"📄 <b>Documents to View</b> for {escape(p.child_forename)}", ""]
    if not p.items:
        lines += [
            "No items to view.",
            "When the SEND team publishes a letter or a plan for "
            f"{escape(p.child_forename)}, it will be listed here and we will tell you in this chat.",
        ]
        return "\n".join(lines)
    first = p.page * p.per_page + 1
    for n, v in enumerate(p.items, start=first):
        line = (
            f"{n}. {escape(v.description)}\n"
            f"   Published {format_day(v.published_at)} · Document date {format_date(v.document_date)}"
        )
        if not v.received:
            line += " · 🆕 not yet received"
        lines += [line, ""]
    if p.pages > 1:
        lines.append(f"Page {p.page + 1} of {p.pages} ({p.total} documents)")
    lines.append("Tap a document below to receive it here.")
    return "\n".join(lines)


async def _on_start(start_data: Any, manager: DialogManager) -> None:
    data = start_data if isinstance(start_data, dict) else {}
    child_id = data.get("child_id")
    if isinstance(child_id, int):
        manager.dialog_data["child_id"] = child_id
    manager.dialog_data["page"] = 0


async def list_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    empty = {"items": [], "has_prev": False, "has_next": False, "page_label": ""}
    page = dialog_manager.dialog_data.get("page", 0)
    try:
        p = await services_of(dialog_manager).documents.page(
            chat_id_of(dialog_manager), _child_id(dialog_manager), page if isinstance(page, int) else 0
        )
    except NotFound:
        return {**empty, "text": texts.child_not_available()}
    dialog_manager.dialog_data["child_id"] = p.child_id
    dialog_manager.dialog_data["page"] = p.page
    first = p.page * p.per_page + 1
    return {
        "text": list_text(p),
        "items": [(_label(n, v), str(v.id)) for n, v in enumerate(p.items, start=first)],
        "has_prev": p.page > 0,
        "has_next": p.page + 1 < p.pages,
    }


def _turn(step: int):  # noqa: ANN202
    async def turn(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
        page = manager.dialog_data.get("page", 0)
        manager.dialog_data["page"] = max(0, (page if isinstance(page, int) else 0) + step)

    return turn


async def _pick(callback: CallbackQuery, _w: Any, manager: DialogManager, item_id: str) -> None:
    result, _child = await send_document_to_chat(
        callback, services_of(manager), manager.middleware_data["bot"], as_id(item_id)
    )
    if result in ("sent", "failed"):
        manager.show_mode = ShowMode.SEND  # the list again, below the file
    # "withdrawn" / "not_found": the press was answered; the list is shown again as it is now


async def _open_dashboard(_c: CallbackQuery, _b: Button, manager: DialogManager) -> None:
    await manager.start(
        DashboardSG.main, data={"child_id": _child_id(manager)}, mode=StartMode.RESET_STACK
    )


def documents_dialog() -> Dialog:
    return Dialog(
        Window(
            Format("{text}"),
            choices("doc", "items", _pick),
            Row(
                Button(Const("◀️ Previous"), id="prev", on_click=_turn(-1), when="has_prev"),
                Button(Const("Next ▶️"), id="next", on_click=_turn(1), when="has_next"),
            ),
            Button(Const("📊 Back to the SEND Dashboard"), id="dash", on_click=_open_dashboard),
            Start(Const("⬅️ Main menu"), id="mainmenu", state=MainMenuSG.menu, mode=StartMode.RESET_STACK),
            unexpected_input(),
            state=DocumentsSG.list,
            getter=list_getter,
        ),
        on_start=_on_start,
    )


__all__ = ["NOT_AVAILABLE", "WITHDRAWN", "documents_dialog", "list_text", "send_document_to_chat"]
