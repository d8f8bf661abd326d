"""A carer's own response to a form: found for the chat that asks (and checked to be theirs,
about a child they still have access to, of a form still asked for and still defined), and
viewed as the chat shows it (where the parent is, the answers kept)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.forms.base import FormRefused, valid_id
from core.forms.form import FormDefinition
from core.forms.models import FormAssignment, FormResponse
from core.forms.progress import REVIEW, where
from core.onboarding.models import AccessGrant, ChatLink, Child

SUBMITTED_ALREADY = "This form was sent to the SEND team already, so it cannot be changed now."


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



async def own_response(
    s: AsyncSession, forms: dict[str, FormDefinition], chat_id: int, response_id: int, *, draft: bool = False
) -> tuple[int, FormResponse, FormDefinition]:
    """The chat's carer's own response (with its form), or NotFound: not theirs, no longer
    their child, its assignment withdrawn, or its form gone. One query: the response, its
    assignment and child (left in the session for `response_view`) and the access check."""
    if not valid_id(response_id):
        raise NotFound("no such form")
    allowed = (
        select(AccessGrant.id)
        .where(AccessGrant.account_id == ChatLink.account_id, AccessGrant.child_id == FormResponse.child_id,
               AccessGrant.status == "active")
        .exists()
    )
    query = (
        select(ChatLink.account_id, allowed.label("allowed"), FormResponse, FormAssignment, Child)
        .select_from(FormResponse)
        .join(ChatLink, and_(ChatLink.active_chat_id == chat_id, ChatLink.account_id == FormResponse.account_id))
        .outerjoin(FormAssignment, FormAssignment.id == FormResponse.assignment_id)
        .outerjoin(Child, Child.id == FormResponse.child_id)
        .where(FormResponse.id == response_id)
    )
    if draft:
        # A change locks the row (PostgreSQL; SQLite writes take turns anyway): two files of an
        # album, or an answer racing Submit, each start from the other's answers.
        query = query.with_for_update(of=FormResponse)
    row = (await s.execute(query)).first()
    if row is None:  # no such response, or not this chat's carer's
        raise NotFound("no such form")
    account_id, may_see, r, a, child = row
    # The session holds its objects weakly: kept for the transaction, `response_view` finds the
    # child and the assignment in it without another query.
    s.info.setdefault("ehcp_kept", []).extend(x for x in (a, child) if x is not None)
    if r.child_id is not None and not may_see:
        raise NotFound("no such form")
    if r.assignment_id is not None:
        if a is None or a.withdrawn_at is not None or a.account_id not in (None, account_id):
            raise NotFound("no such form")
    form = forms.get(r.form_id)
    if form is None:
        raise NotFound("no such form")
    if draft and r.status != "draft":
        raise FormRefused(SUBMITTED_ALREADY, "submitted")
    return account_id, r, form


async def child_names(s: AsyncSession, r: FormResponse) -> tuple[str | None, str | None]:
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


async def response_view(s: AsyncSession, r: FormResponse, form: FormDefinition) -> ResponseView:
    answers = dict(r.answers or {})
    child_name, _ = await child_names(s, r)
    due = None
    if r.assignment_id is not None:  # in the session already when `own_response` found it
        assignment = await s.get(FormAssignment, r.assignment_id)
        due = assignment.due_date if assignment is not None else None
    position = REVIEW if r.status == "submitted" else where(form, r.position, answers)
    return ResponseView(
        id=r.id, form=form, account_id=r.account_id, assignment_id=r.assignment_id, case_id=r.case_id,
        child_id=r.child_id, child_name=child_name, due_date=due, answers=answers, position=position,
        from_review=bool(r.from_review) and position != REVIEW, status=r.status, started_at=r.started_at,
        updated_at=r.updated_at, submitted_at=r.submitted_at,
    )
