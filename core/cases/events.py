"""The kinds of dated event a caseworker records, and how a case's events fold into
`core.timescales.CaseEvents` (the only input the statutory rules see)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from core.errors import Refused
from core.timescales import CaseEvents, CaseException, TransferKind


class EventKind(StrEnum):
    DECISION_TO_ASSESS = "decision_to_assess"
    DECISION_NOT_TO_ASSESS = "decision_not_to_assess"
    DECISION_TO_ISSUE_PLAN = "decision_to_issue_plan"
    DECISION_NOT_TO_ISSUE_PLAN = "decision_not_to_issue_plan"
    DRAFT_PLAN_SERVED = "draft_plan_served"
    FINAL_PLAN_ISSUED = "final_plan_issued"
    ANNUAL_REVIEW_MEETING = "annual_review_meeting"
    REVIEW_REPORT = "review_report"
    AMENDMENT_NOTICE = "amendment_notice"
    AMENDED_PLAN_ISSUED = "amended_plan_issued"
    PHASE_TRANSFER = "phase_transfer"
    DECISION_LETTER = "decision_letter"
    MEDIATION_CERTIFICATE = "mediation_certificate"
    EXCEPTION = "exception"


# Decisions that carry a right of appeal to the tribunal: their date starts the appeal period as
# a decision letter does (Children and Families Act 2014 s.51; the letter must say so).
APPEALABLE = frozenset(
    {
        EventKind.DECISION_NOT_TO_ASSESS,
        EventKind.DECISION_NOT_TO_ISSUE_PLAN,
        EventKind.FINAL_PLAN_ISSUED,
        EventKind.AMENDED_PLAN_ISSUED,
        EventKind.DECISION_LETTER,
    }
)

# How the SEND team's event reads in the case's history (and the API's event list).
EVENT_NAMES = {
    EventKind.DECISION_TO_ASSESS: "Decision to carry out an EHC needs assessment",
    EventKind.DECISION_NOT_TO_ASSESS: "Decision not to carry out an EHC needs assessment",
    EventKind.DECISION_TO_ISSUE_PLAN: "Decision to issue an EHC plan",
    EventKind.DECISION_NOT_TO_ISSUE_PLAN: "Decision not to issue an EHC plan",
    EventKind.DRAFT_PLAN_SERVED: "Draft EHC plan sent",
    EventKind.FINAL_PLAN_ISSUED: "Final EHC plan issued",
    EventKind.ANNUAL_REVIEW_MEETING: "Annual review meeting",
    EventKind.REVIEW_REPORT: "Annual review report sent",
    EventKind.AMENDMENT_NOTICE: "Proposed amendments sent",
    EventKind.AMENDED_PLAN_ISSUED: "Amended EHC plan issued",
    EventKind.PHASE_TRANSFER: "Move to a new school or college",
    EventKind.DECISION_LETTER: "Decision letter",
    EventKind.MEDIATION_CERTIFICATE: "Mediation certificate",
    EventKind.EXCEPTION: "Exception recorded",
}


class EventDetailsError(Refused):
    """An event's details do not fit its kind (the API answers 422 with the message)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "invalid_event")


def check_details(kind: EventKind, on: date, details: dict[str, Any]) -> dict[str, Any]:
    """The details kept with an event, checked for its kind. Unknown keys are refused."""
    allowed: dict[EventKind, set[str]] = {
        EventKind.PHASE_TRANSFER: {"year", "transfer_kind", "note"},
        EventKind.DECISION_LETTER: {"about", "note"},
        EventKind.EXCEPTION: {"exception", "note"},
    }
    keys = set(details)
    extra = keys - allowed.get(kind, {"note"})
    if extra:
        raise EventDetailsError(f"{kind.value} does not take: {', '.join(sorted(extra))}.")
    out = dict(details)
    if "note" in out and (not isinstance(out["note"], str) or len(out["note"]) > 500):
        raise EventDetailsError("note must be text of at most 500 characters.")
    if kind is EventKind.PHASE_TRANSFER:
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
                "details.transfer_kind must be 'school' or 'secondary_to_post16'."
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
    for ev in events:
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
    transfer = latest.get(EventKind.PHASE_TRANSFER)
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
        amendment_notice=on(EventKind.AMENDMENT_NOTICE),
        amended_plan_issued=on(EventKind.AMENDED_PLAN_ISSUED),
        decision_letter=max(letters) if letters else None,
        mediation_certificate=on(EventKind.MEDIATION_CERTIFICATE),
        phase_transfer_year=transfer.details.get("year") if transfer else None,
        phase_transfer_kind=TransferKind(transfer.details["transfer_kind"]) if transfer else None,
        exceptions=frozenset(exceptions),
    )
