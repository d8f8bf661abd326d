"""/start, /help, /privacy, /cancel."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message
from aiogram_dialog import DialogManager, ShowMode, StartMode

from bot import texts
from bot.dialogs.states import HelpSG
from bot.menu import show_main_menu
from core.chats import ChatService
from core.config import Settings


def commands_router() -> Router:
    router = Router(name="commands")
    router.message.filter(F.chat.type == "private")

    @router.message(CommandStart())
    async def start(
        message: Message,
        command: CommandObject,
        dialog_manager: DialogManager,
        chats: ChatService,
        settings: Settings,
    ) -> None:
        if await chats.first_contact(message.chat.id):
            await message.answer(texts.privacy_notice(settings))
        await message.answer(texts.welcome())
        await show_main_menu(dialog_manager)

    @router.message(Command("help"))
    async def help_(message: Message, dialog_manager: DialogManager) -> None:
        await dialog_manager.start(HelpSG.main, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)

    @router.message(Command("privacy"))
    async def privacy(message: Message, dialog_manager: DialogManager) -> None:
        await dialog_manager.start(HelpSG.privacy, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)

    @router.message(Command("cancel"))
    async def cancel(message: Message, dialog_manager: DialogManager) -> None:
        await message.answer(texts.cancelled())
        await show_main_menu(dialog_manager)

    return router
