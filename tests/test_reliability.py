"""Never down for one bad input, nothing handled twice: malformed and repeated updates.

The fault-injection tests run the product as an operator does (`ehcp-bot run`, its own process)
against the Bot API stand-in, and watch it from outside: the parents' chats, the caseworker API,
the database file, the operator's command line.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest

from core.inbox import UpdateInbox
from core.migrations import upgrade_async
from ehcp.bootstrap import build_portal
from tests.service import ServiceProcess, service_settings


def broken_member_update(user) -> dict:  # noqa: ANN001
    """A my_chat_member update with a field missing: aiogram cannot read it (seen in the wild:
    one such update used to stop polling, and the whole process, on every start)."""
    return {
        "my_chat_member": {
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": {"id": user.id, "is_bot": False, "first_name": user.first_name},
            # "date" is missing
            "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "b"}},
            "new_chat_member": {"status": "kicked", "user": {"id": 1, "is_bot": True, "first_name": "b"},
                                "until_date": 0},
        }
    }


@pytest.fixture
def service_dir(tmp_path: Path) -> Path:
    d = tmp_path / "service"
    d.mkdir()
    return d


@pytest.fixture
async def service(service_dir, stand):
    svc = ServiceProcess(service_dir, stand)
    yield svc
    if svc.alive():
        await svc.stop()


async def failed_updates(service_dir: Path) -> list:
    settings = service_settings(service_dir)
    await upgrade_async(settings.storage.resolved_database_url())
    portal = build_portal(settings)
    try:
        return await UpdateInbox(portal, bot_id=None).failed()
    finally:
        await portal.close()


async def test_an_unreadable_update_is_kept_as_failed_and_the_service_goes_on(service, stand, service_dir):
    await service.start()
    alex = stand.user(first_name="Alex")
    await alex.send("/start")
    await alex.wait_for(lambda m: "Main menu" in m.text)

    bad_id = stand.inject_update(broken_member_update(alex))
    await alex.send("/help")
    await alex.wait_for(lambda m: "What this chat can do" in m.text)
    await stand.drain(10)  # every update, the bad one too, was confirmed to Telegram

    # The process is up, the API answers, the bad update is recorded as failed with its reason.
    assert service.alive()
    async with aiohttp.ClientSession() as http, http.get(service.api_url + "/v1/health") as r:
        assert r.status == 200
    [failed] = await failed_updates(service_dir)
    assert failed.update_id == bad_id and failed.chat_id == alex.id
    assert "date" in failed.error and failed.attempts == 0
    assert json.loads(failed.payload)["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    assert service.log().count(f"update {bad_id} cannot be read") == 1  # logged once, with its id

    # The operator sees it.
    shown = service.cli("updates", "failed")
    assert shown.returncode == 0 and f"update {bad_id}" in shown.stdout and "1 failed" in shown.stdout

    # A restart does not fetch it again, nor handle it; the next updates go on.
    assert await service.stop() == 0
    await service.start()
    await alex.send("/help")
    await alex.wait_for(lambda m: "What this chat can do" in m.text)
    assert stand.pending_updates == []
    assert [f.update_id for f in await failed_updates(service_dir)] == [bad_id]
    assert service.log().count(f"update {bad_id} cannot be read") == 1
    assert "Traceback" not in service.log()


async def test_getupdates_answers_that_cannot_be_read_do_not_stop_the_service(service, stand, monkeypatch):
    """Telegram (or a proxy in front of it) answers getUpdates with something that is not the Bot
    API's JSON: the bot waits and asks again; nothing else notices."""
    await service.start()
    real_call = stand.server.call
    broken = {"n": 3}

    async def flaky(method, params):  # noqa: ANN001, ANN202
        if method.lower() == "getupdates" and broken["n"] > 0:
            broken["n"] -= 1
            return ["not", "updates"]  # a result of the wrong shape
        return await real_call(method, params)

    monkeypatch.setattr(stand.server, "call", flaky)
    for _ in range(300):  # the bot meets the three bad answers (it backs off 1, 2, 4 s)
        if broken["n"] == 0:
            break
        await asyncio.sleep(0.1)
    assert broken["n"] == 0 and service.alive()
    alex = stand.user(first_name="Alex")
    await alex.send("/start")
    await alex.wait_for(lambda m: "Main menu" in m.text, timeout=30)
    assert service.log().count("getUpdates failed (ClientDecodeError)") == 3


# --- repeated update_ids ---------------------------------------------------------------------------


