"""Which delivery workers are alive, so that a lease held by a dead one is taken back at once.

A delivery worker's id is `role:host:pid:random` (see `new_worker_id`), and the rows it claims
carry it (with a suffix such as `:tg`) in `locked_by`. A lease normally runs until it expires,
but after a crash that would keep a family's notices waiting for minutes. A holder is known to be
dead, and its rows free at once, when:

- it ran in this process and has stopped (a restart within one process);
- it ran on this host under a process id that no longer exists (a restart after a kill);
- its heartbeat (`worker_heartbeats`, written every few seconds while it runs) is older than
  `STALE_AFTER` (any host).

Anything else (an id of another shape, a live process, a recent heartbeat) is left to its lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.leases import Leases
from core.models import WorkerHeartbeat
from core.outbox import renew_leases
from core.portal import Portal

log = logging.getLogger(__name__)

def _host_name(name: str, width: int = 24) -> str:
    """This host's name as worker ids carry it: whole when short, else its start and a hash of
    the whole (pods named alike must not share a name: one would judge the other dead)."""
    name = name.replace(":", "-")
    if len(name) <= width:
        return name
    return f"{name[: width - 9]}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"  # noqa: S324 - a name, not a secret


HOST = _host_name(socket.gethostname())
BEAT_EVERY = 3.0  # seconds between heartbeats
STALE_AFTER = timedelta(seconds=15)  # a worker not seen for this long is dead
LEASE_FOR = timedelta(seconds=15)  # the scheduler's lease, if not renewed
RENEW_EVERY = 4.0  # seconds between renewals of the scheduler's lease

_ended_here: set[str] = set()  # workers of this process that have stopped
_alive_here: set[str] = set()  # workers of this process that are running


def new_worker_id(role: str = "worker") -> str:
    """Unique per process and instance: host, pid and a random suffix (fits locked_by)."""
    return f"{role}:{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def wall_now() -> datetime:
    return datetime.now(UTC)


def _parse(holder: str) -> tuple[str, str, int] | None:
    """(base id, host, pid) of a worker id made by `new_worker_id`, with or without a suffix."""
    parts = holder.split(":")
    if len(parts) < 4 or not parts[2].isdigit():
        return None
    return ":".join(parts[:4]), parts[1], int(parts[2])


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process: alive
        return False
    return False


async def dead_holders(session: AsyncSession, holders: Iterable[str]) -> list[str]:
    """The holders (as written in locked_by) whose worker is known to be dead."""
    parsed = {h: p for h in set(holders) if h and (p := _parse(h)) is not None}
    if not parsed:
        return []
    seen = dict(
        (
            await session.execute(
                select(WorkerHeartbeat.worker_id, WorkerHeartbeat.seen_at).where(
                    WorkerHeartbeat.worker_id.in_({p[0] for p in parsed.values()})
                )
            )
        ).all()
    )
    stale_before = wall_now() - STALE_AFTER
    dead = []
    for holder, (base, host, pid) in parsed.items():
        if host == HOST and pid == os.getpid() and (base in _ended_here or base in _alive_here):
            gone = base in _ended_here
        elif host == HOST and pid == os.getpid():
            # This host and process id, but not a worker of this process: an earlier run of a
            # container restarted under the same name and pid. Its heartbeat tells.
            gone = base in seen and seen[base] < stale_before
        elif host == HOST and _process_gone(pid):
            gone = True
        else:
            gone = base in seen and seen[base] < stale_before
        if gone:
            dead.append(holder)
    return dead


class Heartbeat:
    """A running worker's entry in `worker_heartbeats`."""

    def __init__(self, portal: Portal, worker_id: str) -> None:
        self.portal = portal
        self.worker_id = worker_id

    async def beat(self) -> None:
        now = wall_now()
        async with self.portal.db() as s, s.begin():
            row = await s.get(WorkerHeartbeat, self.worker_id)
            if row is None:
                s.add(WorkerHeartbeat(worker_id=self.worker_id, host=HOST, pid=os.getpid(), started_at=now, seen_at=now))
            else:
                row.seen_at = now

    async def start(self) -> None:
        _ended_here.discard(self.worker_id)
        _alive_here.add(self.worker_id)
        await self.beat()

    async def stop(self) -> None:
        """The worker has stopped: what it still holds is free at once (for this process now,
        and for others once the row is gone and the process id no longer runs)."""
        _ended_here.add(self.worker_id)
        _alive_here.discard(self.worker_id)
        try:
            async with self.portal.db() as s, s.begin():
                await s.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == self.worker_id))
        except Exception:  # noqa: BLE001 - stopping anyway; the row goes stale
            log.warning("could not remove the heartbeat of %s", self.worker_id, exc_info=True)


