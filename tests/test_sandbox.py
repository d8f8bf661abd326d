"""The sandbox (issue 14, first part): the real service's process with the stand-in for Telegram,
a mailbox for SMTP and a clock that moves forward, driven through the sandbox page's own HTTP
endpoints as its page drives them (a browser walk-through comes with the page's next part).

The invitation the SEND team sends from the panel arrives in the mailbox; its deep link, opened
in a parent's chat, starts the real onboarding dialogue; the page hears of each change through
its event stream; the clock moves; and whatever the environment says, the sandbox keeps to its
own folder, its own database and loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from core.clock import LONDON
from core.reminders import next_reminder_at
from ehcp.sandbox import serve
from sandbox.runtime import HOST, Sandbox
from tests.stack import free_port

INVITE = {
    "parent_email": "alex.jones@example.org", "parent_forename": "Alex", "parent_surname": "Jones",
    "child_forename": "Sam", "child_surname": "Jones", "child_date_of_birth": "2016-05-04",
    "case_reference": "EHC-0001",
}


class Runs:
    """Each run of the sandbox as `serve` starts it (a "Start again" begins another)."""

    def __init__(self) -> None:
        self.all: list[Sandbox] = []
        self._new = asyncio.Condition()

    def __call__(self, sandbox: Sandbox) -> None:
        self.all.append(sandbox)
        asyncio.get_running_loop().create_task(self._tell())

    async def _tell(self) -> None:
        async with self._new:
            self._new.notify_all()

    async def ready(self, count: int, serving: asyncio.Task[None]) -> Sandbox:
        """The `count`-th run, once its page and product are up (what stopped `serving`, if it stopped)."""
        async with self._new:
            waiting = asyncio.create_task(self._new.wait_for(lambda: len(self.all) >= count))
            await asyncio.wait([serving, waiting], timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if serving.done():
            serving.result()
            raise AssertionError("the sandbox stopped")
        assert waiting.done(), "the sandbox did not start again"
        ready = asyncio.create_task(self.all[count - 1].ready.wait())
        await asyncio.wait([serving, ready], timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if serving.done():
            serving.result()
        assert ready.done(), "the sandbox was not ready within 60 s"
        return self.all[count - 1]


class Page:
    """What the sandbox's page does, over HTTP."""

    def __init__(self, runs: Runs, url: str, http: aiohttp.ClientSession, serving: asyncio.Task[None]) -> None:
        self.runs, self.url, self.http, self.serving = runs, url, http, serving

    @property
    def sandbox(self) -> Sandbox:
        """The sandbox as it runs now."""
        return self.runs.all[-1]

    async def state(self) -> dict:
        async with self.http.get(self.url + "/api/state") as r:
            assert r.status == 200
            return await r.json()

    async def post(self, path: str, body: object) -> tuple[int, object]:
        async with self.http.post(self.url + path, data=json.dumps(body)) as r:
            text = await r.text()
            try:
                return r.status, json.loads(text)
            except ValueError:
                return r.status, text

    async def until(self, check, what: str):  # noqa: ANN001, ANN201
        """Wait, change by change (the sandbox's own change counter), until `check(state)` gives
        something; then return it."""
        for _ in range(200):
            version = self.sandbox.changes.version
            found = check(await self.state())
            if found:
                return found
            await self.sandbox.changes.after(version, 10)
        raise AssertionError(f"never saw {what}")


@asynccontextmanager
async def running(tmp_path: Path, *, demo: bool) -> AsyncIterator[Page]:
    """`ehcp-bot sandbox` as it runs (ehcp.sandbox.serve), its folder in `tmp_path`."""
    runs = Runs()
    port = free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(tmp_path / "sandbox", port, stop, demo=demo, each_run=runs))
    try:
        await runs.ready(1, task)
        async with aiohttp.ClientSession() as http:
            yield Page(runs, f"http://{HOST}:{port}", http, task)
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


@pytest.fixture
async def page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Page]:
    # Whatever the environment says, the sandbox keeps to its own folder and never to Telegram.
    monkeypatch.setenv("EHCP_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'real.sqlite3'}")
    monkeypatch.setenv("EHCP_TELEGRAM_API_BASE", "http://192.0.2.1:9")
    monkeypatch.setenv("EHCP_BOT_TOKEN", "1:real-token-never-used")
    async with running(tmp_path, demo=False) as p:
        yield p


