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

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import Actor, audit
from core.cases.events import fold
from core.cases.service import write_key_date_index
from core.clock import LONDON
from core.errors import NotFound, Refused
from core.files import FileRefused, FileStore, check_upload, folder_store, safe_filename
from core.forms.answers import AnswerRefused, format_answer, parse_answer, parse_choices
from core.forms.form import FormDefinition
from core.forms.loading import load_forms
from core.forms.models import FormAssignment, FormResponse
from core.forms.questions import Guidance, Question, QuestionType
from core.messages.models import Attachment, Message
from core.messages.service import MAX_BODY, MAX_SUBJECT, MessageService, MessageType
from core.onboarding._common import active_account_for_chat, has_active_access, notify_account
from core.onboarding.models import AccessGrant, Case, ChatLink, Child
from core.portal import Portal
from core.reminders import plan_case
from core.timescales import format_date

REVIEW = "review"


class FormRefused(Refused):
    """A step that cannot be taken (`message` for the parent or the API; `code` for the API):
    submitting with required answers missing, assigning an unknown form, a case with no carer."""


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


MAX_ID = 2**63 - 1
_LOADED: dict[Any, dict[str, FormDefinition]] = {}  # form definitions by forms_dir
# The message type a submission goes to the SEND team under (the request for assessment: see
# `_message_type`).
MESSAGE_TYPES = {
    "parental_preference": MessageType.SCHOOL_PLACEMENT,
    "annual_review_views": MessageType.ANNUAL_REVIEW,
}
SUBMITTED_ALREADY = "This form was sent to the SEND team already, so it cannot be changed now."


