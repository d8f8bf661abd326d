"""Reminder benchmark: key dates and reminders for N cases (100,000 by default).

    .venv/bin/python -m bench.reminders [--cases 100000] [--seed 1] [--db-dir DIR] [--postgres]

A fresh SQLite database in a temporary folder (or, with `--postgres`, a throwaway PostgreSQL
server), migrated as in production, is seeded, untimed,
with N cases spread over the 20-week assessment and the annual review cycle as they stand on a
fixed day (Tuesday 24 Nov 2026, 09:30 UTC): each a child, a case with its request date and the
events its stage implies (decisions, draft and final plans, annual reviews, amendments, some
decision letters, mediation certificates, phase transfers, exceptions and withdrawn mistakes),
and one carer with an active access grant (a few percent with some reminder kinds switched off).

Then, timed:

  A  key dates   `core.cases.service.rebuild_key_date_index`: every case's events folded and its
                 `case_key_dates` rows rewritten, in chunks;
  B  reminders   `core.reminders.plan_all`: the open dates in the coming window joined
                 to the carers, reminder rows inserted;
     rerun       `plan_all` again, which must add nothing.

Prints the counts, the seconds of each phase and memory: the peak RSS of the process and, for
each timed phase, its peak RSS and how far that rose above the RSS before it (Linux: the peak is
reset before each phase through /proc/self/clear_refs).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.accounts.models import Account
from core.cases.events import EventKind
from core.cases.models import CaseEvent, CaseKeyDate
from core.cases.service import rebuild_key_date_index
from core.clock import FrozenClock
from core.config import Settings
from core.migrations import upgrade_async
from core.onboarding.models import AccessGrant, Case, Child, Invitation
from core.portal import Portal
from core.reminders import KINDS, plan_all
from core.reminders.models import Reminder, ReminderPreference
from core.timescales import CaseException, TransferKind
from ehcp.bootstrap import build_portal

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
TODAY = NOW.date()
CHUNK = 5000  # cases seeded per batch

K = EventKind
FORENAMES = (
    "Amelia Oliver Isla George Ava Noah Mia Arthur Ivy Leo Freya Oscar Lily Harry Grace Jack "
    "Aisha Muhammad Zara Yusuf Maya Theo Evie Alfie Ella Charlie Sofia Jacob Poppy Finley"
).split()
SURNAMES = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright Thompson "
    "Evans Walker White Roberts Green Hall Khan Wood Jackson Clarke Hussain Lewis Ahmed"
).split()
CASEWORKERS = [f"{f} {s}" for f, s in zip(FORENAMES[:20], reversed(SURNAMES[:20]), strict=True)]
# Reminder choices of the few carers who changed them in /settings (one kind or more off).
PREFERENCES = (
    {"before_7": False},
    {"before_1": False},
    {"missed": False},
    {"before_7": False, "before_1": False},
    {"before_7": False, "on_day": False, "missed": False},
)


def days(n: int) -> timedelta:
    return timedelta(days=n)


# ------------------------------------------------------------------ one case's history


class History:
    """The events of one case, as the SEND team would have recorded them up to TODAY."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.events: list[tuple[str, date, dict[str, Any]]] = []
        self.withdrawn: list[tuple[str, date, dict[str, Any]]] = []

    def add(self, kind: EventKind, on: date, details: dict[str, Any] | None = None) -> bool:
        """Record the event if its day has come; say whether it was recorded."""
        if on > TODAY:
            return False
        self.events.append((kind.value, on, details or {}))
        return True

    def late(self, usual: tuple[int, int], late: tuple[int, int], p_late: float) -> int:
        lo, hi = late if self.rng.random() < p_late else usual
        return self.rng.randint(lo, hi)

    def assessment(self, request: date, outcome: str | None = None) -> date | None:
        """The 20-week assessment from `request` (6 weeks to decide whether to assess, 16 to
        decide whether to issue, 20 for the final plan), mostly on time. `outcome` forces
        "not_assess", "not_issue" or "plan"; left to chance otherwise. Returns the final plan's
        date, or None while there is none."""
        rng = self.rng
        if rng.random() < 0.04:
            start = request + days(rng.randint(7, 60))
            self.add(K.EXCEPTION, start, {"exception": rng.choice(list(CaseException)).value})
        d1 = request + days(self.late((14, 41), (42, 70), 0.08))
        not_assess = outcome == "not_assess" or (outcome is None and rng.random() < 0.18)
        if not_assess:
            if self.add(K.DECISION_NOT_TO_ASSESS, d1) and rng.random() < 0.25:
                self.add(K.MEDIATION_CERTIFICATE, d1 + days(rng.randint(20, 55)))
            return None
        if not self.add(K.DECISION_TO_ASSESS, d1):
            return None
        d2 = request + days(self.late((84, 111), (112, 140), 0.10))
        not_issue = outcome == "not_issue" or (outcome is None and rng.random() < 0.08)
        if not_issue:
            if self.add(K.DECISION_NOT_TO_ISSUE_PLAN, d2) and rng.random() < 0.3:
                self.add(K.MEDIATION_CERTIFICATE, d2 + days(rng.randint(20, 55)))
            return None
        if not self.add(K.DECISION_TO_ISSUE_PLAN, d2):
            return None
        draft = d2 + days(rng.randint(0, 7))
        if not self.add(K.DRAFT_PLAN_SERVED, draft):
            return None
        final = max(request + days(self.late((118, 139), (140, 190), 0.15)), draft + days(15))
        return final if self.add(K.FINAL_PLAN_ISSUED, final) else None

    def reviews(self, plan: date) -> None:
        """Annual reviews from the plan's date: a meeting within 12 months of the last (a few
        late), its report within 2 weeks, and for nearly half an amendment notice within 4 weeks
        followed by an amended plan within 8."""
        rng = self.rng
        anchor = plan
        while True:
            meeting = anchor + days(self.late((250, 363), (365, 430), 0.06))
            if not self.add(K.ANNUAL_REVIEW_MEETING, meeting):
                return
            self.add(K.REVIEW_REPORT, meeting + days(self.late((2, 13), (14, 30), 0.10)))
            if rng.random() < 0.45:
                notice = meeting + days(self.late((7, 27), (28, 45), 0.10))
                if self.add(K.AMENDMENT_NOTICE, notice):
                    self.add(K.AMENDED_PLAN_ISSUED, notice + days(self.late((20, 55), (56, 90), 0.12)))
            anchor = meeting

    def phase_transfer(self, year: int, kind: TransferKind) -> None:
        """A move to secondary school or to post-16 in September `year`: recorded in the autumn
        before, the plan amended by 15 February (31 March for post-16) for most."""
        rng = self.rng
        recorded = date(year - 1, 9, 1) + days(rng.randint(0, 80))
        if not self.add(K.PHASE_TRANSFER, recorded, {"year": year, "transfer_kind": kind.value}):
            return
        deadline = date(year, 3, 31) if kind is TransferKind.POST_16 else date(year, 2, 15)
        issued = deadline - days(rng.randint(-20, 60))
        if self.add(K.AMENDMENT_NOTICE, issued - days(rng.randint(30, 50))):
            self.add(K.AMENDED_PLAN_ISSUED, issued)


