"""Filters checked on the event loop.

aiogram runs a filter that is a plain function, a bare magic filter (`F.chat.type == "private"`)
among them, in a worker thread for every check (`asyncio.to_thread`): two thread hops per filter
per update, which under a crowd cost more than the check itself (issue 13). A `Filter` subclass
is awaited in place, so every magic filter the bot registers goes through `inline(...)`;
tests/test_house.py fails if a bare one is registered.
"""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from magic_filter import MagicFilter


class Inline(Filter):
    """A magic filter, resolved on the loop."""

    __slots__ = ("magic",)

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> bool:
        return bool(self.magic.resolve(event))

    def __str__(self) -> str:
        return f"inline({self.magic!r})"


def inline(magic: MagicFilter) -> Inline:
    return Inline(magic)
