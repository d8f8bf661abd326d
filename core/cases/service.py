"""Children and their cases, as the SEND team keeps them: dates, events, exceptions, caseworker.

Every change runs in one transaction that also rewrites the case's key-date index, replans its
reminders and writes the notice that tells each carer with active access what changed (with the
next date). The stage is worked out from the events every time it is shown.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import Actor, audit
from core.cases.events import (
    EVENT_NAMES,
    EventDetailsError,
    EventKind,
    RecordedEvent,
    check_details,
    fold,
)
from core.cases.models import CaseEvent, CaseKeyDate
from core.cases.notices import (
    CaseEventRecorded,
    CaseEventWithdrawn,
    CaseNotice,
    CaseworkerChanged,
    RequestDateRecorded,
)
from core.clock import london_today
from core.events import CaseDatesChanged
from core.notices import Recipient
from core.onboarding.errors import CaseReferenceConflict, InvalidState, NotFound
from core.onboarding.models import AccessGrant, Case, Child
from core.onboarding.settings import OnboardingSettings
from core.portal import Portal
from core.timescales import (
    EXCEPTION_NAMES,
    RULES_BY_KEY,
    CaseEvents,
    KeyDate,
    Stage,
    Status,
    current_stage,
    key_dates,
)

# Events that belong to the 20-week assessment and need the date of request first.
_NEEDS_REQUEST = {
    EventKind.DECISION_TO_ASSESS,
    EventKind.DECISION_NOT_TO_ASSESS,
    EventKind.DECISION_TO_ISSUE_PLAN,
    EventKind.DECISION_NOT_TO_ISSUE_PLAN,
}


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    kind: str
    name: str
    on: date
    details: dict[str, Any]
    recorded_at: datetime
    recorded_by: str
    withdrawn_at: datetime | None


@dataclass(frozen=True, slots=True)
class CaseView:
    id: int
    case_reference: str
    child_id: int
    child_forename: str
    child_surname: str
    child_date_of_birth: date
    request_date: date | None
    requestor: str | None
    caseworker_name: str | None
    caseworker_email: str | None
    caseworker_phone: str | None
    stage: Stage
    key_dates: list[KeyDate]
    exceptions: list[str]
    events: list[EventView]
    created_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class AttentionItem:
    """A statutory date of a case that is overdue or due soon (the team leader's morning list)."""

    case_id: int
    case_reference: str
    child_id: int
    child_forename: str
    child_surname: str
    caseworker_name: str | None
    key: str
    name: str
    source: str
    due: date
    status: str  # overdue | due
    days: int  # days overdue (positive) or days left


def stage_of(request: date | None, events: list[RecordedEvent]) -> tuple[CaseEvents, Stage]:
    folded = fold(request, events)
    return folded, current_stage(folded)


def recorded(rows: list[CaseEvent]) -> list[RecordedEvent]:
    return [RecordedEvent(e.id, EventKind(e.kind), e.on, e.details or {}) for e in rows if e.withdrawn_at is None]


def next_key_date(kds: list[KeyDate], today: date) -> KeyDate | None:
    ahead = [k for k in kds if k.status is Status.DUE and k.due is not None and k.due >= today]
    return min(ahead, key=lambda k: k.due) if ahead else None


def contact_of(email: str | None, phone: str | None, fallback: str) -> str:
    """How a family reaches the caseworker: their email and phone, or the team's contact."""
    parts = [p for p in (email, phone) if p]
    return " or ".join(parts) if parts else fallback


def contact_for(case: Case, fallback: str) -> str:
    return contact_of(case.caseworker_email, case.caseworker_phone, fallback)


def _change_key(what: str, now: datetime) -> str:
    """The outbox key of a notice about a change that has no row of its own (a request date, a
    caseworker). Unique per change: the same value set again later (a date corrected and then
    corrected back, caseworker A then B then A) is a new change the family is told about, and
    would break the outbox's unique key if the key were only the value or only the time."""
    return f"{what}:{now.isoformat()}:{secrets.token_hex(4)}"


class CaseService:
    def __init__(self, portal: Portal, settings: OnboardingSettings | None = None) -> None:
        self.portal = portal
        self.settings = settings or portal.settings.onboarding

    # ------------------------------------------------------------------ reads

    async def get_case(self, case_reference: str, actor: Actor) -> CaseView:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            case, child = await self._load(s, case_reference)
            audit(s, actor, "case.read", at=now, child_id=child.id, subject=f"case:{case.id}")
            return await self._view(s, case, child, now)

    async def attention(
        self,
        actor: Actor,
        *,
        within_days: int = 14,
        caseworker: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[AttentionItem], int | None]:
        """The council's open statutory dates that are overdue or due within `within_days`, the
        most overdue first. One indexed query over the key-date index."""
        now = self.portal.clock.now()
        today = london_today(now)
        horizon = date.fromordinal(today.toordinal() + within_days)
        q = (
            select(CaseKeyDate, Case, Child)
            .join(Case, Case.id == CaseKeyDate.case_id)
            .join(Child, Child.id == Case.child_id)
            .where(CaseKeyDate.open.is_(True), CaseKeyDate.party == "council", CaseKeyDate.due <= horizon)
            # A duty that arises only on one outcome (reg 10(1): telling of a "no") is not
            # overdue when its date passes with nothing recorded.
            .where(~and_(CaseKeyDate.key.in_(_ONLY_ON_ONE_OUTCOME), CaseKeyDate.due < today - timedelta(days=1)))
            .order_by(CaseKeyDate.due, Case.id, CaseKeyDate.key)
            .offset(offset)
            .limit(limit + 1)
        )
        if caseworker:
            q = q.where(func.lower(Case.caseworker_name) == caseworker.strip().lower())
        async with self.portal.db() as s, s.begin():
            rows = (await s.execute(q)).all()
            audit(s, actor, "case.attention_list", at=now, subject=f"within:{within_days}")
        items = [
            AttentionItem(
                case_id=case.id,
                case_reference=case.case_reference,
                child_id=child.id,
                child_forename=child.forename,
                child_surname=child.surname,
                caseworker_name=case.caseworker_name,
                key=kd.key,
                name=RULES_BY_KEY[kd.key].name,
                source=RULES_BY_KEY[kd.key].source,
                due=kd.due,
                # Late only after the strict legal last day (the date shown plus the rule's grace).
                status="overdue" if _last_day(kd.key, kd.due) < today else "due",
                days=(today - _last_day(kd.key, kd.due)).days if _last_day(kd.key, kd.due) < today
                else (kd.due - today).days if kd.due >= today else 0,
            )
            for kd, case, child in rows[:limit]
        ]
        return items, (offset + limit if len(rows) > limit else None)

    # ------------------------------------------------------------------ changes

    async def create_case(
        self,
        actor: Actor,
        *,
        case_reference: str,
        child_forename: str,
        child_surname: str,
        child_date_of_birth: date,
        request_date: date | None = None,
        requestor: str | None = None,
        caseworker_name: str | None = None,
        caseworker_email: str | None = None,
        caseworker_phone: str | None = None,
    ) -> CaseView:
        now = self.portal.clock.now()
        self._check_request_date(request_date, now)
        async with self.portal.db() as s, s.begin():
            if await s.scalar(select(Case.id).where(Case.case_reference == case_reference)) is not None:
                raise CaseReferenceConflict(
                    "A case with this reference exists already. Change it with PATCH /v1/cases/{reference}.",
                    code="case_exists",
                )
            child = Child(
                forename=child_forename, surname=child_surname, date_of_birth=child_date_of_birth, created_at=now
            )
            s.add(child)
            await s.flush()
            case = Case(
                child_id=child.id,
                case_reference=case_reference,
                created_at=now,
                request_date=request_date,
                requestor=requestor,
                caseworker_name=caseworker_name,
                caseworker_email=caseworker_email,
                caseworker_phone=caseworker_phone,
                updated_at=now,
            )
            s.add(case)
            await s.flush()
            await self._refresh(s, case, now)
            audit(s, actor, "case.create", at=now, child_id=child.id, subject=f"case:{case.id}")
            return await self._view(s, case, child, now)

    async def update_case(self, case_reference: str, actor: Actor, changes: dict[str, Any]) -> CaseView:
        """Change the child's details or the case's request date or requestor. A new request date
        moves every date counted from it: the carers are told the new dates."""
        now = self.portal.clock.now()
        if "request_date" in changes:
            self._check_request_date(changes["request_date"], now)
        async with self.portal.db() as s, s.begin():
            case, child = await self._load(s, case_reference, lock=True)
            for field in ("child_forename", "child_surname", "child_date_of_birth"):
                if field in changes and changes[field] is not None:
                    setattr(child, field.removeprefix("child_"), changes[field])
            moved = "request_date" in changes and changes["request_date"] != case.request_date
            if moved and changes["request_date"] is not None:
                # As record_event refuses a decision dated before the request: the rules would
                # ignore such a decision, and the family would be reminded of a date already met.
                first = await s.scalar(
                    select(func.min(CaseEvent.on)).where(
                        CaseEvent.case_id == case.id,
                        CaseEvent.withdrawn_at.is_(None),
                        CaseEvent.kind.in_([k.value for k in _NEEDS_REQUEST]),
                    )
                )
                if first is not None and first < changes["request_date"]:
                    raise EventDetailsError(
                        "The date of request cannot be after a decision already recorded "
                        f"(on {first.isoformat()}). Withdraw that event first if it was a mistake."
                    )
            if "request_date" in changes:
                case.request_date = changes["request_date"]
            if "requestor" in changes:
                case.requestor = changes["requestor"]
            case.updated_at = now
            kds = await self._refresh(s, case, now)
            if moved and case.request_date is not None:
                await self._tell(s, child, _change_key(f"case-request:{case.id}:{case.request_date}", now),
                                 RequestDateRecorded, now, next_date=next_key_date(kds, london_today(now)),
                                 request_date=case.request_date)
            audit(s, actor, "case.update", at=now, child_id=child.id, subject=f"case:{case.id}")
            return await self._view(s, case, child, now)

    async def set_caseworker(
        self, case_reference: str, actor: Actor, *, name: str, email: str | None, phone: str | None
    ) -> CaseView:
        """Allocate a caseworker. A new caseworker is introduced to the family by name."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            case, child = await self._load(s, case_reference, lock=True)
            changed = (case.caseworker_name or "") != name
            moved = (case.caseworker_email, case.caseworker_phone) != (email, phone)
            case.caseworker_name, case.caseworker_email, case.caseworker_phone = name, email, phone
            case.updated_at = now
            if changed or moved:
                contact = contact_for(case, self.portal.settings.product.send_team_contact)
                await self._tell(s, child, _change_key(f"case-caseworker:{case.id}", now), CaseworkerChanged, now,
                                 name=name, contact=contact, new=changed)
            audit(s, actor, "case.caseworker", at=now, child_id=child.id, subject=f"case:{case.id}")
            return await self._view(s, case, child, now)

    async def record_event(
        self, case_reference: str, actor: Actor, kind: EventKind, on: date, details: dict[str, Any]
    ) -> tuple[CaseView, int]:
        """Record a dated event (or an exception). The carers are told what happened, the right it
        opens (with its date) and the next date. Returns the case and the event's id."""
        now = self.portal.clock.now()
        today = london_today(now)
        if on > today:
            raise EventDetailsError("The event's date is in the future. Record events once they happen.")
        details = check_details(kind, on, details)
        async with self.portal.db() as s, s.begin():
            case, child = await self._load(s, case_reference, lock=True)
            if kind in _NEEDS_REQUEST and case.request_date is None:
                raise InvalidState(
                    "Record the date of the request first (PATCH the case's request_date).",
                    code="no_request_date",
                )
            if kind in _NEEDS_REQUEST and case.request_date is not None and on < case.request_date:
                raise EventDetailsError("The decision cannot be dated before the request.")
            event = CaseEvent(
                case_id=case.id, kind=kind.value, on=on, details=details, recorded_at=now, recorded_by=actor.id
            )
            s.add(event)
            case.updated_at = now
            await s.flush()
            kds = await self._refresh(s, case, now)
            await self._tell(s, child, f"case-event:{event.id}", CaseEventRecorded, now,
                             next_date=next_key_date(kds, today), event=kind, on=on, details=dict(details),
                             key_dates={k.key: k for k in kds})
            audit(s, actor, f"case.event.{kind.value}", at=now, child_id=child.id, subject=f"event:{event.id}")
            return await self._view(s, case, child, now), event.id

    async def withdraw_event(self, case_reference: str, event_id: int, actor: Actor) -> CaseView:
        """Withdraw an event recorded by mistake (kept in the history as withdrawn). The carers are
        told, with the dates as they now stand."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            case, child = await self._load(s, case_reference, lock=True)
            event = await s.get(CaseEvent, event_id)
            if event is None or event.case_id != case.id:
                raise NotFound("No such event on this case.")
            if event.withdrawn_at is not None:
                raise InvalidState("That event is already withdrawn.", code="already_withdrawn")
            event.withdrawn_at, event.withdrawn_by = now, actor.id
            case.updated_at = now
            kds = await self._refresh(s, case, now)
            await self._tell(s, child, f"case-withdrawn:{event.id}", CaseEventWithdrawn, now,
                             next_date=next_key_date(kds, london_today(now)),
                             event_name=EVENT_NAMES[EventKind(event.kind)], on=event.on)
            audit(s, actor, "case.event.withdraw", at=now, child_id=child.id, subject=f"event:{event.id}")
            return await self._view(s, case, child, now)

    async def replan_all(self) -> int:
        """Recompute every case's key-date index from its events (after a change to the rules)."""
        now = self.portal.clock.now()
        done = 0
        async with self.portal.db() as s, s.begin():
            for case in (await s.scalars(select(Case).order_by(Case.id))).all():
                await self._refresh(s, case, now)
                done += 1
        return done

    # ------------------------------------------------------------------ inside a transaction

    @staticmethod
    def _check_request_date(request_date: date | None, now: datetime) -> None:
        if request_date is not None and request_date > london_today(now):
            raise EventDetailsError("The date of request is in the future.")

    @staticmethod
    async def _load(s: AsyncSession, case_reference: str, *, lock: bool = False) -> tuple[Case, Child]:
        q = select(Case, Child).join(Child, Child.id == Case.child_id).where(Case.case_reference == case_reference)
        if lock:
            q = q.with_for_update(of=Case)
        row = (await s.execute(q)).first()
        if row is None:
            raise NotFound("No case with that reference.")
        return row[0], row[1]

    async def _refresh(self, s: AsyncSession, case: Case, now: datetime) -> list[KeyDate]:
        """Rewrite the case's key-date index from its events and replan its reminders. Returns
        the key dates as of today."""
        rows = (await s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))).all()
        folded = fold(case.request_date, recorded(list(rows)))
        await write_key_date_index(s, case.id, folded)
        await self.portal.events.publish(s, CaseDatesChanged(at=now, case_id=case.id))
        return key_dates(folded, london_today(now))

    async def _tell(
        self, s: AsyncSession, child: Child, key: str, notice: type[CaseNotice], now: datetime, **facts: Any
    ) -> None:
        """Tell every carer with active access (in each of their linked chats; by email if none)."""
        accounts = (
            await s.scalars(
                select(AccessGrant.account_id).where(
                    AccessGrant.child_id == child.id,
                    AccessGrant.status == "active",
                    AccessGrant.account_id.is_not(None),
                )
            )
        ).all()
        recipients = tuple(Recipient(a, f"{key}:{a}") for a in sorted(set(accounts)))
        await self.portal.events.publish(
            s, notice(at=now, child_id=child.id, recipients=recipients, child_forename=child.forename, **facts)
        )

    async def _view(self, s: AsyncSession, case: Case, child: Child, now: datetime) -> CaseView:
        rows = list(
            (await s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.on, CaseEvent.id))).all()
        )
        folded, stage = stage_of(case.request_date, recorded(rows))
        return CaseView(
            id=case.id,
            case_reference=case.case_reference,
            child_id=child.id,
            child_forename=child.forename,
            child_surname=child.surname,
            child_date_of_birth=child.date_of_birth,
            request_date=case.request_date,
            requestor=case.requestor,
            caseworker_name=case.caseworker_name,
            caseworker_email=case.caseworker_email,
            caseworker_phone=case.caseworker_phone,
            stage=stage,
            key_dates=key_dates(folded, london_today(now)),
            exceptions=sorted(EXCEPTION_NAMES.get(x, x) for x in folded.exceptions),
            events=[
                EventView(
                    id=e.id,
                    kind=e.kind,
                    name=EVENT_NAMES[EventKind(e.kind)],
                    on=e.on,
                    details=e.details or {},
                    recorded_at=e.recorded_at,
                    recorded_by=e.recorded_by,
                    withdrawn_at=e.withdrawn_at,
                )
                for e in rows
            ],
            created_at=case.created_at,
            updated_at=case.updated_at,
        )


