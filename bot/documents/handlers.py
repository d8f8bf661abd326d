"""The Receive button under a new-document notice (`DocumentButton`).

A button's document id is never trusted: the core checks the chat's access to the document's
child, so a crafted id (another family's document, a withdrawn one, not a number) is answered
with "That document is not available to you." and nothing else. A document of this family that
has since been withdrawn is answered kindly, and Documents to View is shown as it is now.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery
from aiogram_dialog import DialogManager, ShowMode, StartMode

from bot.callbacks import DocumentButton, parse, usable_id
from bot.dialogs.common import RecentPresses
from bot.dialogs.states import DocumentsSG
from bot.documents.dialog import send_document_to_chat
from bot.filters import inline
from core.services import Services


def documents_router() -> Router:
    router = Router(name="documents")

    # Every "doc:" press comes here, a forged or mangled one too: it is answered like another
    # family's document (nothing said about what exists).
    @router.callback_query(inline(F.data.startswith(DocumentButton.__prefix__ + ":")), inline(F.message.chat.type == "private"))
    async def receive(
        query: CallbackQuery, dialog_manager: DialogManager, services: Services, bot: Bot,
        presses: RecentPresses, update_received: float | None = None,
    ) -> None:
        chat_id, message_id = query.message.chat.id, query.message.message_id
        if presses.is_repeat(chat_id, message_id, query.data, update_received):
            await query.answer()  # the second tap of a double tap: the file is on its way once
            return
        button = parse(DocumentButton, query.data)
        document_id = usable_id(button.id) if button is not None and button.action == "get" else None
        try:
            outcome, child_id = await send_document_to_chat(query, services, bot, document_id or -1)
        finally:
            presses.note(chat_id, message_id, query.data or "")
        if outcome == "withdrawn":
            await dialog_manager.start(
                DocumentsSG.list, data={"child_id": child_id}, mode=StartMode.RESET_STACK,
                show_mode=ShowMode.SEND,
            )

    return router
