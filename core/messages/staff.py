"""Staff Telegram accounts mapped to caseworker names (for replies from the staff group)."""

from __future__ import annotations

from sqlalchemy import delete, select

from core.audit import Actor, audit
from core.messages.models import StaffMember
from core.portal import Portal
from core.upsert import upsert


class StaffDirectory:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    async def map(self, telegram_user_id: int, caseworker_name: str, actor: Actor) -> None:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            await upsert(s, StaffMember.__table__, ["telegram_user_id"], {
                "telegram_user_id": telegram_user_id, "caseworker_name": caseworker_name.strip(),
                "mapped_at": now, "mapped_by": actor.id,
            })
            audit(s, actor, "staff.map", at=now, subject=f"staff:{telegram_user_id}")

    async def unmap(self, telegram_user_id: int, actor: Actor) -> bool:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            done = await s.execute(delete(StaffMember).where(StaffMember.telegram_user_id == telegram_user_id))
            audit(s, actor, "staff.unmap", at=now, subject=f"staff:{telegram_user_id}")
            return bool(done.rowcount)

    async def name_of(self, telegram_user_id: int) -> str | None:
        async with self.portal.db() as s:
            return await s.scalar(
                select(StaffMember.caseworker_name).where(StaffMember.telegram_user_id == telegram_user_id)
            )