_ONLY_ON_ONE_OUTCOME = tuple(r.key for r in RULES_BY_KEY.values() if not r.missed_notice)


def _last_day(key: str, due: date) -> date:
    """The strict legal last day of a rule's date as shown (see core.timescales.Rule.grace_days)."""
    rule = RULES_BY_KEY.get(key)
    return due + timedelta(days=rule.grace_days) if rule is not None else due


def index_rows(case_id: int, folded: CaseEvents) -> list[dict[str, Any]]:
    """The key-date index rows of a case: every applicable rule's date, open while it still
    waits (worked out as of the earliest day, so a parent's window stays open until its date)."""
    rows = []
    for kd in key_dates(folded, date.min):
        if kd.due is None or kd.start is None or kd.status is Status.NOT_APPLICABLE:
            continue
        rows.append(
            {
                "case_id": case_id,
                "key": kd.key,
                "start": kd.start,
                "due": kd.due,
                "party": RULES_BY_KEY[kd.key].party,
                "open": kd.status is Status.DUE,
                "met_on": kd.met_on,
            }
        )
    return rows


async def write_key_date_index(s: AsyncSession, case_id: int, folded: CaseEvents) -> None:
    await s.execute(delete(CaseKeyDate).where(CaseKeyDate.case_id == case_id))
    rows = index_rows(case_id, folded)
    if rows:
        await s.execute(CaseKeyDate.__table__.insert(), rows)


