"""Onboarding in the caseworker API: invitations, verification, activation, revoking a chat.

    POST /v1/invitations                      invite a carer for a child (201)
    GET  /v1/invitations                      list, newest first (filters: status, case_reference, child_id)
    GET  /v1/invitations/{id}                 one invitation
    POST /v1/invitations/{id}/verify          mark verified after a phone check (body {} or {"code": ...})
    POST /v1/invitations/{id}/resend          new code and link, old ones dead, lock lifted, new email
    POST /v1/access/{grant_id}/activate       activate an accepted carer's access (the parent is told)
    GET  /v1/children/{id}/access             a child's carers and the status of their access
    GET  /v1/accounts/{id}/chats              the chats logged in to an account (to revoke one)
    POST /v1/chats/{chat_id}/revoke           unlink a chat (the holder is emailed)

Activation is by grant (`grant_id` is in every invitation's answer): a grant is one carer's
access to one child. The API never returns an invitation's unique code or link: they are only in
the email to the parent (and stored only as an HMAC and a digest). Every POST takes an
`Idempotency-Key` (the frame replays the first answer).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from pydantic import BaseModel, Field

from api.fields import (
    CASE_REFERENCE,
    Body,
    Email,
    Query,
    QueryId,
    QueryInt,
    StrictDate,
    ViewOut,
    VisibleText,
)
from api.routes import ApiError, ApiRequest, ApiRoutes
from core.onboarding import InvitationStatus

# --- models ------------------------------------------------------------------------------------


class InvitationIn(Body):
    parent_email: Email = Field(description="Where the invitation goes (the parent's email).")
    parent_forename: VisibleText[100] = Field(description="The carer's first name.")
    parent_surname: VisibleText[100] = Field(description="The carer's last name.")
    child_forename: VisibleText[100] = Field(description="The child's first name.")
    child_surname: VisibleText[100] = Field(description="The child's last name.")
    child_date_of_birth: StrictDate = Field(description="The child's date of birth.")
    case_reference: str = Field(
        pattern=CASE_REFERENCE,
        max_length=50,
        description="The case system's reference (letters, digits, '.', '_', '-'). An existing reference "
        "reuses its child and case; a different child with the same reference is refused (409).",
    )


class InvitationOut(ViewOut):
    """An invitation. Never its unique code or link."""

    id: int
    status: InvitationStatus = Field(description="sent | verified | accepted | declined | expired")
    locked: bool = Field(description="Too many wrong unique codes were tried: resend to unlock.")
    case_reference: str
    case_id: int
    child_id: int
    child_forename: str
    child_surname: str
    child_date_of_birth: date
    parent_email: str
    parent_forename: str
    parent_surname: str
    grant_id: int = Field(description="The carer's access grant: activate it once accepted.")
    grant_status: str = Field(description="pending | accepted | declined | active | revoked")
    created_at: datetime
    expires_at: datetime
    sent_count: int = Field(description="How many times the invitation email was sent (1 + resends).")
    last_sent_at: datetime
    verified_at: datetime | None
    verified_by: str | None = Field(description="code (given in the chat) | phone (marked by the SEND team)")
    responded_at: datetime | None


class InvitationQuery(Query):
    status: InvitationStatus | None = Field(None, description="Only invitations in this state.")
    case_reference: str | None = Field(None, max_length=50, description="Only this case's invitations.")
    child_id: QueryId | None = Field(None, description="Only this child's invitations.")
    limit: QueryInt = Field(50, ge=1, le=200, description="Page size.")
    cursor: QueryId | None = Field(None, description="`next_cursor` of the previous page.")


class InvitationPage(BaseModel):
    items: list[InvitationOut]
    next_cursor: int | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class VerifyIn(Body):
    code: str | None = Field(
        None,
        max_length=40,
        description="The unique code the parent quoted on the phone, checked against the invitation "
        "(422 if it is not this invitation's). Send {} to mark verified without it.",
    )


class GrantOut(ViewOut):
    """A carer's access to a child: their name and its status, nothing else."""

    id: int
    invitation_id: int
    child_id: int
    account_id: int | None = Field(description="The carer's portal account, once they answered.")
    carer_forename: str
    carer_surname: str
    status: str = Field(description="pending | accepted | declined | active | revoked")
    created_at: datetime
    responded_at: datetime | None
    activated_at: datetime | None


class ChildAccessOut(BaseModel):
    child_id: int
    grants: list[GrantOut]


class ChatLinkOut(BaseModel):
    id: int
    chat_id: int
    linked_at: datetime


class AccountChatsOut(BaseModel):
    account_id: int
    chats: list[ChatLinkOut]


class RevokedOut(BaseModel):
    chat_id: int
    account_id: int = Field(description="The account the chat was linked to (its holder is emailed).")
    unlinked_at: datetime


