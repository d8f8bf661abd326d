"""Children and their cases in the caseworker API: dates, events, exceptions, the caseworker,
and the list of statutory dates overdue or due soon.

    POST  /v1/cases                                a child and their case (201)
    GET   /v1/cases/{reference}                    the case: stage, key dates, events, exceptions
    PATCH /v1/cases/{reference}                    the child's details, the request date, the requestor
    PUT   /v1/cases/{reference}/caseworker         allocate the caseworker (introduced to the family)
    POST  /v1/cases/{reference}/events             record a dated event or an exception (201)
    POST  /v1/cases/{reference}/events/{id}/withdraw   withdraw an event recorded by mistake
    GET   /v1/key-dates                            the council's dates overdue or due within N days

Every change that concerns a parent writes their notice in the same transaction (what changed,
the right it opens, the next date) and replans their reminders. The stage is never set: it is
worked out from the events.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, GetJsonSchemaHandler, field_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from api.fields import (
    CASE_REFERENCE,
    Body,
    Email,
    Query,
    QueryInt,
    StrictDate,
    ViewOut,
    VisibleText,
    omittable,
    visible_pattern,
)
from api.routes import ApiRequest, ApiRoutes
from core.cases.events import EventKind
from core.cases.service import CaseView
from core.text import has_visible_text, trim
from core.timescales import CaseException, ReviewOutcome, TransferKind


class CaseworkerIn(Body):
    name: VisibleText[100] = Field(description="As the family will see it, e.g. 'Jo Smith'.")
    email: Email | None = Field(None, description="How the family reaches the caseworker.")
    phone: VisibleText[40] | None = Field(None, description="The caseworker's telephone number.")


class CaseIn(Body):
    case_reference: str = Field(
        pattern=CASE_REFERENCE, max_length=50,
        description="The case system's reference (letters, digits, '.', '_', '-').",
    )
    child_forename: VisibleText[100] = Field(description="The child's first name.")
    child_surname: VisibleText[100] = Field(description="The child's last name.")
    child_date_of_birth: StrictDate = Field(description="The child's date of birth.")
    request_date: StrictDate | None = Field(
        None, description="Date of the request for an EHC needs assessment (not in the future)."
    )
    requestor: VisibleText[100] | None = Field(None, description="Who asked: 'Parent', 'School', ...")
    caseworker: CaseworkerIn | None = Field(None, description="The caseworker, if one is allocated.")


class CasePatch(Body):
    """Only the fields given change; the child's details cannot be null."""

    child_forename: VisibleText[100] = omittable("The child's first name.")
    child_surname: VisibleText[100] = omittable("The child's last name.")
    child_date_of_birth: StrictDate = omittable("The child's date of birth.")
    request_date: StrictDate | None = Field(
        None,
        description="Moves every date counted from the request; the family is told the new dates "
        "(not in the future, nor after a decision already recorded). Null: not known.",
    )
    requestor: VisibleText[100] | None = Field(None, description="Who asked: 'Parent', 'School', ... Null: not known.")


_DETAILED = {EventKind.PHASE_TRANSFER, EventKind.DECISION_LETTER, EventKind.EXCEPTION, EventKind.REVIEW_DECISION,
             EventKind.AMENDED_PLAN_ISSUED, EventKind.REVIEW_MEETING_ARRANGED}


