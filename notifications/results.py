"""Writing what became of a delivery, for a row this worker holds under lease."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Update
from sqlalchemy.exc import OperationalError

from core.portal import Portal


async def record_leased(
    portal: Portal, stmt: Update, *, tries: int, log: logging.Logger | None = None, what: str = ""
) -> bool:
    """Run `stmt` (an UPDATE of a row still leased to this worker) in its own transaction, again
    on a database error (`tries` times at most): a send whose result is lost would be sent again.
    With `log`, each retry is logged as `what`'s. False when no row matched (the lease was lost)."""
    for attempt in range(tries):
        try:
            async with portal.db() as session, session.begin():
                res = await session.execute(stmt.execution_options(synchronize_session=False))
            break
        except OperationalError:
            if attempt == tries - 1:
                raise
            if log is not None:
                log.warning("%s: recording the result failed, trying again", what)
            await asyncio.sleep(0.2 * (attempt + 1))
    return res.rowcount == 1
