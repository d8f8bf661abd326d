"""Leader leases: a role that one process at a time holds (say, the scheduler of the daily jobs).

A lease is a row of `leader_leases` (name, holder, expires_at). Taking it and renewing it are one
statement, an INSERT ... ON CONFLICT DO UPDATE whose WHERE lets the update through only when the
row is this holder's own, has expired, or is held by a holder the caller knows to be dead; so two
processes can never both get it, on SQLite or PostgreSQL. Times are the caller's (wall-clock
time: a lease is about processes, not the portal's clock).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, case, delete, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import LeaderLease
from core.upsert import _insert_for

if TYPE_CHECKING:
    from core.portal import Portal

_L = LeaderLease.__table__

# Given the holders of live leases, which of them are known to be dead (their process has ended).
DeadCheck = Callable[[AsyncSession, Sequence[str]], Awaitable[Sequence[str]]]


@dataclass(frozen=True, slots=True)
class Held:
    holder: str
    acquired_at: datetime
    expires_at: datetime


async def take(
    session: AsyncSession, name: str, holder: str, *, now: datetime, ttl: timedelta, dead: Sequence[str] = ()
) -> bool:
    """Take or renew the lease `name` for `holder` until now + ttl, in the caller's transaction.
    True if `holder` has it now. It is taken only if free, expired, already `holder`'s, or held
    by one of `dead`."""
    ins = _insert_for(session, _L).values(name=name, holder=holder, acquired_at=now, expires_at=now + ttl)
    ours = _L.c.holder == holder
    stmt = ins.on_conflict_do_update(
        index_elements=[_L.c.name],
        set_={
            "holder": ins.excluded.holder,
            "expires_at": ins.excluded.expires_at,
            "acquired_at": case((ours, _L.c.acquired_at), else_=ins.excluded.acquired_at),
        },
        where=or_(ours, _L.c.expires_at < now, _L.c.holder.in_(list(dead)) if dead else false()),
    ).returning(_L.c.holder)
    return (await session.execute(stmt)).scalar_one_or_none() == holder


async def current(session: AsyncSession, name: str) -> Held | None:
    row = (
        await session.execute(select(_L.c.holder, _L.c.acquired_at, _L.c.expires_at).where(_L.c.name == name))
    ).first()
    return Held(*row) if row is not None else None


class Leases:
    """The portal's leader leases, each call its own short transaction."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    async def take(
        self, name: str, holder: str, *, now: datetime, ttl: timedelta, dead: DeadCheck | None = None
    ) -> bool:
        """Take or renew `name` for `holder` (see `take`). With `dead`, a live lease of another
        holder that `dead` says is gone (its process ended) is taken at once."""
        async with self.portal.db() as s, s.begin():
            gone: Sequence[str] = ()
            if dead is not None:
                held = await current(s, name)
                if held is not None and held.holder != holder and held.expires_at >= now:
                    gone = await dead(s, [held.holder])
            return await take(s, name, holder, now=now, ttl=ttl, dead=gone)

    async def give_up(self, name: str, holder: str) -> bool:
        """Free `name` if `holder` has it (a clean stop: another process takes it at once)."""
        async with self.portal.db() as s, s.begin():
            res = await s.execute(delete(LeaderLease).where(and_(_L.c.name == name, _L.c.holder == holder)))
            return bool(res.rowcount)

    async def current(self, name: str) -> Held | None:
        async with self.portal.db() as s:
            return await current(s, name)


__all__ = ["DeadCheck", "Held", "Leases", "current", "take"]
