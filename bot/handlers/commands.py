"""/start (with an invitation's deep link or without), /help, /privacy, /cancel, /logout,
/deletemydata."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message
from aiogram_dialog import DialogManager, ShowMode, StartMode

from bot import texts
from bot.dialogs.states import DeleteDataSG, HelpSG, OnboardingSG
from bot.filters import inline
from bot.menu import show_main_menu
from bot.onboarding import texts as onboarding_texts
from core.config import Settings
from core.onboarding import CheckOutcome
from core.services import Services


def commands_router() -> Router:
    router = Router(name="commands")
    router.message.filter(inline(F.chat.type == "private"))

    @router.message(CommandStart())
    async def start(
        message: Message,
        command: CommandObject,
        dialog_manager: DialogManager,
        services: Services,
        settings: Settings,
    ) -> None:
        chat_id = message.chat.id
        if await services.chats.first_contact(chat_id):
            await message.answer(texts.privacy_notice(settings))
        if command.args:
            await _invitation_link(message, command.args, dialog_manager, services)
            return
        if await services.chat_links.account_for_chat(chat_id) is None:
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

    @router.message(Command("logout"))
    async def logout(message: Message, dialog_manager: DialogManager, services: Services) -> None:
        unlinked = await services.chat_links.unlink_chat(message.chat.id, "logout")
        await message.answer(onboarding_texts.logged_out(unlinked is not None))
        await show_main_menu(dialog_manager)

    @router.message(Command("deletemydata"))
    async def delete_my_data(message: Message, dialog_manager: DialogManager) -> None:
        await dialog_manager.start(DeleteDataSG.confirm, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)

    return router


async def _invitation_link(message: Message, token: str, manager: DialogManager, services: Services) -> None:
    check = await services.invitations.open_invitation_link(token, message.chat.id)
    if check.outcome is CheckOutcome.NEEDS_CODE:
        await manager.start(
            OnboardingSG.unique_code, data={"invitation_id": check.invitation_id},
            mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND,
        )
        return
    if check.outcome is CheckOutcome.ALREADY_VERIFIED:
        await message.answer(onboarding_texts.identity_confirmed(check.child_forename))
        linked = await services.chat_links.account_for_chat(message.chat.id) is not None
        await manager.start(
            OnboardingSG.invitations if linked else OnboardingSG.account,
            data={"invitation_id": check.invitation_id},
            mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND,
        )
        return
    await message.answer(onboarding_texts.invitation_link_problem(check.outcome))
    await show_main_menu(manager)
