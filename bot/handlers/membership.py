"""A parent blocking or unblocking the bot: stop sending, or start again."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from bot.filters import inline
from core.chats import ChatService


def membership_router() -> Router:
    router = Router(name="membership")
    router.my_chat_member.filter(inline(F.chat.type == "private"))

    @router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=KICKED))
    async def blocked(event: ChatMemberUpdated, chats: ChatService) -> None:
        await chats.mark_blocked(event.chat.id)

    @router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=MEMBER))
    async def unblocked(event: ChatMemberUpdated, chats: ChatService) -> None:
        await chats.mark_unblocked(event.chat.id)

    return router