def school_year_of(dob: date) -> int:
    """The September a child born on `dob` starts Reception (the year they turn 5 by August)."""
    return dob.year + 5 if dob.month >= 9 else dob.year + 4


def make_case(rng: random.Random) -> tuple[date | None, date, History]:
    """(request date, child's date of birth, history) of one case, drawn from the mix a council
    holds: most in the annual review cycle, about one in eight in the 20-week assessment."""
    h = History(rng)
    r = rng.random()
    if r < 0.01:  # a request received, its date not recorded yet
        return None, TODAY - days(rng.randint(3 * 365, 15 * 365)), h
    if r < 0.14:  # in the 20-week assessment (a few overdue), or just through it
        request = TODAY - days(rng.randint(0, 180))
        dob = TODAY - days(rng.randint(2 * 365, 17 * 365))
        plan = h.assessment(request)
        if plan is not None:
            h.reviews(plan)
        return request, dob, h
    if r < 0.18:  # an earlier request that ended without a plan
        request = TODAY - days(rng.randint(150, 900))
        dob = TODAY - days(rng.randint(3 * 365, 18 * 365))
        h.assessment(request, rng.choice(("not_assess", "not_issue")))
        return request, dob, h
    # A plan issued up to six years ago, reviewed every year since.
    dob = TODAY - days(rng.randint(4 * 365, 20 * 365))
    plan_age = rng.randint(150, min(6 * 365, (TODAY - dob).days - 2 * 365))
    request = TODAY - days(plan_age + rng.randint(118, 140))
    plan = h.assessment(request, "plan")
    assert plan is not None
    h.reviews(plan)
    reception = school_year_of(dob)
    for year, kind in ((reception + 7, TransferKind.SCHOOL), (reception + 12, TransferKind.POST_16)):
        if year in (TODAY.year, TODAY.year + 1) and rng.random() < 0.85:
            h.phase_transfer(year, kind)
    if rng.random() < 0.04:  # a decision letter (e.g. a refused reassessment): 2 months to appeal
        letter = TODAY - days(rng.randint(0, 180))
        h.add(K.DECISION_LETTER, letter, {"about": "request for a reassessment"})
        if rng.random() < 0.3:
            h.add(K.MEDIATION_CERTIFICATE, letter + days(rng.randint(20, 50)))
    if rng.random() < 0.015:  # a meeting recorded on the wrong case, withdrawn
        h.withdrawn.append((K.ANNUAL_REVIEW_MEETING.value, TODAY - days(rng.randint(1, 60)), {}))
    return request, dob, h


