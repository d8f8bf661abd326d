"""Forms: the SEND team assigns them, carers fill them in one answer at a time, submissions go
to the team with their PDF.

The answers stored here are the source of truth for where a parent is: the chat asks
`get(...)` for the response and shows the item at `position`, so a parent who leaves (or whose
bot restarts) comes back exactly where they were. Every chat-side call names the chat, and the
core works out the account and checks it owns the response (and still has active access to the
child): an id from a crafted button finds nothing (NotFound) if it is not the caller's.

Submitting writes, in one transaction: the response as submitted with its PDF (in core.files
storage), a message to the SEND team on the case carrying the PDF (so the case system's message
poll and the staff group's topic both get it), the carer's own notice, and the form's removal
from Actions to Complete. Submitting the request for an EHC needs assessment first opens the case:
a child and a case with the request date set to the day it was submitted (London), the carer's
active access to it, and the case's key dates (the 20-week clock) from that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.files import FileStore, folder_store
from core.forms.definition import AnswerRefused, FormDefinition, load_forms
from core.portal import Portal

REVIEW = "review"


class NotFound(LookupError):
    """No such form, assignment or response, or not one the asker may see (never said which)."""


class FormRefused(ValueError):
    """A step that cannot be taken (`message` for the parent or the API; `code` for the API):
    submitting with required answers missing, assigning an unknown form, a case with no carer."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class ActionView:
    """One line of Actions to Complete."""

    assignment_id: int
    form_id: str
    title: str
    due_date: date | None
    note: str | None
    assigned_at: datetime
    response_id: int | None  # the carer's copy, once started
    answered: int  # questions answered so far


@dataclass(frozen=True, slots=True)
class ResponseView:
    id: int
    form: FormDefinition
    account_id: int
    assignment_id: int | None
    case_id: int | None
    child_id: int | None
    child_name: str | None  # forename, for the parent's texts ("Sam's Parental Preference Form")
    due_date: date | None
    answers: dict[str, Any]
    position: str  # an item id, or REVIEW
    from_review: bool
    status: str  # draft | submitted
    started_at: datetime
    updated_at: datetime
    submitted_at: datetime | None


@dataclass(frozen=True, slots=True)
class SubmissionView:
    """A submitted response, as the API returns it."""

    id: int  # the response id
    form_id: str
    form_version: int
    title: str
    case_reference: str
    child_id: int
    account_id: int
    carer_name: str
    assignment_id: int | None
    submitted_at: datetime
    answers: list[dict[str, Any]]  # {question_id, step, question, type, value, text}
    files: list[dict[str, Any]]  # {question_id, sha256, filename, mime, size}
    message_id: int | None


@dataclass(frozen=True, slots=True)
class AssignmentView:
    id: int
    case_reference: str
    form_id: str
    title: str
    due_date: date | None
    note: str | None
    account_id: int | None
    assigned_by: str
    assigned_at: datetime
    withdrawn_at: datetime | None
    submissions: list[int]  # response ids submitted for it


