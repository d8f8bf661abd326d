"""Tables of reminders: one row per reminder to send, and each account's choice of reminders.

A reminder is a row, never a scheduler job per case: the planner writes the rows from the key
dates (`case_key_dates`), a periodic tick sends those that are due. The unique key
(case, account, key date, due date, kind) means a reminder is never sent twice, however often the
planner runs.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, BigId


class Reminder(Base):
    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(60))  # a timescales rule key (later: "action:<id>")
    due: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))  # before_7 | before_1 | on_day | missed
    send_at: Mapped[datetime]
    # pending -> sent | dropped (no longer relevant, superseded by a later reminder, or switched off)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (
        UniqueConstraint("case_id", "account_id", "key", "due", "kind", name="uq_reminders_once"),
        Index("ix_reminders_status_send_at", "status", "send_at"),
    )


class ReminderPreference(Base):
    """Which reminders an account wants (all of them until the parent chooses in /settings)."""

    __tablename__ = "reminder_preferences"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    before_7: Mapped[bool] = mapped_column(Boolean, default=True)
    before_1: Mapped[bool] = mapped_column(Boolean, default=True)
    on_day: Mapped[bool] = mapped_column(Boolean, default=True)
    missed: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]
