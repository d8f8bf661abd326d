"""What one update costs the database, counted as the database sees it (issue 13).

A parent's `/dashboard` and a typed answer to a form's question are the two updates a crowd
sends most. Each is driven through the real bot (the stand-in, the stored update, aiogram and
aiogram-dialog) while every SQL statement the engine runs is counted, and every transaction.
The budget is a ceiling: when a change makes either update cost more, this fails and says what
it ran, so the cost is a decision and not an accident. (It counts, it does not time: how fast is
measured by `make bench-updates`.)
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event, make_url

from tests.conftest import sqlite_only
from tests.stack import active_parent, window
from tests.test_forms_e2e import assign, header, notice_of

# The ceilings. Lower them when a change makes an update cheaper; never raise them quietly.
# /dashboard: the update stored; the dialogue's state read (one query for the chat); the overview
# (children and cases, events, every count); the finish: the dialogue's changed keys, the audit
# row of the read and the update marked done, in one transaction. (Before issue 13: 36
# statements in 8 writing transactions.)
DASHBOARD_STATEMENTS = 10
DASHBOARD_WRITE_TRANSACTIONS = 2
DASHBOARD_TRANSACTIONS = 4
# A typed answer: stored; state read; the response read once (one query with its access check)
# for the handler and the window after it; the answer checked and saved; the finish. (Before:
# 26 statements in 10 transactions.)
ANSWER_STATEMENTS = 7
ANSWER_WRITE_TRANSACTIONS = 3
ANSWER_TRANSACTIONS = 5


@dataclass
class Seen:
    statements: list[str] = field(default_factory=list)
    transactions: int = 0
    writes: int = 0  # transactions that changed something
    _writing: bool = False

    def report(self) -> str:
        return f"{len(self.statements)} statements, {self.transactions} transactions ({self.writes} writing):\n" + \
            "\n".join(self.statements)


@contextmanager
def counted(portal) -> Iterator[Seen]:  # noqa: ANN001
    """Every statement and transaction on the portal's engine meanwhile (the bot's and the
    inbox's; nothing else runs in these tests while an update is handled)."""
    seen = Seen()

    def on_execute(_conn, _cursor, statement, _params, _context, _many) -> None:  # noqa: ANN001
        s = " ".join(statement.split())
        low = s.lower()
        if low.startswith("begin"):
            seen.transactions += 1
            seen._writing = False
            return
        if low.startswith(("savepoint", "release", "rollback to")):
            return
        if low.startswith(("insert", "update", "delete")) and not seen._writing:
            seen._writing = True
            seen.writes += 1
        seen.statements.append(s[:160])

    engine = portal.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


async def settled(stack) -> None:  # noqa: ANN001
    """Every stored update handled and marked done (the count must include the finish). Asked
    on a connection of its own, so the check is not counted."""
    path = make_url(stack.portal.settings.storage.resolved_database_url()).database
    with closing(sqlite3.connect(path)) as db:
        for _ in range(500):
            (left,) = db.execute(
                "SELECT count(*) FROM inbound_updates WHERE processed_at IS NULL AND failed_at IS NULL"
            ).fetchone()
            if not left:
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the update was not handled")


async def quiet(stack) -> None:  # noqa: ANN001
    """Delivery stopped (its polls of the outbox are not the update's cost)."""
    stack._stop.set()
    await asyncio.sleep(0.2)


@sqlite_only  # counts the statements SQLite's driver runs
async def test_a_dashboard_update_keeps_to_its_budget(stack, stand, portal):
    alex = await active_parent(stack, stand)
    typed = await alex.send("/dashboard")
    await window(alex, "SEND Dashboard: Sam", after=typed.message_id)
    await quiet(stack)
    await settled(stack)

    with counted(portal) as seen:
        typed = await alex.send("/dashboard")  # the second: the common case, a dialogue to replace
        dash = await window(alex, "SEND Dashboard: Sam", after=typed.message_id)
        await settled(stack)
    assert any("Actions to Complete" in b.text for b in dash.buttons)
    print(seen.report())
    assert len(seen.statements) <= DASHBOARD_STATEMENTS, seen.report()
    assert seen.writes <= DASHBOARD_WRITE_TRANSACTIONS, seen.report()
    assert seen.transactions <= DASHBOARD_TRANSACTIONS, seen.report()


@sqlite_only  # counts the statements SQLite's driver runs
async def test_a_typed_answer_to_a_form_keeps_to_its_budget(stack, stand, portal):
    alex = await active_parent(stack, stand)
    await assign(stack)
    await alex.press(await notice_of(alex), "Open the form")
    await alex.press(await window(alex, header(1, "Parental Preference Form")), "Next")
    await window(alex, "What is your full name?")
    await quiet(stack)
    await settled(stack)

    with counted(portal) as seen:
        await alex.send("Alex Jones")
        await window(alex, "What is your relationship to the child or young person?")
        await settled(stack)
    print(seen.report())
    assert len(seen.statements) <= ANSWER_STATEMENTS, seen.report()
    assert seen.writes <= ANSWER_WRITE_TRANSACTIONS, seen.report()
    assert seen.transactions <= ANSWER_TRANSACTIONS, seen.report()