class FormService:
    def __init__(
        self, portal: Portal, files: FileStore | None = None, forms: dict[str, FormDefinition] | None = None
    ) -> None:
        self.portal = portal
        self.files = files or folder_store(portal.settings.storage.data_dir)
        self._forms = forms

    @property
    def forms(self) -> dict[str, FormDefinition]:
        """The form definitions by id (loaded, and checked, on first use)."""
        if self._forms is None:
            self._forms = load_forms(self.portal.settings.product.forms_dir)
        return self._forms

    # ------------------------------------------------------------------ the parent's side

    async def actions(self, chat_id: int, child_id: int) -> list[ActionView]:
        """Actions to Complete for this chat's carer and child: open assignments not yet
        submitted by this carer, soonest due first."""
        raise NotImplementedError

    def parent_forms(self) -> list[FormDefinition]:
        """Forms a parent may start on their own (started_by: parent), by title."""
        raise NotImplementedError

    async def open_assignment(self, chat_id: int, assignment_id: int) -> ResponseView:
        """The carer's copy of an assigned form, made on first opening (NotFound if the
        assignment is not for this chat's carer, withdrawn, or already submitted by them)."""
        raise NotImplementedError

    async def start_own(self, chat_id: int, form_id: str) -> ResponseView:
        """A form the parent starts (the request for assessment): their draft of it if they have
        one, else a new one. NotFound for a form that is not started_by: parent."""
        raise NotImplementedError

    async def drafts(self, chat_id: int) -> list[ResponseView]:
        """This chat's carer's unsubmitted copies of parent-started forms."""
        raise NotImplementedError

    async def get(self, chat_id: int, response_id: int) -> ResponseView:
        raise NotImplementedError

    async def answer(self, chat_id: int, response_id: int, question_id: str, raw: str | list[str] | None) -> ResponseView:
        """Check and save one answer (`raw`: typed text, an option value, a list of option
        values for several choices, None to skip an optional question), then move on: to the
        next item, or back to the review if the parent came from it. Raises AnswerRefused (the
        answer is not saved, the position does not move) or NotFound."""
        raise NotImplementedError

    async def add_file(
        self,
        chat_id: int,
        response_id: int,
        question_id: str,
        data: bytes,
        mime: str | None,
        filename: str | None,
        telegram_file_id: str | None = None,
    ) -> ResponseView:
        """Keep an uploaded file (checked: 20 MB, allowed types) as part of a file question's
        answer, saved at once; the position stays (the parent may send more, then Next).
        Raises AnswerRefused (with core.files' words) for a refused file or too many files."""
        raise NotImplementedError

    async def remove_files(self, chat_id: int, response_id: int, question_id: str) -> ResponseView:
        raise NotImplementedError

    async def move(self, chat_id: int, response_id: int, to: str) -> ResponseView:
        """Go "next" (past a guidance page, or past a file question), "back", to REVIEW, or to an
        item id (from the review: "Change", which comes back to the review after)."""
        raise NotImplementedError

    async def pdf(self, chat_id: int, response_id: int) -> tuple[str, bytes]:
        """(file name, PDF) of the answers so far (or as submitted)."""
        raise NotImplementedError

    async def submit(self, chat_id: int, response_id: int) -> ResponseView:
        """Submit (see the module's docstring). FormRefused("...", "incomplete") if a required
        answer is missing. Submitting again returns the stored submission."""
        raise NotImplementedError

    async def file_of_answer(self, chat_id: int, response_id: int, question_id: str, index: int) -> tuple[dict[str, Any], bytes]:
        raise NotImplementedError

    @staticmethod
    async def open_for(s: AsyncSession, account_id: int, case_id: int) -> int:
        """The dashboard's "Actions to Complete (n)": open assignments of this case for this
        carer that they have not submitted. One query."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the SEND team's side

    async def assign(
        self,
        actor: Any,
        case_reference: str,
        *,
        form_id: str,
        due_date: date | None,
        note: str | None = None,
        account_id: int | None = None,
    ) -> AssignmentView:
        """Ask for a form: the carers (or the one carer) are told at once, with a button that
        opens it; the due date feeds their reminders."""
        raise NotImplementedError

    async def withdraw_assignment(self, actor: Any, assignment_id: int) -> AssignmentView:
        raise NotImplementedError

    async def assignments(self, actor: Any, case_reference: str) -> list[AssignmentView]:
        raise NotImplementedError

    async def submissions(self, actor: Any, *, after: int = 0, limit: int = 100, case_reference: str | None = None) -> list[SubmissionView]:
        raise NotImplementedError

    async def submission(self, actor: Any, submission_id: int) -> SubmissionView:
        raise NotImplementedError

    async def submission_pdf(self, actor: Any, submission_id: int) -> tuple[str, bytes]:
        raise NotImplementedError

    async def submission_file(self, actor: Any, submission_id: int, sha256: str) -> tuple[dict[str, Any], bytes]:
        raise NotImplementedError


__all__ = [
    "REVIEW",
    "ActionView",
    "AnswerRefused",
    "AssignmentView",
    "FormRefused",
    "FormService",
    "NotFound",
    "ResponseView",
    "SubmissionView",
]
