"""The portal service's composition: what every service needs, built by a factory (no globals)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import Clock, SystemClock
from core.config import Settings
from core.db import SessionFactory, create_engine, create_session_factory
from core.security import load_secret_key

log = logging.getLogger(__name__)


@dataclass
class Portal:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    db: SessionFactory
    secret_key: bytes

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
    )
    return Portal(
        settings=settings,
        clock=clock or SystemClock(),
        engine=engine,
        db=create_session_factory(engine, busy_timeout_ms=settings.storage.sqlite_busy_timeout_ms),
        secret_key=load_secret_key(settings.storage.secret_key, settings.storage.data_dir),
    )
