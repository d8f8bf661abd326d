"""/messages, and the Read and Reply buttons under a caseworker's message (`MessageButton`).

A button's message id is never trusted: the core looks it up within this chat's own thread, so a
crafted id (another family's message, or another carer's of the same child) is answered with
"That message is not available" and nothing else.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, ShowMode, StartMode

from bot.callbacks import MessageButton, usable_id
from bot.dialogs.states import MessagesSG
from bot.filters import inline
from bot.messages import texts
from core.errors import NotFound
from core.services import Services


def messages_router() -> Router:
    router = Router(name="messages")

    @router.message(Command("messages"), inline(F.chat.type == "private"))
    async def messages(message: Message, dialog_manager: DialogManager) -> None:
        await dialog_manager.start(
            MessagesSG.menu, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND
        )

    @router.callback_query(
        MessageButton.filter(F.action.in_({"read", "reply"})), inline(F.message.chat.type == "private")
    )
    async def from_notice(
        query: CallbackQuery, callback_data: MessageButton, dialog_manager: DialogManager, services: Services
    ) -> None:
        action = callback_data.action
        chat_id = query.message.chat.id
        try:
            message_id = usable_id(callback_data.id)
            if message_id is None:
                raise NotFound("no such message")
            view = await services.messages.open(chat_id, message_id)
        except NotFound:
            await query.answer(texts.message_not_available(), show_alert=True)
            await query.message.answer(texts.message_not_available())
            return
        await query.answer()
        if action == "read":
            data = {
                "child_id": view.child_id,
                "open_id": view.id,
                "box": "inbox" if view.direction == "to_parent" else "sent",
            }
            state = MessagesSG.read
        else:
            data = {
                "child_id": view.child_id,
                "reply_to": view.id,
                "type": view.type,
                "subject": view.subject,
            }
            state = MessagesSG.text
        await dialog_manager.start(
            state, data=data, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND
        )

    return router
