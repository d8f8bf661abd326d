"""The kinds of dated event a caseworker records, and how a case's events fold into
`core.timescales.CaseEvents` (the only input the statutory rules see)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from core.errors import Refused
from core.timescales import CaseEvents, CaseException, ReviewOutcome, TransferKind


class EventKind(StrEnum):
    DECISION_TO_ASSESS = "decision_to_assess"
    DECISION_NOT_TO_ASSESS = "decision_not_to_assess"
    DECISION_TO_ISSUE_PLAN = "decision_to_issue_plan"
    DECISION_NOT_TO_ISSUE_PLAN = "decision_not_to_issue_plan"
    DRAFT_PLAN_SERVED = "draft_plan_served"
    FINAL_PLAN_ISSUED = "final_plan_issued"
    ANNUAL_REVIEW_MEETING = "annual_review_meeting"
    REVIEW_MEETING_ARRANGED = "review_meeting_arranged"  # details.date: the meeting day
    REVIEW_REPORT = "review_report"
    REVIEW_DECISION = "review_decision"  # details.outcome: keep | amend | cease (reg 20(10))
    AMENDMENT_NOTICE = "amendment_notice"
    AMENDED_PLAN_ISSUED = "amended_plan_issued"
    PHASE_TRANSFER = "phase_transfer"
    CEASE_DECISION = "cease_decision"  # s.45: the council will cease to maintain the plan
    DECISION_LETTER = "decision_letter"
    MEDIATION_CERTIFICATE = "mediation_certificate"
    EXCEPTION = "exception"


# Decisions that carry a right of appeal to the tribunal: their date starts the appeal period as
# a decision letter does (Children and Families Act 2014 s.51; the letter must say so). A review
# decision is appealable when it keeps the plan unchanged (s.51(2)(e)) or ceases it (s.51(2)(f));
# a decision to amend is appealed once the amended plan is issued.
APPEALABLE = frozenset(
    {
        EventKind.DECISION_NOT_TO_ASSESS,
        EventKind.DECISION_NOT_TO_ISSUE_PLAN,
        EventKind.FINAL_PLAN_ISSUED,
        EventKind.AMENDED_PLAN_ISSUED,
        EventKind.CEASE_DECISION,
        EventKind.DECISION_LETTER,
    }
)
APPEALABLE_REVIEW_OUTCOMES = frozenset({ReviewOutcome.KEEP, ReviewOutcome.CEASE})

# How the SEND team's event reads in the case's history (and the API's event list).
EVENT_NAMES = {
    EventKind.DECISION_TO_ASSESS: "Decision to carry out an EHC needs assessment",
    EventKind.DECISION_NOT_TO_ASSESS: "Decision not to carry out an EHC needs assessment",
    EventKind.DECISION_TO_ISSUE_PLAN: "Decision to issue an EHC plan",
    EventKind.DECISION_NOT_TO_ISSUE_PLAN: "Decision not to issue an EHC plan",
    EventKind.DRAFT_PLAN_SERVED: "Draft EHC plan sent",
    EventKind.FINAL_PLAN_ISSUED: "Final EHC plan issued",
    EventKind.ANNUAL_REVIEW_MEETING: "Annual review meeting",
    EventKind.REVIEW_MEETING_ARRANGED: "Annual review meeting arranged",
    EventKind.REVIEW_REPORT: "Annual review report sent",
    EventKind.REVIEW_DECISION: "Decision after the annual review",
    EventKind.AMENDMENT_NOTICE: "Proposed amendments sent",
    EventKind.AMENDED_PLAN_ISSUED: "Amended EHC plan issued",
    EventKind.PHASE_TRANSFER: "Move to a new school or college",
    EventKind.CEASE_DECISION: "Decision to stop the EHC plan",
    EventKind.DECISION_LETTER: "Decision letter",
    EventKind.MEDIATION_CERTIFICATE: "Mediation certificate",
    EventKind.EXCEPTION: "Exception recorded",
}


LAW_BEGAN = date(2014, 9, 1)  # Children and Families Act 2014, Part 3, in force


class EventDetailsError(Refused):
    """An event's details do not fit its kind (the API answers 422 with the message)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "invalid_event")


