"""A Telegram Bot API stand-in: a loopback HTTP server an unmodified aiogram ``Bot`` talks to.

It simulates users, private chats and (forum) supergroups, answers the Bot API methods the
product uses with faithful result objects, and reproduces Telegram's checks and errors (empty or
over-long texts, invalid buttons, edits that change nothing, blocked users, flood limits...).
Tests drive the simulated people and inspect what the bot did::

    from standin import BotAPIStandIn

    async with BotAPIStandIn(bot_username="ehcp_test_bot") as stand:
        bot = stand.make_bot()
        alice = stand.user(first_name="Alice")
        await alice.send("/start abc")
        msg = await alice.next_message(timeout=5)
        await alice.press(msg, "Yes")

Modules: ``stand`` (the facade), ``server`` (HTTP and method handlers), ``webhook`` (webhook
delivery), ``world`` (state, update queue, flood limits), ``actors`` (simulated users and
groups), ``checks`` (Telegram's validation rules), ``formatting`` (parse modes and entities),
``models`` (the records tests inspect).
"""

from .actors import SimChat, SimGroup, SimUser
from .checks import ApiError
from .models import (
    BotMessage,
    Button,
    CallbackAnswer,
    ChatAction,
    FileInfo,
    Keyboard,
    Limits,
    SentRecord,
    ServiceMessage,
    Stats,
    Topic,
    UserMessage,
    WebhookConfig,
)
from .stand import BotAPIStandIn
from .world import CommandScope

__all__ = [
    "ApiError",
    "BotAPIStandIn",
    "BotMessage",
    "Button",
    "CallbackAnswer",
    "ChatAction",
    "CommandScope",
    "FileInfo",
    "Keyboard",
    "Limits",
    "SentRecord",
    "ServiceMessage",
    "SimChat",
    "SimGroup",
    "SimUser",
    "Stats",
    "Topic",
    "UserMessage",
    "WebhookConfig",
]