def start_update(user, update_id: int) -> dict:  # noqa: ANN001
    return {
        "update_id": update_id,
        "message": {
            "message_id": 900 + update_id % 100, "date": 1_700_000_000,
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": {"id": user.id, "is_bot": False, "first_name": user.first_name},
            "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


def menus(user) -> int:  # noqa: ANN001
    """Messages that ever showed the main menu (a window may have moved on since)."""
    return sum(1 for m in user.messages if any("Main menu" in t for t in [*m.versions, m.text]))


async def test_the_same_update_id_in_one_batch_and_across_batches_is_handled_once(portal, stand):
    from tests.harness import RunningBot

    alex = stand.user(first_name="Alex")
    # Five copies of one /start, queued before the bot polls: one getUpdates batch.
    for _ in range(5):
        stand.inject_update(start_update(alex, 5000))
    bot = await RunningBot(portal, stand).start()
    try:
        await alex.wait_for(lambda m: "Main menu" in m.text)
        await stand.drain()
        alex.mark_read()
        await alex.ensure_no_message(0.5)
        assert menus(alex) == 1
        assert sum(1 for m in alex.messages if "your privacy" in m.text) == 1

        # A button press delivered three times in one batch: handled once, answered once.
        menu = [m for m in alex.messages if "Main menu" in m.text][-1]
        await bot.stop()
        answer = await alex.press(menu, "Help", wait=False)
        press = next(u for u in stand.pending_updates if u["update_id"] == answer.update_id)
        stand.inject_update(press)
        stand.inject_update(press)
        stand.world.stats.requests.clear()
        await bot.start()
        await alex.wait_for(lambda m: "What this chat can do" in m.text, include_consumed=True)
        await stand.drain()
        alex.mark_read()
        await alex.ensure_no_message(0.5)
        assert answer.answered
        assert stand.stats.requests["answerCallbackQuery"] == 1
        assert sum(1 for m in alex.messages if "What this chat can do" in m.text) == 1
        assert not any("no longer works" in t for m in alex.messages for t in [*m.versions, m.text])

        # The same /start again in a later batch, and after a restart: dropped.
        stand.inject_update(start_update(alex, 5000))
        await stand.drain()
        await bot.restart()
        stand.inject_update(start_update(alex, 5000))
        await stand.drain()
        await alex.ensure_no_message(0.5)
        assert menus(alex) == 1
        inbox = UpdateInbox(portal, stand.bot_id)
        assert await inbox.counts() == {"pending": 0, "failed": 0}
    finally:
        await bot.stop()


# --- failures while handling ---------------------------------------------------------------------


class _Bot:
    """The bot as the service runs it, with an extra router of the test's own."""

    def __init__(self, portal, stand, router) -> None:  # noqa: ANN001
        self.portal, self.stand, self.router = portal, stand, router

    async def __aenter__(self) -> _Bot:
        from bot.factory import create_bot, create_dispatcher
        from bot.updates import run_polling
        from notifications.pacing import attach
        from notifications.worker import make_pacer
        from tests.harness import point_at

        point_at(self.portal, self.stand)
        self.bot = attach(create_bot(self.portal.settings), make_pacer(self.portal.settings))
        dp = create_dispatcher(self.portal, extra_routers=[self.router])
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(
            run_polling(self.bot, dp, UpdateInbox(self.portal, self.stand.bot_id), self.stop, poll_timeout=1)
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 10)
        await self.bot.session.close()


def locked() -> Exception:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    return OperationalError("UPDATE dialog_state", {}, sqlite3.OperationalError("database is locked"))


async def test_a_busy_database_while_handling_is_tried_again_in_the_process(portal, stand, monkeypatch):
    from aiogram import Router
    from aiogram.filters import Command

    import bot.updates

    monkeypatch.setattr(bot.updates, "RETRY_DELAYS", (0.05,))
    calls = {"flaky": 0, "broken": 0}
    router = Router()

    @router.message(Command("flaky"))
    async def flaky(message) -> None:  # noqa: ANN001
        calls["flaky"] += 1
        if calls["flaky"] < 3:
            raise locked()
        await message.answer("Done at last.")

    @router.message(Command("broken"))
    async def broken(message) -> None:  # noqa: ANN001
        calls["broken"] += 1
        raise RuntimeError("a fault in a handler")

    alex = stand.user(first_name="Alex")
    async with _Bot(portal, stand, router):
        await alex.send("/flaky")
        await alex.wait_for(lambda m: m.text == "Done at last.")
        await alex.send("/broken")
        await alex.wait_for(lambda m: "something went wrong on our side" in m.text)  # told once
        await alex.send("/help")  # the next update goes on
        await alex.wait_for(lambda m: "What this chat can do" in m.text)
        await stand.drain()
        inbox = UpdateInbox(portal, stand.bot_id)
        for _ in range(100):
            if (await inbox.counts())["pending"] == 0:
                break
            await asyncio.sleep(0.05)
    assert calls == {"flaky": 3, "broken": 2}  # a busy database: tried again; a fault: twice, then given up
    [failed] = await inbox.failed()
    assert failed.attempts == 2 and failed.error == "RuntimeError: a fault in a handler"
    assert json.loads(failed.payload)["message"]["text"] == "/broken"
    assert await inbox.counts() == {"pending": 0, "failed": 1}