def check_details(kind: EventKind, on: date, details: dict[str, Any]) -> dict[str, Any]:
    """The details kept with an event, checked for its kind. Unknown keys are refused."""
    allowed: dict[EventKind, set[str]] = {
        EventKind.PHASE_TRANSFER: {"year", "transfer_kind", "date", "note"},
        EventKind.REVIEW_DECISION: {"outcome", "note"},
        EventKind.REVIEW_MEETING_ARRANGED: {"date", "note"},
        EventKind.AMENDED_PLAN_ISSUED: {"names_setting", "note"},
        EventKind.DECISION_LETTER: {"about", "note"},
        EventKind.EXCEPTION: {"exception", "note"},
    }
    if on < LAW_BEGAN:
        raise EventDetailsError("The date is before 1 Sep 2014, when the EHC plan law began.")
    keys = set(details)
    extra = keys - allowed.get(kind, {"note"})
    if extra:
        raise EventDetailsError(f"{kind.value} does not take: {', '.join(sorted(extra))}.")
    out = dict(details)
    if "note" in out and (not isinstance(out["note"], str) or len(out["note"]) > 500):
        raise EventDetailsError("note must be text of at most 500 characters.")
    if kind is EventKind.PHASE_TRANSFER and out.get("transfer_kind") == TransferKind.BETWEEN_POST_16.value:
        # Reg 18(2): a move between post-16 institutions at any time of year: its day.
        if "year" in out:
            raise EventDetailsError("A move between post-16 settings takes details.date, not details.year.")
        try:
            move = date.fromisoformat(str(out.get("date")))
        except ValueError:
            raise EventDetailsError(
                "A move between post-16 settings needs details.date: the day of the move (YYYY-MM-DD)."
            ) from None
        if not on <= move <= on + timedelta(days=3 * 366):
            raise EventDetailsError("details.date must be on or after the event date, and within 3 years.")
        out["date"] = move.isoformat()
        out["year"] = move.year
        return out
    if kind is EventKind.REVIEW_MEETING_ARRANGED:
        try:
            day = date.fromisoformat(str(out.get("date")))
        except ValueError:
            raise EventDetailsError("review_meeting_arranged needs details.date: the meeting day (YYYY-MM-DD).") from None
        if not on <= day <= on + timedelta(days=366):
            raise EventDetailsError("details.date must be on or after the event date, and within a year.")
        out["date"] = day.isoformat()
    if kind is EventKind.REVIEW_DECISION:
        try:
            out["outcome"] = ReviewOutcome(out.get("outcome")).value
        except ValueError:
            raise EventDetailsError("review_decision needs details.outcome: keep, amend or cease.") from None
    if kind is EventKind.AMENDED_PLAN_ISSUED and "names_setting" in out and not isinstance(out["names_setting"], bool):
        raise EventDetailsError("details.names_setting must be true or false.")
    if kind is EventKind.PHASE_TRANSFER:
        if "date" in out:
            raise EventDetailsError("details.date is only for a move between post-16 settings (post16_to_post16).")
        year = out.get("year")
        if not isinstance(year, int) or not (on.year - 1 <= year <= on.year + 3):
            raise EventDetailsError(
                "phase_transfer needs details.year: the year of the move (September), "
                "from the year before the event date to 3 years after."
            )
        try:
            out["transfer_kind"] = TransferKind(out.get("transfer_kind", TransferKind.SCHOOL)).value
        except ValueError:
            raise EventDetailsError(
                "details.transfer_kind must be 'school', 'secondary_to_post16' or 'post16_to_post16'."
            ) from None
    if kind is EventKind.EXCEPTION:
        try:
            out["exception"] = CaseException(out.get("exception")).value
        except ValueError:
            names = ", ".join(e.value for e in CaseException)
            raise EventDetailsError(f"exception needs details.exception, one of: {names}.") from None
    if kind is EventKind.DECISION_LETTER:
        about = out.get("about")
        if about is not None and (not isinstance(about, str) or len(about) > 200):
            raise EventDetailsError("details.about must be text of at most 200 characters.")
    return out


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    id: int
    kind: EventKind
    on: date
    details: dict[str, Any]


