"""Kind answers to what the bot did not expect, and to buttons whose dialogue is gone."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, Message
from aiogram_dialog import DialogManager
from aiogram_dialog.api.exceptions import OutdatedIntent, UnknownIntent, UnknownState
from aiogram_dialog.utils import CB_SEP

from bot import texts
from bot.menu import show_main_menu

log = logging.getLogger(__name__)


def fallback_router() -> Router:
    router = Router(name="fallback")

    @router.message(F.chat.type == "private")
    async def unexpected(message: Message, dialog_manager: DialogManager) -> None:
        await message.answer(texts.unexpected_text())
        await show_main_menu(dialog_manager)

    @router.callback_query()
    async def unknown_button(query: CallbackQuery, dialog_manager: DialogManager) -> None:
        await _stale(query, dialog_manager)

    return router


def foreign_button_router() -> Router:
    """Buttons that no dialogue made and no feature handles (old or forged): refused plainly.

    Included after the feature routers and before the dialogues, which would otherwise swallow
    such a press silently while a dialogue is open.
    """
    router = Router(name="foreign-buttons")

    @router.callback_query(~F.data.contains(CB_SEP))
    async def foreign(query: CallbackQuery, dialog_manager: DialogManager) -> None:
        log.info("refused a button press with unknown data")
        await _stale(query, dialog_manager)

    return router


async def _stale(query: CallbackQuery, dialog_manager: DialogManager) -> None:
    await query.answer("That button no longer works.")
    if query.message is not None:
        try:  # take the dead buttons away so they are not pressed again
            await query.message.edit_reply_markup(reply_markup=None)
        except TelegramBadRequest:
            pass
        await query.message.answer(texts.stale_button())
    await show_main_menu(dialog_manager)


def register_error_handlers(dp) -> None:  # noqa: ANN001
    """aiogram-dialog raises these for a button whose dialogue no longer exists."""

    async def on_stale_dialog(event: ErrorEvent, dialog_manager: DialogManager) -> None:
        log.info("stale dialogue button: %s", type(event.exception).__name__)
        update = event.update
        if update.callback_query is not None:
            await _stale(update.callback_query, dialog_manager)
        elif update.message is not None:
            await update.message.answer(texts.stale_button())
            await show_main_menu(dialog_manager)

    dp.errors.register(on_stale_dialog, ExceptionTypeFilter(UnknownIntent, UnknownState, OutdatedIntent))
