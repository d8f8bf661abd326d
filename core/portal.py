"""The portal service's composition: what every service needs, built by a factory (no globals)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import Clock, SystemClock
from core.config import Settings
from core.db import SessionFactory, create_engine, create_session_factory
from core.events import EventBus
from core.security import load_secret_key

if TYPE_CHECKING:
    from core.notices import NoticeWriter

log = logging.getLogger(__name__)


@dataclass
class Portal:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    db: SessionFactory
    secret_key: bytes
    events: EventBus = field(default_factory=EventBus)  # what follows a change (core.events)
    notices: NoticeWriter | None = None  # the renderers of family notices (core.notices)

    async def reachable(self, within: float = 5.0) -> bool:
        """Does the database answer (for health checks)? Any failure is logged and means no."""
        try:
            async with self.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), within)
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            log.warning("health check: the database is not reachable", exc_info=True)
            return False
        return True

    async def close(self) -> None:
        gate = self.db.write_gate
        if gate is not None and gate.turns:
            log.info("database: %d write transactions, the longest wait for a turn %.0f ms",
                     gate.turns, gate.longest_wait * 1000)
        await self.engine.dispose()


def create_portal(settings: Settings, clock: Clock | None = None) -> Portal:
    engine = create_engine(
        settings.storage.resolved_database_url(),
        busy_timeout_ms=settings.storage.sqlite_busy_timeout_ms,
        synchronous=settings.storage.sqlite_synchronous,
        inline_sqlite=settings.storage.sqlite_inline,
    )
    portal = Portal(
        settings=settings,
        clock=clock or SystemClock(),
        engine=engine,
        db=create_session_factory(engine, busy_timeout_ms=settings.storage.sqlite_busy_timeout_ms),
        secret_key=load_secret_key(settings.storage.secret_key, settings.storage.data_dir),
    )
    _subscribe_core(portal)
    return portal


def _subscribe_core(portal: Portal) -> None:
    """The core's own follow-ups (the faces add theirs in the composition root, ehcp.bootstrap):
    family notices are written by the notice writer; changes to a case's dates, a carer's access
    or a form's due date replan reminders."""
    from core import notices
    from core.reminders.service import subscribe as subscribe_reminders

    portal.notices = notices.install(portal.events)
    subscribe_reminders(portal.events, portal.settings.reminders)
