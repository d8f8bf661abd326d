"""Links from the chat to the parents' pages, where passwords are typed (never in the chat).

A link is made for one chat and one purpose, expires, and is used up only when its step
completes. The one-time code that follows is bound to the link: the accounts service's request
id is derived from the link's token digest under the server key, so it is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select, update

from core.models import PageLink
from core.portal import Portal
from core.security import hmac_hex, new_token, sha256_hex

LINK_LIFETIME = timedelta(minutes=30)


class Purpose(StrEnum):
    REGISTER = "register"
    LOGIN = "login"
    RESET = "reset"


class LinkState(StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    EXPIRED = "expired"
    USED = "used"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Link:
    id: int
    chat_id: int
    purpose: Purpose
    state: LinkState
    request_id: str


def _state(row: PageLink, now) -> LinkState:  # noqa: ANN001
    if row.completed_at is not None:
        return LinkState.USED
    if row.cancelled_at is not None or row.expires_at <= now:
        return LinkState.EXPIRED
    if row.submitted_at is not None:
        return LinkState.SUBMITTED
    return LinkState.OPEN


class PageLinks:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def _request_id(self, digest: str) -> str:
        return hmac_hex(self.portal.secret_key, "page-link-request", digest)[:43]

    def url(self, token: str) -> str:
        return f"{self.portal.settings.http.public_url}/p/{token}"

    async def create(self, chat_id: int, purpose: Purpose) -> str:
        """A new link for this chat; any earlier unfinished link of the chat stops working."""
        now = self.portal.clock.now()
        token = new_token(32)
        async with self.portal.db() as session, session.begin():
            await session.execute(
                update(PageLink)
                .where(PageLink.chat_id == chat_id, PageLink.completed_at.is_(None), PageLink.cancelled_at.is_(None))
                .values(cancelled_at=now)
            )
            session.add(
                PageLink(
                    token_digest=sha256_hex(token),
                    chat_id=chat_id,
                    purpose=purpose.value,
                    created_at=now,
                    expires_at=now + LINK_LIFETIME,
                )
            )
        return token

    def _link(self, row: PageLink) -> Link:
        now = self.portal.clock.now()
        return Link(row.id, row.chat_id, Purpose(row.purpose), _state(row, now), self._request_id(row.token_digest))

    async def open(self, token: str) -> Link | None:
        """The link behind a page address (None if there is no such link). Opening uses nothing up."""
        now = self.portal.clock.now()
        async with self.portal.db() as session, session.begin():
            row = await session.scalar(select(PageLink).where(PageLink.token_digest == sha256_hex(token)))
            if row is None:
                return None
            if row.opened_at is None:
                row.opened_at = now
            return self._link(row)

    async def mark_submitted(self, link_id: int) -> None:
        async with self.portal.db() as session, session.begin():
            await session.execute(
                update(PageLink).where(PageLink.id == link_id).values(submitted_at=self.portal.clock.now())
            )

    async def awaiting_code(self, chat_id: int) -> Link | None:
        """The chat's link whose form was sent and whose emailed code is awaited, if any."""
        async with self.portal.db() as session:
            row = await session.scalar(
                select(PageLink)
                .where(PageLink.chat_id == chat_id, PageLink.submitted_at.is_not(None))
                .order_by(PageLink.id.desc())
                .limit(1)
            )
            if row is None:
                return None
            link = self._link(row)
            return link if link.state is LinkState.SUBMITTED else None

    async def latest(self, chat_id: int) -> Link | None:
        async with self.portal.db() as session:
            row = await session.scalar(
                select(PageLink).where(PageLink.chat_id == chat_id).order_by(PageLink.id.desc()).limit(1)
            )
            return self._link(row) if row is not None else None

    async def complete(self, link_id: int) -> None:
        async with self.portal.db() as session, session.begin():
            await session.execute(
                update(PageLink).where(PageLink.id == link_id).values(completed_at=self.portal.clock.now())
            )

    async def forget_chat(self, chat_id: int) -> None:
        from sqlalchemy import delete

        async with self.portal.db() as session, session.begin():
            await session.execute(delete(PageLink).where(PageLink.chat_id == chat_id))
