"""The portal service's composition: what every service needs, built by a factory (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import Clock, SystemClock
from core.config import Settings
from core.db import SessionFactory, create_engine, create_session_factory
from core.security import load_secret_key


@dataclass
class Portal:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    db: SessionFactory
    secret_key: bytes

    async def close(self) -> None:
        await self.engine.dispose()


def create_portal(settings: Settings, clock: Clock | None = None) -> Portal:
    engine = create_engine(
        settings.storage.resolved_database_url(), busy_timeout_ms=settings.storage.sqlite_busy_timeout_ms
    )
    return Portal(
        settings=settings,
        clock=clock or SystemClock(),
        engine=engine,
        db=create_session_factory(engine),
        secret_key=load_secret_key(settings.storage.secret_key, settings.storage.data_dir),
    )