async def test_the_first_start_makes_the_demo_families_and_a_restart_keeps_them(tmp_path: Path):
    async with running(tmp_path, demo=True) as page:
        await page.sandbox.ready.wait()
        s = await page.until(lambda s: s if len(s["parents"]) == 3 and s["mail"] else None, "the demo families")
        names = [p["name"] for p in s["parents"]]
        assert names == ["Alex", "Priya", "Tom"]
        assert any(m["subject"] == "Accept Portal Invitation" and m["to"] == "alex.jones@example.org" for m in s["mail"])

        def priya_told(s: dict):  # noqa: ANN202
            chat = next(p for p in s["parents"] if p["name"] == "Priya")["chat"]
            text = " ".join(m["html"] for m in chat)
            return chat if ("Jo Smith" in text and "Parental Preference Form" in text
                            and "activated your access for Maya" in text) else None

        chat = await page.until(priya_told, "Priya's notices: access, Jo's reply, the form")

        def tom_asked(s: dict):  # noqa: ANN202
            chat = next(p for p in s["parents"] if p["name"] == "Tom")["chat"]
            return chat if any("A form to complete for Leo" in m["html"] for m in chat) else None

        await page.until(tom_asked, "Tom asked for Leo's preference")
        assert any(b["text"] for m in chat for row in m["buttons"] for b in row)
        assert page.sandbox.seeded
    # A second start finds them there and makes no more.
    async with running(tmp_path, demo=True) as again:
        s = await again.state()
        assert [p["name"] for p in s["parents"]] == ["Alex", "Priya", "Tom"]
        status, invitations = await again.post("/api/team", {"method": "GET", "path": "/v1/invitations"})
        assert status == 200
        items = invitations["items"] if isinstance(invitations, dict) else invitations
        assert sorted(i["case_reference"] for i in items) == ["EHC-0001", "EHC-0002", "EHC-0003"]


async def test_the_page_says_sandbox_and_keeps_to_its_own_folder_and_loopback(page: Page, tmp_path: Path):
    async with page.http.get(page.url + "/") as r:
        html = await r.text()
    assert r.status == 200 and "<strong>Sandbox</strong>" in html
    settings = page.sandbox.settings
    assert settings.storage.resolved_database_url().endswith(str(tmp_path / "sandbox" / "ehcp.sqlite3"))
    assert settings.telegram.telegram_api_base == page.sandbox.stand.base_url
    assert settings.telegram.bot_token.get_secret_value() != "1:real-token-never-used"
    assert {settings.http.api_host, settings.http.web_host, settings.mail.smtp_host} == {"127.0.0.1"}
    assert (tmp_path / "sandbox" / "ehcp.sqlite3").exists() and not (tmp_path / "real.sqlite3").exists()


async def test_an_invitation_from_the_team_panel_reaches_the_mailbox_and_its_link_the_chat(page: Page):
    status, invitation = await page.post("/api/team", {"method": "POST", "path": "/v1/invitations", "json": INVITE})
    assert status == 201, invitation
    mail = await page.until(lambda s: next((m for m in s["mail"] if m["to"] == INVITE["parent_email"]), None),
                            "the invitation email")
    assert mail["subject"] == "Accept Portal Invitation"
    link = next(x for x in mail["links"] if x.startswith("https://t.me/ehcp_sandbox_bot?start="))

    status, parent = await page.post("/api/parents", {"name": "Alex"})
    assert status == 200
    await page.post(f"/api/parents/{parent['id']}/send", {"text": "/start " + link.split("start=")[1]})

    def said(part: str):  # noqa: ANN202
        def check(s: dict):  # noqa: ANN202
            chat = next(p for p in s["parents"] if p["id"] == parent["id"])["chat"]
            return next((m for m in chat if m["from"] == "bot" and part in m["html"]), None)
        return check

    asked = await page.until(said("unique code"), "the bot asking for the unique code")
    assert "Verify your identity" in asked["html"]
    # Only Telegram's own formatting reaches the page as HTML; the rest is escaped text.
    assert "<" not in re.sub(r"</?(b|i|u|s|code|pre|a|blockquote|span)\b[^>]*>", "", asked["html"])

    code = re.search(r"verification code is: (\S+)", mail["text"]).group(1)
    await page.post(f"/api/parents/{parent['id']}/send", {"text": code})
    await page.until(said("identity is confirmed for Sam"), "the identity confirmed")


async def test_the_event_stream_says_when_something_changed(page: Page):
    async with page.http.get(page.url + "/events") as stream:
        first = await stream.content.readline()
        assert first.startswith(b"data: ")
        await stream.content.readline()  # the blank line that ends the event
        _, parent = await page.post("/api/parents", {"name": "Jo"})
        await page.post(f"/api/parents/{parent['id']}/send", {"text": "/start"})
        nxt = await asyncio.wait_for(stream.content.readline(), 10)
        assert nxt.startswith(b"data: ") and int(nxt.split()[1]) > int(first.split()[1])


async def test_start_again_forgets_everything_and_starts_afresh_on_the_same_address(page: Page, tmp_path: Path):
    """The page's "Start again": this run stops, the folder is forgotten, a new run serves the
    same address; the added parent, the moved clock and the invitation are gone."""
    first = page.sandbox
    _, parent = await page.post("/api/parents", {"name": "Robin"})
    await page.post("/api/clock", {"step": "week"})
    status, _ = await page.post("/api/team", {"method": "POST", "path": "/v1/invitations", "json": INVITE})
    assert status == 201
    async with page.http.get(page.url + "/events") as stream:
        await stream.content.readline()
        status, _ = await page.post("/api/start-again", {})
        assert status == 200
        with contextlib.suppress(aiohttp.ClientPayloadError):  # the stream ends with the run
            await asyncio.wait_for(stream.content.read(), 30)
    fresh = await page.runs.ready(2, page.serving)
    assert fresh is not first and page.sandbox is fresh
    s = await page.state()
    assert s["parents"] == [] and s["mail"] == []
    assert fresh.clock.offset == timedelta(0)
    status, invitations = await page.post("/api/team", {"method": "GET", "path": "/v1/invitations"})
    assert status == 200 and (invitations["items"] if isinstance(invitations, dict) else invitations) == []
    assert json.loads((tmp_path / "sandbox" / "sandbox.json").read_text())["parents"] == []


