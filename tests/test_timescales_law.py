"""The law to the day (issue 15): each worked date cites its regulation or rule.

Bank holidays in the checks below are typed as test data from the published GOV.UK list (the
engine takes them from the maintained `holidays` package); the property test checks every
tribunal last day from 2015 to 2035 against the package and against weekends."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.cases.events import EventKind, RecordedEvent, check_details, fold
from core.errors import Refused
from core.timescales import (
    RULES_BY_KEY,
    CaseEvents,
    ReviewOutcome,
    Stage,
    Status,
    TransferKind,
    adjust_tribunal_deadline,
    appeal_deadline,
    current_stage,
    is_working_day,
    key_dates,
    months_after,
    post16_transfer_deadline,
)


def by_key(events: CaseEvents, today: date) -> dict:
    return {k.key: k for k in key_dates(events, today)}


# ------------------------------------------------------------------ tribunal: HESC Rules 2008, rule 12


@pytest.mark.parametrize(
    ("ends", "moved", "why"),
    [
        (date(2024, 3, 10), date(2024, 3, 11), "r.12(2): Sun 10 Mar 2024 -> Mon 11 Mar"),
        (date(2022, 4, 15), date(2022, 4, 19), "r.12(2): Good Friday 15 Apr 2022, Easter Monday -> Tue 19 Apr"),
        (date(2022, 12, 28), date(2023, 1, 3), "r.12(3)(a): 28 Dec 2022 -> 2 Jan 2023 substitute -> Tue 3 Jan"),
        (date(2021, 12, 30), date(2022, 1, 4), "r.12(3)(a): 30 Dec 2021 -> 3 Jan 2022 substitute -> Tue 4 Jan"),
        (date(2027, 12, 25), date(2028, 1, 4), "r.12(3)(a): 25 Dec 2027 -> 3 Jan 2028 substitute -> Tue 4 Jan"),
        (date(2025, 8, 15), date(2025, 9, 1), "r.12(3)(a): August 2025 -> Mon 1 Sep"),
        (date(2024, 8, 31), date(2024, 9, 2), "r.12(3)(a): August 2024 -> Sun 1 Sep -> Mon 2 Sep"),
        (date(2022, 9, 19), date(2022, 9, 20), "r.12(2): the Queen's funeral, 19 Sep 2022, a bank holiday"),
        (date(2023, 5, 8), date(2023, 5, 9), "r.12(2): the Coronation bank holiday, 8 May 2023"),
        (date(2024, 12, 24), date(2024, 12, 24), "a working day before Christmas is not moved"),
    ],
)
def test_tribunal_last_days_move_to_working_days(ends: date, moved: date, why: str) -> None:
    assert adjust_tribunal_deadline(ends) == moved, why


def test_the_appeal_key_date_says_five_pm_in_its_rule() -> None:
    kd = by_key(CaseEvents(decision_letter=date(2024, 1, 10)), date(2024, 1, 11))["tribunal_appeal"]
    assert kd.due == date(2024, 3, 11)  # 2 months on is Sun 10 Mar 2024
    assert "5pm" in RULES_BY_KEY["tribunal_appeal"].convention


def test_working_days_are_england_and_wales_bank_holidays() -> None:
    # GOV.UK's published list (test data): each is not a working day.
    for d in (date(2023, 1, 2), date(2022, 4, 15), date(2022, 4, 18), date(2022, 1, 3), date(2028, 1, 3),
              date(2023, 5, 1), date(2023, 5, 29), date(2023, 8, 28), date(2023, 12, 25), date(2023, 12, 26)):
        assert not is_working_day(d), d
    assert is_working_day(date(2023, 1, 3)) and is_working_day(date(2023, 3, 17))  # St Patrick's: not E&W


def test_the_holiday_list_is_current() -> None:
    """The `holidays` package knows this year's and next year's bank holidays (its list is kept
    current by its maintainers; a stale pin would fail here)."""
    england = holidays.country_holidays("GB", subdiv="ENG", years=range(2026, 2028))
    assert date(2026, 12, 28) in england  # Boxing Day 2026 falls on a Saturday: substitute Monday
    assert date(2027, 3, 26) in england and date(2027, 3, 29) in england  # Good Friday, Easter Monday 2027
    assert date(2027, 12, 27) in england and date(2027, 12, 28) in england  # substitutes for the weekend


every_day = st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31))


@settings(max_examples=600, deadline=None)
@given(letter=every_day, gap=st.one_of(st.none(), st.integers(min_value=0, max_value=120)))
def test_no_tribunal_last_day_is_a_weekend_or_a_bank_holiday(letter: date, gap: int | None) -> None:
    certificate = None if gap is None else letter + timedelta(days=gap)
    due = appeal_deadline(letter, certificate)
    england = holidays.country_holidays("GB", subdiv="ENG", years=due.year)
    assert due.weekday() < 5 and due not in england, due
    ends = max(months_after(letter, 2), months_after(certificate, 1) if certificate else letter)
    if ends.month == 8:  # r.12(3)(a): after 31 August
        assert due > date(ends.year, 8, 31)
    if (ends.month, ends.day) >= (12, 25) or (ends.month, ends.day) == (1, 1):  # after 1 January
        assert due > date(ends.year + (ends.month == 12), 1, 1)
    # (A period ending on Sat 24 Dec 2016 is in time on the next working day, Wed 28 Dec: rule
    # 12(2) alone, as the rule's words say.)


def test_every_last_day_from_2015_to_2035_is_a_working_day() -> None:
    """Exhaustive: every day from 2015 to 2035 as the end of a period."""
    england = holidays.country_holidays("GB", subdiv="ENG", years=range(2015, 2037))
    d = date(2015, 1, 1)
    while d <= date(2035, 12, 31):
        moved = adjust_tribunal_deadline(d)
        assert moved >= d and moved.weekday() < 5 and moved not in england, (d, moved)
        d += timedelta(days=1)


# ------------------------------------------------------------------ counting "within N weeks of"


def test_the_guides_date_is_shown_and_the_council_is_late_only_after_the_strict_day() -> None:
    """Regs 5(1), 10(1), 13(2): the guide shows 30 Jan 2023 -> 12 Mar; "within 6 weeks of"
    read strictly ends on 13 Mar; the council is late from 14 Mar."""
    request = date(2023, 1, 30)
    kd = by_key(CaseEvents(request=request), date(2023, 3, 13))
    assert kd["decision_to_assess"].due == date(2023, 3, 12)
    assert kd["decision_to_assess"].last_day == date(2023, 3, 13)
    assert kd["decision_to_assess"].status is Status.DUE
    assert by_key(CaseEvents(request=request), date(2023, 3, 14))["decision_to_assess"].status is Status.OVERDUE
    on_last_day = by_key(CaseEvents(request=request, decision_to_assess=date(2023, 3, 13)), date(2023, 4, 1))
    assert on_last_day["decision_to_assess"].status is Status.MET
    kd = by_key(CaseEvents(request=request, decision_to_assess=date(2023, 3, 1)), date(2023, 6, 19))
    assert kd["final_plan"].due == date(2023, 6, 18) and kd["final_plan"].status is Status.DUE  # 13(2)
    assert by_key(CaseEvents(request=request), date(2023, 6, 20))["final_plan"].status is Status.OVERDUE


# ------------------------------------------------------------------ reg 10(1): the 16 weeks


def test_the_16_week_date_is_for_saying_no_plan() -> None:
    request = date(2023, 1, 30)
    assessing = {"request": request, "decision_to_assess": date(2023, 3, 1)}
    # A draft served after week 16 (21 May) is not "overdue" for reg 10(1).
    kd = by_key(CaseEvents(**assessing, draft_plan_served=date(2023, 6, 1)), date(2023, 6, 2))
    assert kd["assessment_decision"].status is Status.MET
    assert kd["assessment_decision"].name == "Telling you if the council will not issue an EHC plan"
    # Nothing by week 16: not overdue (no "no" came); the final plan's date is the one to watch.
    kd = by_key(CaseEvents(**assessing), date(2023, 6, 1))
    assert kd["assessment_decision"].status is Status.NOT_APPLICABLE
    assert kd["final_plan"].status is Status.DUE
    # A "no" after the strict last day (22 May) is late.
    kd = by_key(CaseEvents(**assessing, assessment_decision=date(2023, 5, 25), issue_plan=False), date(2023, 6, 1))
    assert kd["assessment_decision"].status is Status.OVERDUE
    kd = by_key(CaseEvents(**assessing, assessment_decision=date(2023, 5, 22), issue_plan=False), date(2023, 6, 1))
    assert kd["assessment_decision"].status is Status.MET


# ------------------------------------------------------------------ reg 20(10): the review decision


MEETING = date(2024, 3, 6)


def test_a_no_changes_decision_meets_the_4_weeks_and_starts_the_appeal() -> None:
    """Reg 20(10): keep, amend or cease within 4 weeks of the meeting (shown 2 Apr 2024). A
    decision to keep the plan unchanged is appealable (s.51(2)(e)): 2 months from it."""
    before = by_key(CaseEvents(final_plan_issued=date(2023, 6, 1), annual_review_meeting=MEETING), date(2024, 4, 20))
    assert before["review_decision"].status is Status.OVERDUE
    events = fold(None, [
        RecordedEvent(1, EventKind.FINAL_PLAN_ISSUED, date(2023, 6, 1), {}),
        RecordedEvent(2, EventKind.ANNUAL_REVIEW_MEETING, MEETING, {}),
        RecordedEvent(3, EventKind.REVIEW_DECISION, date(2024, 3, 27), {"outcome": "keep"}),
    ])
    kd = by_key(events, date(2024, 4, 20))
    assert kd["review_decision"].status is Status.MET and kd["review_decision"].met_on == date(2024, 3, 27)
    assert kd["amended_plan_after_review"].status is Status.NOT_APPLICABLE
    assert kd["tribunal_appeal"].due == date(2024, 5, 27) + timedelta(days=1)  # 27 May 2024: a bank holiday
    assert kd["tribunal_appeal"].status is Status.DUE
    assert current_stage(events) is Stage.ANNUAL_REVIEW


def test_an_amend_decision_has_the_12_week_outer_date() -> None:
    """R (L) v Devon CC [2022] EWHC 493 (Admin): the final amended plan within 12 weeks of the
    meeting (4 + 8): 6 Mar 2024 -> shown 28 May 2024, late from 30 May."""
    events = CaseEvents(final_plan_issued=date(2023, 6, 1), annual_review_meeting=MEETING,
                        review_decision=date(2024, 3, 20), review_outcome=ReviewOutcome.AMEND,
                        amendment_notice=date(2024, 3, 20))
    kd = by_key(events, date(2024, 5, 29))
    assert kd["amended_plan_after_review"].due == date(2024, 5, 28)
    assert kd["amended_plan_after_review"].status is Status.DUE
    assert kd["amended_plan"].due == date(2024, 5, 14)  # reg 22(3): 8 weeks from the notice
    assert by_key(events, date(2024, 5, 30))["amended_plan_after_review"].status is Status.OVERDUE
    done = by_key(CaseEvents(**{**events.__dict__, "amended_plan_issued": date(2024, 5, 10)}), date(2024, 6, 1))
    assert done["amended_plan_after_review"].status is Status.MET
    # The amendment notice alone (no decision recorded) also means amending.
    alone = CaseEvents(final_plan_issued=date(2023, 6, 1), annual_review_meeting=MEETING,
                       amendment_notice=date(2024, 3, 20))
    assert by_key(alone, date(2024, 4, 1))["amended_plan_after_review"].due == date(2024, 5, 28)
    assert by_key(alone, date(2024, 4, 1))["review_decision"].status is Status.MET


def test_the_amended_plan_comments_cite_reg_22_2_c() -> None:
    kd = by_key(CaseEvents(amendment_notice=date(2024, 4, 2)), date(2024, 4, 3))
    assert kd["amendment_comments"].source == "SEND Regulations 2014, reg 22(2)(c)"


# ------------------------------------------------------------------ s.45: ceasing the plan


def test_a_decision_to_cease_ends_the_plan_with_its_appeal_right() -> None:
    """s.45 and s.51(2)(f): the decision to cease is appealable; 2 months from it."""
    for how in (
        [RecordedEvent(3, EventKind.CEASE_DECISION, date(2024, 10, 30), {})],
        [RecordedEvent(2, EventKind.ANNUAL_REVIEW_MEETING, date(2024, 10, 10), {}),
         RecordedEvent(3, EventKind.REVIEW_DECISION, date(2024, 10, 30), {"outcome": "cease"})],
    ):
        events = fold(None, [RecordedEvent(1, EventKind.FINAL_PLAN_ISSUED, date(2023, 6, 1), {}), *how])
        assert current_stage(events) is Stage.CEASING
        kd = by_key(events, date(2024, 11, 1))
        # 30 Dec 2024 is in the Christmas period -> first working day after 1 Jan: Thu 2 Jan 2025.
        assert kd["tribunal_appeal"].due == date(2025, 1, 2)
        assert kd["annual_review"].status is Status.NOT_APPLICABLE  # no review of a plan being ceased


# ------------------------------------------------------------------ reg 18: phase transfer


def test_phase_transfer_is_met_only_by_an_amended_plan_naming_the_setting() -> None:
    plain = fold(None, [
        RecordedEvent(1, EventKind.PHASE_TRANSFER, date(2025, 9, 1), {"year": 2026, "transfer_kind": "school"}),
        RecordedEvent(2, EventKind.AMENDED_PLAN_ISSUED, date(2026, 2, 1), {}),
    ])
    assert by_key(plain, date(2026, 2, 15))["phase_transfer"].status is Status.OVERDUE
    assert by_key(plain, date(2026, 2, 14))["phase_transfer"].status is Status.DUE  # last day: 14 Feb
    named = fold(None, [
        RecordedEvent(1, EventKind.PHASE_TRANSFER, date(2025, 9, 1), {"year": 2026, "transfer_kind": "school"}),
        RecordedEvent(2, EventKind.AMENDED_PLAN_ISSUED, date(2026, 2, 14), {"names_setting": True}),
    ])
    assert by_key(named, date(2026, 3, 1))["phase_transfer"].status is Status.MET


def test_a_move_between_post16_settings_is_at_least_5_months_before() -> None:
    """Reg 18(2): a move on 6 Jan 2027 -> amended by 6 Aug 2026."""
    assert post16_transfer_deadline(date(2027, 1, 6)) == date(2026, 8, 6)
    assert post16_transfer_deadline(date(2027, 7, 31)) == date(2027, 2, 28)
    details = check_details(EventKind.PHASE_TRANSFER, date(2026, 5, 1),
                            {"transfer_kind": "post16_to_post16", "date": "2027-01-06"})
    events = fold(None, [RecordedEvent(1, EventKind.PHASE_TRANSFER, date(2026, 5, 1), details)])
    assert events.phase_transfer_kind is TransferKind.BETWEEN_POST_16
    kd = by_key(events, date(2026, 6, 1))["phase_transfer"]
    assert (kd.start, kd.due, kd.status) == (date(2026, 1, 6), date(2026, 8, 6), Status.DUE)
    with pytest.raises(Refused):
        check_details(EventKind.PHASE_TRANSFER, date(2026, 5, 1), {"transfer_kind": "post16_to_post16"})
    with pytest.raises(Refused):
        check_details(EventKind.REVIEW_DECISION, date(2026, 5, 1), {"outcome": "maybe"})


def test_an_amend_decision_without_the_proposed_changes_does_not_meet_the_4_weeks() -> None:
    """R (L) v Devon: the proposed amendments must come within reg 20(10)'s 4 weeks."""
    bare = CaseEvents(final_plan_issued=date(2023, 6, 1), annual_review_meeting=MEETING,
                      review_decision=date(2024, 3, 20), review_outcome=ReviewOutcome.AMEND)
    assert by_key(bare, date(2024, 4, 10))["review_decision"].status is Status.OVERDUE
    with_notice = CaseEvents(**{**bare.__dict__, "amendment_notice": date(2024, 3, 25)})
    assert by_key(with_notice, date(2024, 4, 10))["review_decision"].status is Status.MET


