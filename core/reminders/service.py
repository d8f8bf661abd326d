"""Reminders: rows planned from the key dates, moved into the outbox when due, never twice.

Kinds (each a parent's choice in /settings, all on by default): 7 days before a date, 1 day
before, on the day, and "missed" (the day after a council date passed with nothing recorded).

- Planning is a pure function (`wanted`) over the open key dates (`case_key_dates`) and the
  carers with active access. `plan_case` runs in the transaction of every change to a case (so
  reminders follow corrected dates at once: a pending reminder for a date that moved or was met is
  deleted); `plan_all` runs once a day (and at start) and adds the rows whose day has come within
  `reminder_horizon_days`. Rows are inserted with ON CONFLICT DO NOTHING on
  (case, account, key, due, kind): a reminder already sent is never planned again.
- `send_due` moves due rows into the outbox (kind "reminder": delivery holds them through quiet
  hours). Rows that came due while the service was down are sent if still relevant (the date is
  still open and still ahead, or a missed date is at most `missed_relevant_days` old) and dropped
  if not; of several due for one date, only the latest is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.cases.models import CaseKeyDate
from core.cases.service import contact_for
from core.clock import LONDON, london_today
from core.config import ReminderSettings
from core.events import AccessChanged, CaseDatesChanged, EventBus
from core.notices import Recipient as Told
from core.onboarding.models import AccessGrant, Case, Child
from core.portal import Portal
from core.quiet import is_quiet, quiet_ends_at
from core.reminders.models import Reminder, ReminderPreference
from core.reminders.notices import DateReminder, FormReminder
from core.timescales import RULES_BY_KEY
from core.upsert import _insert_for

log = logging.getLogger(__name__)

KINDS = ("before_7", "before_1", "on_day", "missed")
OFFSET_DAYS = {"before_7": -7, "before_1": -1, "on_day": 0, "missed": 1}


@dataclass(frozen=True, slots=True)
class OpenDate:
    case_id: int
    key: str
    due: date
    party: str  # council | parent


@dataclass(frozen=True, slots=True)
class Recipient:
    account_id: int
    kinds: frozenset[str]


def send_at(day: date, at: time) -> datetime:
    """`at` o'clock in London on `day`, in UTC (right on both sides of the clock change)."""
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def applies(kind: str, party: str, key: str = "") -> bool:
    """A "missed" notice is for the council's dates (not a duty that arises only on one outcome,
    such as reg 10(1)'s); a parent's window simply closes."""
    if kind != "missed":
        return True
    rule = RULES_BY_KEY.get(key)
    return party == "council" and (rule is None or rule.missed_notice)


def last_day(key: str, due: date) -> date:
    """The strict legal last day of a date shown as `due` (core.timescales.Rule.grace_days): a
    "missed" notice goes the day after it, never before."""
    rule = RULES_BY_KEY.get(key)
    return due + timedelta(days=rule.grace_days) if rule is not None else due


def wanted(
    dates: Iterable[OpenDate],
    recipients: dict[int, Sequence[Recipient]],
    today: date,
    cfg: ReminderSettings,
) -> list[dict[str, Any]]:
    """The reminder rows to have for these open dates: each recipient's chosen kinds whose day is
    within the horizon and not already past (a missed notice: not more than
    `missed_relevant_days` after the date). Pure: no database, no clock."""
    horizon = today + timedelta(days=cfg.reminder_horizon_days)
    offsets = [(kind, timedelta(days=OFFSET_DAYS[kind])) for kind in KINDS]
    # send_at of each day, worked out once a day (a time-zone conversion: most of the cost here).
    times: dict[date, datetime] = {}
    rows: list[dict[str, Any]] = []
    for d in dates:
        for who in recipients.get(d.case_id, ()):
            for kind, offset in offsets:
                if kind not in who.kinds or not applies(kind, d.party, d.key):
                    continue
                day = (last_day(d.key, d.due) if kind == "missed" else d.due) + offset
                if day > horizon:
                    continue
                if kind == "missed":
                    if (today - last_day(d.key, d.due)).days > cfg.missed_relevant_days:
                        continue
                elif day < today:
                    continue
                at = times.get(day)
                if at is None:
                    at = times[day] = send_at(day, cfg.reminder_time)
                rows.append(
                    {
                        "case_id": d.case_id,
                        "account_id": who.account_id,
                        "key": d.key,
                        "due": d.due,
                        "kind": kind,
                        "send_at": at,
                    }
                )
    return rows


