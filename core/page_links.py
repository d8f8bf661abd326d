"""Links from the chat to the parents' pages, where passwords are typed (never in the chat).

A link is made for one chat and one purpose, expires, and is used up only when its step
completes. The one-time code that follows is bound to the link: the accounts service's request
id is derived from the link's token digest under the server key, so it is never stored.

States: open (the form is waiting) -> submitted (a code was emailed; the chat waits for it) ->
verified (forgotten password only: the code was right, the page now asks for the new password)
-> used (the step is done). Expired: timed out, or replaced by a newer link of the same chat.

The bot makes links for a chat (`create`); the login page makes a "Forgotten password" link from
its own link (`create_from`), bound to the same chat. The change-password and change-email pages
act for the account the chat is logged in to (`account_for`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update

from core.models import PageLink
from core.portal import Portal
from core.security import hmac_hex, new_token, sha256_hex

LINK_LIFETIME = timedelta(minutes=30)


class Purpose(StrEnum):
    REGISTER = "register"
    LOGIN = "login"
    RESET = "reset"  # "Forgotten password": made from a login link on the page itself
    CHANGE_PASSWORD = "change_password"  # a linked chat only
    CHANGE_EMAIL = "change_email"  # a linked chat only


# The purposes that act for the account the chat is logged in to.
SIGNED_IN = frozenset({Purpose.CHANGE_PASSWORD, Purpose.CHANGE_EMAIL})


class LinkState(StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
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
    created_at: datetime


def _state(row: PageLink, now: datetime) -> LinkState:
    if row.completed_at is not None:
        return LinkState.USED
    if row.cancelled_at is not None or row.expires_at <= now:
        return LinkState.EXPIRED
    if row.verified_at is not None:
        return LinkState.VERIFIED
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
        async with self.portal.db() as session, session.begin():
            return await self._create(session, chat_id, purpose)

    async def create_seeded(self, chat_id: int, purpose: Purpose) -> str:
        """Like `create`, but returns a seed instead of the token: the token is an HMAC of the seed
        under the server key (`url_for_seed`). The bot keeps the seed in its dialogue state, so
        the database never holds a live page token, not even there."""
        seed = new_token(24)
        async with self.portal.db() as session, session.begin():
            await self._create(session, chat_id, purpose, seed=seed)
        return seed

    def _token_for_seed(self, seed: str) -> str:
        return hmac_hex(self.portal.secret_key, "page-link-token", seed)

    def url_for_seed(self, seed: str) -> str:
        return self.url(self._token_for_seed(seed))

    async def _create(self, session, chat_id: int, purpose: Purpose, *, seed: str | None = None) -> str:  # noqa: ANN001
        now = self.portal.clock.now()
        token = self._token_for_seed(seed) if seed is not None else new_token(32)
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

    async def create_from(self, link: Link, purpose: Purpose) -> str | None:
        """A new link for the same chat, made from a page (the login page's "Forgotten password"):
        the token of the new link, or None if `link` is no longer open. Like `create`, the chat's
        earlier unfinished links, `link` among them, stop working."""
        now = self.portal.clock.now()
        async with self.portal.db() as session, session.begin():
            row = await session.scalar(select(PageLink).where(PageLink.id == link.id).with_for_update())
            if row is None or row.chat_id != link.chat_id or _state(row, now) is not LinkState.OPEN:
                return None
            return await self._create(session, row.chat_id, purpose)

    def _link(self, row: PageLink) -> Link:
        now = self.portal.clock.now()
        return Link(
            row.id, row.chat_id, Purpose(row.purpose), _state(row, now), self._request_id(row.token_digest),
            row.created_at,
        )

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
        await self._stamp(link_id, "submitted_at")

    async def mark_verified(self, link_id: int) -> None:
        """The emailed code was right (forgotten password): the page may now take the new password."""
        await self._stamp(link_id, "verified_at")

    async def account_for(self, link: Link) -> int | None:
        """The account a change-password or change-email link acts for: the one the chat is logged
        in to, provided it was already logged in to it when the link was made. None otherwise (the
        chat was unlinked, or linked to another account since)."""
        from core.onboarding.links import ChatLinkService

        chat_links = ChatLinkService(self.portal)
        account_id = await chat_links.account_for_chat(link.chat_id)
        if account_id is None:
            return None
        for view in await chat_links.active_links(account_id):
            if view.chat_id == link.chat_id and view.linked_at <= link.created_at:
                return account_id
        return None

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
        await self._stamp(link_id, "completed_at")

    async def _stamp(self, link_id: int, column: str) -> None:
        """Set the link's `column` (submitted_at, verified_at, completed_at) to now."""
        async with self.portal.db() as session, session.begin():
            await session.execute(update(PageLink).where(PageLink.id == link_id).values({column: self.portal.clock.now()}))

    async def forget_chat(self, chat_id: int) -> None:
        from sqlalchemy import delete

        async with self.portal.db() as session, session.begin():
            await session.execute(delete(PageLink).where(PageLink.chat_id == chat_id))