# ------------------------------------------------------------------ seeding


def case_rows(i: int, rng: random.Random, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """The rows of case number `i` (ids are `i`), across every table it touches."""
    request, dob, h = make_case(rng)
    forename, surname = rng.choice(FORENAMES), rng.choice(SURNAMES)
    carer = rng.choice(FORENAMES)
    created = now - days(rng.randint(1, 400))
    worker = rng.choice(CASEWORKERS) if rng.random() < 0.95 else None
    out: dict[str, list[dict[str, Any]]] = {
        "children": [
            {"id": i, "forename": forename, "surname": surname, "date_of_birth": dob, "created_at": created}
        ],
        "cases": [
            {
                "id": i,
                "child_id": i,
                "case_reference": f"EHC-{i:07d}",
                "created_at": created,
                "request_date": request,
                "requestor": "parent" if rng.random() < 0.6 else "school",
                "caseworker_name": worker,
                "caseworker_email": (
                    f"{worker.split()[0].lower()}@send.example.gov.uk" if worker else None
                ),
                "caseworker_phone": None,
                "updated_at": created,
            }
        ],
        "accounts": [
            {
                "id": i,
                "forename": carer,
                "surname": surname,
                "house": str(1 + i % 200),
                "street": "High Street",
                "area": None,
                "town": "Anytown",
                "postcode": "AB1 2CD",
                "email": f"carer{i}@example.org",
                "email_confirmed_at": created,
                "password_hash": "$argon2id$bench$not-a-real-hash",
                "password_changed_at": created,
                "created_at": created,
                "updated_at": created,
            }
        ],
        "invitations": [
            {
                "id": i,
                "child_id": i,
                "case_id": i,
                "email": f"carer{i}@example.org",
                "forename": carer,
                "surname": surname,
                "created_at": created,
                "created_by": "bench",
                "expires_at": created + days(14),
                "code_hmac": f"c{i:063x}",
                "token_digest": f"t{i:063x}",
                "sent_count": 1,
                "last_sent_at": created,
                "wrong_tries": 0,
                "verified_at": created,
                "verified_by": "code",
                "response": "accepted",
                "responded_at": created,
                "responded_account_id": i,
                "token_used_at": created,
            }
        ],
        "access_grants": [
            {
                "id": i,
                "invitation_id": i,
                "child_id": i,
                "account_id": i,
                "status": "active",
                "created_at": created,
                "responded_at": created,
                "activated_at": created,
                "activated_by": "bench",
            }
        ],
        "reminder_preferences": [],
        "case_events": [],
    }
    if rng.random() < 0.04:
        choice = dict.fromkeys(KINDS, True) | rng.choice(PREFERENCES)
        out["reminder_preferences"].append({"account_id": i, **choice, "updated_at": created})
    recorded_at = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC)
    for kind, on, details in h.events:
        out["case_events"].append(
            {
                "case_id": i,
                "kind": kind,
                "on": on,
                "details": details,
                "recorded_at": max(recorded_at - days((TODAY - on).days), created),
                "recorded_by": "bench",
                "withdrawn_at": None,
                "withdrawn_by": None,
            }
        )
    for kind, on, details in h.withdrawn:
        out["case_events"].append(
            {
                "case_id": i,
                "kind": kind,
                "on": on,
                "details": details,
                "recorded_at": now - days(1),
                "recorded_by": "bench",
                "withdrawn_at": now - days(1) + timedelta(hours=1),
                "withdrawn_by": "bench",
            }
        )
    return out


