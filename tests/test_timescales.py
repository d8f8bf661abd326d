"""The statutory timescales engine: worked dates from PRODUCT.md, edge cases and properties."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.timescales import (
    RULES,
    CaseEvents,
    CaseException,
    Stage,
    Status,
    TransferKind,
    appeal_deadline,
    current_stage,
    days_from_service,
    format_date,
    is_working_day,
    key_dates,
    months_after,
    phase_transfer_deadline,
    within_months,
    within_weeks,
)


def by_key(events: CaseEvents, today: date) -> dict:
    return {k.key: k for k in key_dates(events, today)}


# ------------------------------------------------------------------ worked dates from PRODUCT.md


def test_request_dates() -> None:
    kd = by_key(CaseEvents(request=date(2023, 1, 30)), today=date(2023, 2, 1))
    assert kd["decision_to_assess"].due == date(2023, 3, 12)
    assert kd["assessment_decision"].due == date(2023, 5, 21)
    assert kd["final_plan"].due == date(2023, 6, 18)
    assert format_date(kd["decision_to_assess"].due) == "12 Mar 2023"


def test_draft_plan_comments() -> None:
    assert days_from_service(date(2023, 3, 1), 15) == date(2023, 3, 15)
    kd = by_key(CaseEvents(draft_plan_served=date(2023, 3, 1)), today=date(2023, 3, 2))
    assert kd["draft_plan_comments"].due == date(2023, 3, 15)


def test_annual_review() -> None:
    kd = by_key(CaseEvents(final_plan_issued=date(2023, 6, 18)), today=date(2023, 7, 1))
    assert kd["annual_review"].due == date(2024, 6, 17)


def test_review_meeting_dates() -> None:
    kd = by_key(CaseEvents(annual_review_meeting=date(2024, 3, 6)), today=date(2024, 3, 7))
    assert kd["review_report"].due == date(2024, 3, 19)
    assert kd["review_decision"].due == date(2024, 4, 2)


def test_amendment_dates() -> None:
    kd = by_key(CaseEvents(amendment_notice=date(2024, 4, 2)), today=date(2024, 4, 3))
    assert kd["amendment_comments"].due == date(2024, 4, 16)
    assert kd["amended_plan"].due == date(2024, 5, 27)


def test_phase_transfer() -> None:
    # Reg 18(1) as amended: "before 15 February" / "before 31 March": the day before is the last.
    assert phase_transfer_deadline(2026) == date(2026, 2, 14)
    assert phase_transfer_deadline(2026, TransferKind.POST_16) == date(2026, 3, 30)
    kd = by_key(
        CaseEvents(phase_transfer_year=2026, phase_transfer_kind=TransferKind.POST_16),
        today=date(2025, 10, 1),
    )
    assert kd["phase_transfer"].due == date(2026, 3, 30)
    assert kd["phase_transfer"].status is Status.DUE


@pytest.mark.parametrize(
    ("letter", "certificate", "expected"),
    [
        (date(2024, 1, 10), None, date(2024, 3, 11)),  # Sun 10 Mar 2024 -> Mon 11 Mar (rule 12(2))
        (date(2024, 1, 10), date(2024, 2, 20), date(2024, 3, 20)),
        (date(2023, 12, 31), None, date(2024, 2, 29)),
        (date(2024, 6, 25), None, date(2024, 9, 2)),
    ],
)
def test_appeal_worked_dates(letter: date, certificate: date | None, expected: date) -> None:
    assert appeal_deadline(letter, certificate) == expected


def test_appeal_key_date_uses_certificate() -> None:
    events = CaseEvents(decision_letter=date(2024, 1, 10), mediation_certificate=date(2024, 2, 20))
    assert by_key(events, date(2024, 3, 1))["tribunal_appeal"].due == date(2024, 3, 20)


# ------------------------------------------------------------------ edge cases


def test_leap_year() -> None:
    assert within_weeks(date(2024, 2, 1), 6) == date(2024, 3, 13)
    assert within_weeks(date(2023, 2, 1), 6) == date(2023, 3, 14)
    assert months_after(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert within_months(date(2024, 2, 29), 12) == date(2025, 2, 27)
    assert appeal_deadline(date(2022, 12, 31)) == date(2023, 2, 28)


def test_month_ends() -> None:
    assert months_after(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert months_after(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert months_after(date(2024, 3, 31), 1) == date(2024, 4, 30)
    assert months_after(date(2024, 11, 30), 2) == date(2025, 1, 30)
    assert months_after(date(2024, 12, 15), 1) == date(2025, 1, 15)


def test_clock_change_does_not_shift_dates() -> None:
    # British Summer Time began on 31 Mar 2024 and ended on 27 Oct 2024.
    assert within_weeks(date(2024, 3, 20), 6) == date(2024, 4, 30)
    assert within_weeks(date(2024, 10, 20), 2) == date(2024, 11, 2)
    kd = by_key(CaseEvents(request=date(2024, 3, 20)), today=date(2024, 3, 21))
    assert kd["decision_to_assess"].due == date(2024, 4, 30)


def test_appeal_in_august() -> None:
    # 15 Aug 2025 (one month after the certificate, later than 10 Aug) -> Monday 1 Sep 2025.
    assert appeal_deadline(date(2025, 6, 10), date(2025, 7, 15)) == date(2025, 9, 1)
    # 31 Aug 2024 -> 1 Sep 2024 is a Sunday -> Monday 2 Sep 2024.
    assert appeal_deadline(date(2024, 6, 30)) == date(2024, 9, 2)


def test_appeal_at_christmas() -> None:
    # 25 Dec 2024 -> Thursday 2 Jan 2025.
    assert appeal_deadline(date(2024, 10, 25)) == date(2025, 1, 2)
    # 1 Jan 2026 (Thursday) -> Friday 2 Jan 2026.
    assert appeal_deadline(date(2025, 11, 1)) == date(2026, 1, 2)
    # 30 Dec 2027 -> after 1 Jan 2028 (a Saturday), Monday 3 Jan is the substitute bank
    # holiday -> Tuesday 4 Jan 2028.
    assert appeal_deadline(date(2027, 10, 30)) == date(2028, 1, 4)
    # 24 Dec is not moved.
    assert appeal_deadline(date(2024, 10, 24)) == date(2024, 12, 24)
    assert not is_working_day(date(2024, 12, 26))
    assert is_working_day(date(2025, 1, 2))


def test_exception_flagged_date_unchanged() -> None:
    plain = CaseEvents(request=date(2023, 1, 30))
    excepted = CaseEvents(
        request=date(2023, 1, 30), exceptions=frozenset({CaseException.SCHOOL_CLOSED})
    )
    today = date(2023, 2, 1)
    before, after = by_key(plain, today), by_key(excepted, today)
    for key in ("decision_to_assess", "assessment_decision", "final_plan"):
        assert after[key].due == before[key].due
        assert after[key].exception is True
        assert "exception" in after[key].note.lower()
        assert before[key].exception is False
    assert after["decision_to_assess"].due == date(2023, 3, 12)


# ------------------------------------------------------------------ statuses


def test_statuses_due_met_overdue() -> None:
    request = date(2023, 1, 30)
    kd = by_key(CaseEvents(request=request), today=date(2023, 3, 12))
    assert kd["decision_to_assess"].status is Status.DUE  # the due day itself is still due
    # "Within 6 weeks of" the request, read strictly, ends on 13 Mar: not late yet.
    kd = by_key(CaseEvents(request=request), today=date(2023, 3, 13))
    assert kd["decision_to_assess"].status is Status.DUE
    assert kd["decision_to_assess"].last_day == date(2023, 3, 13)
    kd = by_key(CaseEvents(request=request), today=date(2023, 3, 14))
    assert kd["decision_to_assess"].status is Status.OVERDUE
    assert kd["annual_review"].status is Status.NOT_APPLICABLE

    met = by_key(CaseEvents(request=request, decision_to_assess=date(2023, 3, 1)), date(2023, 4, 1))
    assert met["decision_to_assess"].status is Status.MET
    assert met["decision_to_assess"].met_on == date(2023, 3, 1)

    late = by_key(
        CaseEvents(request=request, decision_to_assess=date(2023, 3, 20)), date(2023, 4, 1)
    )
    assert late["decision_to_assess"].status is Status.OVERDUE
    assert late["decision_to_assess"].met_on == date(2023, 3, 20)


def test_not_applicable_paths() -> None:
    request = date(2023, 1, 30)
    kd = by_key(
        CaseEvents(request=request, decision_not_to_assess=date(2023, 3, 1)), date(2023, 3, 2)
    )
    assert kd["decision_to_assess"].status is Status.MET
    assert kd["assessment_decision"].status is Status.NOT_APPLICABLE
    assert kd["final_plan"].status is Status.NOT_APPLICABLE
    kd = by_key(
        CaseEvents(
            request=request,
            decision_to_assess=date(2023, 3, 1),
            assessment_decision=date(2023, 5, 1),
            issue_plan=False,
        ),
        date(2023, 5, 2),
    )
    assert kd["assessment_decision"].status is Status.MET
    assert kd["final_plan"].status is Status.NOT_APPLICABLE
    assert kd["tribunal_appeal"].status is Status.NOT_APPLICABLE


def test_parent_window_closes() -> None:
    events = CaseEvents(draft_plan_served=date(2023, 3, 1))
    assert by_key(events, date(2023, 3, 15))["draft_plan_comments"].status is Status.DUE
    assert by_key(events, date(2023, 3, 16))["draft_plan_comments"].status is Status.NOT_APPLICABLE


def test_every_rule_has_a_key_date() -> None:
    kds = key_dates(CaseEvents(), date(2024, 1, 1))
    assert [k.key for k in kds] == [r.key for r in RULES]
    assert all(k.status is Status.NOT_APPLICABLE for k in kds)
    assert all(r.source and r.name and r.convention for r in RULES)


# ------------------------------------------------------------------ stages


def test_stages_through_the_process() -> None:
    e = CaseEvents()
    assert current_stage(e) is Stage.REQUEST_RECEIVED
    steps = [
        ({"request": date(2023, 1, 30)}, Stage.DECIDING_WHETHER_TO_ASSESS),
        ({"decision_to_assess": date(2023, 3, 1)}, Stage.ASSESSING),
        ({"assessment_decision": date(2023, 5, 1)}, Stage.DECIDING_WHETHER_TO_ISSUE),
        ({"issue_plan": True}, Stage.DRAFT_PLAN),
        ({"draft_plan_served": date(2023, 5, 5)}, Stage.DRAFT_PLAN),
        ({"final_plan_issued": date(2023, 6, 1)}, Stage.FINAL_PLAN_ISSUED),
        ({"annual_review_meeting": date(2024, 5, 1)}, Stage.ANNUAL_REVIEW),
        ({"amendment_notice": date(2024, 5, 20)}, Stage.AMENDMENT),
        ({"amended_plan_issued": date(2024, 7, 1)}, Stage.FINAL_PLAN_ISSUED),
    ]
    fields = {}
    for change, stage in steps:
        fields.update(change)
        assert current_stage(CaseEvents(**fields)) is stage, change


def test_stages_off_the_main_path() -> None:
    base = {"request": date(2023, 1, 30)}
    assert (
        current_stage(CaseEvents(**base, decision_not_to_assess=date(2023, 3, 1)))
        is Stage.NOT_ASSESSING
    )
    no_plan = CaseEvents(
        **base,
        decision_to_assess=date(2023, 3, 1),
        assessment_decision=date(2023, 5, 1),
        issue_plan=False,
    )
    assert current_stage(no_plan) is Stage.NO_PLAN


# ------------------------------------------------------------------ properties

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
fast = settings(max_examples=150, deadline=None)


@fast
@given(start=dates, n=st.integers(min_value=1, max_value=60))
def test_helpers_never_before_start(start: date, n: int) -> None:
    assert within_weeks(start, n) >= start
    assert days_from_service(start, n) >= start
    assert months_after(start, n) > start
    assert within_months(start, n) >= start


@fast
@given(letter=dates, gap=st.one_of(st.none(), st.integers(min_value=0, max_value=400)))
def test_appeal_never_before_letter_or_in_closed_periods(letter: date, gap: int | None) -> None:
    certificate = None if gap is None else letter + timedelta(days=gap)
    due = appeal_deadline(letter, certificate)
    assert due >= months_after(letter, 2)
    if certificate is not None:
        assert due >= months_after(certificate, 1)
    ends = max(months_after(letter, 2), months_after(certificate, 1) if certificate else letter)
    # Rule 12(3)(a): a period ending in August or 25 Dec - 1 Jan ends after it. (One ending on a
    # weekend just before Christmas moves by rule 12(2) alone to the next working day, which may
    # be 27 or 28 Dec: Sat 23 Dec 2017 -> Wed 27 Dec.)
    if ends.month == 8:
        assert due.month != 8
    if (ends.month, ends.day) >= (12, 25) or (ends.month, ends.day) == (1, 1):
        assert not (due.month == 12 and due.day >= 25) and not (due.month == 1 and due.day == 1)
    assert is_working_day(due)


@fast
@given(request=dates, today=dates)
def test_key_dates_follow_their_start_and_order(request: date, today: date) -> None:
    events = CaseEvents(
        request=request,
        draft_plan_served=request + timedelta(days=100),
        final_plan_issued=request + timedelta(days=130),
        annual_review_meeting=request + timedelta(days=450),
        amendment_notice=request + timedelta(days=470),
        decision_letter=request + timedelta(days=20),
        phase_transfer_year=request.year + 1,
    )
    kd = {k.key: k for k in key_dates(events, today)}
    for k in kd.values():
        if k.due is not None:
            assert k.start is not None and k.due >= k.start
    assert kd["decision_to_assess"].due <= kd["assessment_decision"].due <= kd["final_plan"].due
    assert kd["review_report"].due <= kd["review_decision"].due
    assert kd["amendment_comments"].due <= kd["amended_plan"].due


@fast
@given(a=dates, b=dates, n=st.integers(min_value=1, max_value=60))
def test_within_weeks_and_months_after_monotonic(a: date, b: date, n: int) -> None:
    lo, hi = min(a, b), max(a, b)
    assert within_weeks(lo, n) <= within_weeks(hi, n)
    assert months_after(lo, n) <= months_after(hi, n)
    assert appeal_deadline(lo) <= appeal_deadline(hi)
