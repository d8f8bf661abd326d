"""Small helpers shared by the onboarding services."""

from __future__ import annotations

from sqlalchemy import column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import Actor
from core.onboarding.models import ChatLink
from core.security import hmac_hex

# The accounts table (core/accounts/models.py), read by name so that onboarding does not import it.
# Accounts are only made once their email is confirmed, so `email` is a confirmed address.
ACCOUNTS = table("accounts", column("id"), column("email"))


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def account_email(session: AsyncSession, account_id: int) -> str | None:
    """The account holder's (confirmed) email address, or None if there is no such account."""
    email = await session.scalar(select(ACCOUNTS.c.email).where(ACCOUNTS.c.id == account_id))
    return normalise_email(email) if email else None


async def active_account_for_chat(session: AsyncSession, chat_id: int) -> int | None:
    return await session.scalar(select(ChatLink.account_id).where(ChatLink.active_chat_id == chat_id))


async def active_chats_for_account(session: AsyncSession, account_id: int) -> list[int]:
    rows = await session.scalars(
        select(ChatLink.active_chat_id)
        .where(ChatLink.account_id == account_id, ChatLink.active_chat_id.is_not(None))
        .order_by(ChatLink.id)
    )
    return [int(c) for c in rows.all()]


def chat_actor(key: bytes, chat_id: int) -> Actor:
    """A chat with no account yet, in the audit log: a keyed pseudonym, never the chat id itself
    (so "delete my data from this chat" leaves no chat id behind in the statutory audit log)."""
    return Actor("parent", "chat:" + hmac_hex(key, "audit-chat", str(chat_id))[:20])