def _kinds(pref: ReminderPreference | None) -> frozenset[str]:
    if pref is None:
        return frozenset(KINDS)
    return frozenset(k for k in KINDS if getattr(pref, k))


# A preference row's columns, in the order of KINDS (read as columns: no ORM object per row).
_PREFERENCE_COLUMNS = tuple(getattr(ReminderPreference, k) for k in KINDS)


def _kinds_of(flags: tuple[bool | None, ...]) -> frozenset[str]:
    """`_kinds` of a preference read as `_PREFERENCE_COLUMNS` (all None: the account has no row)."""
    if all(f is None for f in flags):
        return frozenset(KINDS)
    return frozenset(k for k, on in zip(KINDS, flags, strict=True) if on)


# ------------------------------------------------------------------ planning


async def _recipients_of_case(s: AsyncSession, case_id: int) -> list[Recipient]:
    rows = (
        await s.execute(
            select(AccessGrant.account_id, ReminderPreference)
            .join(Case, Case.child_id == AccessGrant.child_id)
            .outerjoin(ReminderPreference, ReminderPreference.account_id == AccessGrant.account_id)
            .where(Case.id == case_id, AccessGrant.status == "active", AccessGrant.account_id.is_not(None))
        )
    ).all()
    return [Recipient(int(a), _kinds(p)) for a, p in rows]


async def plan_case(
    s: AsyncSession, case_id: int, now: datetime, cfg: ReminderSettings
) -> None:
    """Bring one case's reminders in line with its open key dates and its carers' choices, in the
    caller's transaction. Pending reminders that no longer fit (the date moved, was met, the
    carer lost access or switched that kind off) are deleted; missing ones are added."""
    today = london_today(now)
    dates = [
        OpenDate(case_id, k, d, p)
        for k, d, p in (
            await s.execute(
                select(CaseKeyDate.key, CaseKeyDate.due, CaseKeyDate.party).where(
                    CaseKeyDate.case_id == case_id, CaseKeyDate.open.is_(True)
                )
            )
        ).all()
    ]
    recipients = await _recipients_of_case(s, case_id)
    valid = {
        (who.account_id, d.key, d.due, kind)
        for d in dates
        for who in recipients
        for kind in who.kinds
        if applies(kind, d.party, d.key)
    }
    rows = wanted(dates, {case_id: recipients}, today, cfg)
    # Forms the SEND team asked for with a due date: each carer it is for, until they submit it.
    for form_date, accounts in await _form_dates(s, case_id):
        who = [r for r in recipients if r.account_id in accounts]
        valid |= {(w.account_id, form_date.key, form_date.due, kind) for w in who for kind in w.kinds
                  if applies(kind, form_date.party)}
        rows += wanted([form_date], {case_id: who}, today, cfg)
    pending = (
        await s.execute(
            select(Reminder.id, Reminder.account_id, Reminder.key, Reminder.due, Reminder.kind).where(
                Reminder.case_id == case_id, Reminder.status == "pending"
            )
        )
    ).all()
    stale = [r.id for r in pending if (r.account_id, r.key, r.due, r.kind) not in valid]
    if stale:
        await s.execute(delete(Reminder).where(Reminder.id.in_(stale)))
    await _insert(s, rows, now)


FORM_KEY = "form:"


async def _form_dates(s: AsyncSession, case_id: int) -> list[tuple[OpenDate, set[int | None]]]:
    """The case's open form assignments with a due date, each with the carers it still waits for
    ({None} in the set: every carer of the case), less those who submitted it."""
    from core.forms.models import FormAssignment, FormResponse

    assignments = (
        await s.execute(
            select(FormAssignment.id, FormAssignment.due_date, FormAssignment.account_id).where(
                FormAssignment.case_id == case_id,
                FormAssignment.withdrawn_at.is_(None),
                FormAssignment.due_date.is_not(None),
            )
        )
    ).all()
    if not assignments:
        return []
    submitted = set(
        (
            await s.execute(
                select(FormResponse.assignment_id, FormResponse.account_id).where(
                    FormResponse.assignment_id.in_([a.id for a in assignments]),
                    FormResponse.status == "submitted",
                )
            )
        ).all()
    )
    everyone = set(
        (
            await s.scalars(
                select(AccessGrant.account_id)
                .join(Case, Case.child_id == AccessGrant.child_id)
                .where(Case.id == case_id, AccessGrant.status == "active", AccessGrant.account_id.is_not(None))
            )
        ).all()
    )
    out = []
    for a in assignments:
        targets = {a.account_id} if a.account_id is not None else everyone
        waiting = {acc for acc in targets if (a.id, acc) not in submitted}
        out.append((OpenDate(case_id, f"{FORM_KEY}{a.id}", a.due_date, "parent"), waiting))
    return out


