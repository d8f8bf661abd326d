"""The test-facing side of the world: chats, simulated users and groups.

A :class:`SimUser` is both a person and their private chat with the bot (``chat id == user
id``); a :class:`SimGroup` is a supergroup, optionally a forum with topics. Both keep the bot's
messages (current versions) and let a test wait for them without sleeping: every wait is a
:class:`~standin.world.Signal` wait that re-checks its condition whenever the world changes.

Modules: ``chat`` (:class:`SimChat`, what every chat keeps and the waits), ``user``
(:class:`SimUser`, what a person does), ``group`` (:class:`SimGroup`, members and forum topics).
"""

from .chat import SimChat
from .group import TOPIC_COLORS, SimGroup
from .user import SimUser

__all__ = ["TOPIC_COLORS", "SimChat", "SimGroup", "SimUser"]
