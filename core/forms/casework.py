"""Forms, the SEND team's side (the caseworker API calls it): ask a family for a form, withdraw
it, and read what was sent: submissions in the order they were sent, each as JSON, its PDF and
its supporting files.

Assigning writes each carer's notice (with a button that opens the form) in the same
transaction, and plans the due date's reminders; withdrawing tells each carer who had not sent it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import audit, audit_poll
from core.clock import LONDON
from core.errors import NotFound
from core.events import CaseDatesChanged
from core.forms.answers import format_answer
from core.forms.base import FormRefused, FormsBase, account_name, pdf_name, valid_id
from core.forms.models import FormAssignment, FormResponse
from core.forms.notices import FormAssigned, FormWithdrawn
from core.forms.progress import visible_questions
from core.forms.questions import Guidance, QuestionType
from core.notices import Recipient
from core.onboarding._common import case_by_reference, has_active_access
from core.onboarding.models import AccessGrant, Case, Child


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


def _file_entry(f: dict[str, Any], *, with_telegram: bool = False) -> dict[str, Any]:
    out = {k: f.get(k) for k in ("sha256", "filename", "mime", "size")}
    if with_telegram:
        out["telegram_file_id"] = f.get("telegram_file_id")
    return out


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


class FormCasework(FormsBase):
    """The SEND team's side of forms (`actor`: who asks, for the audit)."""

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
            case = await case_by_reference(s, case_reference)
            if account_id is not None:
                if not valid_id(account_id) or not await has_active_access(s, account_id, case.child_id):
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
            await self.portal.events.publish(s, FormAssigned(
                at=now, child_id=child.id,
                recipients=tuple(Recipient(c, f"form-assigned:{a.id}:{c}") for c in carers),
                assignment_id=a.id, child_forename=child.forename, form_title=form.title, due_date=due_date,
                note=note,
            ))
            await self.portal.events.publish(s, CaseDatesChanged(at=now, case_id=case.id))  # its reminders
            audit(s, actor, "form.assign", at=now, child_id=child.id, subject=f"form_assignment:{a.id}")
            return await self._assignment_view(s, a, case)

    async def withdraw_assignment(self, actor: Any, assignment_id: int) -> AssignmentView:
        """Withdraw a form asked for by mistake (or no longer needed): it leaves Actions to
        Complete at once, drafts of it can no longer be opened, and each carer who had not sent
        it is told. Withdrawing again changes nothing."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            a = await s.get(FormAssignment, assignment_id) if valid_id(assignment_id) else None
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
            told = [c for c in carers if c not in done and await has_active_access(s, c, a.child_id)]
            await self.portal.events.publish(s, FormWithdrawn(
                at=now, child_id=child.id, recipients=tuple(Recipient(c, f"form-withdrawn:{a.id}:{c}") for c in told),
                assignment_id=a.id, child_forename=child.forename, form_title=a.title,
            ))
            await self.portal.events.publish(s, CaseDatesChanged(at=now, case_id=case.id))  # its reminders
            audit(s, actor, "form.withdraw", at=now, child_id=a.child_id, subject=f"form_assignment:{a.id}")
            return await self._assignment_view(s, a, case)

    async def assignments(self, actor: Any, case_reference: str) -> list[AssignmentView]:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            case = await case_by_reference(s, case_reference)
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
                case = await case_by_reference(s, case_reference)
                q = q.where(FormResponse.case_id == case.id)
            rows = (await s.scalars(q.order_by(FormResponse.message_id).limit(limit))).all()
            views = [await self._submission_view(s, r) for r in rows]
            audit_poll(s, actor, "form.submission.poll", (r.child_id for r in rows), at=now, subject=f"after:{after}")
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
            name = pdf_name(title, child.forename if child else None)
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

    @staticmethod
    async def _submitted(s: AsyncSession, submission_id: int) -> FormResponse:
        r = await s.get(FormResponse, submission_id) if valid_id(submission_id) else None
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
            shown = {q.id for q in visible_questions(form, answers)}
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
            carer_name=await account_name(s, r.account_id), assignment_id=r.assignment_id,
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
