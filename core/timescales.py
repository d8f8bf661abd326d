"""Statutory timescales for EHCP cases in England: a table of rules and pure functions.

Nothing here touches a database or a clock: every function takes dates and returns dates, so the
rules can be checked exhaustively. Sources: the SEND Regulations 2014, the Children and Families
Act 2014 and the First-tier Tribunal (HESC) rules, as tabled in PRODUCT.md "Statutory timescales".

Counting conventions (the guide's own dashboard counts this way):

- ``within_weeks(start, n)``: the start date is day 1, so the last day is start + n weeks - 1 day.
  This is the date shown ("due"), as the council's guide shows it (30 Jan 2023 -> 12 Mar 2023 for
  6 weeks). The Regulations say "within N weeks of" the request or meeting, which read strictly
  does not count that day: the strict legal last day is one day later (13 Mar 2023). A council
  is never called late before the day after the strict last day (``KeyDate.last_day``; each
  rule's ``grace_days`` says which reading it uses).
- ``days_from_service(start, n)``: the day of service is day 1, so the last day is start + n - 1.
- ``months_after(start, n)``: the same day n months on, or that month's last day where it has no
  such day (31 Jan + 1 month -> 28/29 Feb).
- ``within_months(start, n)``: the start date is day 1, so the last day is the day before
  ``months_after(start, n)``.

- Tribunal deadlines (HESC Rules 2008, rule 12) are moved off days that are not working days
  (weekends, Christmas Day, Good Friday and the bank holidays of England and Wales, from the
  maintained ``holidays`` package, never typed by hand), and out of 25 Dec - 1 Jan and August.
- Phase transfer (reg 18(1)) says "before 15 February" / "before 31 March": the last day is 14
  February / 30 March.

Dates are calendar dates (``datetime.date``): a clock change never shifts them.

Exceptions (school closed 4+ weeks, exceptional personal circumstances, absence from the area
4+ weeks) never move a date: a key date is flagged and carries a note instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

# Counting, the tribunal's working days and phase transfer's last days: core/law_days.py (the
# names are this module's too).
from core.law_days import TransferKind as TransferKind
from core.law_days import adjust_tribunal_deadline as adjust_tribunal_deadline
from core.law_days import appeal_deadline as appeal_deadline
from core.law_days import days_from_service as days_from_service
from core.law_days import is_working_day as is_working_day
from core.law_days import months_after as months_after
from core.law_days import phase_transfer_deadline as phase_transfer_deadline
from core.law_days import post16_transfer_deadline as post16_transfer_deadline
from core.law_days import within_months as within_months
from core.law_days import within_weeks as within_weeks

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


class ReviewOutcome(StrEnum):
    """What the council decided after an annual review (reg 20(10)): keep the plan as it is,
    amend it, or cease to maintain it."""

    KEEP = "keep"
    AMEND = "amend"
    CEASE = "cease"


@dataclass(frozen=True)
class CaseEvents:
    """A case's dated events; every one optional.

    ``assessment_decision`` is the date of the decision after assessing, ``issue_plan`` its
    outcome (True: a plan will be issued, False: no plan). ``annual_review_meeting`` is the most
    recent review meeting; ``review_decision`` the council's decision after it and
    ``review_outcome`` what it was. ``cease_decision`` is a decision to cease to maintain the plan
    (s.45), after a review or not. ``setting_named`` is the latest amended plan that names the
    next school or college (what meets a phase transfer). ``phase_transfer_date`` is the day of a
    move between post-16 institutions (reg 18(2)). ``exceptions`` holds the names of recorded
    exceptions (``CaseException`` values or free text).
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
    review_decision: date | None = None
    review_outcome: ReviewOutcome | None = None
    review_meeting_arranged: date | None = None  # when the next review meeting was arranged
    review_meeting_date: date | None = None  # the day it is arranged for
    amendment_notice: date | None = None
    amended_plan_issued: date | None = None
    setting_named: date | None = None
    cease_decision: date | None = None
    decision_letter: date | None = None
    mediation_certificate: date | None = None
    phase_transfer_year: int | None = None
    phase_transfer_kind: TransferKind | None = None
    phase_transfer_date: date | None = None
    exceptions: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        names = frozenset(str(getattr(x, "value", x)) for x in self.exceptions)
        object.__setattr__(self, "exceptions", names)
        if self.review_outcome is not None:
            object.__setattr__(self, "review_outcome", ReviewOutcome(self.review_outcome))

    @property
    def ceased(self) -> date | None:
        """The date the council decided to cease to maintain the plan (s.45), if it did: a
        cease decision, or a review decision to cease."""
        after_review = self.review_decision if self.review_outcome is ReviewOutcome.CEASE else None
        return _latest(self.cease_decision, after_review)


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
    never used to move the date). ``grace_days``: days from the date shown (the guide's count,
    the start day as day 1) to the strict legal last day ("within N weeks of" the start, the
    start day not counted): the council is late only after that. ``missed_notice``: whether the
    parent is told the day after it passes with nothing recorded (not for a duty that only
    arises on one outcome, such as reg 10(1)'s).
    """

    key: str
    name: str
    source: str
    convention: str
    start_event: str
    party: str = "council"
    exceptions_apply: bool = False
    grace_days: int = 0
    missed_notice: bool = True


RULES: tuple[Rule, ...] = (
    Rule(
        "decision_to_assess",
        "Decision whether to carry out an EHC needs assessment",
        "SEND Regulations 2014, reg 5(1)",
        "within 6 weeks of the request (shown counting the request day as day 1; late from the "
        "day after the strict last day, which does not count it)",
        "request",
        exceptions_apply=True,
        grace_days=1,
    ),
    Rule(
        "assessment_decision",
        "Telling you if the council will not issue an EHC plan",
        "SEND Regulations 2014, reg 10(1)",
        "within 16 weeks of the request, only if the council decides not to issue a plan (a "
        "decision to issue meets it; shown and counted as for reg 5(1))",
        "request",
        exceptions_apply=True,
        grace_days=1,
        missed_notice=False,
    ),
    Rule(
        "final_plan",
        "Final EHC plan issued",
        "SEND Regulations 2014, reg 13(2)",
        "within 20 weeks of the request (shown and counted as for reg 5(1))",
        "request",
        exceptions_apply=True,
        grace_days=1,
    ),
    Rule(
        "draft_plan_comments",
        "Your comments on the draft plan and the school you want",
        "SEND Regulations 2014, reg 13(1)",
        "at least 15 days, the day the draft is sent counting as day 1",
        "draft_plan_served",
        party="parent",
    ),
    Rule(
        "annual_review",
        "Annual review of the EHC plan",
        "Children and Families Act 2014, s.44(1); SEND Regulations 2014, reg 18",
        "within 12 months of the plan or the last review meeting, that day counting as day 1",
        "final_plan_issued or the last annual_review_meeting",
    ),
    Rule(
        "review_papers",
        "Papers for the review meeting, at least 2 weeks before it",
        "SEND Regulations 2014, reg 20(3) and (4)",
        "2 weeks before the arranged meeting day (the papers must be sent at least that early)",
        "review_meeting_arranged (its details give the meeting day)",
        party="parent",
    ),
    Rule(
        "review_report",
        "Report of the annual review meeting",
        "SEND Regulations 2014, reg 20(7)",
        "within 2 weeks of the review meeting (shown and counted as for reg 5(1))",
        "annual_review_meeting",
        grace_days=1,
    ),
    Rule(
        "review_decision",
        "Decision to keep, amend or stop the plan after the review",
        "SEND Regulations 2014, reg 20(10)",
        "within 4 weeks of the review meeting (shown and counted as for reg 5(1)); a decision to "
        "keep, amend (with the proposed amendments) or cease meets it",
        "annual_review_meeting",
        grace_days=1,
    ),
    Rule(
        "amendment_comments",
        "Your comments on the proposed amendments",
        "SEND Regulations 2014, reg 22(2)(c)",
        "at least 15 days, the day the notice is sent counting as day 1",
        "amendment_notice",
        party="parent",
    ),
    Rule(
        "amended_plan",
        "Final amended EHC plan issued",
        "SEND Regulations 2014, reg 22(3)",
        "within 8 weeks of the proposed amendments (shown and counted as for reg 5(1))",
        "amendment_notice",
        grace_days=1,
    ),
    Rule(
        "amended_plan_after_review",
        "Final amended EHC plan, counted from the review meeting",
        "SEND Regulations 2014, regs 20(10) and 22(3); R (L) v Devon CC [2022] EWHC 493 (Admin)",
        "within 12 weeks of the review meeting (4 + 8; shown and counted as for reg 5(1))",
        "annual_review_meeting, when the council decided to amend",
        grace_days=1,
    ),
    Rule(
        "phase_transfer",
        "Plan amended to name the next school or college",
        "SEND Regulations 2014, reg 18",
        "before 15 February of the transfer year (last day 14 February), before 31 March for "
        "secondary school to post-16 (last day 30 March); between post-16 settings (reg 18(2)) at "
        "least 5 months before the move. Only an amended plan that names the setting meets it",
        "phase_transfer_year (from 1 September of the year before), or 12 months before a post-16 move",
    ),
    Rule(
        "mediation_contact",
        "Contact the mediation adviser by",
        "Children and Families Act 2014, s.55; SEND Regulations 2014, reg 33",
        "within 2 months of the decision letter (not moved by the tribunal's Christmas or August "
        "rule), while no mediation certificate for this decision is recorded; not needed for an "
        "appeal only about the school or college named",
        "decision_letter",
        party="parent",
    ),
    Rule(
        "tribunal_appeal",
        "Last day to appeal to the SEND Tribunal",
        "HESC Rules 2008, rules 12 and 20",
        "2 months after the decision letter or 1 month after the mediation certificate, "
        "whichever is later; moved out of 25 Dec - 1 Jan and August, then to the next working "
        "day; by 5pm",
        "decision_letter (any appealable decision, including a review decision to keep the plan "
        "unchanged or to cease it)",
        party="parent",
    ),
)

RULES_BY_KEY: dict[str, Rule] = {r.key: r for r in RULES}


@dataclass(frozen=True)
class KeyDate:
    """A rule's date for a case. ``due`` is the date shown; ``last_day`` the strict legal last
    day (``due`` plus the rule's ``grace_days``): the council is late only after it."""

    key: str
    name: str
    source: str
    start: date | None
    due: date | None
    status: Status
    met_on: date | None = None
    exception: bool = False
    note: str = ""
    last_day: date | None = None


# --------------------------------------------------------------------------- key dates


def _first(*dates: date | None) -> date | None:
    present = [d for d in dates if d is not None]
    return min(present) if present else None


def _latest(*dates: date | None) -> date | None:
    present = [d for d in dates if d is not None]
    return max(present) if present else None


@dataclass(frozen=True)
class _Planned:
    start: date | None
    due: date | None
    done: date | None = None
    applicable: bool = False
    settled: str = ""  # met by another path: the note said (the date is not judged)


def _on_or_after(d: date | None, start: date | None) -> date | None:
    return d if d is not None and start is not None and d >= start else None


def _plan(events: CaseEvents) -> dict[str, _Planned]:
    """For each rule: its start, due date, the event that meets it, and whether it applies."""
    e = events
    out: dict[str, _Planned] = {}

    def rule(
        key: str,
        start: date | None,
        due_fn: Callable[[date], date],
        done: date | None = None,
        applicable: bool = True,
        settled: str = "",
    ) -> None:
        if start is None:
            out[key] = _Planned(None, None)
            return
        out[key] = _Planned(start, due_fn(start), _on_or_after(done, start), applicable, settled)

    not_assessing = e.decision_not_to_assess is not None
    no_plan = e.issue_plan is False
    rule(
        "decision_to_assess",
        e.request,
        lambda s: within_weeks(s, 6),
        _first(e.decision_to_assess, e.decision_not_to_assess),
    )
    # Reg 10(1) is the date to say the council will NOT issue a plan: a decision to issue (or a
    # draft or final plan, whenever it came) meets it; only a "no" is judged against the date.
    issuing = e.issue_plan is True or e.draft_plan_served is not None or e.final_plan_issued is not None
    rule(
        "assessment_decision",
        e.request,
        lambda s: within_weeks(s, 16),
        e.assessment_decision if no_plan else None,
        applicable=not not_assessing,
        settled="The council is issuing a plan." if issuing and not no_plan else "",
    )
    rule(
        "final_plan",
        e.request,
        lambda s: within_weeks(s, 20),
        e.final_plan_issued,
        applicable=not (not_assessing or no_plan),
    )
    rule("draft_plan_comments", e.draft_plan_served, lambda s: days_from_service(s, 15))
    meeting = e.annual_review_meeting
    review_start = e.final_plan_issued
    if meeting is not None and (review_start is None or meeting > review_start):
        review_start = meeting
    ceased = e.ceased
    rule("annual_review", review_start, lambda s: within_months(s, 12),
         applicable=ceased is None or (review_start is not None and ceased < review_start))
    rule("review_report", meeting, lambda s: within_weeks(s, 2), e.review_report)
    # A decision to amend meets reg 20(10) only with the proposed amendments (the notice): R (L) v
    # Devon CC [2022] EWHC 493 (Admin). Keeping or ceasing meets it by itself.
    kept_or_ceased = e.review_decision if e.review_outcome in (ReviewOutcome.KEEP, ReviewOutcome.CEASE) else None
    decided = _first(_on_or_after(kept_or_ceased, meeting), _on_or_after(e.amendment_notice, meeting),
                     _on_or_after(e.cease_decision, meeting))
    rule("review_decision", meeting, lambda s: within_weeks(s, 4), decided)
    rule("amendment_comments", e.amendment_notice, lambda s: days_from_service(s, 15))
    rule("amended_plan", e.amendment_notice, lambda s: within_weeks(s, 8), e.amended_plan_issued)
    amending = (
        _on_or_after(e.amendment_notice, meeting) is not None
        or (e.review_outcome is ReviewOutcome.AMEND and _on_or_after(e.review_decision, meeting) is not None)
    )
    rule(
        "amended_plan_after_review",
        meeting if amending else None,
        lambda s: within_weeks(s, 12),
        e.amended_plan_issued,
    )
    kind = e.phase_transfer_kind or TransferKind.SCHOOL
    if kind is TransferKind.BETWEEN_POST_16 and e.phase_transfer_date is not None:
        move = e.phase_transfer_date
        rule("phase_transfer", months_after(move, -12), lambda _s: post16_transfer_deadline(move), e.setting_named)
    elif e.phase_transfer_year is not None and kind is not TransferKind.BETWEEN_POST_16:
        year = e.phase_transfer_year
        rule(
            "phase_transfer",
            date(year - 1, 9, 1),
            lambda _s: phase_transfer_deadline(year, kind),
            e.setting_named,
        )
    else:
        rule("phase_transfer", None, lambda s: s)
    arranged, meeting_day = e.review_meeting_arranged, e.review_meeting_date
    held = meeting is not None and meeting_day is not None and meeting >= meeting_day
    if arranged is not None and meeting_day is not None and not held:
        papers = meeting_day - timedelta(days=14)
        rule("review_papers", min(arranged, papers), lambda _s: papers)
    else:
        rule("review_papers", None, lambda s: s)
    # Only a certificate for this decision (dated on or after its letter) counts.
    cert = _on_or_after(e.mediation_certificate, e.decision_letter)
    rule("mediation_contact", e.decision_letter if cert is None else None, lambda s: months_after(s, 2))
    rule("tribunal_appeal", e.decision_letter, lambda s: appeal_deadline(s, cert))
    return out


def key_dates(events: CaseEvents, today: date) -> list[KeyDate]:
    """Every rule's key date for a case, in table order.

    Status: ``met`` when the matching event happened on or before the strict last day
    (``met_on`` is its date); ``overdue`` when the strict last day has passed without it, or it
    happened after that day (``met_on`` then records when, with a note); ``due`` until then;
    ``not_applicable`` when the start event is missing or the case took another path (for a
    parent's window: also once it has closed). A recorded exception sets ``exception`` and a note;
    it never moves the date.
    """
    plan = _plan(events)
    exceptions = sorted(events.exceptions)
    result: list[KeyDate] = []
    for r in RULES:
        p = plan[r.key]
        start, due, done = p.start, p.due, p.done
        last_day = due + timedelta(days=r.grace_days) if due is not None else None
        note = ""
        met_on = None
        if due is None or last_day is None or not p.applicable:
            status = Status.NOT_APPLICABLE
        elif r.party == "parent":
            status = Status.DUE if today <= due else Status.NOT_APPLICABLE
            if status is Status.NOT_APPLICABLE:
                note = "This window has closed."
        elif p.settled and done is None:
            status, note = Status.MET, p.settled
        elif done is not None:
            met_on = done
            if done <= last_day:
                status = Status.MET
            else:
                status = Status.OVERDUE
                note = f"Done late, on {format_date(done)}."
        elif r.key == "assessment_decision" and today > last_day:
            # No "no" by the 16 weeks: the council should now be writing the draft plan (the
            # final plan's date is the one that can be missed).
            status, note = Status.NOT_APPLICABLE, "No notice came that a plan will not be issued."
        else:
            status = Status.OVERDUE if today > last_day else Status.DUE
        flagged = bool(exceptions) and r.exceptions_apply and status is not Status.NOT_APPLICABLE
        if flagged:
            names = ", ".join(EXCEPTION_NAMES.get(x, x) for x in exceptions)
            extra = f"An exception is recorded ({names}); the statutory date is unchanged."
            note = f"{note} {extra}".strip()
        result.append(KeyDate(r.key, r.name, r.source, start, due, status, met_on, flagged, note, last_day))
    return result


_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(d: date) -> str:
    """A date as the guide shows it: ``30 Jan 2023`` (English month names whatever the machine's
    locale; `calendar.month_abbr` would also format a date to find each one)."""
    return f"{d.day} {_MONTHS[d.month]} {d.year}"


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
    CEASING = "plan ending"


def current_stage(events: CaseEvents) -> Stage:
    """The case's stage, worked out from its events only.

    - a case with no dated event yet: request received;
    - a dated request: deciding whether to assess; a decision to assess: assessing;
    - a decision not to assess: not assessing; a decision after assessing not to issue: no plan;
    - an ``assessment_decision`` date with its outcome (``issue_plan``) not yet recorded:
      deciding whether to issue a plan; a decision to issue or a draft served: draft plan;
    - a final plan: final plan issued; a review meeting after the last plan: annual review;
      an amendment notice not yet followed by an amended plan: amendment; a decision to cease
      to maintain the plan (s.45) after the latest plan: plan ending.
    """
    e = events
    if e.final_plan_issued is not None:
        ceased = e.ceased
        latest_plan = max(d for d in (e.final_plan_issued, e.amended_plan_issued) if d is not None)
        if ceased is not None and ceased >= latest_plan:
            return Stage.CEASING
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