def _event_variants() -> list[dict[str, Any]]:
    """EventIn in the document: one variant per group of kinds, with the details each takes
    (as core.cases.events.check_details checks them)."""
    text = {"type": "string", "pattern": visible_pattern()}
    note = {**text, "maxLength": 500, "description": "A few words for the record."}
    on = {"type": "string", "format": "date", "description": "The day it happened (not in the future)."}

    def variant(kinds: list[EventKind], properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
        details = {
            "type": "object",
            "additionalProperties": False,
            "properties": {**properties, "note": note},
            **({"required": required} if required else {}),
        }
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {"kind": {"enum": [k.value for k in kinds]}, "on": on, "details": details},
            "required": ["kind", "on", *(["details"] if required else [])],
        }

    year = {
        "type": "integer", "minimum": 1, "maximum": 9999,
        "description": "The year of the move (September): from the year before the event date to 3 years after.",
    }
    return [
        variant([EventKind.PHASE_TRANSFER], {
            "year": year,
            "transfer_kind": {"enum": [TransferKind.SCHOOL.value, TransferKind.POST_16.value],
                              "default": TransferKind.SCHOOL.value},
        }, ["year"]),
        variant([EventKind.PHASE_TRANSFER], {
            "transfer_kind": {"enum": [TransferKind.BETWEEN_POST_16.value]},
            "date": {"type": "string", "format": "date",
                     "description": "The day of the move between post-16 settings (reg 18(2)): within 3 years."},
        }, ["transfer_kind", "date"]),
        variant([EventKind.REVIEW_DECISION], {
            "outcome": {"enum": [o.value for o in ReviewOutcome],
                        "description": "What the council decided after the review (reg 20(10))."},
        }, ["outcome"]),
        variant([EventKind.REVIEW_MEETING_ARRANGED], {
            "date": {"type": "string", "format": "date",
                     "description": "The day of the review meeting (within a year): the papers are due 2 weeks before."},
        }, ["date"]),
        variant([EventKind.AMENDED_PLAN_ISSUED], {
            "names_setting": {"type": "boolean",
                              "description": "The plan names the next school or college (what meets reg 18)."},
        }, []),
        variant([EventKind.DECISION_LETTER], {
            "about": {"anyOf": [{**text, "maxLength": 200}, {"type": "null"}], "description": "What it is about."},
        }, []),
        variant([EventKind.EXCEPTION], {"exception": {"enum": [e.value for e in CaseException]}}, ["exception"]),
        variant([k for k in EventKind if k not in _DETAILED], {}, []),
    ]


class EventIn(Body):
    """A dated event. `details` depends on the kind: phase_transfer {year, transfer_kind} (or
    {transfer_kind: post16_to_post16, date}), review_decision {outcome}, amended_plan_issued
    {names_setting}, decision_letter {about}, exception {exception}; any kind {note}."""

    kind: EventKind = Field(description="What happened. `exception` records an exception (details.exception).")
    on: StrictDate = Field(description="The day it happened (not in the future).")
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="phase_transfer: {year, transfer_kind: school | secondary_to_post16} or "
        "{transfer_kind: post16_to_post16, date}; review_decision: {outcome: keep | amend | cease}; "
        "amended_plan_issued: {names_setting}; review_meeting_arranged: {date}; "
        "decision_letter: {about}; exception: {exception: "
        + " | ".join(e.value for e in CaseException)
        + "}; any kind: {note}.",
    )

    @field_validator("details")
    @classmethod
    def _texts(cls, details: dict[str, Any]) -> dict[str, Any]:
        """A note or an `about` has something to read (trimmed), a year may be written 2027.0;
        the rest is checked for the kind by core.cases.events.check_details."""
        out = dict(details)
        year = out.get("year")
        if isinstance(year, float) and year.is_integer():
            out["year"] = int(year)  # JSON Schema's integer: 2027.0 is 2027
        for key in ("note", "about"):
            value = out.get(key)
            if isinstance(value, str):
                if not has_visible_text(value):
                    raise ValueError(f"details.{key} has only spaces or invisible characters.")
                out[key] = trim(value)
        return out

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"title": "EventIn", "description": " ".join((cls.__doc__ or "").split()), "oneOf": _event_variants()}


class KeyDateOut(ViewOut):
    key: str
    name: str
    source: str = Field(description="The legal source of the timescale.")
    start: date | None
    due: date | None
    status: Literal["due", "met", "overdue", "not_applicable"]
    met_on: date | None
    exception: bool = Field(description="An exception is recorded that bears on this date (it is not moved).")
    note: str


class EventOut(ViewOut):
    id: int
    kind: str
    name: str
    on: date
    details: dict[str, Any]
    recorded_at: datetime
    recorded_by: str
    withdrawn_at: datetime | None


class CaseOut(ViewOut):
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
    stage: str = Field(description="Worked out from the events.")
    key_dates: list[KeyDateOut]
    exceptions: list[str]
    events: list[EventOut] = Field(description="Every event, oldest first, withdrawn ones included.")
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, v: CaseView) -> CaseOut:
        return super().of(
            v,
            stage=v.stage.value,
            key_dates=[KeyDateOut.of(k, status=k.status.value) for k in v.key_dates],
            events=[EventOut.of(e) for e in v.events],
        )


