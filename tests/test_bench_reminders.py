"""The reminder benchmark still runs, on 300 cases: it plans reminders, replanning adds none, and
every reminder it planned belongs to an open key date of its case with the same due date."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from bench.reminders import TODAY, main
from core.config import ReminderSettings
from core.reminders import KINDS, OFFSET_DAYS


def test_bench_reminders_300_cases(tmp_path, capsys) -> None:
    r = main(["--cases", "300", "--db-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "added 0 rows" in out

    assert r["cases"] == 300
    assert r["events"] > 300 * 3  # a realistic history, not empty cases
    assert r["key_date_rows"] > 300
    assert 0 < r["planned"] < r["open_key_dates"] * len(KINDS)
    assert r["rerun_added"] == 0
    assert r["reminder_rows"] == r["planned"]
    assert r["orphans"] == 0

    db = sqlite3.connect(r["database"])
    try:
        rows = db.execute(
            """SELECT r.case_id, r.key, r.due, r.kind, r.status, k.due, k.open, k.party
               FROM reminders r
               LEFT JOIN case_key_dates k ON k.case_id = r.case_id AND k.key = r.key"""
        ).fetchall()
        grants = dict(db.execute("SELECT child_id, account_id FROM access_grants").fetchall())
        owner = dict(db.execute("SELECT id, child_id FROM cases").fetchall())
        accounts = {
            (case_id, account_id)
            for case_id, account_id in db.execute("SELECT case_id, account_id FROM reminders")
        }
    finally:
        db.close()
    assert len(rows) == r["planned"]
    horizon = TODAY + timedelta(days=ReminderSettings.model_fields["reminder_horizon_days"].default)
    for case_id, key, due, kind, status, key_due, is_open, party in rows:
        assert key_due == due, (case_id, key)  # the key date exists, with the same due date
        assert is_open == 1, (case_id, key)
        assert status == "pending"
        assert kind in KINDS
        assert kind != "missed" or party == "council"
        day = date.fromisoformat(due) + timedelta(days=OFFSET_DAYS[kind])
        assert day <= horizon
    # Each reminder goes to the carer of that case's child.
    assert all(grants[owner[case_id]] == account_id for case_id, account_id in accounts)
