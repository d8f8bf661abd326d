"""What every group of Bot API methods has: the world it acts on and its handlers, each marked
with the Bot API method it answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from ..params import Handler
    from ..world import World

__all__ = ["Methods", "answers"]

H = TypeVar("H", bound=Callable[..., object])


def answers(method: str) -> Callable[[H], H]:
    """Mark a coroutine of a :class:`Methods` group as the handler of the Bot API ``method``."""

    def mark(handler: H) -> H:
        handler.bot_api_method = method  # type: ignore[attr-defined]
        return handler

    return mark


class Methods:
    """A group of Bot API methods over one :class:`~standin.world.World`."""

    def __init__(self, world: World) -> None:
        self.world = world

    def handlers(self) -> dict[str, Handler]:
        """Lower-case method name → handler (Telegram's method names are case-insensitive)."""
        table: dict[str, Handler] = {}
        for attr in dir(type(self)):
            method = getattr(getattr(type(self), attr), "bot_api_method", None)
            if method is not None:
                table[method.lower()] = getattr(self, attr)
        return table