async def test_the_clock_moves_forward_only_and_is_kept(page: Page):
    before = page.sandbox.clock.now()
    status, _ = await page.post("/api/clock", {"step": "day"})
    assert status == 200
    moved = page.sandbox.clock.now() - before
    assert 86_400 <= moved.total_seconds() < 86_400 + 60
    status, _ = await page.post("/api/clock", {"step": "back a year"})
    assert status == 400
    kept = json.loads((page.sandbox.data_dir / "sandbox.json").read_text())
    assert kept["clock_offset_s"] == 86_400


async def test_bad_input_to_the_page_is_refused_plainly(page: Page):
    _, parent = await page.post("/api/parents", {"name": "Sam"})
    assert (await page.post(f"/api/parents/{parent['id']}/send", {"text": "   "}))[0] == 400
    assert (await page.post(f"/api/parents/{parent['id']}/press", {"message_id": 99999, "data": "x"}))[0] == 404
    assert (await page.post("/api/parents/12345/send", {"text": "hi"}))[0] == 404
    assert (await page.post("/api/parents", {"name": ""}))[0] == 400
    assert (await page.post("/api/team", {"method": "POST", "path": "/admin"}))[0] == 400
    async with page.http.post(page.url + "/api/parents", data=b"not json") as r:
        assert r.status == 400


async def test_a_caseworker_writes_in_the_family_topic_and_the_parent_gets_it(tmp_path: Path):
    async with running(tmp_path, demo=True) as page:
        # Priya's message opened her family's topic in the staff group.
        def topic(s: dict):  # noqa: ANN202
            return next((t for t in s["staff"]["topics"]
                         if "Maya Shah" in t["name"] and any("speech and language" in p["html"] for p in t["posts"])),
                        None)

        found = await page.until(topic, "Maya's topic in the staff group, with Priya's message")
        caseworkers = (await page.state())["staff"]["caseworkers"]
        assert [c["name"] for c in caseworkers] == ["Jo Smith", "Sam Patel"]
        sam = caseworkers[1]["id"]
        status, _ = await page.post("/api/staff/send", {"caseworker_id": sam, "thread_id": found["thread_id"],
                                                         "text": "Hello Priya, Sam here. Jo is away this week."})
        assert status == 200

        def priya_got_it(s: dict):  # noqa: ANN202
            chat = next(p for p in s["parents"] if p["name"] == "Priya")["chat"]
            return next((m for m in chat if "New message from Sam Patel" in m["html"]), None)

        await page.until(priya_got_it, "Sam's reply in Priya's chat")
        bad = await page.post("/api/staff/send", {"caseworker_id": 1, "thread_id": found["thread_id"], "text": "x"})
        assert bad[0] == 404


@pytest.mark.parametrize("start", ["as it is", "in quiet hours"])
async def test_the_clock_goes_to_the_next_reminder_and_the_reminder_arrives(tmp_path: Path, start: str):
    """Whatever the time of day: a visitor at 22:00 (quiet hours, when reminders wait for the
    morning) whose next reminder is already due is moved to the morning, not left where it is
    with a reminder that cannot go yet."""
    async with running(tmp_path, demo=True) as page:
        await page.until(lambda s: s if page.sandbox.seeded else None, "the demo families")
        if start == "in quiet hours":  # 22:00 on the next reminder's own day: it is due, and held
            due = await next_reminder_at(page.sandbox.portal)
            assert due is not None and due > page.sandbox.clock.now()
            evening = due.astimezone(LONDON).replace(hour=22, minute=0, second=0, microsecond=0)
            page.sandbox.advance(max(evening, due + timedelta(minutes=1)) - page.sandbox.clock.now())
        before = page.sandbox.clock.now()
        status, moved = await page.post("/api/clock", {"step": "reminder"})
        assert status == 200, moved
        assert page.sandbox.clock.now() > before

        def reminded(s: dict):  # noqa: ANN202
            return next((m for p in s["parents"] for m in p["chat"] if "Reminder for" in m["html"]), None)

        got = await page.until(reminded, "a reminder in a family's chat")
        assert "⏰" in got["html"]


def test_a_reset_forgets_only_a_sandbox_folder(tmp_path: Path):
    from sandbox.runtime import reset

    mine = tmp_path / "sandbox"
    mine.mkdir()
    (mine / "sandbox.json").write_text("{}")
    (mine / "ehcp.sqlite3").write_text("")
    assert reset(mine) and not mine.exists()
    real = tmp_path / "var"  # not a sandbox's folder: left alone
    real.mkdir()
    (real / "ehcp.sqlite3").write_text("")
    assert not reset(real) and (real / "ehcp.sqlite3").exists()
