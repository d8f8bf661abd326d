"""Chats as delivery addresses: first contact, the privacy notice, blocked or not."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Chat
from core.portal import Portal


async def get_or_create(session: AsyncSession, chat_id: int, now) -> Chat:  # noqa: ANN001
    chat = await session.get(Chat, chat_id)
    if chat is None:
        chat = Chat(chat_id=chat_id, first_seen_at=now)
        session.add(chat)
        await session.flush()
    return chat


class ChatService:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    async def first_contact(self, chat_id: int) -> bool:
        """Record the chat; True if the privacy notice has not been shown yet (and mark it shown).

        The notice is marked shown in the same step, so two quick /start presses show it once.
        """
        now = self.portal.clock.now()
        async with self.portal.db() as session, session.begin():
            chat = await get_or_create(session, chat_id, now)
            if chat.blocked_at is not None:
                chat.blocked_at = None  # writing to us again means they unblocked the bot
            if chat.privacy_shown_at is None:
                chat.privacy_shown_at = now
                return True
            return False

    async def mark_blocked(self, chat_id: int) -> None:
        now = self.portal.clock.now()
        async with self.portal.db() as session, session.begin():
            chat = await get_or_create(session, chat_id, now)
            if chat.blocked_at is None:
                chat.blocked_at = now

    async def mark_unblocked(self, chat_id: int) -> None:
        async with self.portal.db() as session, session.begin():
            await session.execute(update(Chat).where(Chat.chat_id == chat_id).values(blocked_at=None))

    async def is_blocked(self, chat_id: int) -> bool:
        async with self.portal.db() as session:
            blocked = await session.scalar(select(Chat.blocked_at).where(Chat.chat_id == chat_id))
            return blocked is not None