# --- routes --------------------------------------------------------------------------------------


@cache

def build_routes() -> ApiRoutes:
    """The onboarding endpoints (their settings: the portal's, `settings.onboarding`)."""
    api = ApiRoutes()


    @api.post(
        "/v1/invitations",
        body=InvitationIn,
        response=InvitationOut,
        status=201,
        errors=(409,),
        summary="Invite a carer for a child (emails the unique code and the link)",
        tags=["onboarding"],
    )
    async def create_invitation(req: ApiRequest, body: InvitationIn) -> InvitationOut:
        view = await req.services.invitations.create_invitation(req.actor, **body.model_dump())
        return InvitationOut.of(view)

    @api.get(
        "/v1/invitations",
        query=InvitationQuery,
        response=InvitationPage,
        summary="Invitations and their status, newest first",
        tags=["onboarding"],
    )
    async def list_invitations(req: ApiRequest) -> InvitationPage:
        q: InvitationQuery = req.query
        views, next_cursor = await req.services.invitations.list_invitations(
            req.actor,
            status=q.status,
            case_reference=q.case_reference,
            child_id=q.child_id,
            limit=q.limit,
            cursor=q.cursor,
        )
        return InvitationPage(items=[InvitationOut.of(v) for v in views], next_cursor=next_cursor)

    @api.get(
        "/v1/invitations/{id:int}",
        response=InvitationOut,
        errors=(404,),
        summary="An invitation and its status",
        tags=["onboarding"],
    )
    async def read_invitation(req: ApiRequest) -> InvitationOut:
        view = await req.services.invitations.get_invitation(req.params["id"], req.actor)
        return InvitationOut.of(view)

    @api.post(
        "/v1/invitations/{id:int}/verify",
        body=VerifyIn,
        response=InvitationOut,
        errors=(404, 409),
        summary="Mark an invitation verified after a phone check (the parent then skips the unique code)",
        description="Refused (409) once the invitation is answered, expired or locked (resend a "
        "locked one first). Body: {} or {\"code\": \"<the code the parent quoted>\"}.",
        tags=["onboarding"],
    )
    async def verify_invitation(req: ApiRequest, body: VerifyIn) -> InvitationOut:
        view = await req.services.invitations.mark_verified(
            req.params["id"], req.actor, code=body.code
        )
        return InvitationOut.of(view)

    @api.post(
        "/v1/invitations/{id:int}/resend",
        response=InvitationOut,
        errors=(404, 409),
        summary="Resend an invitation: a new code and link (the old ones stop working), unlocked, a new email",
        tags=["onboarding"],
    )
    async def resend_invitation(req: ApiRequest) -> InvitationOut:
        view = await req.services.invitations.resend(req.params["id"], req.actor)
        return InvitationOut.of(view)

    @api.post(
        "/v1/access/{grant_id:int}/activate",
        response=GrantOut,
        errors=(404, 409),
        summary="Activate a carer's access to a child, once they accepted (their chat is told)",
        tags=["onboarding"],
    )
    async def activate_access(req: ApiRequest) -> GrantOut:
        view = await req.services.access.activate_access(req.params["grant_id"], req.actor)
        return GrantOut.of(view)

    @api.get(
        "/v1/children/{id:int}/access",
        response=ChildAccessOut,
        errors=(404,),
        summary="A child's carers and the status of their access",
        tags=["onboarding"],
    )
    async def child_access(req: ApiRequest) -> ChildAccessOut:
        grants = await req.services.access.access_for_child(req.params["id"], req.actor)
        return ChildAccessOut(child_id=req.params["id"], grants=[GrantOut.of(g) for g in grants])

    @api.get(
        "/v1/accounts/{id:int}/chats",
        response=AccountChatsOut,
        summary="The Telegram chats logged in to an account",
        tags=["onboarding"],
    )
    async def account_chats(req: ApiRequest) -> AccountChatsOut:
        links = await req.services.chat_links.active_links(req.params["id"])
        return AccountChatsOut(
            account_id=req.params["id"],
            chats=[ChatLinkOut(id=link.id, chat_id=link.chat_id, linked_at=link.linked_at) for link in links],
        )

    @api.post(
        "/v1/chats/{chat_id:int}/revoke",
        response=RevokedOut,
        errors=(404,),
        summary="Unlink a chat from its account (the chat then reaches no child; the holder is emailed)",
        tags=["onboarding"],
    )
    async def revoke_chat(req: ApiRequest) -> RevokedOut:
        chat_id = req.params["chat_id"]
        done = await req.services.chat_links.unlink_chat(chat_id, "revoked", actor=req.actor)
        if done is None:
            raise ApiError(404, "not_found", "That chat is not linked to an account.")
        return RevokedOut(chat_id=chat_id, account_id=done.account_id, unlinked_at=done.at)

    return api


api = build_routes()