def _has(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _item_ids(form: FormDefinition) -> list[str]:
    return [str(item.id) for step in form.steps for item in step.items]


def _visible_ids(form: FormDefinition, answers: dict[str, Any]) -> list[str]:
    return [str(item.id) for item in form.visible_items(answers)]


def _visible_questions(form: FormDefinition, answers: dict[str, Any]) -> list[Question]:
    return [item for item in form.visible_items(answers) if isinstance(item, Question)]


def prune(form: FormDefinition, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers without those to questions now hidden (or no longer in the form). Dropping one
    may hide another (a chain of show_if), so until nothing changes."""
    while True:
        shown = {q.id for q in _visible_questions(form, answers)}
        kept = {k: v for k, v in answers.items() if k in shown and _has(v)}
        if len(kept) == len(answers):
            return kept
        answers = kept


def answered(form: FormDefinition, answers: dict[str, Any]) -> int:
    return sum(1 for q in _visible_questions(form, answers) if _has(answers.get(q.id)))


def where(form: FormDefinition, position: str, answers: dict[str, Any]) -> str:
    """The item to show: `position`, or, if that item is now hidden (or gone), the next shown
    one after it (the review if none)."""
    if position == REVIEW:
        return REVIEW
    shown = _visible_ids(form, answers)
    if position in shown:
        return position
    order = _item_ids(form)
    at = order.index(position) if position in order else -1
    later = [i for i in shown if order.index(i) > at] if at >= 0 else []
    return later[0] if later else (REVIEW if at >= 0 or not shown else shown[0])


def _first(form: FormDefinition) -> str:
    first = form.next_item(None, {})
    return first if first is not None else REVIEW


def _file_entry(f: dict[str, Any], *, with_telegram: bool = False) -> dict[str, Any]:
    out = {k: f.get(k) for k in ("sha256", "filename", "mime", "size")}
    if with_telegram:
        out["telegram_file_id"] = f.get("telegram_file_id")
    return out


def _message_type(form: FormDefinition) -> MessageType:
    if form.creates_case:
        return MessageType.EHC_NEEDS_ASSESSMENT
    if form.id in MESSAGE_TYPES:
        return MESSAGE_TYPES[form.id]
    if form.id.startswith("annual_review"):
        return MessageType.ANNUAL_REVIEW
    return MessageType.GENERAL


def _pdf_name(title: str, child: str | None) -> str:
    return safe_filename(f"{title} - {child}" if child else title, "application/pdf")


def _valid_id(value: int) -> bool:
    return isinstance(value, int) and 0 < value <= MAX_ID


async def _account_name(s: AsyncSession, account_id: int) -> str:
    from core.accounts.models import Account

    acc = await s.get(Account, account_id)
    return f"{acc.forename} {acc.surname}".strip() if acc else "A parent"


async def _active_carers(s: AsyncSession, child_id: int) -> list[int]:
    rows = (
        await s.scalars(
            select(AccessGrant.account_id).where(
                AccessGrant.child_id == child_id,
                AccessGrant.status == "active",
                AccessGrant.account_id.is_not(None),
            )
        )
    ).all()
    return sorted({int(a) for a in rows})


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
            folder = self.portal.settings.product.forms_dir
            if folder not in _LOADED:  # read once per process (the app checks them at start)
                _LOADED[folder] = load_forms(folder)
            self._forms = _LOADED[folder]
        return self._forms

    # ------------------------------------------------------------------ the parent's side

    async def actions(self, chat_id: int, child_id: int) -> list[ActionView]:
        """Actions to Complete for this chat's carer and child: open assignments not yet
        submitted by this carer, soonest due first."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            account_id = await active_account_for_chat(s, chat_id)
            if account_id is None or not _valid_id(child_id) or not await has_active_access(s, account_id, child_id):
                raise NotFound("no such child")
            rows = (
                await s.execute(
                    select(FormAssignment, FormResponse)
                    .outerjoin(
                        FormResponse,
                        and_(FormResponse.assignment_id == FormAssignment.id, FormResponse.account_id == account_id),
                    )
                    .where(
                        FormAssignment.child_id == child_id,
                        FormAssignment.withdrawn_at.is_(None),
                        or_(FormAssignment.account_id.is_(None), FormAssignment.account_id == account_id),
                        or_(FormResponse.id.is_(None), FormResponse.status != "submitted"),
                    )
                    .order_by(FormAssignment.due_date.is_(None), FormAssignment.due_date, FormAssignment.id)
                )
            ).all()
            audit(s, Actor.parent(account_id), "form.list", at=now, child_id=child_id)
            out = []
            for a, r in rows:
                form = self.forms.get(a.form_id)
                if form is None:  # a definition the council has since removed
                    continue
                out.append(ActionView(
                    assignment_id=a.id, form_id=a.form_id, title=a.title, due_date=a.due_date, note=a.note,
                    assigned_at=a.assigned_at, response_id=r.id if r is not None else None,
                    answered=answered(form, r.answers or {}) if r is not None else 0,
                ))
            return out

    def parent_forms(self) -> list[FormDefinition]:
        """Forms a parent may start on their own (started_by: parent), by title."""
        return sorted((f for f in self.forms.values() if f.started_by == "parent"), key=lambda f: (f.title, f.id))

    async def open_assignment(self, chat_id: int, assignment_id: int) -> ResponseView:
        """The carer's copy of an assigned form, made on first opening (NotFound if the
        assignment is not for this chat's carer, withdrawn, or already submitted by them)."""
        for attempt in range(2):
            try:
                return await self._open_assignment(chat_id, assignment_id)
            except IntegrityError:  # a double tap made the copy at the same moment: read it
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _open_assignment(self, chat_id: int, assignment_id: int) -> ResponseView:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            account_id = await active_account_for_chat(s, chat_id)
            a = await s.get(FormAssignment, assignment_id) if account_id is not None and _valid_id(assignment_id) else None
            if (
                a is None
                or a.withdrawn_at is not None
                or a.account_id not in (None, account_id)
                or not await has_active_access(s, account_id, a.child_id)
            ):
                raise NotFound("no such form")
            form = self.forms.get(a.form_id)
            if form is None:
                raise NotFound("no such form")
            r = await s.scalar(
                select(FormResponse).where(FormResponse.assignment_id == a.id, FormResponse.account_id == account_id)
            )
            if r is not None and r.status == "submitted":
                raise NotFound("already submitted")
            if r is None:
                r = FormResponse(
                    form_id=form.id, form_version=form.version, account_id=account_id, assignment_id=a.id,
                    case_id=a.case_id, child_id=a.child_id, answers={}, position=_first(form), from_review=False,
                    status="draft", started_at=now, updated_at=now,
                )
                s.add(r)
                await s.flush()
            audit(s, Actor.parent(account_id), "form.open", at=now, child_id=a.child_id, subject=f"form_response:{r.id}")
            return await self._view(s, r, form)

    async def start_own(self, chat_id: int, form_id: str) -> ResponseView:
        """A form the parent starts (the request for assessment): their draft of it if they have
        one, else a new one. NotFound for a form that is not started_by: parent."""
        form = self.forms.get(form_id)
        if form is None or form.started_by != "parent":
            raise NotFound("no such form")
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            account_id = await active_account_for_chat(s, chat_id)
            if account_id is None:
                raise NotFound("no account")
            r = await s.scalar(
                select(FormResponse)
                .where(
                    FormResponse.account_id == account_id, FormResponse.form_id == form.id,
                    FormResponse.assignment_id.is_(None), FormResponse.status == "draft",
                )
                .order_by(FormResponse.updated_at.desc(), FormResponse.id.desc())
                .limit(1)
            )
            if r is None:
                r = FormResponse(
                    form_id=form.id, form_version=form.version, account_id=account_id, assignment_id=None,
                    case_id=None, child_id=None, answers={}, position=_first(form), from_review=False,
                    status="draft", started_at=now, updated_at=now,
                )
                s.add(r)
                await s.flush()
            audit(s, Actor.parent(account_id), "form.open", at=now, child_id=r.child_id, subject=f"form_response:{r.id}")
            return await self._view(s, r, form)

    async def drafts(self, chat_id: int) -> list[ResponseView]:
        """This chat's carer's unsubmitted copies of parent-started forms."""
        async with self.portal.db() as s, s.begin():
            account_id = await active_account_for_chat(s, chat_id)
            if account_id is None:
                return []
            rows = (
                await s.scalars(
                    select(FormResponse)
                    .where(
                        FormResponse.account_id == account_id, FormResponse.assignment_id.is_(None),
                        FormResponse.status == "draft",
                    )
                    .order_by(FormResponse.updated_at.desc(), FormResponse.id.desc())
                )
            ).all()
            out = []
            for r in rows:
                form = self.forms.get(r.form_id)
                if form is not None and form.started_by == "parent":
                    out.append(await self._view(s, r, form))
            return out

    async def get(self, chat_id: int, response_id: int) -> ResponseView:
        async with self.portal.db() as s, s.begin():
            _, r, form = await self._own(s, chat_id, response_id)
            return await self._view(s, r, form)

    async def answer(self, chat_id: int, response_id: int, question_id: str, raw: str | list[str] | None) -> ResponseView:
        """Check and save one answer (`raw`: typed text, an option value, a list of option
        values for several choices, None to skip an optional question), then move on: to the
        next item, or back to the review if the parent came from it. Raises AnswerRefused (the
        answer is not saved, the position does not move) or NotFound.

        A changed answer that hides later questions drops their answers. Answering a response
        already submitted raises FormRefused(..., "submitted")."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            _, r, form = await self._own(s, chat_id, response_id, draft=True)
            current = dict(r.answers or {})
            q = self._shown_question(form, current, question_id)
            value = self._parse(q, raw, now, current)
            answers = {k: v for k, v in current.items() if k != q.id}
            if _has(value):
                answers[q.id] = value
            answers = prune(form, answers)
            r.answers = answers  # a new dict: SQLAlchemy sees the change
            r.position, r.from_review = self._after(form, q.id, answers, r.from_review)
            r.updated_at = now
            return await self._view(s, r, form)

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
        try:
            kind = check_upload(data, mime, filename)
        except FileRefused as exc:
            raise AnswerRefused(exc.message) from None
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            _, r, form = await self._own(s, chat_id, response_id, draft=True)
            answers = dict(r.answers or {})
            q = self._shown_question(form, answers, question_id)
            if q.type != QuestionType.FILE:
                raise AnswerRefused("This question needs a typed answer, not a file. Please type your answer.")
            files = list(answers.get(q.id) or [])
            digest = hashlib.sha256(data).hexdigest()
            if any(f.get("sha256") == digest for f in files):
                return await self._view(s, r, form)  # the same file again: kept once
            if len(files) >= q.max_files:
                many = f"{q.max_files} file{'s' if q.max_files != 1 else ''}"
                raise AnswerRefused(
                    f"You can send up to {many} here, and you have sent {many} already. "
                    "Tap Next to go on, or remove the files to send others."
                )
            digest = await self.files.put(data)
            files.append({
                "sha256": digest, "filename": safe_filename(filename, kind), "mime": kind, "size": len(data),
                "telegram_file_id": telegram_file_id,
            })
            answers[q.id] = files
            r.answers = answers
            r.updated_at = now
            return await self._view(s, r, form)

    async def remove_files(self, chat_id: int, response_id: int, question_id: str) -> ResponseView:
        """Remove every file sent for a file question (the parent starts again); the position stays."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            _, r, form = await self._own(s, chat_id, response_id, draft=True)
            answers = dict(r.answers or {})
            q = self._shown_question(form, answers, question_id)
            if q.type != QuestionType.FILE:
                raise NotFound("not a file question")
            answers.pop(q.id, None)
            r.answers = prune(form, answers)
            r.updated_at = now
            return await self._view(s, r, form)

    async def move(self, chat_id: int, response_id: int, to: str) -> ResponseView:
        """Go "next" (past a guidance page, or past a file question), "back", to REVIEW, or to an
        item id (from the review: "Change", which comes back to the review after).

        "next" past a required question with no answer raises AnswerRefused (a file question:
        "send at least one file"); an item id that is not shown raises NotFound."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            _, r, form = await self._own(s, chat_id, response_id, draft=True)
            answers = dict(r.answers or {})
            here = where(form, r.position, answers)
            if to == "next":
                if here != REVIEW:
                    item = form.item(here)
                    if isinstance(item, Question) and (item.type == QuestionType.FILE or not _has(answers.get(item.id))):
                        self._parse(item, None, now, answers)  # refuses a required question left empty
                    r.position, r.from_review = self._after(form, here, answers, r.from_review)
            elif to == "back":
                if here == REVIEW:
                    shown = _visible_ids(form, answers)
                    back = shown[-1] if shown else None
                else:
                    back = form.previous_item(here, answers)
                r.position, r.from_review = (back or here), False
            elif to == REVIEW:
                r.position, r.from_review = REVIEW, False
            else:
                if not isinstance(to, str) or to not in _visible_ids(form, answers):
                    raise NotFound("no such question")
                r.position, r.from_review = to, True
            r.updated_at = now
            return await self._view(s, r, form)

    async def pdf(self, chat_id: int, response_id: int) -> tuple[str, bytes]:
        """(file name, PDF) of the answers so far (or as submitted)."""
        from core.forms.pdf import form_pdf

        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            account_id, r, form = await self._own(s, chat_id, response_id)
            child_name, child_full = await self._child_names(s, r)
            audit(s, Actor.parent(account_id), "form.pdf", at=now, child_id=r.child_id, subject=f"form_response:{r.id}")
            name = _pdf_name(form.title, child_name)
            if r.status == "submitted" and r.pdf_sha256:
                sha = r.pdf_sha256
            else:
                carer = await _account_name(s, account_id)
                reference = (await s.get(Case, r.case_id)).case_reference if r.case_id else None
                answers = dict(r.answers or {})
                sha = None
        if sha is not None:
            return name, await self.files.get(sha)
        data = form_pdf(
            form, answers, council_name=self.portal.settings.product.council_name, child_name=child_full,
            carer_name=carer, submitted_at=None, generated_at=now, reference=reference,
        )
        return name, data

    async def submit(self, chat_id: int, response_id: int) -> ResponseView:
        """Submit (see the module's docstring). FormRefused("...", "incomplete") if a required
        answer is missing. Submitting again returns the stored submission."""
        from core.forms.pdf import form_pdf

        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            account_id, r, form = await self._own(s, chat_id, response_id)
            if r.status == "submitted":
                return await self._view(s, r, form)
            answers = prune(form, dict(r.answers or {}))
            missing = form.missing(answers)
            if missing:
                names = "\n".join(f"• {q.text}" for q in missing)
                raise FormRefused(
                    f"Some questions still need an answer before you can submit:\n{names}", "incomplete"
                )
            if not form.creates_case and r.case_id is None:
                raise FormRefused("This form is not about a case yet, so it cannot be sent.", "no_case")
            # Claim the response first: a second Submit at the same moment finds it taken.
            claimed = await s.execute(
                update(FormResponse)
                .where(FormResponse.id == r.id, FormResponse.status == "draft")
                .values(status="submitted", submitted_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:
                await s.refresh(r)
                return await self._view(s, r, form)
            carer = await _account_name(s, account_id)
            if r.case_id is None:
                case, child = await self._open_case(s, r, form, answers, account_id, carer, chat_id, now)
            else:
                case = await s.get(Case, r.case_id)
                child = await s.get(Child, r.child_id)
            child_full = f"{child.forename} {child.surname}".strip()
            data = form_pdf(
                form, answers, council_name=self.portal.settings.product.council_name, child_name=child_full,
                carer_name=carer, submitted_at=now, generated_at=now, reference=case.case_reference,
            )
            pdf_sha = await self.files.put(data)
            msg = await self._message_to_team(s, r, form, answers, case, child, account_id, carer, now, pdf_sha, len(data))
            r.answers = answers
            r.status, r.submitted_at, r.updated_at = "submitted", now, now
            r.position, r.from_review = REVIEW, False
            r.pdf_sha256, r.message_id = pdf_sha, msg.id
            await plan_case(s, case.id, now, self.portal.settings.reminders)  # its due-date reminders
            audit(s, Actor.parent(account_id), "form.submit", at=now, child_id=child.id, subject=f"form_response:{r.id}")
            await s.flush()
            return await self._view(s, r, form)

    async def file_of_answer(self, chat_id: int, response_id: int, question_id: str, index: int) -> tuple[dict[str, Any], bytes]:
        """One file of a file question's answer: its entry {sha256, filename, mime, size,
        telegram_file_id} and its bytes."""
        async with self.portal.db() as s, s.begin():
            _, r, _form = await self._own(s, chat_id, response_id)
            files = (r.answers or {}).get(question_id)
            if not isinstance(files, list) or not isinstance(index, int) or not 0 <= index < len(files):
                raise NotFound("no such file")
            if not isinstance(files[index], dict) or "sha256" not in files[index]:
                raise NotFound("no such file")  # not a file question's answer
            entry = dict(files[index])
        return entry, await self.files.get(entry["sha256"])

    @staticmethod
    async def open_for(s: AsyncSession, account_id: int, case_id: int) -> int:
        """The dashboard's "Actions to Complete (n)": open assignments of this case for this
        carer that they have not submitted. One query."""
        submitted = (
            select(FormResponse.id)
            .where(
                FormResponse.assignment_id == FormAssignment.id,
                FormResponse.account_id == account_id,
                FormResponse.status == "submitted",
            )
            .exists()
        )
        return await s.scalar(
            select(func.count()).select_from(FormAssignment).where(
                FormAssignment.case_id == case_id,
                FormAssignment.withdrawn_at.is_(None),
                or_(FormAssignment.account_id.is_(None), FormAssignment.account_id == account_id),
                ~submitted,
            )
        ) or 0

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
        form = self.forms.get(form_id)
        if form is None:
            raise FormRefused(f"There is no form {form_id!r}. GET /v1/forms lists them.", "unknown_form")
        if form.started_by != "team":
            raise FormRefused(f"The {form.title} is started by parents themselves; it cannot be assigned.",
                              "not_assignable")
        now = self.portal.clock.now()
        if due_date is not None and due_date < now.astimezone(LONDON).date():
            raise FormRefused("The due date is in the past.", "due_in_past")
        note = (note or "").strip() or None
        async with self.portal.db() as s, s.begin():
            case = await s.scalar(select(Case).where(Case.case_reference == case_reference))
            if case is None:
                raise NotFound("no such case")
            if account_id is not None:
                if not _valid_id(account_id) or not await has_active_access(s, account_id, case.child_id):
                    raise FormRefused("That carer has no active access to this child.", "no_access")
                carers = [account_id]
            else:
                carers = await _active_carers(s, case.child_id)
                if not carers:
                    raise FormRefused("No carer has active access to this child yet, so nobody could fill "
                                      "the form in.", "no_carer")
            a = FormAssignment(
                case_id=case.id, child_id=case.child_id, form_id=form.id, title=form.title, due_date=due_date,
                note=note, account_id=account_id, assigned_by=actor.id, assigned_at=now,
            )
            s.add(a)
            await s.flush()
            child = await s.get(Child, case.child_id)
            text = (
                f"✍️ <b>A form to complete for {escape(child.forename)}</b>\n"
                f"The SEND team asks you to fill in the {escape(form.title)}."
                + (f"\nPlease complete it by {format_date(due_date)}." if due_date else "")
                + (f"\n{escape(note)}" if note else "")
                + "\n\nYour answers are saved as you go, so you can stop and carry on later."
            )
            buttons = [[{"text": "✍️ Open the form", "callback_data": f"form:{a.id}:open"}]]
            for carer in carers:
                await notify_account(
                    s, carer, now=now, text=text, key=f"form-assigned:{a.id}:{carer}",
                    email_subject=f"A form to complete for {child.forename}: {form.title}",
                    child_id=child.id, buttons=buttons, parse_mode="HTML",
                )
            await plan_case(s, case.id, now, self.portal.settings.reminders)  # its due-date reminders
            audit(s, actor, "form.assign", at=now, child_id=child.id, subject=f"form_assignment:{a.id}")
            return await self._assignment_view(s, a, case)

    async def withdraw_assignment(self, actor: Any, assignment_id: int) -> AssignmentView:
        """Withdraw a form asked for by mistake (or no longer needed): it leaves Actions to
        Complete at once, drafts of it can no longer be opened, and each carer who had not sent
        it is told. Withdrawing again changes nothing."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            a = await s.get(FormAssignment, assignment_id) if _valid_id(assignment_id) else None
            if a is None:
                raise NotFound("no such assignment")
            case = await s.get(Case, a.case_id)
            if a.withdrawn_at is not None:
                return await self._assignment_view(s, a, case)
            a.withdrawn_at = now
            done = set(
                (
                    await s.scalars(
                        select(FormResponse.account_id).where(
                            FormResponse.assignment_id == a.id, FormResponse.status == "submitted"
                        )
                    )
                ).all()
            )
            carers = [a.account_id] if a.account_id is not None else await _active_carers(s, a.child_id)
            child = await s.get(Child, a.child_id)
            text = (
                f"✍️ <b>A form is no longer needed for {escape(child.forename)}</b>\n"
                f"The SEND team no longer needs the {escape(a.title)}. "
                "You do not need to do anything, and it has gone from Actions to Complete."
            )
            for carer in carers:
                if carer in done or not await has_active_access(s, carer, a.child_id):
                    continue
                await notify_account(
                    s, carer, now=now, text=text, key=f"form-withdrawn:{a.id}:{carer}",
                    email_subject=f"A form is no longer needed for {child.forename}",
                    child_id=child.id, parse_mode="HTML",
                )
            await plan_case(s, case.id, now, self.portal.settings.reminders)  # its due-date reminders
            audit(s, actor, "form.withdraw", at=now, child_id=a.child_id, subject=f"form_assignment:{a.id}")
            return await self._assignment_view(s, a, case)

    async def assignments(self, actor: Any, case_reference: str) -> list[AssignmentView]:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            case = await s.scalar(select(Case).where(Case.case_reference == case_reference))
            if case is None:
                raise NotFound("no such case")
            rows = (
                await s.scalars(select(FormAssignment).where(FormAssignment.case_id == case.id).order_by(FormAssignment.id))
            ).all()
            audit(s, actor, "form.assignment.list", at=now, child_id=case.child_id, subject=f"case:{case.id}")
            return [await self._assignment_view(s, a, case) for a in rows]

    async def submissions(self, actor: Any, *, after: int = 0, limit: int = 100, case_reference: str | None = None) -> list[SubmissionView]:
        """Submissions in the order they were sent, after the cursor `after`: the id of the
        message that carried the submission (`message_id`; a response made earlier may be
        submitted later, so the response id would skip it). A case system polls with the last
        one's `message_id`."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            q = select(FormResponse).where(
                FormResponse.status == "submitted", FormResponse.message_id.is_not(None),
                FormResponse.message_id > after,
            )
            if case_reference is not None:
                case = await s.scalar(select(Case).where(Case.case_reference == case_reference))
                if case is None:
                    raise NotFound("no such case")
                q = q.where(FormResponse.case_id == case.id)
            rows = (await s.scalars(q.order_by(FormResponse.message_id).limit(limit))).all()
            views = [await self._submission_view(s, r) for r in rows]
            for child_id in dict.fromkeys(r.child_id for r in rows) or [None]:
                audit(s, actor, "form.submission.poll", at=now, child_id=child_id, subject=f"after:{after}")
            return views

    async def submission(self, actor: Any, submission_id: int) -> SubmissionView:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            r = await self._submitted(s, submission_id)
            audit(s, actor, "form.submission.read", at=now, child_id=r.child_id, subject=f"form_response:{r.id}")
            return await self._submission_view(s, r)

    async def submission_pdf(self, actor: Any, submission_id: int) -> tuple[str, bytes]:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            r = await self._submitted(s, submission_id)
            if not r.pdf_sha256:
                raise NotFound("no PDF")
            child = await s.get(Child, r.child_id)
            form = self.forms.get(r.form_id)
            title = form.title if form else r.form_id
            name = _pdf_name(title, child.forename if child else None)
            sha = r.pdf_sha256
            audit(s, actor, "form.submission.pdf", at=now, child_id=r.child_id, subject=f"form_response:{r.id}")
        return name, await self.files.get(sha)

    async def submission_file(self, actor: Any, submission_id: int, sha256: str) -> tuple[dict[str, Any], bytes]:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            r = await self._submitted(s, submission_id)
            view = await self._submission_view(s, r)
            found = next((f for f in view.files if f["sha256"] == sha256), None)
            if found is None:
                raise NotFound("no such file")
            audit(s, actor, "form.submission.file", at=now, child_id=r.child_id, subject=f"form_response:{r.id}")
        return found, await self.files.get(sha256)

    # ------------------------------------------------------------------ inside a transaction

    async def _own(
        self, s: AsyncSession, chat_id: int, response_id: int, *, draft: bool = False
    ) -> tuple[int, FormResponse, FormDefinition]:
        """The chat's carer's own response (with its form), or NotFound: not theirs, no longer
        their child, its assignment withdrawn, or its form gone."""
        account_id = await active_account_for_chat(s, chat_id)
        # A change locks the row (PostgreSQL; SQLite writes take turns anyway): two files of an
        # album, or an answer racing Submit, each start from the other's answers.
        r = (
            await s.get(FormResponse, response_id, with_for_update=draft)
            if account_id is not None and _valid_id(response_id) else None
        )
        if r is None or r.account_id != account_id:
            raise NotFound("no such form")
        if r.child_id is not None and not await has_active_access(s, account_id, r.child_id):
            raise NotFound("no such form")
        if r.assignment_id is not None:
            a = await s.get(FormAssignment, r.assignment_id)
            if a is None or a.withdrawn_at is not None or a.account_id not in (None, account_id):
                raise NotFound("no such form")
        form = self.forms.get(r.form_id)
        if form is None:
            raise NotFound("no such form")
        if draft and r.status != "draft":
            raise FormRefused(SUBMITTED_ALREADY, "submitted")
        return account_id, r, form

    @staticmethod
    def _shown_question(form: FormDefinition, answers: dict[str, Any], question_id: str) -> Question:
        try:
            item = form.item(question_id)
        except (KeyError, TypeError):
            raise NotFound("no such question") from None
        if not isinstance(item, Question) or question_id not in {q.id for q in _visible_questions(form, answers)}:
            raise NotFound("no such question")
        return item

    @staticmethod
    def _parse(q: Question, raw: str | list[str] | None, now: datetime, answers: dict[str, Any]) -> Any:
        if q.type == QuestionType.FILE:
            if raw is not None:
                raise AnswerRefused("Please send the file here, as a document or a photo.")
            files = answers.get(q.id) or []
            if q.required and not files:
                raise AnswerRefused("Please send at least one file before you go on.")
            return files or None
        if raw is None:
            if q.required:
                raise AnswerRefused("This question needs an answer before you go on.")
            return None
        if isinstance(raw, list):
            if q.type != QuestionType.SEVERAL_CHOICES:
                raise AnswerRefused("Please choose one answer.")
            value: Any = parse_choices(q, [str(v) for v in raw])
        else:
            value = parse_answer(q, str(raw), now.astimezone(LONDON).date())
        if q.required and not _has(value):
            raise AnswerRefused("This question needs an answer before you go on.")
        return value

    @staticmethod
    def _after(form: FormDefinition, item_id: str, answers: dict[str, Any], from_review: bool) -> tuple[str, bool]:
        """Where to go after `item_id`: the next item; from the review, back to it, unless the
        next item is a required question still to answer (one the change has just shown, such as
        "Which school is your second preference?" after "Yes"): that first, then the review."""
        nxt = form.next_item(item_id, answers)
        if from_review:
            if nxt is not None and nxt in {q.id for q in form.missing(answers)}:
                return nxt, True
            return REVIEW, False
        return (nxt if nxt is not None else REVIEW), False

    async def _child_names(self, s: AsyncSession, r: FormResponse) -> tuple[str | None, str | None]:
        """(forename, full name) of the child the response is about (a request's: as answered)."""
        if r.child_id is not None:
            child = await s.get(Child, r.child_id)
            if child is not None:
                return child.forename, f"{child.forename} {child.surname}".strip()
        answers = r.answers or {}
        fore, sur = answers.get("child_forename"), answers.get("child_surname")
        if isinstance(fore, str) and fore:
            return fore, f"{fore} {sur}".strip() if isinstance(sur, str) else fore
        return None, None

    async def _view(self, s: AsyncSession, r: FormResponse, form: FormDefinition) -> ResponseView:
        answers = dict(r.answers or {})
        child_name, _ = await self._child_names(s, r)
        due = None
        if r.assignment_id is not None:
            due = await s.scalar(select(FormAssignment.due_date).where(FormAssignment.id == r.assignment_id))
        position = REVIEW if r.status == "submitted" else where(form, r.position, answers)
        return ResponseView(
            id=r.id, form=form, account_id=r.account_id, assignment_id=r.assignment_id, case_id=r.case_id,
            child_id=r.child_id, child_name=child_name, due_date=due, answers=answers, position=position,
            from_review=bool(r.from_review) and position != REVIEW, status=r.status, started_at=r.started_at,
            updated_at=r.updated_at, submitted_at=r.submitted_at,
        )

    async def _open_case(
        self, s: AsyncSession, r: FormResponse, form: FormDefinition, answers: dict[str, Any],
        account_id: int, carer: str, chat_id: int, now: datetime,
    ) -> tuple[Case, Child]:
        """The request for assessment opens the case: the child, the case with today's request
        date, the carer's active access, the key dates and their reminders (as CaseService does)."""
        try:
            forename = str(answers["child_forename"]).strip()
            surname = str(answers["child_surname"]).strip()
            born = date.fromisoformat(str(answers["child_date_of_birth"]))
        except (KeyError, ValueError):
            raise FormRefused("The child's name and date of birth are needed before you can submit.",
                              "incomplete") from None
        today = now.astimezone(LONDON).date()
        child = Child(forename=forename[:100], surname=surname[:100], date_of_birth=born, created_at=now)
        s.add(child)
        await s.flush()
        reference, n = f"REQ-{r.id:06d}", 1
        while await s.scalar(select(Case.id).where(Case.case_reference == reference)) is not None:
            n += 1
            reference = f"REQ-{r.id:06d}-{n}"
        case = Case(
            child_id=child.id, case_reference=reference, created_at=now, request_date=today,
            requestor=carer[:100], updated_at=now,
        )
        s.add(case)
        await s.flush()
        s.add(AccessGrant(
            invitation_id=None, child_id=child.id, account_id=account_id, status="active", created_at=now,
            responded_at=now, activated_at=now, activated_by="self:request",
        ))
        await s.flush()
        # The key dates and reminders, as CaseService.create_case writes them (no events yet).
        await write_key_date_index(s, case.id, fold(case.request_date, []))
        await plan_case(s, case.id, now, self.portal.settings.reminders)
        await s.execute(
            update(ChatLink)
            .where(ChatLink.active_chat_id == chat_id, ChatLink.selected_child_id.is_(None))
            .values(selected_child_id=child.id)
        )
        r.case_id, r.child_id = case.id, child.id
        audit(s, Actor.parent(account_id), "case.create", at=now, child_id=child.id, subject=f"case:{case.id}")
        return case, child

    async def _message_to_team(
        self, s: AsyncSession, r: FormResponse, form: FormDefinition, answers: dict[str, Any], case: Case,
        child: Child, account_id: int, carer: str, now: datetime, pdf_sha: str, pdf_size: int,
    ) -> Message:
        """The submission as a message to the SEND team on the case (the PDF and supporting files
        attached), so the message poll and the staff group's topic carry it."""
        local = now.astimezone(LONDON)
        lines = [
            f"{carer} sent the {form.title} for {child.forename} {child.surname}".rstrip() + ".",
            f"Submitted on {format_date(local.date())} at {local:%H:%M}.",
            "",
        ]
        files: list[dict[str, Any]] = []
        for q in _visible_questions(form, answers):
            value = answers.get(q.id)
            lines.append(f"{q.text}: {format_answer(q, value)}")
            if q.type == QuestionType.FILE and isinstance(value, list):
                files.extend(f for f in value if f.get("sha256") not in {x["sha256"] for x in files})
        end = "\nThe answers are also in the attached PDF" + (
            f", with {len(files)} supporting file{'s' if len(files) != 1 else ''}." if files else "."
        )
        body = "\n".join(lines)
        if len(body) + len(end) > MAX_BODY:
            cut = "\n… The rest of the answers are in the attached PDF."
            body = body[: MAX_BODY - len(cut) - len(end)].rsplit("\n", 1)[0] + cut
        body += end
        subject = f"{form.title} submitted"
        if len(subject) > MAX_SUBJECT:
            subject = form.title[: MAX_SUBJECT - 11].rstrip() + " submitted"
        msg = Message(
            case_id=case.id, child_id=child.id, account_id=account_id, direction="to_team",
            type=_message_type(form).value, subject=subject, body=body, sender_name=carer,
            recipient_name=case.caseworker_name or MessageService(self.portal, self.files)._team(),
            reply_to_id=None, source="form", sent_by=f"account:{account_id}", created_at=now,
            client_key=f"form:{r.id}",
        )
        s.add(msg)
        await s.flush()
        s.add(Attachment(
            message_id=msg.id, sha256=pdf_sha, filename=_pdf_name(form.title, child.forename),
            mime="application/pdf", size=pdf_size, created_at=now,
        ))
        for f in files:
            s.add(Attachment(
                message_id=msg.id, sha256=f["sha256"], filename=str(f.get("filename") or "file")[:200],
                mime=str(f.get("mime") or "application/octet-stream"), size=int(f.get("size") or 0),
                created_at=now, telegram_file_id=f.get("telegram_file_id"),
            ))
        audit(s, Actor.parent(account_id), "message.send", at=now, child_id=child.id, subject=f"message:{msg.id}")
        return msg

    @staticmethod
    async def _submitted(s: AsyncSession, submission_id: int) -> FormResponse:
        r = await s.get(FormResponse, submission_id) if _valid_id(submission_id) else None
        if r is None or r.status != "submitted":
            raise NotFound("no such submission")
        return r

    async def _submission_view(self, s: AsyncSession, r: FormResponse) -> SubmissionView:
        case = await s.get(Case, r.case_id)
        answers = dict(r.answers or {})
        form = self.forms.get(r.form_id)
        entries: list[dict[str, Any]] = []
        files: list[dict[str, Any]] = []
        if form is not None:
            shown = {q.id for q in _visible_questions(form, answers)}
            for step in form.steps:
                for item in step.items:
                    if isinstance(item, Guidance) or item.id not in shown:
                        continue
                    value = answers.get(item.id)
                    if item.type == QuestionType.FILE and isinstance(value, list):
                        value = [_file_entry(f) for f in value]
                        files.extend({"question_id": item.id, **f} for f in value)
                    entries.append({
                        "question_id": item.id, "step": step.name, "question": item.text,
                        "type": item.type.value, "value": value, "text": format_answer(item, answers.get(item.id)),
                    })
        else:  # the definition was removed since: the answers as stored
            for key, value in answers.items():
                entries.append({"question_id": key, "step": "", "question": key, "type": "", "value": value,
                                "text": str(value)})
        return SubmissionView(
            id=r.id, form_id=r.form_id, form_version=r.form_version, title=form.title if form else r.form_id,
            case_reference=case.case_reference if case else "", child_id=r.child_id or 0, account_id=r.account_id,
            carer_name=await _account_name(s, r.account_id), assignment_id=r.assignment_id,
            submitted_at=r.submitted_at, answers=entries, files=files, message_id=r.message_id,
        )

    @staticmethod
    async def _assignment_view(s: AsyncSession, a: FormAssignment, case: Case) -> AssignmentView:
        done = (
            await s.scalars(
                select(FormResponse.id)
                .where(FormResponse.assignment_id == a.id, FormResponse.status == "submitted")
                .order_by(FormResponse.id)
            )
        ).all()
        return AssignmentView(
            id=a.id, case_reference=case.case_reference, form_id=a.form_id, title=a.title, due_date=a.due_date,
            note=a.note, account_id=a.account_id, assigned_by=a.assigned_by, assigned_at=a.assigned_at,
            withdrawn_at=a.withdrawn_at, submissions=list(done),
        )


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
