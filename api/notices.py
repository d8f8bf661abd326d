"""The delivery status of notices (outbox rows). Never their text: only what happened to them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select

from api.fields import Query, QueryId, QueryInt
from api.routes import ApiError, ApiRequest, ApiRoutes
from core.audit import audit
from core.models import OutboxItem

api = ApiRoutes()

NoticeStatus = Literal["pending", "sending", "sent", "blocked", "emailed", "failed"]


class NoticeOut(BaseModel):
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

    @classmethod
    def of(cls, row: OutboxItem) -> NoticeOut:
        return cls(
            id=row.id,
            kind=row.kind,
            status=row.status,
            attempts=row.attempts,
            created_at=row.created_at,
            sent_at=row.sent_at,
            silent=row.silent,
            last_error=(row.last_error or None) and row.last_error[:200],
            child_id=row.child_id,
        )


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
    async with req.db() as s, s.begin():
        row = await s.get(OutboxItem, req.params["id"])
        if row is None:
            raise ApiError.not_found("notice")
        audit(s, req.actor, "notice.read", at=req.now, child_id=row.child_id, subject=f"outbox:{row.id}")
        return NoticeOut.of(row)


@api.get(
    "/v1/notices",
    query=NoticeQuery,
    response=NoticePage,
    summary="Delivery status of notices, newest first",
    tags=["notices"],
)
async def list_notices(req: ApiRequest) -> NoticePage:
    q: NoticeQuery = req.query
    stmt = select(OutboxItem).order_by(OutboxItem.id.desc()).limit(q.limit + 1)
    if q.child_id is not None:
        stmt = stmt.where(OutboxItem.child_id == q.child_id)
    if q.status is not None:
        stmt = stmt.where(OutboxItem.status == q.status)
    if q.cursor is not None:
        stmt = stmt.where(OutboxItem.id < q.cursor)
    async with req.db() as s, s.begin():
        rows = list((await s.execute(stmt)).scalars())
        more = len(rows) > q.limit
        rows = rows[: q.limit]
        for child_id in sorted({r.child_id for r in rows if r.child_id is not None}):
            audit(s, req.actor, "notice.list", at=req.now, child_id=child_id)
    return NoticePage(items=[NoticeOut.of(r) for r in rows], next_cursor=rows[-1].id if more else None)
