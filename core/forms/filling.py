"""Forms, the parent's side: Actions to Complete, the forms a parent starts, and filling one in,
one answer at a time; the PDF of the answers and Submit.

The answers stored here are the source of truth for where a parent is: the chat asks
`get(...)` for the response and shows the item at `position`, so a parent who leaves (or whose
bot restarts) comes back exactly where they were. Every call names the chat, and the core works
out the account and checks it owns the response (and still has active access to the child): an
id from a crafted button finds nothing (NotFound) if it is not the caller's.

Submitting writes, in one transaction: the response as submitted with its PDF (in core.files
storage), a message to the SEND team on the case carrying the PDF (so the case system's message
poll and the staff group's topic both get it), and the form's removal from Actions to Complete.
Submitting the request for an EHC needs assessment first opens the case (`core.forms.submitting`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import Actor, audit
from core.clock import london_today
from core.errors import NotFound
from core.events import CaseDatesChanged
from core.files import FileRefused, check_upload, safe_filename
from core.forms.answers import AnswerRefused
from core.forms.base import FormRefused, FormsBase, account_name, pdf_name, valid_id
from core.forms.form import FormDefinition
from core.forms.models import FormAssignment, FormResponse
from core.forms.progress import (
    REVIEW,
    after,
    answered,
    checked_answer,
    first_position,
    has_answer,
    prune,
    shown_question,
    visible_ids,
    where,
)
from core.forms.questions import Question, QuestionType
from core.forms.responses import ResponseView, child_names, own_response, response_view
from core.forms.submitting import message_to_team, open_case
from core.onboarding._common import active_account_for_chat, has_active_access
from core.onboarding.models import Case, Child


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


class FormFilling(FormsBase):
    """The parent's side of forms (the chat calls it, by chat id)."""

    async def actions(self, chat_id: int, child_id: int) -> list[ActionView]:
        """Actions to Complete for this chat's carer and child: open assignments not yet
        submitted by this carer, soonest due first."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            account_id = await active_account_for_chat(s, chat_id)
            if account_id is None or not valid_id(child_id) or not await has_active_access(s, account_id, child_id):
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
            a = await s.get(FormAssignment, assignment_id) if account_id is not None and valid_id(assignment_id) else None
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
                    case_id=a.case_id, child_id=a.child_id, answers={}, position=first_position(form), from_review=False,
                    status="draft", started_at=now, updated_at=now,
                )
                s.add(r)
                await s.flush()
            audit(s, Actor.parent(account_id), "form.open", at=now, child_id=a.child_id, subject=f"form_response:{r.id}")
            return await response_view(s, r, form)

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
                    case_id=None, child_id=None, answers={}, position=first_position(form), from_review=False,
                    status="draft", started_at=now, updated_at=now,
                )
                s.add(r)
                await s.flush()
            audit(s, Actor.parent(account_id), "form.open", at=now, child_id=r.child_id, subject=f"form_response:{r.id}")
            return await response_view(s, r, form)

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
                    out.append(await response_view(s, r, form))
            return out

    async def get(self, chat_id: int, response_id: int) -> ResponseView:
        async with self.portal.db() as s, s.begin():
            _, r, form = await own_response(s, self.forms, chat_id, response_id)
            return await response_view(s, r, form)

    async def answer(self, chat_id: int, response_id: int, question_id: str, raw: str | list[str] | None) -> ResponseView:
        """Check and save one answer (`raw`: typed text, an option value, a list of option
        values for several choices, None to skip an optional question), then move on: to the
        next item, or back to the review if the parent came from it. Raises AnswerRefused (the
        answer is not saved, the position does not move) or NotFound.

        A changed answer that hides later questions drops their answers. Answering a response
        already submitted raises FormRefused(..., "submitted")."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            r, form, current, q = await self._own_question(s, chat_id, response_id, question_id)
            value = checked_answer(q, raw, london_today(now), current)
            answers = {k: v for k, v in current.items() if k != q.id}
            if has_answer(value):
                answers[q.id] = value
            answers = prune(form, answers)
            r.answers = answers  # a new dict: SQLAlchemy sees the change
            r.position, r.from_review = after(form, q.id, answers, r.from_review)
            r.updated_at = now
            return await response_view(s, r, form)

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
            r, form, answers, q = await self._own_question(s, chat_id, response_id, question_id)
            if q.type != QuestionType.FILE:
                raise AnswerRefused("This question needs a typed answer, not a file. Please type your answer.")
            files = list(answers.get(q.id) or [])
            digest = hashlib.sha256(data).hexdigest()
            if any(f.get("sha256") == digest for f in files):
                return await response_view(s, r, form)  # the same file again: kept once
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
            return await response_view(s, r, form)

    async def remove_files(self, chat_id: int, response_id: int, question_id: str) -> ResponseView:
        """Remove every file sent for a file question (the parent starts again); the position stays."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            r, form, answers, q = await self._own_question(s, chat_id, response_id, question_id)
            if q.type != QuestionType.FILE:
                raise NotFound("not a file question")
            answers.pop(q.id, None)
            r.answers = prune(form, answers)
            r.updated_at = now
            return await response_view(s, r, form)

    async def move(self, chat_id: int, response_id: int, to: str) -> ResponseView:
        """Go "next" (past a guidance page, or past a file question), "back", to REVIEW, or to an
        item id (from the review: "Change", which comes back to the review after).

        "next" past a required question with no answer raises AnswerRefused (a file question:
        "send at least one file"); an item id that is not shown raises NotFound."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            _, r, form = await own_response(s, self.forms, chat_id, response_id, draft=True)
            answers = dict(r.answers or {})
            here = where(form, r.position, answers)
            if to == "next":
                if here != REVIEW:
                    item = form.item(here)
                    if isinstance(item, Question) and (item.type == QuestionType.FILE or not has_answer(answers.get(item.id))):
                        checked_answer(item, None, london_today(now), answers)  # refuses a required question left empty
                    r.position, r.from_review = after(form, here, answers, r.from_review)
            elif to == "back":
                if here == REVIEW:
                    shown = visible_ids(form, answers)
                    back = shown[-1] if shown else None
                else:
                    back = form.previous_item(here, answers)
                r.position, r.from_review = (back or here), False
            elif to == REVIEW:
                r.position, r.from_review = REVIEW, False
            else:
                if not isinstance(to, str) or to not in visible_ids(form, answers):
                    raise NotFound("no such question")
                r.position, r.from_review = to, True
            r.updated_at = now
            return await response_view(s, r, form)

    async def pdf(self, chat_id: int, response_id: int) -> tuple[str, bytes]:
        """(file name, PDF) of the answers so far (or as submitted)."""
        from core.forms.pdf import form_pdf

        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            account_id, r, form = await own_response(s, self.forms, chat_id, response_id)
            child_name, child_full = await child_names(s, r)
            audit(s, Actor.parent(account_id), "form.pdf", at=now, child_id=r.child_id, subject=f"form_response:{r.id}")
            name = pdf_name(form.title, child_name)
            if r.status == "submitted" and r.pdf_sha256:
                sha = r.pdf_sha256
            else:
                carer = await account_name(s, account_id)
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
            account_id, r, form = await own_response(s, self.forms, chat_id, response_id)
            if r.status == "submitted":
                return await response_view(s, r, form)
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
                return await response_view(s, r, form)
            carer = await account_name(s, account_id)
            if r.case_id is None:
                case, child = await open_case(s, self.portal, r, answers, account_id, carer, chat_id, now)
            else:
                case = await s.get(Case, r.case_id)
                child = await s.get(Child, r.child_id)
            child_full = f"{child.forename} {child.surname}".strip()
            data = form_pdf(
                form, answers, council_name=self.portal.settings.product.council_name, child_name=child_full,
                carer_name=carer, submitted_at=now, generated_at=now, reference=case.case_reference,
            )
            pdf_sha = await self.files.put(data)
            msg = await message_to_team(
                s, self.portal, self.files, r, form, answers, case, child, account_id, carer, now, pdf_sha, len(data)
            )
            r.answers = answers
            r.status, r.submitted_at, r.updated_at = "submitted", now, now
            r.position, r.from_review = REVIEW, False
            r.pdf_sha256, r.message_id = pdf_sha, msg.id
            await self.portal.events.publish(s, CaseDatesChanged(at=now, case_id=case.id))  # its reminders
            audit(s, Actor.parent(account_id), "form.submit", at=now, child_id=child.id, subject=f"form_response:{r.id}")
            await s.flush()
            return await response_view(s, r, form)

    async def file_of_answer(self, chat_id: int, response_id: int, question_id: str, index: int) -> tuple[dict[str, Any], bytes]:
        """One file of a file question's answer: its entry {sha256, filename, mime, size,
        telegram_file_id} and its bytes."""
        async with self.portal.db() as s, s.begin():
            _, r, _form = await own_response(s, self.forms, chat_id, response_id)
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
        return await s.scalar(FormFilling.open_query(account_id, case_id)) or 0

    @staticmethod
    def open_query(account_id: Any, case_id: Any) -> Select[tuple[int]]:
        """(`account_id`, `case_id`: values, or bound parameters for a statement built once.)"""
        submitted = (
            select(FormResponse.id)
            .where(
                FormResponse.assignment_id == FormAssignment.id,
                FormResponse.account_id == account_id,
                FormResponse.status == "submitted",
            )
            .exists()
        )
        return select(func.count()).select_from(FormAssignment).where(
            FormAssignment.case_id == case_id,
            FormAssignment.withdrawn_at.is_(None),
            or_(FormAssignment.account_id.is_(None), FormAssignment.account_id == account_id),
            ~submitted,
        )

    async def _own_question(
        self, s: AsyncSession, chat_id: int, response_id: int, question_id: str
    ) -> tuple[FormResponse, FormDefinition, dict[str, Any], Question]:
        """The chat's carer's draft, its answers and one of its shown questions (to change its
        answer), or NotFound."""
        _, r, form = await own_response(s, self.forms, chat_id, response_id, draft=True)
        answers = dict(r.answers or {})
        return r, form, answers, shown_question(form, answers, question_id)