async def rebuild_key_date_index(portal: Portal, *, chunk: int = 2000) -> int:
    """Rewrite the key-date index of every case from its events: after a change to the rules,
    or for cases loaded in bulk. Cases are read in id order, `chunk` at a time, each chunk in a
    transaction of its own that locks its cases (a change recorded meanwhile waits for it, as
    for `CaseService._refresh`), reads their events, folds them and replaces their index rows
    (the same rows as `write_key_date_index`). Returns how many index rows were written.

    Reminders are not replanned here: the daily `plan_all` adds the ones the new dates need and
    `send_due` drops a pending reminder whose date has changed or been met."""
    import json

    from sqlalchemy import String, type_coerce

    table = CaseKeyDate.__table__
    # The details as stored (JSON text), decoded here: most events have none ("{}"), and
    # skipping the decoder for those saves a third of the time of reading the events.
    details_text = type_coerce(CaseEvent.details, String)
    kinds = {k.value: k for k in EventKind}  # a dict lookup costs less than EventKind(value)
    written, last = 0, 0
    while True:
        async with portal.db() as s, s.begin():
            conn = await s.connection()
            cases = (
                await conn.execute(
                    select(Case.id, Case.request_date)
                    .where(Case.id > last)
                    .order_by(Case.id)
                    .limit(chunk)
                    .with_for_update()
                )
            ).all()
            if not cases:
                return written
            lo, hi = cases[0][0], cases[-1][0]
            events: dict[int, list[RecordedEvent]] = {}
            result = await conn.execute(
                select(CaseEvent.case_id, CaseEvent.id, CaseEvent.kind, CaseEvent.on, details_text).where(
                    CaseEvent.case_id >= lo, CaseEvent.case_id <= hi, CaseEvent.withdrawn_at.is_(None)
                )
            )
            for case_id, event_id, kind, on, raw in result:
                details = raw if isinstance(raw, dict) else json.loads(raw) if raw and raw != "{}" else {}
                events.setdefault(case_id, []).append(RecordedEvent(event_id, kinds[kind], on, details))
            rows: list[dict[str, Any]] = []
            for case_id, request in cases:
                rows.extend(index_rows(case_id, fold(request, events.get(case_id, ()))))
            await conn.execute(delete(table).where(table.c.case_id >= lo, table.c.case_id <= hi))
            if rows:
                await conn.execute(table.insert(), rows)
            written += len(rows)
            last = hi


__all__ = [
    "AttentionItem",
    "CaseService",
    "CaseView",
    "EventView",
    "contact_for",
    "index_rows",
    "next_key_date",
    "rebuild_key_date_index",
    "stage_of",
    "write_key_date_index",
]
