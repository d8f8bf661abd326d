"""The parent's SEND Dashboard, with access checked in the core on every call.

`overview` costs three queries whatever the size of the case: one for the chat's account, its
children and their cases (the access check is part of that join), one for the chosen case's
events, and one for every count on the dashboard (Actions to Complete, New Messages, Documents to
View): the features register a counting query each (core/services.py), and they run as one
statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, bindparam, select, update

from core.audit import Actor, audit_read
from core.cases.events import RecordedEvent
from core.cases.models import CaseEvent
from core.cases.service import contact_for, recorded, stage_of
from core.clock import london_today
from core.onboarding._common import has_active_access
from core.onboarding.models import AccessGrant, Case, ChatLink, Child
from core.portal import Portal
from core.timescales import (
    EXCEPTION_NAMES,
    RULES_BY_KEY,
    CaseEvents,
    KeyDate,
    Stage,
    Status,
    key_dates,
)


@dataclass(frozen=True, slots=True)
class ChildOption:
    child_id: int
    forename: str
    surname: str


@dataclass(frozen=True, slots=True)
class Counts:
    actions: int = 0
    messages: int = 0
    documents: int = 0


# A counter: the dashboard's count it gives ("actions", "messages" or "documents") and the query
# that counts it (one row, one number), with the parameters `account_id` and `case_id`.
# Registered by the features.
Counter = tuple[str, Select[tuple[int]]]

# The overview's statements, built once (building and hashing a statement costs more than SQLite
# takes to run it, and every /dashboard runs them).
_CHILDREN = (
    select(ChatLink.account_id, ChatLink.selected_child_id, Child, Case)
    .select_from(ChatLink)
    .outerjoin(AccessGrant, and_(AccessGrant.account_id == ChatLink.account_id, AccessGrant.status == "active"))
    .outerjoin(Child, Child.id == AccessGrant.child_id)
    .outerjoin(Case, Case.child_id == Child.id)
    .where(ChatLink.active_chat_id == bindparam("chat_id"))
    .order_by(Child.forename, Child.id)
)
_E = CaseEvent.__table__
_EVENTS = select(_E.c.id, _E.c.kind, _E.c.on, _E.c.details, _E.c.withdrawn_at).where(
    _E.c.case_id == bindparam("case_id")
)


@dataclass(frozen=True, slots=True)
class Dashboard:
    child_id: int
    child_forename: str
    child_surname: str
    case_reference: str
    request_date: date | None
    requestor: str | None
    caseworker_name: str | None
    contact: str
    stage: Stage
    key_dates: list[KeyDate]  # applicable ones, in the rules' order
    missed: list[KeyDate]  # council dates passed with nothing recorded
    exceptions: list[str]
    counts: Counts
    events: CaseEvents
    today: date


@dataclass(frozen=True, slots=True)
class Overview:
    account_id: int | None  # None: the chat is not linked
    children: list[ChildOption]
    dashboard: Dashboard | None  # None: no child yet, or the parent must pick one


@dataclass
class DashboardService:
    portal: Portal
    counters: list[Counter] = field(default_factory=list)
    _counting: Select[Any] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.counters:
            self._counting = select(*(q.scalar_subquery() for _, q in self.counters))

    async def overview(self, chat_id: int, child_id: int | None = None) -> Overview:
        """The chat's children and, for `child_id` (or the chat's chosen child, or its only
        child), the dashboard. A child the chat may not see gives no dashboard, never an error
        that tells it exists."""
        now = self.portal.clock.now()
        today = london_today(now)
        async with self.portal.db() as s:  # reads only: its audit entry is written by audit_read
            rows = (await s.execute(_CHILDREN, {"chat_id": chat_id})).all()
            if not rows:
                return Overview(None, [], None)
            account_id, selected = rows[0][0], rows[0][1]
            cases: dict[int, tuple[Child, Case]] = {}
            for _a, _sel, child, case in rows:
                if child is not None and case is not None and child.id not in cases:
                    cases[child.id] = (child, case)
            children = [ChildOption(c.id, c.forename, c.surname) for c, _ in cases.values()]
            wanted = child_id
            if wanted is None:
                wanted = selected if selected in cases else (children[0].child_id if len(children) == 1 else None)
            if wanted is None or wanted not in cases:
                return Overview(account_id, children, None)
            child, case = cases[wanted]
            events = (await s.execute(_EVENTS, {"case_id": case.id})).all()
            counts = await self._counts(s, account_id, case.id)
            dash = _dashboard(child, case, recorded(list(events)), counts, today, self.portal)
        await audit_read(self.portal, Actor.parent(account_id), "dashboard.read", at=now, child_id=child.id)
        return Overview(account_id, children, dash)

    async def _counts(self, s, account_id: int, case_id: int) -> Counts:  # noqa: ANN001
        """Every registered count, in one statement."""
        if self._counting is None:
            return Counts()
        row = (await s.execute(self._counting, {"account_id": account_id, "case_id": case_id})).one()
        totals = {"actions": 0, "messages": 0, "documents": 0}
        for (name, _), n in zip(self.counters, row, strict=True):
            totals[name] += n or 0
        return Counts(**totals)

    async def choose_child(self, chat_id: int, child_id: int) -> bool:
        """Remember the chat's chosen child, if the chat may see it. False (nothing stored) if not."""
        async with self.portal.db() as s, s.begin():
            account_id = await s.scalar(select(ChatLink.account_id).where(ChatLink.active_chat_id == chat_id))
            if account_id is None:
                return False
            if not await has_active_access(s, account_id, child_id):
                return False
            await s.execute(
                update(ChatLink).where(ChatLink.active_chat_id == chat_id).values(selected_child_id=child_id)
            )
            return True

    async def timeline(self, chat_id: int, child_id: int) -> tuple[bytes, Dashboard] | None:
        """The timeline picture (PNG) and the dashboard it shows, or None if the chat may not see
        the child."""
        from core.timeline import timeline_png

        ov = await self.overview(chat_id, child_id)
        d = ov.dashboard
        if d is None:
            return None
        return timeline_png(d.events, d.today, child_name=f"{d.child_forename} {d.child_surname}"), d


def _dashboard(
    child: Child, case: Case, events: list[RecordedEvent], counts: Counts, today: date, portal: Portal
) -> Dashboard:
    folded, stage = stage_of(case.request_date, events)
    kds = [k for k in key_dates(folded, today) if k.status is not Status.NOT_APPLICABLE]
    missed = [
        k for k in kds if k.status is Status.OVERDUE and k.met_on is None and RULES_BY_KEY[k.key].party == "council"
    ]
    return Dashboard(
        child_id=child.id,
        child_forename=child.forename,
        child_surname=child.surname,
        case_reference=case.case_reference,
        request_date=case.request_date,
        requestor=case.requestor,
        caseworker_name=case.caseworker_name,
        contact=contact_for(case, portal.settings.product.send_team_contact),
        stage=stage,
        key_dates=kds,
        missed=missed,
        exceptions=sorted(EXCEPTION_NAMES.get(x, x) for x in folded.exceptions),
        counts=counts,
        events=folded,
        today=today,
    )
