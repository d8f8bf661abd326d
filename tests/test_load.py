"""A busy minute on SQLite: parents tapping in the chat while the case system reads and writes
through the API, all at once, for 60 seconds, on the 2-core machine.

What must hold: no API answer is a 5xx, every parent's command is answered, none is answered
twice, and no update is left waiting or given up. (Speed is measured in bench/, not here.)
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import aiohttp

from core.inbox import UpdateInbox
from ehcp.bootstrap import build_portal
from tests.conftest import sqlite_only
from tests.service import ServiceProcess, seed_families, service_settings

PARENTS = 12
SECONDS = 60


def dashboards(user) -> int:  # noqa: ANN001
    """Dashboard windows the bot sent (each /dashboard sends one; an old one loses its buttons)."""
    return sum(1 for m in user.messages if any("SEND Dashboard: " in t for t in [*m.versions[:1], m.text]))


@sqlite_only  # SQLite under load: its busy timeout and write gate
async def test_a_busy_minute_on_sqlite_answers_everyone_once_and_never_5xx(stand, tmp_path):
    rng = random.Random(7)
    data_dir = tmp_path / "service"
    data_dir.mkdir()
    token, families = await seed_families(data_dir, stand, PARENTS)
    service = ServiceProcess(data_dir, stand)
    statuses: Counter[int] = Counter()
    five_xx: list[str] = []
    commands: Counter[int] = Counter()  # /dashboard sent, by chat
    unanswered: list[str] = []
    stop_at = 0.0

    async def parent(fam) -> None:  # noqa: ANN001
        user = fam.user
        while time.monotonic() < stop_at:
            before = dashboards(user)
            await user.send("/dashboard")
            commands[user.id] += 1
            try:
                await user.wait_until(lambda u=user, b=before: dashboards(u) > b, timeout=20,
                                      what="the dashboard")
            except AssertionError:
                unanswered.append(f"/dashboard in chat {user.id}")
            await asyncio.sleep(rng.uniform(0.5, 2.0))

    async def api(http: aiohttp.ClientSession, method: str, path: str, body: dict | None = None,
                  key: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        if key:
            headers["Idempotency-Key"] = key
        async with http.request(method, service.api_url + path, json=body, headers=headers) as r:
            statuses[r.status] += 1
            if r.status >= 500:
                five_xx.append(f"{method} {path}: {r.status} {await r.text()}")

    async def case_system_reads() -> None:
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < stop_at:
                fam = rng.choice(families)
                await api(http, "GET", "/v1/messages?after=0&limit=100")
                await api(http, "GET", f"/v1/cases/{fam.ref}")
                await api(http, "GET", "/v1/key-dates?within_days=14")
                await asyncio.sleep(0.05)

    async def case_system_writes() -> None:
        n = 0
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < stop_at:
                n += 1
                fam = rng.choice(families)
                await api(http, "POST", f"/v1/cases/{fam.ref}/messages", {
                    "sender_name": "Jo Smith", "account_id": fam.account_id, "subject": f"Load {n}",
                    "text": "A message from the SEND team.",
                }, key=f"load-{n}")
                await asyncio.sleep(0.2)

    try:
        await service.start()
        stop_at = time.monotonic() + SECONDS
        await asyncio.gather(
            *(parent(f) for f in families), case_system_reads(), case_system_reads(), case_system_writes(),
        )
        await stand.drain(20)
        await asyncio.sleep(2)  # the last updates' answers
    finally:
        log = service.log()
        if service.alive():
            await service.stop()

    portal = build_portal(service_settings(data_dir))
    try:
        counts = await UpdateInbox(portal, bot_id=None).counts()
    finally:
        await portal.close()

    print(f"\nAPI answers by status: {dict(statuses)}; /dashboard sent: {sum(commands.values())}")
    assert five_xx == []
    assert sum(statuses.values()) > 1000 and statuses[201] > 100  # the load was real
    assert unanswered == []
    for fam in families:  # each command answered exactly once
        assert dashboards(fam.user) == commands[fam.user.id], fam.user.transcript()
    assert counts == {"pending": 0, "failed": 0}
    assert "database is locked" not in log and "Traceback" not in log
