"""What must follow a change, inside the change's own unit of work.

A service that changes something publishes an event (`await portal.events.publish(session,
SomethingHappened(...))`) while its transaction is open; every handler subscribed to that kind of
event runs there and then, in the same transaction: replanning a case's reminders, writing the
family's notice. So the change and what follows from it are committed together or not at all,
and the service does not import what follows (the reminder planner, the faces that word notices).

Handlers are subscribed once, when the portal is built (`core.portal.create_portal` for the
core's own, the composition root for the faces'). An event nobody handles is a bug when the event
says it must be handled (`required`): publishing it raises, so no notice is ever silently lost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, kw_only=True)
class Event:
    at: datetime  # when it happened (the portal's clock)

    required: ClassVar[bool] = False  # publishing it with no handler subscribed is an error


@dataclass(frozen=True, kw_only=True)
class CaseDatesChanged(Event):
    """A case's key dates (or a form's due date on it) may have changed: its reminders follow."""

    case_id: int


@dataclass(frozen=True, kw_only=True)
class AccessChanged(Event):
    """A carer's access to a child changed: their reminders follow."""

    account_id: int


E = TypeVar("E", bound=Event)
Handler = Callable[[AsyncSession, Any], Awaitable[None]]


class NoHandler(RuntimeError):
    pass


class EventBus:
    """The portal's subscriptions: event kind (and its bases) to handlers, in the order given."""

    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Handler]] = defaultdict(list)

    def subscribe(self, kind: type[E], handler: Callable[[AsyncSession, E], Awaitable[None]]) -> None:
        if handler not in self._handlers[kind]:
            self._handlers[kind].append(handler)

    def handlers_for(self, kind: type[Event]) -> list[Handler]:
        return [h for base in kind.__mro__ for h in self._handlers.get(base, [])]

    async def publish(self, session: AsyncSession, event: Event) -> None:
        """Run every handler of the event in the caller's transaction (an error rolls it back)."""
        handlers = self.handlers_for(type(event))
        if not handlers and event.required:
            raise NoHandler(
                f"nothing handles {type(event).__name__}: build the portal with ehcp.bootstrap.build_portal"
            )
        for handler in handlers:
            await handler(session, event)


__all__ = ["AccessChanged", "CaseDatesChanged", "Event", "EventBus", "NoHandler"]
