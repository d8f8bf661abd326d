"""Small helpers shared by the onboarding services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import Actor
from core.errors import NotFound
from core.onboarding.models import AccessGrant, Case, ChatLink
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


async def account_email_and_chats(session: AsyncSession, account_id: int) -> tuple[str | None, list[int]]:
    """`account_email` and `active_chats_for_account` in one query."""
    rows = (await session.execute(
        select(ACCOUNTS.c.email, ChatLink.active_chat_id)
        .select_from(ACCOUNTS)
        .outerjoin(ChatLink, and_(ChatLink.account_id == ACCOUNTS.c.id, ChatLink.active_chat_id.is_not(None)))
        .where(ACCOUNTS.c.id == account_id)
        .order_by(ChatLink.id)
    )).all()
    email = rows[0].email if rows else None
    return (normalise_email(email) if email else None), [int(r.active_chat_id) for r in rows if r.active_chat_id is not None]


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


async def has_active_access(session: AsyncSession, account_id: int, child_id: int) -> bool:
    """Whether the account may see the child: only an ACTIVE grant gives access."""
    found = await session.scalar(
        select(AccessGrant.id)
        .where(
            AccessGrant.account_id == account_id,
            AccessGrant.child_id == child_id,
            AccessGrant.status == "active",
        )
        .limit(1)
    )
    return found is not None


async def notify_account(
    session: AsyncSession, account_id: int, *, now: datetime, text: str, key: str, **notice: Any
) -> None:
    """Queue a notice to every chat linked to the account, or to its email when none is: an
    important notice, deduplicated per chat by `key`. `notice` takes `enqueue`'s other arguments
    (kind, email_subject, child_id, buttons, markup...)."""
    from core.outbox import enqueue  # core.outbox is imported by modules this one serves

    email = await account_email(session, account_id)
    chats: list[int | None] = list(await active_chats_for_account(session, account_id)) or [None]
    for chat_id in chats:
        enqueue(
            session,
            now=now,
            text=text,
            chat_id=chat_id,
            important=True,
            fallback_email=email,
            dedupe_key=f"{key}:{chat_id if chat_id is not None else 'email'}",
            **notice,
        )


async def case_by_reference(session: AsyncSession, case_reference: str) -> Case:
    """The case with this reference (NotFound: "no such case")."""
    case = await session.scalar(select(Case).where(Case.case_reference == case_reference))
    if case is None:
        raise NotFound("no such case")
    return case
