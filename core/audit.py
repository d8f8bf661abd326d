"""The audit log: who read or changed which child's data, and when. Never the data itself."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.models import AuditEntry


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
