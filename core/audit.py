"""The audit log: who read or changed which child's data, and when. Never the data itself."""

from __future__ import annotations

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