class EventRecordedOut(BaseModel):
    event_id: int
    case: CaseOut


class AttentionQuery(Query):
    within_days: QueryInt = Field(14, ge=0, le=366, description="Due within this many days (overdue ones always).")
    caseworker: str | None = Field(None, max_length=100, description="Only this caseworker's cases.")
    limit: QueryInt = Field(100, ge=1, le=500, description="Page size.")
    offset: QueryInt = Field(0, ge=0, le=10_000_000, description="`next_offset` of the previous page.")


class AttentionOut(ViewOut):
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
    status: Literal["overdue", "due"]
    days: int = Field(description="Days overdue, or days left.")


class AttentionPage(BaseModel):
    items: list[AttentionOut]
    next_offset: int | None



def build_routes() -> ApiRoutes:
    api = ApiRoutes()
    tags = ["cases"]

    @api.post("/v1/cases", body=CaseIn, response=CaseOut, status=201, errors=(409, 422),
              summary="Create a child and their case", tags=tags)
    async def create_case(req: ApiRequest, body: CaseIn) -> CaseOut:
        cw = body.caseworker
        view = await req.services.cases.create_case(
            req.actor,
            **body.model_dump(exclude={"caseworker"}),
            caseworker_name=cw.name if cw else None,
            caseworker_email=cw.email if cw else None,
            caseworker_phone=cw.phone if cw else None,
        )
        return CaseOut.of(view)

    @api.get("/v1/cases/{reference:case_ref}", response=CaseOut, errors=(404,),
             summary="A case: stage, key dates with their status, events and exceptions", tags=tags)
    async def read_case(req: ApiRequest) -> CaseOut:
        return CaseOut.of(await req.services.cases.get_case(req.params["reference"], req.actor))

    @api.patch("/v1/cases/{reference:case_ref}", body=CasePatch, response=CaseOut, errors=(404, 422),
               summary="Change the child's details, the date of request or the requestor", tags=tags)
    async def update_case(req: ApiRequest, body: CasePatch) -> CaseOut:
        changes = body.model_dump(exclude_unset=True)
        view = await req.services.cases.update_case(req.params["reference"], req.actor, changes)
        return CaseOut.of(view)

    @api.put("/v1/cases/{reference:case_ref}/caseworker", body=CaseworkerIn, response=CaseOut, errors=(404,),
             summary="Allocate the caseworker (a new caseworker is introduced to the family by name)", tags=tags)
    async def set_caseworker(req: ApiRequest, body: CaseworkerIn) -> CaseOut:
        view = await req.services.cases.set_caseworker(
            req.params["reference"], req.actor, name=body.name, email=body.email, phone=body.phone
        )
        return CaseOut.of(view)

    @api.post("/v1/cases/{reference:case_ref}/events", body=EventIn, response=EventRecordedOut, status=201,
              errors=(404, 409, 422), summary="Record a dated event or an exception (the family is told)",
              tags=tags)
    async def record_event(req: ApiRequest, body: EventIn) -> EventRecordedOut:
        view, event_id = await req.services.cases.record_event(
            req.params["reference"], req.actor, body.kind, body.on, body.details
        )
        return EventRecordedOut(event_id=event_id, case=CaseOut.of(view))

    @api.post("/v1/cases/{reference:case_ref}/events/{id:int}/withdraw", response=CaseOut, errors=(404, 409),
              summary="Withdraw an event recorded by mistake (kept in the history; the family is told)",
              tags=tags)
    async def withdraw_event(req: ApiRequest) -> CaseOut:
        view = await req.services.cases.withdraw_event(
            req.params["reference"], req.params["id"], req.actor
        )
        return CaseOut.of(view)

    @api.get("/v1/key-dates", query=AttentionQuery, response=AttentionPage,
             summary="The council's statutory dates overdue or due within N days, most overdue first",
             tags=tags)
    async def attention(req: ApiRequest) -> AttentionPage:
        q: AttentionQuery = req.query
        items, next_offset = await req.services.cases.attention(
            req.actor, within_days=q.within_days, caseworker=q.caseworker, limit=q.limit, offset=q.offset
        )
        return AttentionPage(
            items=[AttentionOut.of(i) for i in items],
            next_offset=next_offset,
        )

    return api


api = build_routes()
__all__ = ["api", "build_routes", "TransferKind"]
