"""Forms in the caseworker API.

    GET  /v1/forms                                   the form definitions (steps, question ids, types)
    GET  /v1/forms/{form_id}                         one definition, whole, as JSON
    POST /v1/cases/{reference}/forms                 ask the family for a form, with a due date (201)
    GET  /v1/cases/{reference}/forms                 the forms asked for on a case
    POST /v1/form-assignments/{id}/withdraw          withdraw one (the carers are told)
    GET  /v1/form-submissions?after=&limit=&case=    submitted forms in the order they were sent
    GET  /v1/form-submissions/{id}                   one submission: every shown question and answer
    GET  /v1/form-submissions/{id}/pdf               its PDF
    GET  /v1/form-submissions/{id}/files/{sha256}    a supporting file sent with it

Assigning writes each carer's notice (with a button that opens the form) in the same
transaction. A submission also reaches the team as a message on the case (source "form", the PDF
and the supporting files attached), so GET /v1/messages carries it too.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from api.fields import (
    CASE_REFERENCE,
    FORM_ID,
    ID_MAX,
    Body,
    Id,
    Query,
    QueryInt,
    StrictDate,
    ViewOut,
    VisibleText,
)
from api.files import file_response
from api.routes import ApiError, ApiRequest, ApiRoutes
from core.files import ALLOWED_TYPES
from core.forms.casework import SubmissionView
from core.forms.form import FormDefinition
from core.forms.questions import Question


class QuestionSummary(BaseModel):
    id: str
    type: str
    text: str
    required: bool


class StepSummary(BaseModel):
    name: str
    questions: list[QuestionSummary]


class FormSummary(ViewOut):
    id: str
    title: str
    version: int
    description: str | None
    started_by: str = Field(description="team: the SEND team assigns it | parent: a parent starts it")
    creates_case: bool = Field(description="Submitting it opens a case (the request for assessment).")
    steps: list[StepSummary]

    @classmethod
    def of(cls, f: FormDefinition) -> FormSummary:
        return super().of(
            f,
            steps=[
                StepSummary(name=st.name, questions=[
                    QuestionSummary(id=q.id, type=q.type.value, text=q.text, required=q.required)
                    for q in st.items if isinstance(q, Question)
                ])
                for st in f.steps
            ],
        )


class FormList(BaseModel):
    items: list[FormSummary]


class AssignIn(Body):
    form_id: str = Field(pattern=FORM_ID, max_length=60, description="See GET /v1/forms.")
    due_date: StrictDate | None = Field(
        None, description="When the family should send it (not in the past; feeds their reminders)."
    )
    note: VisibleText[2000] | None = Field(None, description="A few words to the family, shown in the notice.")
    account_id: Id | None = Field(
        None, description="One carer (see GET /v1/children/{id}/access); otherwise every carer with access."
    )


class AssignmentOut(ViewOut):
    id: int
    case_reference: str
    form_id: str
    title: str
    due_date: date | None
    note: str | None
    account_id: int | None
    assigned_by: str
    assigned_at: datetime
    withdrawn_at: datetime | None
    submissions: list[int] = Field(description="Ids of the submissions made for it (GET /v1/form-submissions/{id}).")


class AssignmentList(BaseModel):
    items: list[AssignmentOut]


class AnswerOut(BaseModel):
    question_id: str
    step: str
    question: str
    type: str
    value: Any = Field(description="As stored: text, ISO date, number, bool, option value(s), or a list of files.")
    text: str = Field(description="As the parent read it (dates as 3 Feb 2027, options by label).")


class FileOut(BaseModel):
    question_id: str
    sha256: str
    filename: str
    mime: str
    size: int


class SubmissionOut(ViewOut):
    id: int
    form_id: str
    form_version: int
    title: str
    case_reference: str
    child_id: int
    account_id: int = Field(description="The carer who filled it in.")
    carer_name: str
    assignment_id: int | None = Field(description="Null for a form the parent started (the request for assessment).")
    submitted_at: datetime
    message_id: int | None = Field(description="The message that carried it to the team; the `after` cursor.")
    answers: list[AnswerOut] = Field(description="Every question shown to the parent, in order.")
    files: list[FileOut]

    @classmethod
    def of(cls, v: SubmissionView) -> SubmissionOut:
        return super().of(v, answers=[AnswerOut(**a) for a in v.answers], files=[FileOut(**f) for f in v.files])


class SubmissionList(BaseModel):
    items: list[SubmissionOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null when up to date.")


class SubmissionQuery(Query):
    after: QueryInt = Field(0, ge=0, le=ID_MAX, description="Only submissions sent after this one (its message_id).")
    limit: QueryInt = Field(100, ge=1, le=500, description="Page size.")
    case: str | None = Field(None, pattern=CASE_REFERENCE, max_length=50, description="Only this case's (its reference).")



def build_routes() -> ApiRoutes:
    api = ApiRoutes(not_found="No such case, form, assignment, submission or file.")
    tags = ["forms"]

    @api.get("/v1/forms", response=FormList, tags=tags, summary="The form definitions")
    async def list_forms(req: ApiRequest) -> FormList:
        forms = req.services.form_casework.forms
        return FormList(items=[FormSummary.of(f) for f in sorted(forms.values(), key=lambda f: f.id)])

    @api.get("/v1/forms/{form_id:form_id}", errors=(404,), tags=tags, summary="One form definition, whole, as JSON")
    async def read_form(req: ApiRequest) -> dict[str, Any]:
        form = req.services.form_casework.forms.get(req.params["form_id"])
        if form is None:
            raise ApiError(404, "not_found", "No such form.")
        return form.model_dump(mode="json", by_alias=True)

    @api.post("/v1/cases/{reference:case_ref}/forms", body=AssignIn, response=AssignmentOut, status=201,
              errors=(404, 422), tags=tags,
              summary="Ask the family for a form (each carer is told at once, with a button to open it)")
    async def assign_form(req: ApiRequest, body: AssignIn) -> AssignmentOut:
        view = await req.services.form_casework.assign(
            req.actor, req.params["reference"], form_id=body.form_id, due_date=body.due_date,
            note=body.note, account_id=body.account_id,
        )
        return AssignmentOut.of(view)

    @api.get("/v1/cases/{reference:case_ref}/forms", response=AssignmentList, errors=(404,), tags=tags,
             summary="The forms asked for on a case, with their submissions")
    async def case_forms(req: ApiRequest) -> AssignmentList:
        views = await req.services.form_casework.assignments(req.actor, req.params["reference"])
        return AssignmentList(items=[AssignmentOut.of(v) for v in views])

    @api.post("/v1/form-assignments/{id:int}/withdraw", response=AssignmentOut, errors=(404,), tags=tags,
              summary="Withdraw a form asked for (the carers who had not sent it are told)")
    async def withdraw_form(req: ApiRequest) -> AssignmentOut:
        return AssignmentOut.of(await req.services.form_casework.withdraw_assignment(req.actor, req.params["id"]))

    @api.get("/v1/form-submissions", query=SubmissionQuery, response=SubmissionList, errors=(404,), tags=tags,
             summary="Submitted forms in the order they were sent (a case system polls with next_after)")
    async def list_submissions(req: ApiRequest) -> SubmissionList:
        q: SubmissionQuery = req.query
        views = await req.services.form_casework.submissions(
            req.actor, after=q.after, limit=q.limit, case_reference=q.case
        )
        return SubmissionList(
            items=[SubmissionOut.of(v) for v in views],
            next_after=views[-1].message_id if len(views) == q.limit else None,
        )

    @api.get("/v1/form-submissions/{id:int}", response=SubmissionOut, errors=(404,), tags=tags,
             summary="One submission: every question shown to the parent, with the answer")
    async def read_submission(req: ApiRequest) -> SubmissionOut:
        return SubmissionOut.of(await req.services.form_casework.submission(req.actor, req.params["id"]))

    @api.get("/v1/form-submissions/{id:int}/pdf", errors=(404,), tags=tags, media_types=("application/pdf",),
             summary="A submission's PDF")
    async def submission_pdf(req: ApiRequest) -> web.Response:
        name, data = await req.services.form_casework.submission_pdf(req.actor, req.params["id"])
        return file_response(data, "application/pdf", name)

    @api.get("/v1/form-submissions/{id:int}/files/{sha256:sha256}", errors=(404,), tags=tags,
             media_types=(*ALLOWED_TYPES, "application/octet-stream"),
             summary="A supporting file sent with a submission (its bytes)")
    async def submission_file(req: ApiRequest) -> web.Response:
        found, data = await req.services.form_casework.submission_file(
            req.actor, req.params["id"], req.params["sha256"]
        )
        return file_response(data, str(found.get("mime") or "application/octet-stream"), str(found.get("filename") or "file"))

    return api


api = build_routes()
