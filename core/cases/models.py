"""Tables of a child's case: its dated events (and recorded exceptions) and the key dates worked
out from them.

The stage is never stored: it is worked out from the events each time (core.timescales). The
`case_key_dates` rows are a derived index of the same rules, rewritten in the transaction of every
change to a case's events, so that "which cases have a date overdue or due soon" and the reminder
planner are one indexed query instead of recomputing 100,000 cases.

The case's own columns (request date, requestor, caseworker) are on `cases` (core/onboarding/models.py).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, BigId


class CaseEvent(Base):
    """A dated event of a case, as the SEND team recorded it. Never deleted: a mistaken event is
    withdrawn (kept, with who withdrew it and when), so the case's history stays whole."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # core.cases.events.EventKind
    on: Mapped[date] = mapped_column(Date)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(100))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(100))


class CaseKeyDate(Base):
    """One statutory key date of a case (derived from its events; see the module's docstring).

    `open` is true while the date still waits for something: the council's decision (then it is
    overdue once `due` has passed) or the parent's window (then it closes after `due`).
    """

    __tablename__ = "case_key_dates"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)  # core.timescales rule key
    start: Mapped[date] = mapped_column(Date)
    due: Mapped[date] = mapped_column(Date)
    party: Mapped[str] = mapped_column(String(10))  # council | parent
    open: Mapped[bool] = mapped_column(Boolean)
    met_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (Index("ix_case_key_dates_open_due", "open", "due"),)
