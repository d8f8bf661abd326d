"""The outbox: writing notices and emails (call `enqueue` inside the transaction of the change
that causes the notice), and reading what happened to them (`NoticeStatuses`, for the SEND team)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from core.audit import Actor, audit
from core.errors import NotFound
from core.models import EmailItem, OutboxItem

if TYPE_CHECKING:
    from core.portal import Portal

# Reminders wait out quiet hours; every other kind goes at once (silently at night).
REMINDER = "reminder"
NOTICE = "notice"

# On PostgreSQL, a transaction that adds to either outbox says so on this channel when it
# commits (NOTIFY is delivered at commit, and not at all on a rollback): the delivery workers
# LISTEN and tick at once instead of at their next interval.
OUTBOX_CHANNEL = "ehcp_outbox"


@event.listens_for(Session, "after_flush")
def _tell_the_workers(session: Session, _flush: UOWTransaction) -> None:
    """Every session: a flush that inserted outbox or email rows (still in `session.new` here)
    queues a NOTIFY in its transaction. PostgreSQL folds repeats within one transaction."""
    if not any(isinstance(obj, (OutboxItem, EmailItem)) for obj in session.new):
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})


def enqueue(
    session: AsyncSession,
    *,
    now: datetime,
    text: str,
    chat_id: int | None,
    kind: str = NOTICE,
    important: bool = False,
    fallback_email: str | None = None,
    email_subject: str | None = None,
    child_id: int | None = None,
    buttons: list[list[dict[str, str]]] | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    markup: str | None = None,
) -> OutboxItem:
    """Add a notice to the outbox in the caller's transaction. Returns the (unflushed) row.

    `buttons` is rows of {"text": ..., "data": ...} (what the sending face makes of a press) or
    {"text": ..., "url": ...}. `markup` names the text's format for the face that sends it (its
    names escaped by whoever wrote it); None: plain text. `important` notices go by email to
    `fallback_email` when the chat is blocked or missing.
    """
    payload: dict[str, Any] = {}
    if buttons:
        payload["buttons"] = buttons
    if markup:
        payload["markup"] = markup
    item = OutboxItem(
        created_at=now,
        kind=kind,
        important=important,
        chat_id=chat_id,
        fallback_email=fallback_email,
        email_subject=email_subject,
        child_id=child_id,
        text=text,
        payload=payload,
        dedupe_key=dedupe_key,
        not_before=not_before or now,
        status="pending",
        attempts=0,
    )
    session.add(item)
    return item


async def renew_leases(session: AsyncSession, holder: str, until: datetime) -> int:
    """Extend to `until` the lease of every outbox row `holder` is still sending (a delivery
    worker in a long batch). Returns how many rows."""
    res = await session.execute(
        update(OutboxItem)
        .where(OutboxItem.locked_by == holder, OutboxItem.status == "sending")
        .values(locked_until=until)
        .execution_options(synchronize_session=False)
    )
    return res.rowcount or 0


def enqueue_email(
    session: AsyncSession,
    *,
    now: datetime,
    to_addr: str,
    subject: str,
    body: str,
    outbox_id: int | None = None,
    dedupe_key: str | None = None,
) -> EmailItem:
    """Queue an email in the caller's transaction; the mail job sends it and retries on failure."""
    item = EmailItem(
        created_at=now,
        to_addr=to_addr,
        subject=subject,
        body=body,
        outbox_id=outbox_id,
        dedupe_key=dedupe_key,
        status="pending",
        attempts=0,
        next_attempt_at=now,
    )
    session.add(item)
    return item


# ------------------------------------------------------------------ what happened to notices


@dataclass(frozen=True, slots=True)
class NoticeView:
    """A notice's delivery status: never its text."""

    id: int
    kind: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    silent: bool | None
    last_error: str | None
    child_id: int | None

    @classmethod
    def of(cls, row: OutboxItem) -> NoticeView:
        return cls(
            id=row.id, kind=row.kind, status=row.status, attempts=row.attempts, created_at=row.created_at,
            sent_at=row.sent_at, silent=row.silent, last_error=(row.last_error or None) and row.last_error[:200],
            child_id=row.child_id,
        )


class NoticeStatuses:
    """Whether each notice reached the family (for the SEND team): every read is audited."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    async def get(self, actor: Actor, notice_id: int) -> NoticeView:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            row = await s.get(OutboxItem, notice_id)
            if row is None:
                raise NotFound("No such notice.")
            audit(s, actor, "notice.read", at=now, child_id=row.child_id, subject=f"outbox:{row.id}")
            return NoticeView.of(row)

    async def page(
        self, actor: Actor, *, child_id: int | None, status: str | None, limit: int, cursor: int | None
    ) -> tuple[list[NoticeView], int | None]:
        """Newest first, `limit` a page; returns the page and the cursor of the next (None: last)."""
        stmt = select(OutboxItem).order_by(OutboxItem.id.desc()).limit(limit + 1)
        if child_id is not None:
            stmt = stmt.where(OutboxItem.child_id == child_id)
        if status is not None:
            stmt = stmt.where(OutboxItem.status == status)
        if cursor is not None:
            stmt = stmt.where(OutboxItem.id < cursor)
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            rows = list((await s.execute(stmt)).scalars())
            more = len(rows) > limit
            rows = rows[:limit]
            for cid in sorted({r.child_id for r in rows if r.child_id is not None}):
                audit(s, actor, "notice.list", at=now, child_id=cid)
        return [NoticeView.of(r) for r in rows], (rows[-1].id if more else None)