def test_the_mediation_adviser_within_2_months_of_the_letter() -> None:
    """SEND Regulations 2014, reg 33: 2 months from the letter, not moved by the tribunal's
    August rule (the appeal's last day, without a certificate, moves to 1 Sep 2023)."""
    kd = by_key(CaseEvents(decision_letter=date(2023, 6, 15)), date(2023, 6, 16))
    assert kd["mediation_contact"].due == date(2023, 8, 15)
    assert kd["tribunal_appeal"].due == date(2023, 9, 1)
    # An old certificate (an earlier decision) does not count for this one.
    old = by_key(CaseEvents(decision_letter=date(2025, 3, 3), mediation_certificate=date(2023, 5, 1)), date(2025, 3, 4))
    assert old["mediation_contact"].due == date(2025, 5, 3)
    assert old["tribunal_appeal"].due == date(2025, 5, 6)  # Sat 3 May; Mon 5 May a bank holiday


def test_an_event_before_the_law_began_is_refused() -> None:
    for kind, details in ((EventKind.PHASE_TRANSFER, {"year": 0}),
                          (EventKind.REVIEW_MEETING_ARRANGED, {"date": "0001-01-02"}),
                          (EventKind.FINAL_PLAN_ISSUED, {})):
        with pytest.raises(Refused):
            check_details(kind, date(1, 1, 1), details)
