"""Showing the main menu from anywhere (a command, a stale button, unexpected text)."""

from __future__ import annotations

from aiogram.types import BotCommand
from aiogram_dialog import DialogManager, ShowMode, StartMode

from bot.dialogs.states import MainMenuSG

COMMANDS = [
    BotCommand(command="start", description="Main menu"),
    BotCommand(command="dashboard", description="SEND Dashboard: stage, key dates, caseworker"),
    BotCommand(command="settings", description="Reminders, and which child to show"),
    BotCommand(command="messages", description="Messages: New Message, Inbox and Sent Items"),
    BotCommand(command="help", description="What this chat can do, and how to reach a person"),
    BotCommand(command="privacy", description="What we keep and how to stop"),
    BotCommand(command="cancel", description="Stop what you are doing"),
    BotCommand(command="logout", description="Unlink this chat from your portal account"),
    BotCommand(command="deletemydata", description="Delete my data from this chat"),
]


async def show_main_menu(dialog_manager: DialogManager) -> None:
    """Start the main menu afresh, as a new message at the bottom of the chat."""
    await dialog_manager.start(MainMenuSG.menu, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)