TABLES = (
    Child.__table__,
    Case.__table__,
    Account.__table__,
    Invitation.__table__,
    AccessGrant.__table__,
    ReminderPreference.__table__,
    CaseEvent.__table__,
)


async def seed(portal: Portal, cases: int, seed_value: int) -> int:
    """Insert `cases` cases with their children, carers and events. Returns how many events."""
    rng = random.Random(seed_value)
    now = portal.clock.now()
    events = 0
    for start in range(1, cases + 1, CHUNK):
        batch: dict[str, list[dict[str, Any]]] = {t.name: [] for t in TABLES}
        for i in range(start, min(start + CHUNK, cases + 1)):
            for name, rows in case_rows(i, rng, now).items():
                batch[name].extend(rows)
        events += len(batch["case_events"])
        async with portal.engine.begin() as conn:
            await insert_all(conn, batch)
    return events


async def insert_all(conn: AsyncConnection, batch: dict[str, list[dict[str, Any]]]) -> None:
    for table in TABLES:
        if batch[table.name]:
            await conn.execute(table.insert(), batch[table.name])


# ------------------------------------------------------------------ measuring


def _proc_status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_rss_mb() -> float:
    """The process's peak RSS so far (since the last reset, where one was possible)."""
    hwm = _proc_status_kb("VmHWM")
    if hwm is not None:
        return hwm / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def phase(results: dict[str, Any], name: str) -> Iterator[None]:
    """Time a phase; record its peak RSS and how far it rose above the RSS before it."""
    overall = peak_rss_mb()
    results["peak_rss_mb"] = max(results.get("peak_rss_mb", 0.0), overall)
    before = (_proc_status_kb("VmRSS") or 0) / 1024
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM (Linux 4.0 and later)
        reset = True
    except OSError:
        reset = False
    t0 = time.perf_counter()
    yield
    results[f"{name}_s"] = time.perf_counter() - t0
    peak = peak_rss_mb()
    results["peak_rss_mb"] = max(results["peak_rss_mb"], peak)
    results[f"{name}_rss_before_mb"] = before
    results[f"{name}_peak_mb"] = peak if reset else float("nan")
    results[f"{name}_growth_mb"] = peak - before if reset else float("nan")


async def count(portal: Portal, stmt: Any) -> int:
    async with portal.db() as s:
        return int(await s.scalar(stmt) or 0)


async def run(cases: int, seed_value: int, db_dir: Path | None, postgres: bool = False) -> dict[str, Any]:
    if postgres:
        from tests.postgres_server import throwaway_server

        with throwaway_server() as url:
            return await _run(cases, seed_value, db_dir, url)
    return await _run(cases, seed_value, db_dir, None)


