"""Statutory timescales for EHCP cases in England: a table of rules and pure functions.

Nothing here touches a database or a clock: every function takes dates and returns dates, so the
rules can be checked exhaustively. Sources: the SEND Regulations 2014, the Children and Families
Act 2014 and the First-tier Tribunal (HESC) rules, as tabled in PRODUCT.md "Statutory timescales".

Counting conventions (the guide's own dashboard counts this way):

- ``within_weeks(start, n)``: the start date is day 1, so the last day is start + n weeks - 1 day.
- ``days_from_service(start, n)``: the day of service is day 1, so the last day is start + n - 1.
- ``months_after(start, n)``: the same day n months on, or that month's last day where it has no
  such day (31 Jan + 1 month -> 28/29 Feb).
- ``within_months(start, n)``: the start date is day 1, so the last day is the day before
  ``months_after(start, n)``.

Dates are calendar dates (``datetime.date``): a clock change never shifts them.

Exceptions (school closed 4+ weeks, exceptional personal circumstances, absence from the area
4+ weeks) never move a date: a key date is flagged and carries a note instead.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

# --------------------------------------------------------------------------- counting helpers


def within_weeks(start: date, n: int) -> date:
    """Last day of a period of ``n`` weeks that counts ``start`` as day 1."""
    return start + timedelta(weeks=n) - timedelta(days=1)


def days_from_service(start: date, n: int) -> date:
    """Last day of ``n`` days from service, the day of service counting as day 1."""
    return start + timedelta(days=n - 1)


def months_after(start: date, n: int) -> date:
    """The same day ``n`` months on, or the last day of that month where it has no such day."""
    month_index = start.month - 1 + n
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last))


def within_months(start: date, n: int) -> date:
    """Last day of a period of ``n`` months that counts ``start`` as day 1."""
    return months_after(start, n) - timedelta(days=1)


# --------------------------------------------------------------------------- tribunal appeal

_NON_WORKING_FIXED = {(12, 25), (12, 26), (1, 1)}


def is_working_day(d: date) -> bool:
    """Monday to Friday, except 25 Dec, 26 Dec and 1 Jan.

    Other bank holidays (Easter, May and August bank holidays, substitute days) are not modelled:
    only the Christmas/New Year and August rules of the tribunal deadline need working days here.
    """
    return d.weekday() < 5 and (d.month, d.day) not in _NON_WORKING_FIXED


def _first_working_day_from(d: date) -> date:
    while not is_working_day(d):
        d += timedelta(days=1)
    return d


def adjust_tribunal_deadline(d: date) -> date:
    """Move a tribunal deadline out of the Christmas period or August.

    A deadline falling from 25 Dec to 1 Jan inclusive moves to the next working day after that
    period (the first working day after 1 Jan); one falling in August moves to the first working
    day of September. Weekends are skipped and 25/26 Dec and 1 Jan are non-working; other bank
    holidays are not modelled. Any other deadline is left as it is (even on a weekend).
    """
    if d.month == 12 and d.day >= 25:
        return _first_working_day_from(date(d.year + 1, 1, 2))
    if d.month == 1 and d.day == 1:
        return _first_working_day_from(date(d.year, 1, 2))
    if d.month == 8:
        return _first_working_day_from(date(d.year, 9, 1))
    return d


def appeal_deadline(decision_letter: date, mediation_certificate: date | None = None) -> date:
    """Last day to appeal to the tribunal.

    2 months after the decision letter, or 1 month after the mediation certificate, whichever is
    later; then moved out of 25 Dec - 1 Jan and August (see ``adjust_tribunal_deadline``).
    """
    due = months_after(decision_letter, 2)
    if mediation_certificate is not None:
        due = max(due, months_after(mediation_certificate, 1))
    return adjust_tribunal_deadline(due)


# --------------------------------------------------------------------------- phase transfer


class TransferKind(StrEnum):
    SCHOOL = "school"  # e.g. early years to school, primary to secondary
    POST_16 = "secondary_to_post16"


def phase_transfer_deadline(year: int, kind: TransferKind | str = TransferKind.SCHOOL) -> date:
    """Date by which the plan must be amended to name the next setting (reg 18)."""
    if TransferKind(kind) is TransferKind.POST_16:
        return date(year, 3, 31)
    return date(year, 2, 15)


# --------------------------------------------------------------------------- case events


class CaseException(StrEnum):
    SCHOOL_CLOSED = "school_closed_4_weeks"
    PERSONAL_CIRCUMSTANCES = "exceptional_personal_circumstances"
    ABSENT_FROM_AREA = "absent_from_area_4_weeks"


EXCEPTION_NAMES = {
    CaseException.SCHOOL_CLOSED.value: "the school was closed for 4 weeks or more",
    CaseException.PERSONAL_CIRCUMSTANCES.value: "exceptional personal circumstances",
    CaseException.ABSENT_FROM_AREA.value: "absence from the area for 4 weeks or more",
}


@dataclass(frozen=True)
class CaseEvents:
    """A case's dated events; every one optional.

    ``assessment_decision`` is the date of the decision after assessing, ``issue_plan`` its
    outcome (True: a plan will be issued, False: no plan). ``annual_review_meeting`` is the most
    recent review meeting. ``exceptions`` holds the names of recorded exceptions
    (``CaseException`` values or free text).
    """

    request: date | None = None
    decision_to_assess: date | None = None
    decision_not_to_assess: date | None = None
    assessment_decision: date | None = None
    issue_plan: bool | None = None
    draft_plan_served: date | None = None
    final_plan_issued: date | None = None
    annual_review_meeting: date | None = None
    review_report: date | None = None
    amendment_notice: date | None = None
    amended_plan_issued: date | None = None
    decision_letter: date | None = None
    mediation_certificate: date | None = None
    phase_transfer_year: int | None = None
    phase_transfer_kind: TransferKind | None = None
    exceptions: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        names = frozenset(str(getattr(x, "value", x)) for x in self.exceptions)
        object.__setattr__(self, "exceptions", names)


# --------------------------------------------------------------------------- the rules table


class Status(StrEnum):
    DUE = "due"
    MET = "met"
    OVERDUE = "overdue"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class Rule:
    """One statutory timescale.

    ``party`` is who must act: "council" (a missed date is overdue) or "parent" (a window the
    parent may use; once closed it is no longer pending and shows as not applicable).
    ``exceptions_apply``: whether a recorded exception is relevant to this rule (it is flagged,
    never used to move the date).
    """

    key: str
    name: str
    source: str
    convention: str
    start_event: str
    party: str = "council"
    exceptions_apply: bool = False


RULES: tuple[Rule, ...] = (
    Rule(
        "decision_to_assess",
        "Decision whether to carry out an EHC needs assessment",
        "SEND Regulations 2014, reg 5(1)",
        "within 6 weeks",
        "request",
        exceptions_apply=True,
    ),
    Rule(
        "assessment_decision",
        "Decision whether to issue an EHC plan",
        "SEND Regulations 2014, reg 10(1)",
        "within 16 weeks",
        "request",
        exceptions_apply=True,
    ),
    Rule(
        "final_plan",
        "Final EHC plan issued",
        "SEND Regulations 2014, reg 13(2)",
        "within 20 weeks",
        "request",
        exceptions_apply=True,
    ),
    Rule(
        "draft_plan_comments",
        "Your comments on the draft plan and the school you want",
        "SEND Regulations 2014, reg 13(1)",
        "15 days from service",
        "draft_plan_served",
        party="parent",
    ),
    Rule(
        "annual_review",
        "Annual review of the EHC plan",
        "Children and Families Act 2014, s.44",
        "within 12 months",
        "final_plan_issued or the last annual_review_meeting",
    ),
    Rule(
        "review_report",
        "Report of the annual review meeting",
        "SEND Regulations 2014, reg 20",
        "within 2 weeks",
        "annual_review_meeting",
    ),
    Rule(
        "review_decision",
        "Decision after the annual review, with any proposed amendments",
        "SEND Regulations 2014, reg 20(10) and reg 22",
        "within 4 weeks",
        "annual_review_meeting",
    ),
    Rule(
        "amendment_comments",
        "Your comments on the proposed amendments",
        "SEND Regulations 2014, reg 22(2)",
        "15 days from service",
        "amendment_notice",
        party="parent",
    ),
    Rule(
        "amended_plan",
        "Final amended EHC plan issued",
        "SEND Regulations 2014, reg 22(3)",
        "within 8 weeks",
        "amendment_notice",
    ),
    Rule(
        "phase_transfer",
        "Plan amended to name the next school or college",
        "SEND Regulations 2014, reg 18",
        "15 February of the transfer year (31 March for secondary to post-16)",
        "phase_transfer_year (from 1 September of the year before)",
    ),
    Rule(
        "tribunal_appeal",
        "Last day to appeal to the tribunal",
        "Tribunal Procedure (First-tier Tribunal) (HESC) Rules 2008, r.20",
        "2 months after the decision letter or 1 month after the mediation certificate, "
        "whichever is later; moved out of 25 Dec-1 Jan and August",
        "decision_letter",
        party="parent",
    ),
)

RULES_BY_KEY: dict[str, Rule] = {r.key: r for r in RULES}


@dataclass(frozen=True)
class KeyDate:
    key: str
    name: str
    source: str
    start: date | None
    due: date | None
    status: Status
    met_on: date | None = None
    exception: bool = False
    note: str = ""


# --------------------------------------------------------------------------- key dates


def _first(*dates: date | None) -> date | None:
    present = [d for d in dates if d is not None]
    return min(present) if present else None


def _plan(events: CaseEvents) -> dict[str, tuple[date | None, date | None, date | None, bool]]:
    """For each rule: (start, due, matching event or None, applicable)."""
    e = events
    out: dict[str, tuple[date | None, date | None, date | None, bool]] = {}

    def rule(
        key: str,
        start: date | None,
        due_fn: Callable[[date], date],
        done: date | None = None,
        applicable: bool = True,
    ) -> None:
        if start is None:
            out[key] = (None, None, None, False)
            return
        if done is not None and done < start:
            done = None
        out[key] = (start, due_fn(start), done, applicable)

    not_assessing = e.decision_not_to_assess is not None
    no_plan = e.issue_plan is False
    rule(
        "decision_to_assess",
        e.request,
        lambda s: within_weeks(s, 6),
        _first(e.decision_to_assess, e.decision_not_to_assess),
    )
    rule(
        "assessment_decision",
        e.request,
        lambda s: within_weeks(s, 16),
        e.assessment_decision,
        applicable=not not_assessing,
    )
    rule(
        "final_plan",
        e.request,
        lambda s: within_weeks(s, 20),
        e.final_plan_issued,
        applicable=not (not_assessing or no_plan),
    )
    rule("draft_plan_comments", e.draft_plan_served, lambda s: days_from_service(s, 15))
    review_start = e.final_plan_issued
    if e.annual_review_meeting is not None and (
        review_start is None or e.annual_review_meeting > review_start
    ):
        review_start = e.annual_review_meeting
    rule("annual_review", review_start, lambda s: within_months(s, 12))
    rule("review_report", e.annual_review_meeting, lambda s: within_weeks(s, 2), e.review_report)
    rule(
        "review_decision", e.annual_review_meeting, lambda s: within_weeks(s, 4), e.amendment_notice
    )
    rule("amendment_comments", e.amendment_notice, lambda s: days_from_service(s, 15))
    rule("amended_plan", e.amendment_notice, lambda s: within_weeks(s, 8), e.amended_plan_issued)
    if e.phase_transfer_year is not None:
        year = e.phase_transfer_year
        kind = e.phase_transfer_kind or TransferKind.SCHOOL
        rule(
            "phase_transfer",
            date(year - 1, 9, 1),
            lambda _s: phase_transfer_deadline(year, kind),
            e.amended_plan_issued,
        )
    else:
        rule("phase_transfer", None, lambda s: s)
    cert = e.mediation_certificate
    rule("tribunal_appeal", e.decision_letter, lambda s: appeal_deadline(s, cert))
    return out


def key_dates(events: CaseEvents, today: date) -> list[KeyDate]:
    """Every rule's key date for a case, in table order.

    Status: ``met`` when the matching event happened on or before the due date (``met_on`` is its
    date); ``overdue`` when the due date has passed without it, or it happened after the due date
    (``met_on`` then records when, with a note); ``due`` while the date is today or later;
    ``not_applicable`` when the start event is missing or the case took another path (for a
    parent's window: also once it has closed). A recorded exception sets ``exception`` and a note;
    it never moves the date.
    """
    plan = _plan(events)
    exceptions = sorted(events.exceptions)
    result: list[KeyDate] = []
    for r in RULES:
        start, due, done, applicable = plan[r.key]
        note = ""
        met_on = None
        if due is None or not applicable:
            status = Status.NOT_APPLICABLE
        elif r.party == "parent":
            status = Status.DUE if today <= due else Status.NOT_APPLICABLE
            if status is Status.NOT_APPLICABLE:
                note = "This window has closed."
        elif done is not None:
            met_on = done
            if done <= due:
                status = Status.MET
            else:
                status = Status.OVERDUE
                note = f"Done late, on {format_date(done)}."
        else:
            status = Status.OVERDUE if today > due else Status.DUE
        flagged = bool(exceptions) and r.exceptions_apply and status is not Status.NOT_APPLICABLE
        if flagged:
            names = ", ".join(EXCEPTION_NAMES.get(x, x) for x in exceptions)
            extra = f"An exception is recorded ({names}); the statutory date is unchanged."
            note = f"{note} {extra}".strip()
        result.append(KeyDate(r.key, r.name, r.source, start, due, status, met_on, flagged, note))
    return result


def format_date(d: date) -> str:
    """A date as the guide shows it: ``30 Jan 2023``."""
    return f"{d.day} {calendar.month_abbr[d.month]} {d.year}"


# --------------------------------------------------------------------------- stage


class Stage(StrEnum):
    REQUEST_RECEIVED = "request received"
    DECIDING_WHETHER_TO_ASSESS = "deciding whether to assess"
    ASSESSING = "assessing"
    DECIDING_WHETHER_TO_ISSUE = "deciding whether to issue a plan"
    DRAFT_PLAN = "draft plan"
    FINAL_PLAN_ISSUED = "final plan issued"
    ANNUAL_REVIEW = "annual review"
    AMENDMENT = "amendment"
    NOT_ASSESSING = "not assessing"
    NO_PLAN = "no plan"


def current_stage(events: CaseEvents) -> Stage:
    """The case's stage, worked out from its events only.

    - a case with no dated event yet: request received;
    - a dated request: deciding whether to assess; a decision to assess: assessing;
    - a decision not to assess: not assessing; a decision after assessing not to issue: no plan;
    - an ``assessment_decision`` date with its outcome (``issue_plan``) not yet recorded:
      deciding whether to issue a plan; a decision to issue or a draft served: draft plan;
    - a final plan: final plan issued; a review meeting after the last plan: annual review;
      an amendment notice not yet followed by an amended plan: amendment.
    """
    e = events
    if e.final_plan_issued is not None:
        if e.amendment_notice is not None and (
            e.amended_plan_issued is None or e.amended_plan_issued < e.amendment_notice
        ):
            return Stage.AMENDMENT
        latest_plan = max(d for d in (e.final_plan_issued, e.amended_plan_issued) if d is not None)
        if e.annual_review_meeting is not None and e.annual_review_meeting > latest_plan:
            return Stage.ANNUAL_REVIEW
        return Stage.FINAL_PLAN_ISSUED
    if e.decision_not_to_assess is not None and e.decision_to_assess is None:
        return Stage.NOT_ASSESSING
    if e.issue_plan is False:
        return Stage.NO_PLAN
    if e.draft_plan_served is not None or e.issue_plan is True:
        return Stage.DRAFT_PLAN
    if e.assessment_decision is not None:
        return Stage.DECIDING_WHETHER_TO_ISSUE
    if e.decision_to_assess is not None:
        return Stage.ASSESSING
    if e.request is not None:
        return Stage.DECIDING_WHETHER_TO_ASSESS
    return Stage.REQUEST_RECEIVED
