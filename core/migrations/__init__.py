"""Alembic migrations, run on start (`ehcp-bot run`) and by `ehcp-bot migrate`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision`. Safe to run again (does nothing then)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    # env.py runs its own event loop for the async driver, so run it off this loop's thread.
    await asyncio.to_thread(upgrade, url, revision)



def pending(url: str) -> bool:
    """Whether the database at `url` lacks migrations this code needs (a `web` or `worker`
    process, which never migrates, refuses to start on it: `ehcp-bot migrate` first). A database
    a newer release has migrated further (a rolling release, this process the older one) lacks
    nothing this code needs: False."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.ext.asyncio import create_async_engine

    script = ScriptDirectory.from_config(alembic_config(url))
    heads = set(script.get_heads())

    async def current() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads()))
        finally:
            await engine.dispose()

    found = asyncio.run(current())
    if found == heads:
        return False
    for rev in found:
        try:
            script.get_revision(rev)
        except Exception:  # noqa: BLE001 - a revision this code does not know: a newer release's
            return False
    return True


async def pending_async(url: str) -> bool:
    # Its own event loop for the engine, off this loop's thread (as upgrade_async).
    return await asyncio.to_thread(pending, url)