async def _run(cases: int, seed_value: int, db_dir: Path | None, database_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ehcp-bench-") as tmp:
        folder = db_dir or Path(tmp)
        settings = Settings(
            _env_file=None, data_dir=folder, database_url=database_url, secret_key="bench-" + "x" * 40
        )
        db_path = folder / "ehcp.sqlite3"
        await upgrade_async(settings.storage.resolved_database_url())
        portal = build_portal(settings, FrozenClock(NOW))
        r: dict[str, Any] = {"cases": cases, "database": str(db_path), "load": os.getloadavg()}
        try:
            t0 = time.perf_counter()
            r["events"] = await seed(portal, cases, seed_value)
            r["seed_s"] = time.perf_counter() - t0
            r["preferences"] = await count(
                portal, select(func.count()).select_from(ReminderPreference)
            )

            with phase(r, "key_dates"):
                r["key_date_rows"] = await rebuild_key_date_index(portal)
            r["open_key_dates"] = await count(
                portal, select(func.count()).select_from(CaseKeyDate).where(CaseKeyDate.open.is_(True))
            )

            with phase(r, "plan"):
                r["planned"] = await plan_all(portal, NOW)
            with phase(r, "rerun"):
                r["rerun_added"] = await plan_all(portal, NOW)

            async with portal.db() as s:
                by_kind = (
                    await s.execute(select(Reminder.kind, func.count()).group_by(Reminder.kind))
                ).all()
                r["by_kind"] = Counter({k: n for k, n in by_kind})
                r["reminder_rows"] = sum(r["by_kind"].values())
                # Every reminder belongs to an open key date with the same due date.
                r["orphans"] = int(
                    await s.scalar(
                        select(func.count())
                        .select_from(Reminder)
                        .outerjoin(
                            CaseKeyDate,
                            and_(
                                CaseKeyDate.case_id == Reminder.case_id,
                                CaseKeyDate.key == Reminder.key,
                                CaseKeyDate.due == Reminder.due,
                                CaseKeyDate.open.is_(True),
                            ),
                        )
                        .where(CaseKeyDate.case_id.is_(None))
                    )
                    or 0
                )
            r["engine"] = "PostgreSQL" if database_url else "SQLite"
            if database_url:
                async with portal.db() as s:
                    r["db_mb"] = int(await s.scalar(text("SELECT pg_database_size(current_database())"))) / 1e6
            else:
                r["db_mb"] = sum(
                    p.stat().st_size for p in folder.glob(db_path.name + "*") if p.is_file()
                ) / 1e6
            r["peak_rss_mb"] = max(
                r["peak_rss_mb"], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            )
            return r
        finally:
            await portal.close()


def report(r: dict[str, Any]) -> None:
    kinds = ", ".join(f"{k} {r['by_kind'].get(k, 0):,}" for k in KINDS)

    def mem(name: str) -> str:
        return (
            f"peak RSS {r[name + '_peak_mb']:.0f} MB "
            f"(+{r[name + '_growth_mb']:.0f} MB over {r[name + '_rss_before_mb']:.0f} MB before)"
        )

    print(f"cases                {r['cases']:,} (one carer each; {r['preferences']:,} with some kinds off)")
    print(f"events               {r['events']:,}")
    print(f"seeding              {r['seed_s']:.1f} s (not timed below)")
    print(f"key-date rows        {r['key_date_rows']:,} ({r['open_key_dates']:,} open)")
    print(f"reminders planned    {r['planned']:,} ({kinds})")
    print(f"A key dates          {r['key_dates_s']:.2f} s  {mem('key_dates')}")
    print(f"B reminders          {r['plan_s']:.2f} s  {mem('plan')}")
    print(f"A+B                  {r['key_dates_s'] + r['plan_s']:.2f} s")
    print(f"rerun (idempotent)   {r['rerun_s']:.2f} s, added {r['rerun_added']} rows")
    print(f"reminders in table   {r['reminder_rows']:,}; without an open key date: {r['orphans']}")
    print(f"peak memory (RSS)    {r['peak_rss_mb']:.0f} MB (whole process, seeding included)")
    print(f"database             {r['db_mb']:.0f} MB ({r['engine']})")
    print(f"load average         {' '.join(f'{x:.2f}' for x in r['load'])} at start, {os.cpu_count()} CPUs")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(
        prog="python -m bench.reminders",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--cases", type=int, default=100_000, help="cases to seed (default 100000)")
    p.add_argument("--seed", type=int, default=1, help="random seed of the case mix (default 1)")
    p.add_argument(
        "--db-dir",
        type=Path,
        default=None,
        help="make and keep the database in this empty folder (default: a temporary one)",
    )
    p.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL server (Debian's)")
    args = p.parse_args(argv)
    if args.cases < 1:
        p.error("--cases must be at least 1")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    r = asyncio.run(run(args.cases, args.seed, args.db_dir, args.postgres))
    report(r)
    return r


if __name__ == "__main__":
    main()
