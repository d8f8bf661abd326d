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
from bot.dialogs.common import presses_of
from bot.filters import inline
from bot.menu import show_main_menu
from bot.questions.handlers import answer_question
from core.errors import NotFound, Refused

log = logging.getLogger(__name__)


def fallback_router() -> Router:
    router = Router(name="fallback")

    @router.message(inline(F.chat.type == "private"))
    async def unexpected(message: Message, dialog_manager: DialogManager) -> None:
        if await answer_question(message, dialog_manager):  # a logged-in parent's question
            return
        await message.answer(texts.unexpected_text())
        await show_main_menu(dialog_manager)

    @router.callback_query()
    async def unknown_button(query: CallbackQuery, dialog_manager: DialogManager) -> None:
        await stale(query, dialog_manager)

    return router


def foreign_button_router() -> Router:
    """Buttons that no dialogue made and no feature handles (old or forged): refused plainly.

    Included after the feature routers and before the dialogues, which would otherwise swallow
    such a press silently while a dialogue is open.
    """
    router = Router(name="foreign-buttons")

    @router.callback_query(inline(~F.data.contains(CB_SEP)))
    async def foreign(query: CallbackQuery, dialog_manager: DialogManager) -> None:
        log.info("refused a button press with unknown data")
        await stale(query, dialog_manager)

    return router


async def stale(query: CallbackQuery, dialog_manager: DialogManager) -> None:
    if _superseded(query, dialog_manager):
        # The second of two quick taps (or a tap that crossed the bot's edit): the window the
        # first one opened is working, so nothing is said, taken away or sent again.
        log.info("a press on a button no longer on its message: answered quietly")
        await query.answer()
        return
    await query.answer("That button no longer works.")
    if query.message is not None:
        if isinstance(query.message, Message):
            try:  # take the dead buttons away so they are not pressed again
                await query.message.edit_reply_markup(reply_markup=None)
            except TelegramBadRequest:
                pass
        await query.message.answer(texts.stale_button())
    await show_main_menu(dialog_manager)


def _superseded(query: CallbackQuery, dialog_manager: DialogManager) -> bool:
    """Was the pressed button already replaced when this press was handled?

    A callback query carries its message as it was when the button was pressed: a button not on
    it was never there (a forged press, refused plainly). A button that was there has since been
    replaced when the message now shows an open window (the first of two quick taps opened it
    in place), or when the same button on the same message was the chat's last press, pressed
    before that one was handled (a double tap whose first tap moved the window on, or closed it). Otherwise the button is
    truly dead: still on its message, its dialogue gone.
    """
    message = query.message
    if not isinstance(message, Message) or not _has_button(message, query.data):
        return False
    data = dialog_manager.middleware_data
    return _window_shown_on(message.message_id, dialog_manager) or presses_of(data).is_repeat(
        message.chat.id, message.message_id, query.data, data.get("update_received")
    )


def _has_button(message: Message, data: str | None) -> bool:
    markup = message.reply_markup
    if data is None or markup is None:
        return False
    return any(b.callback_data == data for row in markup.inline_keyboard for b in row)


def _window_shown_on(message_id: int, dialog_manager: DialogManager) -> bool:
    """True when an open dialogue's window is shown on this message now."""
    try:
        stack = dialog_manager.current_stack()
    except Exception:  # noqa: BLE001 - no dialogue context for this event: nothing is shown
        return False
    return stack is not None and not stack.empty() and stack.last_message_id == message_id


def register_error_handlers(dp) -> None:  # noqa: ANN001
    """A button whose dialogue no longer exists (aiogram-dialog raises these), and the core's
    refusals that no room caught."""

    async def on_stale_dialog(event: ErrorEvent, dialog_manager: DialogManager) -> None:
        log.info("stale dialogue button: %s", type(event.exception).__name__)
        update = event.update
        if update.callback_query is not None:
            await stale(update.callback_query, dialog_manager)
        elif update.message is not None:
            await update.message.answer(texts.stale_button())
            await show_main_menu(dialog_manager)

    dp.errors.register(on_stale_dialog, ExceptionTypeFilter(UnknownIntent, UnknownState, OutdatedIntent))

    async def on_refused(event: ErrorEvent) -> None:
        """The core's refusals that no room answered itself, answered in one place: a refusal
        says its own plain words; something not found (or not this chat's) says only that."""
        exc = event.exception
        text = exc.message if isinstance(exc, Refused) else texts.not_available()
        log.info("refused: %s", getattr(exc, "code", type(exc).__name__))
        update = event.update
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)

    dp.errors.register(on_refused, ExceptionTypeFilter(Refused, NotFound))