def fold(request: date | None, events: Iterable[RecordedEvent]) -> CaseEvents:
    """A case's events as the rules see them: the latest date of each kind (withdrawn events are
    left out by the caller). Exceptions are collected by name."""
    latest: dict[EventKind, RecordedEvent] = {}
    exceptions: set[str] = set()
    events_seen = list(events)
    for ev in events_seen:
        if ev.kind is EventKind.EXCEPTION:
            exceptions.add(str(ev.details.get("exception")))
            continue
        seen = latest.get(ev.kind)
        if seen is None or (ev.on, ev.id) > (seen.on, seen.id):
            latest[ev.kind] = ev

    def on(kind: EventKind) -> date | None:
        ev = latest.get(kind)
        return ev.on if ev else None

    # Whether to assess: the later decision stands too (a decision not to assess reversed after
    # mediation or an appeal, or the other way round). Keeping both would leave the case
    # "assessing" with no assessment dates (the rules treat any decision not to assess as final).
    to_assess, not_to_assess = latest.get(EventKind.DECISION_TO_ASSESS), latest.get(
        EventKind.DECISION_NOT_TO_ASSESS
    )
    if to_assess is not None and not_to_assess is not None:
        if (to_assess.on, to_assess.id) > (not_to_assess.on, not_to_assess.id):
            del latest[EventKind.DECISION_NOT_TO_ASSESS]
        else:
            del latest[EventKind.DECISION_TO_ASSESS]

    yes, no = on(EventKind.DECISION_TO_ISSUE_PLAN), on(EventKind.DECISION_NOT_TO_ISSUE_PLAN)
    assessment_decision, issue_plan = None, None
    if yes or no:
        # The later decision stands (a corrected outcome is recorded after the first).
        if no is None or (yes is not None and yes >= no):
            assessment_decision, issue_plan = yes, True
        else:
            assessment_decision, issue_plan = no, False
    letters = [latest[k].on for k in APPEALABLE if k in latest]
    review = latest.get(EventKind.REVIEW_DECISION)
    outcome = ReviewOutcome(review.details["outcome"]) if review is not None else None
    if review is not None and outcome in APPEALABLE_REVIEW_OUTCOMES:
        letters.append(review.on)
    # The latest amended plan that names the next school or college (what meets reg 18).
    named = [ev for ev in events_seen if ev.kind is EventKind.AMENDED_PLAN_ISSUED and ev.details.get("names_setting")]
    transfer = latest.get(EventKind.PHASE_TRANSFER)
    move = transfer.details.get("date") if transfer else None
    arranged = latest.get(EventKind.REVIEW_MEETING_ARRANGED)
    return CaseEvents(
        request=request,
        decision_to_assess=on(EventKind.DECISION_TO_ASSESS),
        decision_not_to_assess=on(EventKind.DECISION_NOT_TO_ASSESS),
        assessment_decision=assessment_decision,
        issue_plan=issue_plan,
        draft_plan_served=on(EventKind.DRAFT_PLAN_SERVED),
        final_plan_issued=on(EventKind.FINAL_PLAN_ISSUED),
        annual_review_meeting=on(EventKind.ANNUAL_REVIEW_MEETING),
        review_report=on(EventKind.REVIEW_REPORT),
        review_decision=review.on if review is not None else None,
        review_outcome=outcome,
        review_meeting_arranged=arranged.on if arranged is not None else None,
        review_meeting_date=date.fromisoformat(arranged.details["date"]) if arranged is not None else None,
        amendment_notice=on(EventKind.AMENDMENT_NOTICE),
        amended_plan_issued=on(EventKind.AMENDED_PLAN_ISSUED),
        setting_named=max(ev.on for ev in named) if named else None,
        cease_decision=on(EventKind.CEASE_DECISION),
        decision_letter=max(letters) if letters else None,
        mediation_certificate=on(EventKind.MEDIATION_CERTIFICATE),
        phase_transfer_year=transfer.details.get("year") if transfer else None,
        phase_transfer_kind=TransferKind(transfer.details["transfer_kind"]) if transfer else None,
        phase_transfer_date=date.fromisoformat(move) if move else None,
        exceptions=frozenset(exceptions),
    )
