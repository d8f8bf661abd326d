"""Tables of forms the SEND team asks a family to fill in, and of each carer's answers.

- `FormAssignment`: the SEND team asks for a form about a case, with a due date (which feeds the
  reminders). It is for every carer with active access to the child, or one carer
  (`account_id`). Each carer fills in their own copy.
- `FormResponse`: one carer's copy of a form, assigned or started by the parent (the request for
  an EHC needs assessment, which has no case until it is submitted). Every answer is written here
  as it is given: these rows, not the chat's dialogue state, are where the parent is. A submitted
  response keeps its answers and its PDF (in core.files storage) and is what the API returns as
  a submission.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, BigId


class FormAssignment(Base):
    __tablename__ = "form_assignments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    form_id: Mapped[str] = mapped_column(String(60))  # a form definition's id
    title: Mapped[str] = mapped_column(String(200))  # the definition's title when assigned
    due_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)  # the caseworker's words to the family
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))  # one carer, or all
    assigned_by: Mapped[str] = mapped_column(String(100))
    assigned_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_form_assignments_case", "case_id", "withdrawn_at"),)


class FormResponse(Base):
    __tablename__ = "form_responses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    form_id: Mapped[str] = mapped_column(String(60))
    form_version: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("form_assignments.id"))
    # The case and child (set when assigned; for a request for assessment, when it is submitted).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"))
    # Question id -> answer (the value as core.forms.answers parses it; files as a list of
    # {sha256, filename, mime, size, telegram_file_id}).
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Where the parent is: an item id (question or guidance page), or "review".
    position: Mapped[str] = mapped_column(String(60))
    # Changing one answer from the review: after it, back to the review.
    from_review: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft | submitted
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))  # the submitted form's PDF
    # The message to the SEND team that carried the submission (its PDF attached).
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))

    __table_args__ = (
        UniqueConstraint("assignment_id", "account_id", name="uq_form_responses_assignment"),
        Index("ix_form_responses_account", "account_id", "status"),
        Index("ix_form_responses_submitted", "status", "submitted_at"),
    )
