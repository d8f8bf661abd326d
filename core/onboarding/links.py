"""Chat links: which Telegram chat is logged in to which portal account.

One active link per chat (a unique index holds it); an account may have several chats. Every
link and unlink is emailed to the account holder, at the account's address (read from the
`accounts` table by name). `Chat.fallback_email` follows the link: set while linked (important
notices fall back to it), cleared on unlink.

Unlinking leaves the chat unable to reach any child: `account_for_chat` answers None, and the
chat's notices still waiting in the outbox are taken away from it (important ones go by email
instead, the rest are dropped), so nothing queued for the account reaches the chat afterwards.

"Delete my data from this chat" (`delete_chat_data`) unlinks and erases, in one transaction,
what exists only because of the chat: the chat id in its links and in invitation links it
opened, its dialogue state, its stored updates, its delivery records and its `chats` row. The
council's statutory records (accounts, children, cases, invitations, grants, messages, the audit
log) stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import Actor, audit
from core.chats import get_or_create
from core.models import Chat, DialogState, InboundUpdate, OutboxItem
from core.onboarding import texts
from core.onboarding._common import account_email, active_account_for_chat, chat_actor
from core.onboarding.models import ChatLink, Invitation
from core.onboarding.settings import OnboardingSettings
from core.outbox import enqueue, enqueue_email
from core.portal import Portal

UnlinkReason = Literal["logout", "revoked", "deleted", "replaced"]
REASONS = ("logout", "revoked", "deleted", "replaced")

REVOKED_NOTICE = (
    "This chat has been unlinked from your portal account by {team}, so it no longer shows any "
    "child's information. To use the portal here again, log in from the menu (/start)."
)


@dataclass(frozen=True, slots=True)
class ChatLinkView:
    id: int
    account_id: int
    chat_id: int
    linked_at: datetime


@dataclass(frozen=True, slots=True)
class Unlinked:
    link_id: int
    account_id: int
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DeletedChatData:
    """What "delete my data from this chat" erased, for the bot to say."""

    unlinked: bool  # the chat was logged in to an account, and no longer is
    links_erased: int  # link records whose chat id was erased
    invitation_links_erased: int  # invitation links this chat opened, no longer tied to it
    dialogue_states: int
    stored_updates: int
    delivery_records: int
    chat_record: bool


class ChatLinkService:
    def __init__(self, portal: Portal, settings: OnboardingSettings | None = None) -> None:
        self.portal = portal
        self.settings = settings or portal.settings.onboarding

    async def link_chat(self, account_id: int, chat_id: int, *, fallback_email: str | None = None) -> ChatLinkView:
        """Link the chat to the account (after the password and the emailed code, or registration).

        Already linked to this account: nothing changes (the fallback email is refreshed).
        Linked to another account: that link ends first (reason "replaced", its holder emailed).
        `fallback_email` defaults to the account's address. The holder is emailed.
        """
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            email = await account_email(s, account_id)
            if email is None:
                raise ValueError(f"no account {account_id}")
            chat = await get_or_create(s, chat_id, now)
            current = await s.scalar(select(ChatLink).where(ChatLink.active_chat_id == chat_id).with_for_update())
            if current is not None and current.account_id == account_id:
                chat.fallback_email = fallback_email or email
                return ChatLinkView(current.id, current.account_id, chat_id, current.linked_at)
            if current is not None:
                await self._unlink(s, chat_id, "replaced", chat_actor(self.portal.secret_key, chat_id), now)
                await s.flush()
                chat = await get_or_create(s, chat_id, now)
            link = ChatLink(account_id=account_id, chat_id=chat_id, active_chat_id=chat_id, linked_at=now)
            s.add(link)
            await s.flush()
            chat.fallback_email = fallback_email or email
            subject, body = texts.chat_linked_email(
                at=now, team=self.settings.send_team_name, council=self.portal.settings.product.council_name
            )
            enqueue_email(s, now=now, to_addr=email, subject=subject, body=body, dedupe_key=f"chat-link:{link.id}")
            audit(s, Actor.parent(account_id), "chat.link", at=now, subject=f"chat_link:{link.id}")
            return ChatLinkView(link.id, account_id, chat_id, now)

    async def unlink_chat(
        self, chat_id: int, reason: UnlinkReason = "logout", *, actor: Actor | None = None
    ) -> Unlinked | None:
        """End the chat's link ("logout" by the parent, "revoked" by the SEND team). None if it had none.

        The holder is emailed; a revoked chat is also told in the chat (with no child's data).
        """
        if reason not in REASONS:
            raise ValueError(f"unknown unlink reason {reason!r}")
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            return await self._unlink(s, chat_id, reason, actor, now)

    async def account_for_chat(self, chat_id: int) -> int | None:
        """The account this chat is logged in to, or None."""
        async with self.portal.db() as s:
            return await active_account_for_chat(s, chat_id)

    async def active_links(self, account_id: int) -> list[ChatLinkView]:
        """The chats logged in to the account (for the SEND team, to revoke one)."""
        async with self.portal.db() as s:
            rows = (
                await s.scalars(
                    select(ChatLink)
                    .where(ChatLink.account_id == account_id, ChatLink.active_chat_id.is_not(None))
                    .order_by(ChatLink.id)
                )
            ).all()
            return [ChatLinkView(r.id, r.account_id, int(r.active_chat_id), r.linked_at) for r in rows if r.active_chat_id]

    async def refresh_fallback_email(self, account_id: int) -> int:
        """After the account's email changed: point its chats' fallback at the new address."""
        async with self.portal.db() as s, s.begin():
            email = await account_email(s, account_id)
            chats = select(ChatLink.active_chat_id).where(
                ChatLink.account_id == account_id, ChatLink.active_chat_id.is_not(None)
            )
            result = await s.execute(
                update(Chat).where(Chat.chat_id.in_(chats)).values(fallback_email=email)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount or 0

    async def delete_chat_data(self, chat_id: int) -> DeletedChatData:
        """"Delete my data from this chat": unlink, then erase what exists only because of the chat."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            account_id = await active_account_for_chat(s, chat_id)
            actor = Actor.parent(account_id) if account_id is not None else chat_actor(self.portal.secret_key, chat_id)
            unlinked = await self._unlink(s, chat_id, "deleted", actor, now)
            links = await s.execute(
                update(ChatLink).where(ChatLink.chat_id == chat_id).values(chat_id=None)
                .execution_options(synchronize_session=False)
            )
            # A code given in this chat verified it; with the chat gone, the next chat must give it again.
            await s.execute(
                update(Invitation)
                .where(
                    Invitation.bound_chat_id == chat_id,
                    Invitation.response.is_(None),
                    Invitation.verified_by == "code",
                )
                .values(verified_at=None, verified_by=None)
                .execution_options(synchronize_session=False)
            )
            invitations = await s.execute(
                update(Invitation).where(Invitation.bound_chat_id == chat_id).values(bound_chat_id=None, bound_at=None)
                .execution_options(synchronize_session=False)
            )
            states = await s.execute(delete(DialogState).where(DialogState.chat_id == chat_id))
            updates = await s.execute(delete(InboundUpdate).where(InboundUpdate.chat_id == chat_id))
            deliveries = await s.execute(delete(OutboxItem).where(OutboxItem.chat_id == chat_id))
            chat = await s.execute(delete(Chat).where(Chat.chat_id == chat_id))
            audit(s, actor, "chat.delete_data", at=now)
            return DeletedChatData(
                unlinked=unlinked is not None,
                links_erased=links.rowcount or 0,
                invitation_links_erased=invitations.rowcount or 0,
                dialogue_states=states.rowcount or 0,
                stored_updates=updates.rowcount or 0,
                delivery_records=deliveries.rowcount or 0,
                chat_record=bool(chat.rowcount),
            )

    # ------------------------------------------------------------------ helpers

    async def _unlink(
        self, s: AsyncSession, chat_id: int, reason: str, actor: Actor | None, now: datetime
    ) -> Unlinked | None:
        link = await s.scalar(select(ChatLink).where(ChatLink.active_chat_id == chat_id).with_for_update())
        await s.execute(
            update(Chat).where(Chat.chat_id == chat_id).values(fallback_email=None)
            .execution_options(synchronize_session=False)
        )
        if link is None:
            return None
        link.active_chat_id = None
        link.unlinked_at = now
        link.unlink_reason = reason
        await s.flush()
        email = await account_email(s, link.account_id)
        await self._take_back_pending(s, chat_id, email, keep_rest=reason == "deleted")
        team = self.settings.send_team_name
        if reason == "revoked":
            enqueue(s, now=now, text=REVOKED_NOTICE.format(team=team), chat_id=chat_id,
                    dedupe_key=f"chat-revoked:{link.id}")
        if email:
            subject, body = texts.chat_unlinked_email(
                reason=reason, at=now, team=team, council=self.portal.settings.product.council_name
            )
            enqueue_email(s, now=now, to_addr=email, subject=subject, body=body, dedupe_key=f"chat-unlink:{link.id}")
        audit(s, actor or Actor.parent(link.account_id), "chat.unlink", at=now, subject=f"chat_link:{link.id}")
        return Unlinked(link.id, link.account_id, reason, now)

    @staticmethod
    async def _take_back_pending(s: AsyncSession, chat_id: int, email: str | None, *, keep_rest: bool) -> None:
        """Notices still waiting for the chat no longer go to it: important ones by email, the rest
        dropped (marked failed, or, with `keep_rest`, left for the caller to delete)."""
        rows = (
            await s.scalars(
                select(OutboxItem).where(OutboxItem.chat_id == chat_id, OutboxItem.status == "pending").with_for_update()
            )
        ).all()
        for row in rows:
            if row.important and (row.fallback_email or email):
                row.chat_id = None
                row.fallback_email = row.fallback_email or email
            elif not keep_rest:
                row.chat_id = None
                row.status = "failed"
                row.last_error = "the chat was unlinked before delivery"
