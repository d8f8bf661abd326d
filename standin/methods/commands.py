"""The bot's commands and profile: set/get/deleteMyCommands (per scope and language),
set/getMyDescription, set/getMyShortDescription, set/getMyName, set/getChatMenuButton.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .. import checks
from ..checks import bad_request
from ..world import CommandScope
from .base import Methods, answers

if TYPE_CHECKING:
    from ..params import Handler, Params

__all__ = ["CommandMethods"]

SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)


class CommandMethods(Methods):
    """The bot's commands, description, short description, name and menu button."""

    def handlers(self) -> dict[str, Handler]:
        return {
            **super().handlers(),
            "setmydescription": self._setting("description"),
            "getmydescription": self._getting("description"),
            "setmyshortdescription": self._setting("short_description"),
            "getmyshortdescription": self._getting("short_description"),
            "setmyname": self._setting("name"),
            "getmyname": self._getting("name"),
        }

    def _scope_key(self, p: Params) -> CommandScope:
        scope = p.json("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in SCOPE_TYPES:
            raise bad_request("can't parse BotCommandScope")
        chat_id = user_id = None
        if scope["type"] in ("chat", "chat_administrators", "chat_member"):
            chat_id = self.world.resolve_chat(scope.get("chat_id")).id
        if scope["type"] == "chat_member":
            user_id = self.world.user(scope.get("user_id")).id
        language = p.str("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return CommandScope(scope["type"], chat_id, user_id, language)

    @answers("setMyCommands")
    async def set_my_commands(self, p: Params) -> Any:
        commands = checks.check_commands(p.json("commands"))
        key = self._scope_key(p)
        if commands:
            self.world.commands[key] = commands
        else:
            self.world.commands.pop(key, None)
        self.world.changed.notify()
        return True

    @answers("getMyCommands")
    async def get_my_commands(self, p: Params) -> Any:
        commands = self.world.commands.get(self._scope_key(p), [])
        return [{"command": c, "description": d} for c, d in commands]

    @answers("deleteMyCommands")
    async def delete_my_commands(self, p: Params) -> Any:
        self.world.commands.pop(self._scope_key(p), None)
        self.world.changed.notify()
        return True

    def _setting(self, field: str) -> Handler:
        async def handler(p: Params) -> Any:
            self.world.settings[(field, p.str("language_code") or "")] = p.str(field) or ""
            return True

        return handler

    def _getting(self, field: str) -> Handler:
        async def handler(p: Params) -> Any:
            value = self.world.settings.get((field, p.str("language_code") or ""), "")
            if field == "name" and not value:
                value = self.world.bot_name
            return {field: value}

        return handler

    @answers("setChatMenuButton")
    async def set_chat_menu_button(self, p: Params) -> Any:
        key = ("menu_button", p.int("chat_id"))
        self.world.settings[key] = p.json("menu_button") or {"type": "default"}
        return True

    @answers("getChatMenuButton")
    async def get_chat_menu_button(self, p: Params) -> Any:
        button = self.world.settings.get(("menu_button", p.int("chat_id")))
        return button or self.world.settings.get(("menu_button", None)) or {"type": "commands"}