@contextlib.asynccontextmanager
async def leases_kept(portal: Portal, holder: str, every: float | None = None) -> AsyncIterator[None]:
    """While inside (a delivery batch): every `every` seconds (None: a quarter of
    `delivery_lease_seconds`), the outbox rows `holder` is still sending get a full lease again,
    so another worker never takes a row that is still being worked on. On leaving, a renewal
    under way finishes and no other starts."""
    done = asyncio.Event()
    keeper = asyncio.ensure_future(_keep_leases(portal, holder, every, done))
    try:
        yield
    finally:
        done.set()
        await asyncio.shield(keeper)


async def _keep_leases(portal: Portal, holder: str, every: float | None, done: asyncio.Event) -> None:
    lease = portal.settings.delivery.delivery_lease_seconds
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), every or lease / 4)
        if done.is_set():
            return
        try:
            async with portal.db() as s, s.begin():
                await renew_leases(s, holder, portal.clock.now() + timedelta(seconds=lease))
        except Exception:  # noqa: BLE001 - the next round tries again
            log.warning("could not renew the leases of %s", holder, exc_info=True)


class Leadership:
    """Whether this process is the scheduler: the one that runs the jobs that must run once (the
    daily reminder planning, the daily housekeeping, the staff relay).

    The role is the leader lease `SCHEDULER` (core/leases.py), held for `LEASE_FOR` and renewed
    by `step()` every `RENEW_EVERY` seconds. Another process takes it once it expires, or at
    once when its holder is known to be dead (`dead_holders`: gone from this host, or its
    heartbeat stale). Calling the object says whether the lease is held now (and, by this
    process's clock, not yet expired). One log line each time the role is gained or lost.
    """

    def __init__(
        self,
        portal: Portal,
        holder: str,
        *,
        name: str = "scheduler",
        lease_for: timedelta | None = None,
        clock: Callable[[], datetime] = wall_now,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.leases = Leases(portal)
        self.holder = holder
        self.name = name
        self.lease_for = lease_for or LEASE_FOR
        self.clock = clock
        self.on_change = on_change
        self._until: datetime | None = None  # the expiry of the lease this process holds
        self._said = False  # the role as last logged

    def __call__(self) -> bool:
        return self._until is not None and self.clock() < self._until

    async def step(self) -> bool:
        """Take or renew the lease; returns whether this process is the scheduler now. A
        database error keeps what is held until it expires (the next step tries again)."""
        now = self.clock()
        try:
            got = await self.leases.take(self.name, self.holder, now=now, ttl=self.lease_for, dead=dead_holders)
        except Exception:  # noqa: BLE001 - tried again at the next step
            log.warning("could not renew the %s lease", self.name, exc_info=True)
        else:
            self._until = now + self.lease_for if got else None
        self._changed()
        return self()

    async def resign(self) -> None:
        """Give the role up (a clean stop): another process takes it at its next step."""
        self._until = None
        try:
            await self.leases.give_up(self.name, self.holder)
        except Exception:  # noqa: BLE001 - stopping anyway; the lease runs out
            log.warning("could not give up the %s lease", self.name, exc_info=True)
        self._changed()

    def _changed(self) -> None:
        now = self()
        if now == self._said:
            return
        self._said = now
        if now:
            log.info("%s is now the %s (runs the daily jobs)", self.holder, self.name)
        else:
            log.info("%s is no longer the %s", self.holder, self.name)
        if self.on_change is not None:
            self.on_change(now)


__all__ = [
    "BEAT_EVERY", "LEASE_FOR", "RENEW_EVERY", "Heartbeat", "Leadership", "dead_holders", "leases_kept", "new_worker_id",
    "wall_now",
]
