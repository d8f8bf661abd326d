"""The delivery status of notices (outbox rows). Never their text: only what happened to them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.fields import Query, QueryId, QueryInt, ViewOut
from api.routes import ApiRequest, ApiRoutes

api = ApiRoutes()

NoticeStatus = Literal["pending", "sending", "sent", "blocked", "emailed", "failed"]


class NoticeOut(ViewOut):
    """A notice's delivery status."""

    id: int
    kind: str = Field(description="reminder, notice, ...")
    status: str = Field(description="pending | sending | sent | blocked | emailed | failed")
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    silent: bool | None = Field(description="Sent without sound (at night).")
    last_error: str | None = Field(description="The last delivery error, if any (never the message).")
    child_id: int | None


class NoticeQuery(Query):
    child_id: QueryId | None = Field(None, description="Only this child's notices.")
    status: NoticeStatus | None = Field(None, description="Only notices in this state.")
    limit: QueryInt = Field(50, ge=1, le=200, description="Page size.")
    cursor: QueryId | None = Field(None, description="`next_cursor` of the previous page.")


class NoticePage(BaseModel):
    items: list[NoticeOut]
    next_cursor: int | None = Field(description="Pass as `cursor` for the next page; null on the last.")


@api.get(
    "/v1/notices/{id:int}",
    response=NoticeOut,
    summary="Delivery status of a notice",
    tags=["notices"],
)
async def read_notice(req: ApiRequest) -> NoticeOut:
    view = await req.services.notice_statuses.get(req.actor, req.params["id"])
    return NoticeOut.of(view)


@api.get(
    "/v1/notices",
    query=NoticeQuery,
    response=NoticePage,
    summary="Delivery status of notices, newest first",
    tags=["notices"],
)
async def list_notices(req: ApiRequest) -> NoticePage:
    q: NoticeQuery = req.query
    views, next_cursor = await req.services.notice_statuses.page(
        req.actor, child_id=q.child_id, status=q.status, limit=q.limit, cursor=q.cursor
    )
    return NoticePage(items=[NoticeOut.of(v) for v in views], next_cursor=next_cursor)
