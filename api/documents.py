"""Documents (letters and plans) in the caseworker API.

    POST /v1/cases/{reference}/documents      publish a document for a case (201); the carers are told
    GET  /v1/cases/{reference}/documents      a case's documents, newest first (withdrawn ones too)
    GET  /v1/documents/{id}                   one document
    GET  /v1/documents/{id}/file              its file (the bytes)
    POST /v1/documents/{id}/withdraw          withdraw it (published to the wrong family, or replaced)
    GET  /v1/documents/{id}/deliveries        who received it in a chat, when, in which chat

The file travels as base64 in JSON and is checked for size (20 MB) and type. Publishing writes
each carer's notice (with a Receive button) in the same transaction; withdrawing takes the
document out of Documents to View at once and tells each carer.
"""

from __future__ import annotations

from datetime import date, datetime

from aiohttp import web
from pydantic import BaseModel, Field

from api.fields import BASE64, BASE64_MAX, Body, Query, QueryBool, StrictDate, ViewOut, VisibleText
from api.files import decode_base64, file_response
from api.routes import ApiRequest, ApiRoutes
from core.files import ALLOWED_TYPES


class DocumentIn(Body):
    filename: VisibleText[200] = Field(description="The file's name, as the parent will see it.")
    mime: str = Field(max_length=100, description="application/pdf, Word, image/jpeg, image/png, text... "
                      "(the file's first bytes must agree with it)")
    content_base64: str = Field(
        max_length=BASE64_MAX, json_schema_extra={"pattern": BASE64},
        description="The file, base64-encoded (at most 20 MB once decoded; not empty).",
    )
    description: VisibleText[300] = Field(description="What the parent sees in the list.")
    document_date: StrictDate = Field(description="The date on the document (today at the latest).")


class WithdrawIn(Body):
    reason: VisibleText[300] | None = Field(None, description="For the council's record (not told to the parent).")


class DocumentOut(ViewOut):
    id: int
    case_reference: str
    child_id: int
    description: str
    document_date: date
    published_at: datetime
    published_by: str
    filename: str
    mime: str
    size: int
    sha256: str
    withdrawn_at: datetime | None
    withdrawn_by: str | None
    withdraw_reason: str | None


class DocumentList(BaseModel):
    items: list[DocumentOut]


class ListQuery(Query):
    include_withdrawn: QueryBool = Field(True, description="false: only what parents see in Documents to View.")


class DeliveryOut(ViewOut):
    id: int
    account_id: int
    carer_name: str
    chat_id: int
    delivered_at: datetime


class DeliveryList(BaseModel):
    document_id: int
    items: list[DeliveryOut]



def build_routes() -> ApiRoutes:
    api = ApiRoutes(not_found="No such case or document.")
    tags = ["documents"]

    @api.post("/v1/cases/{reference:case_ref}/documents", body=DocumentIn, response=DocumentOut, status=201,
              errors=(404, 422), tags=tags, max_body=30 * 1024 * 1024,
              summary="Publish a document for a case (each carer is told at once)")
    async def publish_document(req: ApiRequest, body: DocumentIn) -> DocumentOut:
        data = decode_base64(body.content_base64, body.filename)
        view = await req.services.documents.publish(
            req.actor, req.params["reference"], data=data, filename=body.filename, mime=body.mime,
            description=body.description, document_date=body.document_date,
        )
        return DocumentOut.of(view)

    @api.get("/v1/cases/{reference:case_ref}/documents", query=ListQuery, response=DocumentList, errors=(404,),
             tags=tags, summary="A case's documents, newest first")
    async def list_documents(req: ApiRequest) -> DocumentList:
        q: ListQuery = req.query
        views = await req.services.documents.list_for_case(
            req.actor, req.params["reference"], include_withdrawn=q.include_withdrawn
        )
        return DocumentList(items=[DocumentOut.of(v) for v in views])

    @api.get("/v1/documents/{id:int}", response=DocumentOut, errors=(404,), tags=tags, summary="One document")
    async def get_document(req: ApiRequest) -> DocumentOut:
        return DocumentOut.of(await req.services.documents.get_for_team(req.actor, req.params["id"]))

    @api.get("/v1/documents/{id:int}/file", errors=(404,), tags=tags, media_types=tuple(ALLOWED_TYPES),
             summary="A document's file (its bytes, with its type and name)")
    async def document_file(req: ApiRequest) -> web.Response:
        view, data = await req.services.documents.file_for_team(req.actor, req.params["id"])
        return file_response(data, view.mime, view.filename)

    @api.post("/v1/documents/{id:int}/withdraw", body=WithdrawIn, body_optional=True, response=DocumentOut,
              errors=(404,), tags=tags, summary="Withdraw a document: it leaves Documents to View and each "
              "carer is told (the body, with a reason, is optional; withdrawing again changes nothing)")
    async def withdraw_document(req: ApiRequest, body: WithdrawIn) -> DocumentOut:
        view = await req.services.documents.withdraw(req.actor, req.params["id"], body.reason)
        return DocumentOut.of(view)

    @api.get("/v1/documents/{id:int}/deliveries", response=DeliveryList, errors=(404,), tags=tags,
             summary="Who received the document in a chat, when, and in which chat")
    async def document_deliveries(req: ApiRequest) -> DeliveryList:
        items = await req.services.documents.deliveries(req.actor, req.params["id"])
        return DeliveryList(document_id=req.params["id"], items=[DeliveryOut.of(d) for d in items])

    return api


api = build_routes()