async def plan_account(s: AsyncSession, account_id: int, now: datetime, cfg: ReminderSettings) -> None:
    """Replan every case this account sees (after a change of its choices or its access)."""
    case_ids = (
        await s.scalars(
            select(Case.id)
            .join(AccessGrant, AccessGrant.child_id == Case.child_id)
            .where(AccessGrant.account_id == account_id)
            .distinct()
        )
    ).all()
    for case_id in case_ids:
        await plan_case(s, case_id, now, cfg)


async def _insert(s: AsyncSession, rows: list[dict[str, Any]], now: datetime) -> int:
    """Insert reminder rows, skipping those that exist (ON CONFLICT DO NOTHING). Returns how many
    were added: the ids RETURNING gives back, so the count is exact on SQLite and PostgreSQL.

    One executemany per 5,000 rows (SQLAlchemy sends them as multi-row INSERTs, the statement
    compiled once): building a multi-row VALUES statement per 500 rows instead (`insert_ignore`)
    cost about 0.3 ms a row, 15 s for 50,000 reminders."""
    table = Reminder.__table__
    stmt = _insert_for(s, table).on_conflict_do_nothing().returning(table.c.id)
    done = 0
    for i in range(0, len(rows), 5000):
        chunk = [{**r, "status": "pending", "created_at": now} for r in rows[i : i + 5000]]
        done += len((await s.execute(stmt, chunk)).all())
    return done


async def plan_all(portal: Portal, now: datetime | None = None) -> int:
    """Plan the reminders of every case whose open dates fall in the window now coming up: one
    read of the key-date index joined to the carers, then inserts that skip existing rows.
    Returns how many rows were added."""
    cfg = portal.settings.reminders
    now = now or portal.clock.now()
    today = london_today(now)
    lo = today - timedelta(days=cfg.missed_relevant_days + 1)
    hi = today + timedelta(days=cfg.reminder_horizon_days + 7)
    async with portal.db() as s, s.begin():
        result = await s.execute(
            select(
                CaseKeyDate.case_id,
                CaseKeyDate.key,
                CaseKeyDate.due,
                CaseKeyDate.party,
                AccessGrant.account_id,
                *_PREFERENCE_COLUMNS,
            )
            .join(Case, Case.id == CaseKeyDate.case_id)
            .join(AccessGrant, and_(AccessGrant.child_id == Case.child_id, AccessGrant.status == "active"))
            .outerjoin(ReminderPreference, ReminderPreference.account_id == AccessGrant.account_id)
            .where(CaseKeyDate.open.is_(True), CaseKeyDate.due >= lo, CaseKeyDate.due <= hi)
        )
        dates: dict[tuple[int, str], OpenDate] = {}
        recipients: dict[int, dict[int, Recipient]] = {}
        kinds: dict[tuple[bool | None, ...], frozenset[str]] = {}  # few distinct choices
        for case_id, key, due, party, account_id, *flags in result.all():
            dates[(case_id, key)] = OpenDate(case_id, key, due, party)
            chosen = kinds.get(tuple(flags))
            if chosen is None:
                chosen = kinds[tuple(flags)] = _kinds_of(tuple(flags))
            recipients.setdefault(case_id, {})[account_id] = Recipient(account_id, chosen)
        rows = wanted(dates.values(), {c: list(r.values()) for c, r in recipients.items()}, today, cfg)
        added = await _insert(s, rows, now)
        # Forms due in the window (few, next to key dates): planned case by case.
        from core.forms.models import FormAssignment

        form_cases = (
            await s.scalars(
                select(FormAssignment.case_id)
                .where(
                    FormAssignment.withdrawn_at.is_(None),
                    FormAssignment.due_date >= today,
                    FormAssignment.due_date <= hi,
                )
                .distinct()
            )
        ).all()
        for case_id in form_cases:
            before = await s.scalar(select(func.count()).select_from(Reminder).where(Reminder.case_id == case_id))
            await plan_case(s, case_id, now, cfg)
            after = await s.scalar(select(func.count()).select_from(Reminder).where(Reminder.case_id == case_id))
            added += max(0, (after or 0) - (before or 0))
        return added


