"""Reminders (issue 4, PRODUCT.md journey 8): the planner as a pure function, reminder rows kept in
line with the key dates and the carers' choices, and the tick that sends them, never twice, with a
FrozenClock moved by hand (never by sleeping).

The worked example again: a request of 30 Jan 2023 makes the decision whether to assess due on
12 Mar 2023, so its reminders are 5 Mar (7 days before), 11 Mar, 12 Mar and, if nothing is
recorded, 13 Mar ("missed"), each at 09:00 London time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from core.cases.events import EventKind
from core.cases.service import CaseService
from core.clock import FrozenClock
from core.config import ReminderSettings
from core.models import OutboxItem
from core.onboarding import ChatLinkService, OnboardingSettings
from core.onboarding.models import AccessGrant
from core.reminders import (
    OpenDate,
    Recipient,
    ReminderPreferences,
    plan_all,
    send_due,
    wanted,
)
from core.reminders.models import Reminder
from notifications.reminders import ReminderJob
from tests.test_cases_api import CHILD, REF, active_carer
from tests.test_onboarding_service import CASEWORKER

ALL = frozenset({"before_7", "before_1", "on_day", "missed"})
CFG = ReminderSettings(_env_file=None)  # 09:00, 14 days ahead, missed notices for 14 days


def utc(y: int, m: int, d: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(y, m, d, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    # 1 Mar 2023, 12:00 GMT: 11 days before the decision whether to assess is due (12 Mar).
    return FrozenClock(utc(2023, 3, 1))


# --- the planner, pure ----------------------------------------------------------------------------


def plan(
    dates: list[OpenDate], today: date, kinds: frozenset[str] = ALL, cfg: ReminderSettings = CFG
) -> dict:
    """{(key, kind): send_at} for one recipient (account 7) of case 1."""
    rows = wanted(dates, {1: [Recipient(7, kinds)]}, today, cfg)
    assert all(r["case_id"] == 1 and r["account_id"] == 7 for r in rows)
    return {(r["key"], r["kind"]): r["send_at"] for r in rows}


def test_wanted_kinds_and_offsets():
    dates = [
        OpenDate(1, "decision_to_assess", date(2023, 3, 10), "council"),
        OpenDate(1, "draft_plan_comments", date(2023, 3, 9), "parent"),
    ]
    assert plan(dates, date(2023, 3, 1)) == {
        ("decision_to_assess", "before_7"): utc(2023, 3, 3, 9),
        ("decision_to_assess", "before_1"): utc(2023, 3, 9, 9),
        ("decision_to_assess", "on_day"): utc(2023, 3, 10, 9),
        # The day after the strict legal last day (11 Mar: "within 6 weeks of" the request).
        ("decision_to_assess", "missed"): utc(2023, 3, 12, 9),
        # A parent's window closes: no "missed" notice for it.
        ("draft_plan_comments", "before_7"): utc(2023, 3, 2, 9),
        ("draft_plan_comments", "before_1"): utc(2023, 3, 8, 9),
        ("draft_plan_comments", "on_day"): utc(2023, 3, 9, 9),
    }
    rows = wanted(dates, {1: [Recipient(7, ALL)]}, date(2023, 3, 1), CFG)
    assert {r["due"] for r in rows} == {date(2023, 3, 10), date(2023, 3, 9)}


def test_wanted_keeps_to_the_horizon():
    today = date(2023, 3, 1)  # horizon: 15 Mar
    far = [OpenDate(1, "final_plan", date(2023, 3, 23), "council")]
    assert plan(far, today) == {}  # 7 days before is 16 Mar
    edge = [OpenDate(1, "final_plan", date(2023, 3, 22), "council")]
    assert plan(edge, today) == {("final_plan", "before_7"): utc(2023, 3, 15, 9)}
    missed_edge = [OpenDate(1, "final_plan", date(2023, 3, 13), "council")]  # missed notice on 15 Mar
    assert set(plan(missed_edge, today)) == {("final_plan", k) for k in ALL}
    beyond = [OpenDate(1, "final_plan", date(2023, 3, 14), "council")]
    assert ("final_plan", "missed") not in plan(beyond, today)
    longer = ReminderSettings(_env_file=None, reminder_horizon_days=30)
    assert set(plan(far, today, cfg=longer)) == {("final_plan", k) for k in ALL}


def test_wanted_plans_nothing_in_the_past():
    today = date(2023, 3, 1)
    soon = [OpenDate(1, "decision_to_assess", date(2023, 3, 5), "council")]
    assert set(plan(soon, today)) == {
        ("decision_to_assess", "before_1"),
        ("decision_to_assess", "on_day"),
        ("decision_to_assess", "missed"),
    }
    due_today = [OpenDate(1, "decision_to_assess", today, "council")]
    assert set(plan(due_today, today)) == {
        ("decision_to_assess", "on_day"),
        ("decision_to_assess", "missed"),
    }
    window_today = [OpenDate(1, "draft_plan_comments", today, "parent")]
    assert set(plan(window_today, today)) == {("draft_plan_comments", "on_day")}
    window_gone = [OpenDate(1, "draft_plan_comments", date(2023, 2, 28), "parent")]
    assert plan(window_gone, today) == {}


def test_a_missed_notice_is_for_council_dates_and_only_while_relevant():
    today = date(2023, 3, 1)
    recent = [OpenDate(1, "decision_to_assess", date(2023, 2, 20), "council")]
    assert plan(recent, today) == {("decision_to_assess", "missed"): utc(2023, 2, 22, 9)}
    edge = [OpenDate(1, "decision_to_assess", date(2023, 2, 14), "council")]  # last day 14 days ago
    assert set(plan(edge, today)) == {("decision_to_assess", "missed")}
    old = [OpenDate(1, "decision_to_assess", date(2023, 2, 13), "council")]  # last day 15 days ago
    assert plan(old, today) == {}
    parent = [OpenDate(1, "tribunal_appeal", date(2023, 2, 20), "parent")]
    assert plan(parent, today) == {}


def test_wanted_only_the_chosen_kinds_for_each_carer_of_the_case():
    dates = [OpenDate(1, "decision_to_assess", date(2023, 3, 10), "council")]
    assert set(plan(dates, date(2023, 3, 1), frozenset({"before_1", "missed"}))) == {
        ("decision_to_assess", "before_1"),
        ("decision_to_assess", "missed"),
    }
    assert plan(dates, date(2023, 3, 1), frozenset()) == {}
    recipients = {
        1: [Recipient(7, ALL), Recipient(8, frozenset({"on_day"}))],
        2: [Recipient(9, ALL)],
    }
    rows = wanted(dates, recipients, date(2023, 3, 1), CFG)
    assert sorted((r["account_id"], r["kind"]) for r in rows) == [
        (7, "before_1"),
        (7, "before_7"),
        (7, "missed"),
        (7, "on_day"),
        (8, "on_day"),
    ]
    assert wanted(dates, {}, date(2023, 3, 1), CFG) == []


def test_send_time_is_nine_in_london_in_gmt_and_in_bst():
    def on_day(due: date, at: time = time(9, 0)) -> datetime:
        cfg = ReminderSettings(_env_file=None, reminder_time=at)
        rows = plan([OpenDate(1, "final_plan", due, "council")], due, cfg=cfg)
        return rows[("final_plan", "on_day")]

    assert on_day(date(2023, 1, 16)) == utc(2023, 1, 16, 9)  # GMT
    assert on_day(date(2023, 7, 10)) == utc(2023, 7, 10, 8)  # BST
    assert on_day(date(2023, 3, 25)) == utc(2023, 3, 25, 9)  # the day before the clocks go forward
    assert on_day(date(2023, 3, 26)) == utc(2023, 3, 26, 8)  # the day they do
    assert on_day(date(2023, 10, 28)) == utc(2023, 10, 28, 8)
    assert on_day(date(2023, 10, 29)) == utc(2023, 10, 29, 9)  # back to GMT
    assert on_day(date(2023, 7, 10), time(18, 30)) == utc(2023, 7, 10, 17, 30)
    july = plan([OpenDate(1, "final_plan", date(2023, 7, 10), "council")], date(2023, 7, 1))
    assert july[("final_plan", "before_7")] == utc(2023, 7, 3, 8)
    assert july[("final_plan", "missed")] == utc(2023, 7, 12, 8)  # after the strict last day, 11 Jul


# --- rows in the database -------------------------------------------------------------------------


async def create_case(
    portal, ref: str = REF, request: date | None = date(2023, 1, 30), **kw
) -> None:  # noqa: ANN001, ANN003
    await CaseService(portal).create_case(
        CASEWORKER,
        case_reference=ref,
        child_forename=kw.pop("forename", CHILD[0]),
        child_surname=CHILD[1],
        child_date_of_birth=CHILD[2],
        request_date=request,
        **kw,
    )


async def family(portal, **case) -> tuple[int, int, int]:  # noqa: ANN001, ANN003
    """The worked example's case (caseworker Jo Smith) and two carers with active access: mum in
    chat 111, dad in chat 222. Returns (child id, mum's account, dad's account)."""
    await create_case(
        portal, caseworker_name="Jo Smith", caseworker_email="jo.smith@council.example", **case
    )
    child_id, mum = await active_carer(portal, "mum@example.org", 111, parent=("Mary", "Jones"))
    _, dad = await active_carer(portal, "dad@example.org", 222, parent=("Dan", "Jones"))
    return child_id, mum, dad


async def rows(portal, *where) -> list[Reminder]:  # noqa: ANN001, ANN002
    async with portal.db() as s:
        stmt = select(Reminder).where(*where).order_by(Reminder.account_id, Reminder.send_at)
        return list((await s.scalars(stmt)).all())


async def pending(portal, account_id: int | None = None) -> set[tuple]:  # noqa: ANN001
    """{(account, key, due, kind, send_at)} of the pending reminders."""
    where = [Reminder.status == "pending"]
    if account_id is not None:
        where.append(Reminder.account_id == account_id)
    return {(r.account_id, r.key, r.due, r.kind, r.send_at) for r in await rows(portal, *where)}


async def sent_reminders(portal) -> list[OutboxItem]:  # noqa: ANN001
    async with portal.db() as s:
        stmt = select(OutboxItem).where(OutboxItem.kind == "reminder").order_by(OutboxItem.id)
        return list((await s.scalars(stmt)).all())


def decision_reminders(account: int, due: date = date(2023, 3, 12)) -> set[tuple]:
    # The missed notice: the day after the strict legal last day (the date shown + 1).
    days = {"before_7": -7, "before_1": -1, "on_day": 0, "missed": 2}
    return {
        (account, "decision_to_assess", due, kind, utc(due.year, due.month, due.day + n, 9))
        for kind, n in days.items()
    }


async def tick(portal, clock: FrozenClock, when: datetime) -> int:  # noqa: ANN001
    clock.set(when)
    return await send_due(portal)


async def test_activation_plans_rows_for_each_carer(portal):
    _, mum, dad = await family(portal)
    assert await pending(portal) == decision_reminders(mum) | decision_reminders(dad)
    # The assessment decision (21 May) and the final plan (18 Jun) are beyond the horizon.
    assert {r.key for r in await rows(portal)} == {"decision_to_assess"}


async def test_recording_an_event_plans_rows_for_each_carer(portal):
    _, mum, dad = await family(portal, request=None)
    assert await rows(portal) == []
    await CaseService(portal).record_event(
        REF, CASEWORKER, EventKind.ANNUAL_REVIEW_MEETING, date(2023, 3, 1), {}
    )
    # The report of the meeting is due within 2 weeks: 14 Mar.
    for account in (mum, dad):
        assert {
            (r.key, r.due, r.kind, r.send_at)
            for r in await rows(portal, Reminder.account_id == account)
        } == {
            ("review_report", date(2023, 3, 14), "before_7", utc(2023, 3, 7, 9)),
            ("review_report", date(2023, 3, 14), "before_1", utc(2023, 3, 13, 9)),
            ("review_report", date(2023, 3, 14), "on_day", utc(2023, 3, 14, 9)),
            # The missed notice (16 Mar, after the strict last day 15 Mar) is beyond the 14-day
            # horizon: the daily plan adds it later.
        }
    # A draft plan served: the parent's window of 15 days, with no "missed" notice.
    await CaseService(portal).record_event(
        REF, CASEWORKER, EventKind.DRAFT_PLAN_SERVED, date(2023, 3, 1), {}
    )
    window = {
        (r.account_id, r.kind) for r in await rows(portal, Reminder.key == "draft_plan_comments")
    }
    assert window == {(a, k) for a in (mum, dad) for k in ("before_7", "before_1", "on_day")}


async def test_moving_the_request_date_replans(portal, clock):
    _, mum, dad = await family(portal)
    assert await tick(portal, clock, utc(2023, 3, 5, 9)) == 2  # 7 days before 12 Mar, to each carer
    clock.set(utc(2023, 3, 5, 12))
    await CaseService(portal).update_case(REF, CASEWORKER, {"request_date": date(2023, 2, 6)})
    # Decision now due 19 Mar: the pending rows for 12 Mar are gone, the new ones are planned.
    for account in (mum, dad):
        assert await pending(portal, account) == {
            (account, "decision_to_assess", date(2023, 3, 19), "before_7", utc(2023, 3, 12, 9)),
            (account, "decision_to_assess", date(2023, 3, 19), "before_1", utc(2023, 3, 18, 9)),
            (account, "decision_to_assess", date(2023, 3, 19), "on_day", utc(2023, 3, 19, 9)),
        }
    # The one already sent stays, as sent.
    sent = await rows(portal, Reminder.status == "sent")
    assert {(r.account_id, r.due, r.kind) for r in sent} == {
        (mum, date(2023, 3, 12), "before_7"),
        (dad, date(2023, 3, 12), "before_7"),
    }
    # Nothing goes out for the old date on 11-13 Mar; on 12 Mar, 7 days before the new one.
    assert [await tick(portal, clock, utc(2023, 3, day, 9, 30)) for day in (11, 12, 13)] == [
        0,
        2,
        0,
    ]
    texts = [n.text for n in await sent_reminders(portal)]
    assert len(texts) == 4
    assert all("in 7 days, 12 Mar 2023" in t for t in texts[:2])
    assert all("in 7 days, 19 Mar 2023" in t for t in texts[2:])


async def test_meeting_a_date_drops_its_pending_reminders(portal, clock):
    await family(portal)
    clock.set(utc(2023, 3, 6))
    await CaseService(portal).record_event(
        REF, CASEWORKER, EventKind.DECISION_TO_ASSESS, date(2023, 3, 6), {}
    )
    assert await pending(portal) == set()
    for day in (11, 12, 13, 14):
        assert await tick(portal, clock, utc(2023, 3, day, 10)) == 0
    assert await sent_reminders(portal) == []


async def test_send_due_at_the_right_moments_once_per_chat(portal, clock):
    child_id, mum, dad = await family(portal)
    links = ChatLinkService(portal, OnboardingSettings(_env_file=None))
    await links.link_chat(mum, 333)  # mum has two chats
    await links.unlink_chat(222, "logout")  # dad has none: by email

    assert await tick(portal, clock, utc(2023, 3, 5, 8, 59)) == 0
    assert await sent_reminders(portal) == []
    assert await tick(portal, clock, utc(2023, 3, 5, 9, 0)) == 2
    out = await sent_reminders(portal)
    assert sorted((n.chat_id or 0, n.fallback_email) for n in out) == [
        (0, "dad@example.org"),
        (111, "mum@example.org"),
        (333, "mum@example.org"),
    ]
    for n in out:
        assert n.kind == "reminder" and n.child_id == child_id and n.important
        assert n.payload["buttons"] == [
            [{"text": "📊 SEND Dashboard", "data": f"dash:{child_id}"}]
        ]
        assert "Reminder for Sam: in 7 days, 12 Mar 2023." in n.text
        assert (
            "decision whether to carry out an EHC needs assessment is due by 12 Mar 2023" in n.text
        )
        assert "You do not need to do anything" in n.text
    done = await rows(portal, Reminder.kind == "before_7")
    assert [(r.status, r.done_at, r.reason) for r in done] == [
        ("sent", utc(2023, 3, 5, 9), None)
    ] * 2

    # Never twice: the same minute, later that day, the next day.
    for when in (utc(2023, 3, 5, 9), utc(2023, 3, 5, 18), utc(2023, 3, 6, 9)):
        assert await tick(portal, clock, when) == 0
    assert len(await sent_reminders(portal)) == 3

    assert await tick(portal, clock, utc(2023, 3, 11, 9)) == 2
    assert await tick(portal, clock, utc(2023, 3, 12, 9)) == 2
    texts = [n.text for n in await sent_reminders(portal) if n.chat_id == 111]
    assert len(texts) == 3
    assert "Reminder for Sam: tomorrow, 12 Mar 2023." in texts[1]
    assert "Reminder for Sam: today, 12 Mar 2023." in texts[2]
    assert len(await sent_reminders(portal)) == 9


async def test_a_missed_date_is_said_plainly_the_day_after(portal, clock):
    await family(portal)
    await create_case(portal, "EHC-0002", forename="Ana")  # no caseworker allocated
    await active_carer(
        portal, "ana.mum@example.org", 444, ref="EHC-0002", child=("Ana", CHILD[1], CHILD[2])
    )
    for day in (5, 11, 12, 13):
        await tick(portal, clock, utc(2023, 3, day, 9))
    before = len(await sent_reminders(portal))
    # Shown as due by 12 Mar; "within 6 weeks of" the request, read strictly, ends on 13 Mar: the
    # council is called late only on 14 Mar.
    assert await tick(portal, clock, utc(2023, 3, 14, 8, 59)) == 0
    assert await tick(portal, clock, utc(2023, 3, 14, 9)) == 3
    missed = (await sent_reminders(portal))[before:]
    assert sorted(n.chat_id for n in missed) == [111, 222, 444]
    sam = next(n.text for n in missed if n.chat_id == 111)
    assert "A date for Sam has passed." in sam
    assert "decision whether to carry out an EHC needs assessment was due by 12 Mar 2023" in sam
    assert "The council has not recorded it yet." in sam
    assert "contact your caseworker, Jo Smith, at jo.smith@council.example" in sam
    ana = next(n.text for n in missed if n.chat_id == 444)
    assert "A date for Ana has passed." in ana and "contact the SEND team at the council" in ana
    assert await tick(portal, clock, utc(2023, 3, 15, 9)) == 0
    assert len(await sent_reminders(portal)) == before + 3


async def test_no_missed_notice_when_the_decision_came_on_the_day(portal, clock):
    await family(portal)
    await tick(portal, clock, utc(2023, 3, 12, 9))  # "today" (the two before it superseded)
    clock.set(utc(2023, 3, 12, 15))
    await CaseService(portal).record_event(
        REF, CASEWORKER, EventKind.DECISION_TO_ASSESS, date(2023, 3, 12), {}
    )
    assert await tick(portal, clock, utc(2023, 3, 13, 9)) == 0
    assert not any("has passed" in n.text for n in await sent_reminders(portal))


async def test_after_an_outage_only_the_latest_reminder_is_sent(portal, clock):
    _, mum, _ = await family(portal)
    # Down from 1 Mar until 12 Mar 10:00: 7 days before, 1 day before and "today" all came due.
    assert await tick(portal, clock, utc(2023, 3, 12, 10)) == 6
    out = await sent_reminders(portal)
    assert sorted(n.chat_id for n in out) == [111, 222]
    assert all("Reminder for Sam: today, 12 Mar 2023." in n.text for n in out)
    mine = {r.kind: (r.status, r.reason) for r in await rows(portal, Reminder.account_id == mum)}
    assert mine == {
        "before_7": ("dropped", "superseded"),
        "before_1": ("dropped", "superseded"),
        "on_day": ("sent", None),
        "missed": ("pending", None),
    }
    # Down again until 14 Mar: the missed notice is still worth sending.
    assert await tick(portal, clock, utc(2023, 3, 14, 10)) == 2
    assert [("has passed" in n.text) for n in await sent_reminders(portal)] == [
        False,
        False,
        True,
        True,
    ]


async def test_after_a_long_outage_the_missed_notice_replaces_the_rest(portal, clock):
    _, mum, _ = await family(portal)
    assert await tick(portal, clock, utc(2023, 3, 14, 10)) == 8
    out = await sent_reminders(portal)
    assert len(out) == 2 and all("A date for Sam has passed." in n.text for n in out)
    mine = {r.kind: (r.status, r.reason) for r in await rows(portal, Reminder.account_id == mum)}
    assert mine["missed"] == ("sent", None)
    assert {mine[k] for k in ("before_7", "before_1", "on_day")} == {("dropped", "superseded")}


async def test_a_reminder_for_a_date_that_has_passed_is_dropped(portal, clock):
    _, mum, dad = await family(portal, request=None)
    await CaseService(portal).record_event(
        REF, CASEWORKER, EventKind.DRAFT_PLAN_SERVED, date(2023, 3, 1), {}
    )  # comments by 15 Mar
    # Down until the day after the window closed: nothing to remind of any more.
    assert await tick(portal, clock, utc(2023, 3, 16, 10)) == 6
    assert await sent_reminders(portal) == []
    mine = {r.kind: (r.status, r.reason) for r in await rows(portal, Reminder.account_id == mum)}
    assert mine == {
        "before_7": ("dropped", "superseded"),
        "before_1": ("dropped", "superseded"),
        "on_day": ("dropped", "date passed"),
    }


async def test_a_council_date_passed_with_missed_notices_off(portal, clock):
    _, mum, dad = await family(portal)
    await ReminderPreferences(portal).set(mum, "missed", False)
    assert await tick(portal, clock, utc(2023, 3, 14, 10)) == 7
    out = await sent_reminders(portal)
    assert [n.chat_id for n in out] == [222] and "has passed" in out[0].text
    assert {
        (r.kind, r.status, r.reason) for r in await rows(portal, Reminder.account_id == mum)
    } == {
        ("before_7", "dropped", "superseded"),
        ("before_1", "dropped", "superseded"),
        ("on_day", "dropped", "date passed"),
    }


async def test_switching_a_kind_off_and_on(portal, clock):
    _, mum, dad = await family(portal)
    prefs = ReminderPreferences(portal)
    assert (await prefs.get(mum)).as_set() == ALL
    choices = await prefs.set(mum, "before_1", False)
    assert not choices.before_1 and choices.before_7 and choices.missed
    assert (await prefs.get(mum)).before_1 is False and (await prefs.get(dad)).before_1 is True
    assert {k for (_, _, _, k, _) in await pending(portal, mum)} == {"before_7", "on_day", "missed"}
    assert await pending(portal, dad) == decision_reminders(dad)

    # New dates plan no before_1 for mum, neither at once nor as days pass.
    await CaseService(portal).update_case(
        REF, CASEWORKER, {"request_date": date(2023, 2, 2)}
    )  # 15 Mar
    assert {(d, k) for (_, _, d, k, _) in await pending(portal, mum)} == {
        (date(2023, 3, 15), "before_7"),
        (date(2023, 3, 15), "on_day"),
    }
    assert {k for (_, _, _, k, _) in await pending(portal, dad)} == {
        "before_7",
        "before_1",
        "on_day",
    }
    clock.set(utc(2023, 3, 3))
    assert await plan_all(portal) == 2  # 16 Mar comes into the horizon: the missed notices
    assert "before_1" not in {k for (_, _, _, k, _) in await pending(portal, mum)}
    assert await tick(portal, clock, utc(2023, 3, 8, 9)) == 2

    # Switched on again: planned again at once.
    clock.set(utc(2023, 3, 10))
    await prefs.set(mum, "before_1", True)
    assert (
        mum,
        "decision_to_assess",
        date(2023, 3, 15),
        "before_1",
        utc(2023, 3, 14, 9),
    ) in await pending(portal, mum)
    assert await tick(portal, clock, utc(2023, 3, 14, 9)) == 2
    out = await sent_reminders(portal)
    assert sorted(n.chat_id for n in out[2:]) == [111, 222]
    assert all("tomorrow, 15 Mar 2023" in n.text for n in out[2:])
    with pytest.raises(ValueError):
        await prefs.set(mum, "weekly", True)


async def test_a_carer_whose_access_is_revoked_gets_nothing(portal, clock):
    _, mum, dad = await family(portal)
    async with portal.db() as s, s.begin():
        await s.execute(
            update(AccessGrant)
            .where(AccessGrant.account_id == mum)
            .values(status="revoked", revoked_at=clock.now())
        )
    assert await tick(portal, clock, utc(2023, 3, 5, 9)) == 2
    assert [n.chat_id for n in await sent_reminders(portal)] == [222]
    [mine] = await rows(portal, Reminder.account_id == mum, Reminder.kind == "before_7")
    assert (mine.status, mine.reason) == ("dropped", "no access")
    # Any change to the case replans it: mum's pending reminders go; plan_all adds none for her.
    await CaseService(portal).update_case(REF, CASEWORKER, {"requestor": "School"})
    assert await pending(portal, mum) == set()
    clock.set(utc(2023, 3, 6))
    await plan_all(portal)
    assert await pending(portal, mum) == set()
    for day in (11, 12, 13):
        await tick(portal, clock, utc(2023, 3, day, 9))
    assert {n.chat_id for n in await sent_reminders(portal)} == {222}


async def test_plan_all_adds_rows_as_days_pass_and_is_idempotent(portal, clock):
    clock.set(utc(2023, 2, 1))
    _, mum, dad = await family(portal)
    await create_case(portal, "MET", forename="Ana", request=date(2023, 1, 29))
    await active_carer(
        portal, "ana.mum@example.org", 444, ref="MET", child=("Ana", CHILD[1], CHILD[2])
    )
    clock.set(utc(2023, 2, 10))
    await CaseService(portal).record_event(
        "MET", CASEWORKER, EventKind.DECISION_TO_ASSESS, date(2023, 2, 10), {}
    )
    assert await rows(portal) == []

    expected = {
        "2023-02-18": 0,
        "2023-02-19": 2,
        "2023-02-25": 2,
        "2023-02-26": 2,
        "2023-02-27": 0,
        "2023-02-28": 2,  # the missed notice (14 Mar), 14 days ahead
        "2023-03-01": 0,
    }
    for day, added in expected.items():
        clock.set(datetime.fromisoformat(day + "T06:00:00+00:00"))
        assert await plan_all(portal) == added, day
        assert await plan_all(portal) == 0, day
    assert await pending(portal) == decision_reminders(mum) | decision_reminders(dad)

    await tick(portal, clock, utc(2023, 3, 5, 9))
    assert await plan_all(portal) == 0  # a sent reminder is never planned again
    assert len(await rows(portal)) == 8


async def test_the_reminder_job_sends_each_reminder_at_its_time(portal, clock):
    clock.set(utc(2023, 2, 1, 0))
    child_id, _, _ = await family(portal)
    # A second child, whose request (20 Feb) is recorded on 21 Feb: the decision is due on 2 Apr
    # 2023, in BST, and the reminder 7 days before is on 26 Mar, the day the clocks go forward.
    await create_case(portal, "EHC-0002", forename="Ana", request=None)
    await active_carer(
        portal, "ana.mum@example.org", 444, ref="EHC-0002", child=("Ana", CHILD[1], CHILD[2])
    )
    job = ReminderJob(portal)
    sent: list[tuple[datetime, int | None, str]] = []
    seen = 0
    # Every hour around the sending times (06:00-11:00 UTC), and a few times otherwise.
    hours = (0, 6, 7, 8, 9, 10, 11, 15, 21)
    for day in range(63):  # 1 Feb to 4 Apr 2023
        for hour in hours:
            now = utc(2023, 2, 1, hour) + timedelta(days=day)
            clock.set(now)
            if now == utc(2023, 2, 21, 10):
                await CaseService(portal).update_case(
                    "EHC-0002", CASEWORKER, {"request_date": date(2023, 2, 20)}
                )
            if await job.run_once():
                out = await sent_reminders(portal)
                sent += [(now, n.chat_id, n.text) for n in out[seen:]]
                seen = len(out)
    assert len(await sent_reminders(portal)) == seen

    when = [(t, chat) for t, chat, _ in sent]
    assert when == [
        (utc(2023, 3, 5, 9), 111),
        (utc(2023, 3, 5, 9), 222),
        (utc(2023, 3, 11, 9), 111),
        (utc(2023, 3, 11, 9), 222),
        (utc(2023, 3, 12, 9), 111),
        (utc(2023, 3, 12, 9), 222),
        (utc(2023, 3, 14, 9), 111),
        (utc(2023, 3, 14, 9), 222),
        (utc(2023, 3, 26, 8), 444),
        (utc(2023, 4, 1, 8), 444),
        (utc(2023, 4, 2, 8), 444),
        (utc(2023, 4, 4, 8), 444),
    ]
    assert "Reminder for Ana: in 7 days, 2 Apr 2023." in sent[8][2]
    assert "A date for Ana has passed." in sent[-1][2]
    assert all(n.child_id == child_id for n in (await sent_reminders(portal))[:8])
