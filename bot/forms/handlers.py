"""The "Open the form" button under a form notice or reminder (`FormButton`).

The id is never trusted: the core opens the assignment only for this chat's own carer (and
while it is still asked for and not yet submitted), so a crafted id (another family's form, a
withdrawn one, not a number) gets "That form is not available to you." and nothing else.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery
from aiogram_dialog import DialogManager, ShowMode, StartMode

from bot.callbacks import FormButton, parse, usable_id
from bot.dialogs.states import FormsSG
from bot.filters import inline
from bot.forms import texts
from core.errors import NotFound
from core.services import Services

log = logging.getLogger(__name__)


def forms_router() -> Router:
    router = Router(name="forms")

    # Every "form:" press comes here, a forged or mangled one too: it is answered like another
    # family's form (nothing said about what exists).
    @router.callback_query(inline(F.data.startswith(FormButton.__prefix__ + ":")), inline(F.message.chat.type == "private"))
    async def open_from_notice(
        query: CallbackQuery, dialog_manager: DialogManager, services: Services
    ) -> None:
        button = parse(FormButton, query.data)
        assignment_id = usable_id(button.id) if button is not None and button.action == "open" else None
        if assignment_id is None:
            await query.answer(texts.form_not_available_to_you(), show_alert=True)
            return
        try:
            view = await services.form_filling.open_assignment(query.message.chat.id, assignment_id)
        except NotFound:
            log.info("refused a form button that is not this chat's")
            await query.answer(texts.form_not_available_to_you(), show_alert=True)
            return
        await query.answer()
        data = {"rid": view.id, "home": "actions"}
        if view.child_id is not None:
            data["child_id"] = view.child_id
        # Started in this update (so the dialogue's state is saved before the next press is
        # handled); aiogram-dialog takes the buttons off the message pressed, so the notice gets
        # its button back: the parent can open the form from it again later.
        await dialog_manager.start(
            FormsSG.item, data=data, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND
        )
        if query.message.reply_markup is not None:
            try:
                await query.message.edit_reply_markup(reply_markup=query.message.reply_markup)
            except TelegramBadRequest:  # unchanged, or too old to edit: nothing lost
                pass

    return router
