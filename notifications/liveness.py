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

import logging
import os
import socket
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import WorkerHeartbeat
from core.portal import Portal

log = logging.getLogger(__name__)

HOST = socket.gethostname()[:24]
BEAT_EVERY = 3.0  # seconds between heartbeats
STALE_AFTER = timedelta(seconds=15)  # a worker not seen for this long is dead

_ended_here: set[str] = set()  # workers of this process that have stopped


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
        if host == HOST and pid == os.getpid():
            gone = base in _ended_here
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
        await self.beat()

    async def stop(self) -> None:
        """The worker has stopped: what it still holds is free at once (for this process now,
        and for others once the row is gone and the process id no longer runs)."""
        _ended_here.add(self.worker_id)
        try:
            async with self.portal.db() as s, s.begin():
                await s.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == self.worker_id))
        except Exception:  # noqa: BLE001 - stopping anyway; the row goes stale
            log.warning("could not remove the heartbeat of %s", self.worker_id, exc_info=True)


__all__ = ["BEAT_EVERY", "Heartbeat", "dead_holders", "new_worker_id", "wall_now"]
