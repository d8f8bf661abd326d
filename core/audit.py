"""The audit log: who read or changed which child's data, and when. Never the data itself."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import AuditEntry

if TYPE_CHECKING:
    from core.portal import Portal

_reads: ContextVar[list[dict[str, Any]] | None] = ContextVar("ehcp_audit_reads", default=None)
_INSERT = insert(AuditEntry.__table__)  # built once: collected reads are written with every update


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # "parent" | "caseworker" | "system"
    id: str  # account id, API token name, or job name

    @classmethod
    def parent(cls, account_or_chat_id: int | str) -> Actor:
        return cls("parent", str(account_or_chat_id))

    @classmethod
    def caseworker(cls, token_name: str) -> Actor:
        return cls("caseworker", token_name)

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls("system", job)


def audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    *,
    at: datetime,
    child_id: int | None = None,
    subject: str | None = None,
) -> None:
    """Add an audit entry to the session's transaction (so it commits or rolls back with the change)."""
    session.add(
        AuditEntry(at=at, actor_kind=actor.kind, actor_id=actor.id, action=action, child_id=child_id, subject=subject)
    )


def audit_poll(
    session: AsyncSession, actor: Actor, action: str, child_ids: Iterable[int], *, at: datetime, subject: str
) -> None:
    """A poll's audit: one entry per child whose data it read, in the order read (PRODUCT.md:
    every read, which child), or one entry with no child when it read nothing."""
    for child_id in dict.fromkeys(child_ids) or [None]:
        audit(session, actor, action, at=at, child_id=child_id, subject=subject)


async def audit_read(
    portal: Portal, actor: Actor, action: str, *, at: datetime, child_id: int | None = None,
    subject: str | None = None,
) -> None:
    """An audit entry for a read that changed nothing. Inside `reads_collected()` (a bot update)
    it is written later, in the transaction that ends the update; otherwise now, on its own."""
    entry = {"at": at, "actor_kind": actor.kind, "actor_id": actor.id, "action": action, "child_id": child_id,
             "subject": subject}
    pending = _reads.get()
    if pending is not None:
        pending.append(entry)
        return
    async with portal.db() as s, s.begin():
        await write_reads(s, [entry])


@contextmanager
def reads_collected() -> Iterator[list[dict[str, Any]]]:
    """Collect the audit entries of reads made inside (see `audit_read`); the caller writes them
    (`write_reads`) with the rest of its work, so a read costs no transaction of its own."""
    entries: list[dict[str, Any]] = []
    token = _reads.set(entries)
    try:
        yield entries
    finally:
        _reads.reset(token)


async def write_reads(session: AsyncSession, entries: list[dict[str, Any]]) -> None:
    """Write collected read entries in the caller's transaction (one statement)."""
    if entries:
        await session.execute(_INSERT, entries)
