"""INSERT ... ON CONFLICT for the two dialects we run on (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def _insert_for(session: AsyncSession, table):  # noqa: ANN001, ANN202
    name = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


async def insert_ignore(session: AsyncSession, table, values: list[dict[str, Any]] | dict[str, Any]) -> int:  # noqa: ANN001
    """Insert rows, skipping any whose key already exists. Returns how many were inserted."""
    if not values:
        return 0
    stmt = _insert_for(session, table).values(values).on_conflict_do_nothing()
    result = await session.execute(stmt)
    return result.rowcount or 0


async def upsert(session: AsyncSession, table, keys: list[str], values: dict[str, Any]) -> None:  # noqa: ANN001
    """Insert a row, or update its non-key columns if a row with these keys exists."""
    stmt = _insert_for(session, table).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={k: v for k, v in values.items() if k not in keys}
    )
    await session.execute(stmt)