# ------------------------------------------------------------------ sending


async def next_reminder_at(portal: Portal) -> datetime | None:
    """When the next reminder waiting to go is due to be sent (None: none is waiting)."""
    async with portal.db() as s:
        return await s.scalar(select(func.min(Reminder.send_at)).where(Reminder.status == "pending"))


async def next_reminder_sent_at(portal: Portal) -> datetime | None:
    """When the next reminder waiting to go will be sent: its time, or, if that (or now, for one
    already due) falls in quiet hours, the morning after them (None: none is waiting)."""
    due = await next_reminder_at(portal)
    if due is None:
        return None
    quiet = portal.settings.delivery
    return quiet_ends_at(max(due, portal.clock.now()), quiet.quiet_hours_start, quiet.quiet_hours_end)


async def send_due(portal: Portal, now: datetime | None = None, *, batch: int = 200) -> int:
    """Move due reminders into the outbox (or drop them when no longer relevant). Returns how many
    rows were handled, so the tick runs again at once while there is a backlog."""
    cfg = portal.settings.reminders
    now = now or portal.clock.now()
    today = london_today(now)
    quiet = portal.settings.delivery
    if is_quiet(now, quiet.quiet_hours_start, quiet.quiet_hours_end):
        # Reminders wait for the morning here, not in the outbox: an "on the day" reminder held
        # overnight would arrive the day after, saying "today". In the morning each is judged
        # again (yesterday's becomes the missed-date notice).
        return 0
    async with portal.db() as s, s.begin():
        due_rows = (
            await s.scalars(
                select(Reminder)
                .where(Reminder.status == "pending", Reminder.send_at <= now)
                .order_by(Reminder.send_at, Reminder.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not due_rows:
            return 0
        latest: dict[tuple[int, int, str, date], Reminder] = {}
        for r in due_rows:
            group = (r.case_id, r.account_id, r.key, r.due)
            seen = latest.get(group)
            if seen is None or (r.send_at, r.id) > (seen.send_at, seen.id):
                latest[group] = r
        for r in due_rows:
            if latest[(r.case_id, r.account_id, r.key, r.due)] is not r:
                _done(r, now, "dropped", "superseded")
                continue
            reason = await _irrelevant(s, r, today, cfg)
            if reason:
                _done(r, now, "dropped", reason)
                continue
            await _send(s, portal, r, now, today)
            _done(r, now, "sent", None)
        return len(due_rows)


def _done(r: Reminder, now: datetime, status: str, reason: str | None) -> None:
    r.status = status
    r.done_at = now
    r.reason = reason


async def _irrelevant(s: AsyncSession, r: Reminder, today: date, cfg: ReminderSettings) -> str | None:
    """Why a due reminder should not be sent any more, or None if it should."""
    if r.key.startswith(FORM_KEY):
        return await _form_irrelevant(s, r, today)
    kd = await s.get(CaseKeyDate, (r.case_id, r.key))
    if kd is None or not kd.open or kd.due != r.due:
        return "date changed or met"
    if r.kind == "missed":
        if not applies("missed", kd.party, kd.key) or today <= last_day(r.key, r.due):
            return "not missed"
        if (today - last_day(r.key, r.due)).days > cfg.missed_relevant_days:
            return "too late"
    elif today > r.due:
        return "date passed"
    granted = await s.scalar(
        select(AccessGrant.id)
        .join(Case, Case.child_id == AccessGrant.child_id)
        .where(Case.id == r.case_id, AccessGrant.account_id == r.account_id, AccessGrant.status == "active")
        .limit(1)
    )
    if granted is None:
        return "no access"
    pref = await s.get(ReminderPreference, r.account_id)
    if r.kind not in _kinds(pref):
        return "switched off"
    return None


async def _form_irrelevant(s: AsyncSession, r: Reminder, today: date) -> str | None:
    from core.forms.models import FormAssignment, FormResponse

    a = await s.get(FormAssignment, int(r.key.removeprefix(FORM_KEY)))
    if a is None or a.withdrawn_at is not None or a.due_date != r.due:
        return "date changed or met"
    if today > r.due:
        return "date passed"
    done = await s.scalar(
        select(FormResponse.id).where(
            FormResponse.assignment_id == a.id, FormResponse.account_id == r.account_id,
            FormResponse.status == "submitted",
        )
    )
    if done is not None:
        return "date changed or met"
    granted = await s.scalar(
        select(AccessGrant.id).where(
            AccessGrant.child_id == a.child_id, AccessGrant.account_id == r.account_id, AccessGrant.status == "active"
        ).limit(1)
    )
    if granted is None:
        return "no access"
    if r.kind not in _kinds(await s.get(ReminderPreference, r.account_id)):
        return "switched off"
    return None


async def _send_form(s: AsyncSession, portal: Portal, r: Reminder, now: datetime, today: date) -> None:
    from core.forms.models import FormAssignment

    a = await s.get(FormAssignment, int(r.key.removeprefix(FORM_KEY)))
    child = await s.get(Child, a.child_id)
    await portal.events.publish(s, FormReminder(
        at=now, child_id=child.id, recipients=(Told(r.account_id, f"reminder:{r.id}"),),
        assignment_id=a.id, form_title=a.title, child_forename=child.forename, due=r.due, today=today,
    ))


async def _send(s: AsyncSession, portal: Portal, r: Reminder, now: datetime, today: date) -> None:
    if r.key.startswith(FORM_KEY):
        await _send_form(s, portal, r, now, today)
        return
    case, child = (
        await s.execute(select(Case, Child).join(Child, Child.id == Case.child_id).where(Case.id == r.case_id))
    ).one()
    kd = await s.get(CaseKeyDate, (r.case_id, r.key))
    assert kd is not None
    await portal.events.publish(s, DateReminder(
        at=now, child_id=child.id, recipients=(Told(r.account_id, f"reminder:{r.id}"),),
        reminder=r.kind, date_key=r.key, child_forename=child.forename, due=r.due, party=kd.party,
        contact=contact_for(case, portal.settings.product.send_team_contact),
        caseworker_name=case.caseworker_name, today=today,
    ))


# ------------------------------------------------------------------ choices


@dataclass(frozen=True, slots=True)
class Choices:
    before_7: bool = True
    before_1: bool = True
    on_day: bool = True
    missed: bool = True

    def as_set(self) -> frozenset[str]:
        return frozenset(k for k in KINDS if getattr(self, k))


class ReminderPreferences:
    """A parent's choice of reminders (PRODUCT.md journey 9)."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    async def get(self, account_id: int) -> Choices:
        async with self.portal.db() as s:
            pref = await s.get(ReminderPreference, account_id)
            kinds = _kinds(pref)
            return Choices(**{k: k in kinds for k in KINDS})

    async def set(self, account_id: int, kind: str, on: bool) -> Choices:
        """Switch one kind on or off, and replan this account's reminders at once."""
        if kind not in KINDS:
            raise ValueError(kind)
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            pref = await s.get(ReminderPreference, account_id)
            if pref is None:
                pref = ReminderPreference(account_id=account_id, updated_at=now)
                for k in KINDS:
                    setattr(pref, k, True)
                s.add(pref)
            setattr(pref, kind, on)
            pref.updated_at = now
            await s.flush()
            # plan_account deletes the pending reminders of a kind switched off.
            await plan_account(s, account_id, now, self.portal.settings.reminders)
            return Choices(**{k: bool(getattr(pref, k)) for k in KINDS})


# ------------------------------------------------------------------ following changes


def subscribe(bus: EventBus, cfg: ReminderSettings) -> None:
    """Reminders follow the changes they depend on, in the change's own transaction."""

    async def case_dates(s: AsyncSession, event: CaseDatesChanged) -> None:
        await plan_case(s, event.case_id, event.at, cfg)

    async def access(s: AsyncSession, event: AccessChanged) -> None:
        await plan_account(s, event.account_id, event.at, cfg)

    bus.subscribe(CaseDatesChanged, case_dates)
    bus.subscribe(AccessChanged, access)
