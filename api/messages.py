"""Messages in the caseworker API.

    GET  /v1/messages?after=<id>                 every message after an id, oldest first (poll cheaply)
    GET  /v1/cases/{reference}/messages          a case's messages (both ways), oldest first, paged by id
    GET  /v1/messages/{id}                       one message
    POST /v1/cases/{reference}/messages          a caseworker's message or reply to one carer (201)
    POST /v1/messages/{id}/read                  mark a parent's message read
    GET  /v1/messages/{id}/attachments/{aid}     an attached file (the bytes)
    PUT  /v1/staff/{telegram_user_id}            map a staff Telegram account to a caseworker name
    DELETE /v1/staff/{telegram_user_id}          unmap it

Sending writes the carer's notice (who wrote about what, with Read and Reply buttons) in the same
transaction. Attachments travel as base64 in JSON; each is checked for size (20 MB) and type.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from api.fields import (
    BASE64,
    BASE64_MAX,
    ID_MAX,
    Body,
    Id,
    Query,
    QueryInt,
    ViewOut,
    VisibleText,
    omittable,
)
from api.files import decode_base64, file_response
from api.routes import ApiError, ApiRequest, ApiRoutes
from core.files import ALLOWED_TYPES
from core.messages.service import (
    MessageType,
    MessageView,
    NewAttachment,
)


class AttachmentIn(Body):
    filename: VisibleText[200] = Field(description="The file's name, as the parent will see it.")
    mime: str = Field(max_length=100, description="application/pdf, image/jpeg, image/png, Word, text... "
                      "(the file's first bytes must agree with it)")
    content_base64: str = Field(
        max_length=BASE64_MAX, json_schema_extra={"pattern": BASE64},
        description="The file, base64-encoded (at most 20 MB once decoded; not empty).",
    )


class MessageIn(Body):
    """To one carer: give `account_id`, or `reply_to` (a message of theirs on the case), or both."""

    sender_name: VisibleText[100] = Field(description="The caseworker, as the parent sees it.")
    type: MessageType = Field(MessageType.GENERAL, description="One of the guide's four types of message.")
    subject: VisibleText[200] = Field(description="The subject line.")
    text: VisibleText[20_000] = Field(description="The message.")
    account_id: Id = omittable("The carer (see GET /v1/children/{id}/access).")
    reply_to: Id = omittable("A message of the case to answer (its carer gets it).")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10, description="Files, if any.")

    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": ["account_id"]}, {"required": ["reply_to"]}]})


class AttachmentOut(ViewOut):
    id: int
    filename: str
    mime: str
    size: int
    sha256: str


class MessageOut(ViewOut):
    id: int
    case_reference: str
    child_id: int
    account_id: int = Field(description="The carer whose thread this is.")
    direction: str = Field(description="to_team (from the parent) | to_parent (from the SEND team)")
    type: str
    type_name: str
    subject: str
    text: str
    sender_name: str
    recipient_name: str
    reply_to: int | None
    source: str = Field(description="chat | api | staff_group | form (a submitted form, its PDF attached)")
    created_at: datetime
    read_at: datetime | None
    attachments: list[AttachmentOut]

    @classmethod
    def of(cls, v: MessageView) -> MessageOut:
        return super().of(
            v, text=v.body, reply_to=v.reply_to_id, attachments=[AttachmentOut.of(a) for a in v.attachments]
        )


class MessageList(BaseModel):
    items: list[MessageOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null when up to date.")


class AfterQuery(Query):
    after: QueryInt = Field(0, ge=0, le=ID_MAX, description="Only messages with a larger id.")
    limit: QueryInt = Field(100, ge=1, le=500, description="Page size.")


class StaffIn(Body):
    caseworker_name: VisibleText[100] = Field(description="The name the account's replies go out under.")


class StaffOut(BaseModel):
    telegram_user_id: int
    caseworker_name: str



def _decode(items: list[AttachmentIn]) -> list[NewAttachment]:
    return [
        NewAttachment(data=decode_base64(a.content_base64, a.filename), filename=a.filename, mime=a.mime)
        for a in items
    ]


def _page(views: list[MessageView], limit: int) -> MessageList:
    return MessageList(items=[MessageOut.of(v) for v in views],
                       next_after=views[-1].id if len(views) == limit else None)


def build_routes() -> ApiRoutes:
    api = ApiRoutes(not_found="No such case, message or file.")
    tags = ["messages"]

    @api.get("/v1/messages", query=AfterQuery, response=MessageList, tags=tags,
             summary="Every message after an id, oldest first (a case system polls with the last id)")
    async def poll(req: ApiRequest) -> MessageList:
        q: AfterQuery = req.query
        return _page(await req.services.messages.since(req.actor, q.after, q.limit), q.limit)

    @api.get("/v1/cases/{reference:case_ref}/messages", query=AfterQuery, response=MessageList, errors=(404,),
             tags=tags, summary="A case's messages, both ways, oldest first")
    async def for_case(req: ApiRequest) -> MessageList:
        q: AfterQuery = req.query
        views = await req.services.messages.list_for_case(
            req.actor, req.params["reference"], after_id=q.after, limit=q.limit
        )
        return _page(views, q.limit)

    @api.get("/v1/messages/{id:int}", response=MessageOut, errors=(404,), tags=tags, summary="One message")
    async def one(req: ApiRequest) -> MessageOut:
        return MessageOut.of(await req.services.messages.get_for_team(req.actor, req.params["id"]))

    @api.post("/v1/cases/{reference:case_ref}/messages", body=MessageIn, response=MessageOut, status=201,
              errors=(404, 422), tags=tags, max_body=30 * 1024 * 1024,
              summary="Send a caseworker's message or reply to one carer (they are told at once)")
    async def send(req: ApiRequest, body: MessageIn) -> MessageOut:
        view = await req.services.messages.send_to_parent(
            req.actor, req.params["reference"], sender_name=body.sender_name, type=body.type,
            subject=body.subject, body=body.text, account_id=body.account_id, reply_to_id=body.reply_to,
            attachments=_decode(body.attachments),
        )
        return MessageOut.of(view)

    @api.post("/v1/messages/{id:int}/read", response=MessageOut, errors=(404,), tags=tags,
              summary="Mark a parent's message read")
    async def mark_read(req: ApiRequest) -> MessageOut:
        return MessageOut.of(await req.services.messages.mark_read_by_team(req.actor, req.params["id"]))

    @api.get("/v1/messages/{id:int}/attachments/{aid:int}", errors=(404,), tags=tags,
             media_types=tuple(ALLOWED_TYPES), summary="An attached file (its bytes, with its type and name)")
    async def attachment(req: ApiRequest) -> web.Response:
        found, data = await req.services.messages.attachment_for_team(
            req.actor, req.params["id"], req.params["aid"]
        )
        return file_response(data, found.mime, found.filename)

    @api.put("/v1/staff/{telegram_user_id:int}", body=StaffIn, response=StaffOut, tags=tags,
             summary="Map a staff Telegram account to the caseworker name its replies go out under")
    async def map_staff(req: ApiRequest, body: StaffIn) -> StaffOut:
        uid = req.params["telegram_user_id"]
        await req.services.staff.map(uid, body.caseworker_name, req.actor)
        return StaffOut(telegram_user_id=uid, caseworker_name=body.caseworker_name)

    @api.delete("/v1/staff/{telegram_user_id:int}", status=204, errors=(404,), tags=tags,
                summary="Unmap a staff Telegram account (its replies are then refused)")
    async def unmap_staff(req: ApiRequest) -> None:
        if not await req.services.staff.unmap(req.params["telegram_user_id"], req.actor):
            raise ApiError(404, "not_found", "That account is not mapped.")

    return api


api = build_routes()
