"""The operator's log: one line per request, whatever the request holds, and no chatter.

- A control character in a request (`%0A` in a path) is written escaped in the access logs of
  the caseworker API and of the parents' pages: nobody reaching the port can forge a log line.
- APScheduler's two INFO lines for every run of every job ("Running job ...", "... executed
  successfully": some 170,000 lines a day with ticks every second) stay out of the log, unless
  EHCP_LOG_LEVEL=DEBUG asks for everything.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
from apscheduler.events import EVENT_JOB_EXECUTED
from yarl import URL

from api import bound_port, start_api
from core.models import InboundUpdate
from core.text import one_line
from ehcp.logs import setup_logging
from notifications.mail import Mailer
from notifications.scheduler import build_scheduler
from tests.stack import count
from web import bound_port as web_port
from web import start_web
from web.account_pages import account_pages

FORGED = "%0A2026-11-24%2014:00:00,000%20INFO%20ehcp.api.access:%2010.0.0.1%20POST%20/v1/chats/1/revoke%20200"


@contextmanager
def written(logger_name: str) -> Iterator[io.StringIO]:
    """What the logger writes, formatted one record a line as the process's log does."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def get_raw(url: str) -> int:
    """GET exactly this URL (already percent-encoded: the client must not touch it)."""
    async with aiohttp.ClientSession() as http, http.get(URL(url, encoded=True)) as r:
        await r.read()
        return r.status


async def lines_once_written(out: io.StringIO, expect: int) -> list[str]:
    """The log's lines once `expect` requests were logged (the line comes after the response)."""
    for _ in range(100):
        lines = out.getvalue().splitlines()
        if len(lines) >= expect:
            return lines
        await asyncio.sleep(0.02)
    return out.getvalue().splitlines()


# ------------------------------------------------------------------ access logs


async def test_a_newline_in_an_api_path_is_logged_escaped_on_one_line(portal) -> None:
    runner = await start_api(portal, [], port=0, purge_every=None)
    try:
        base = f"http://127.0.0.1:{bound_port(runner)}"
        with written("ehcp.api.access") as out:
            assert await get_raw(f"{base}/v1/x%0Afake%20line") == 404
            assert await get_raw(f"{base}/v1/y%0D%0A{FORGED}%1B[2J%E2%80%A8") == 404
            assert await get_raw(f"{base}/v1/not a valid request line") == 400
            lines = await lines_once_written(out, 3)
    finally:
        await runner.cleanup()
    assert len(lines) == 3, lines
    assert lines[0].startswith("INFO ehcp.api.access: ") and "GET /v1/x\\nfake line 404" in lines[0], lines
    assert "/v1/y\\r\\n\\n2026-11-24" in lines[1] and "\\x1b[2J\\u2028 404" in lines[1], lines


async def test_the_pages_access_log_writes_one_line_per_request(portal) -> None:
    runner = await start_web(portal, [account_pages()], port=0)
    try:
        base = f"http://127.0.0.1:{web_port(runner)}"
        with written("ehcp.web.access") as out:
            await get_raw(f"{base}/p/x%0Afake%20line")
            await get_raw(f"{base}/nothing%0A{FORGED}")
            assert await get_raw(f"{base}/p/not a valid request line") == 400  # logged too, not a crash
            lines = await lines_once_written(out, 3)
    finally:
        await runner.cleanup()
    assert len(lines) == 3, lines
    assert all(line.startswith("INFO ehcp.web.access: ") for line in lines), lines
    assert "fake" not in "".join(lines)  # the pages log the route, never the path (it holds tokens)


def test_what_comes_from_a_request_is_escaped_for_the_log() -> None:
    escape = one_line
    assert escape("/v1/cases/EHC-123") == "/v1/cases/EHC-123"
    assert escape("/v1/café x") == "/v1/café x"
    assert escape("a\nb\rc\x00d\x1be\x85f\u2028g\u2029h\u202ei\t") == (
        "a\\nb\\rc\\x00d\\x1be\\x85f\\u2028g\\u2029h\\u202ei\\t"
    )
    assert escape("a\\nb") == "a\\\\nb"  # a typed backslash cannot pass for an escape
    assert escape(None) == "None"
    assert "\n" not in escape("".join(map(chr, range(0x110))))


# ------------------------------------------------------------------ APScheduler


@contextmanager
def process_log(settings, level: str) -> Iterator[list[logging.LogRecord]]:  # noqa: ANN001
    """The process's logging set up as `ehcp-bot run` does (at `level`); the records that reach
    its log. The test runner's own handlers and levels come back afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    names = ("apscheduler", "apscheduler.executors.default", "notifications.scheduler.apscheduler", "aiogram.event")
    levels = {n: logging.getLogger(n).level for n in names}
    reached: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            reached.append(record)

    settings.product.log_level = level
    setup_logging(settings)
    root.addHandler(Keep())
    try:
        yield reached
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        for n, lv in levels.items():
            logging.getLogger(n).setLevel(lv)


async def run_ticks(portal, settings, ticks: int = 6) -> int:  # noqa: ANN001
    """Run the delivery scheduler (no bot: the email and reminder jobs) for `ticks` runs."""
    settings.delivery.delivery_interval = 0.1
    settings.reminders.reminder_interval = 0.1
    scheduler = build_scheduler(portal, None, Mailer(settings, portal.clock))
    done = asyncio.Event()
    runs: list[str] = []

    def ran(event) -> None:  # noqa: ANN001
        runs.append(event.job_id)
        if len(runs) >= ticks:
            done.set()

    scheduler.add_listener(ran, EVENT_JOB_EXECUTED)
    scheduler.start()
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        scheduler.shutdown(wait=False)
    return len(runs)


def from_apscheduler(records: list[logging.LogRecord], below: int) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in records
            if "apscheduler" in r.name and r.levelno < below]


async def test_the_delivery_ticks_write_no_info_lines_to_the_log(portal, settings) -> None:
    with process_log(settings, "INFO") as reached:
        assert await run_ticks(portal, settings) >= 6
    assert from_apscheduler(reached, logging.WARNING) == []


async def test_with_ehcp_log_level_debug_the_ticks_are_logged(portal, settings) -> None:
    with process_log(settings, "DEBUG") as reached:
        await run_ticks(portal, settings)
    said = from_apscheduler(reached, logging.WARNING)
    assert any("Running job" in s for s in said) and any("executed successfully" in s for s in said), said


async def handled(portal, n: int) -> None:  # noqa: ANN001
    """`n` updates handled and marked done (their handling, and aiogram's lines, are over)."""
    for _ in range(1000):
        if await count(portal, InboundUpdate, InboundUpdate.processed_at.is_not(None)) >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the update was not handled")


async def test_a_handled_update_writes_no_line_unless_debug_is_asked_for(portal, settings, running_bot, stand) -> None:
    """aiogram says "Update id=... is handled. Duration 12 ms" at INFO for every update: at a few
    hundred a second that is noise (and CPU). Quiet at INFO; there with EHCP_LOG_LEVEL=DEBUG."""
    user = stand.user(first_name="Alex")
    with process_log(settings, "INFO") as reached:
        await user.send("/start")
        await handled(portal, 1)
    assert [r.getMessage() for r in reached if r.name == "aiogram.event" and r.levelno < logging.WARNING] == []
    with process_log(settings, "DEBUG") as reached:
        await user.send("/help")
        await handled(portal, 2)
    assert any("is handled" in r.getMessage() for r in reached if r.name == "aiogram.event")


def test_a_malformed_request_is_one_warning_line_not_an_error_with_a_traceback(settings, capsys) -> None:
    """aiohttp logs every request it cannot parse as an ERROR with a traceback (a port scanner
    fills the log); the operator gets one WARNING line, with what came from outside escaped."""
    from aiohttp.http_exceptions import BadHttpMessage

    with process_log(settings, "INFO") as reached:
        try:
            raise BadHttpMessage("Invalid header value char\nFAKE ERROR line")
        except BadHttpMessage as exc:
            logging.getLogger("aiohttp.server").exception("Error handling request from %s", "10.0.0.9", exc_info=exc)
    [record] = [r for r in reached if r.name == "aiohttp.server"]
    assert record.levelname == "WARNING" and record.exc_info is None
    assert record.getMessage().startswith("refused a malformed request from 10.0.0.9: BadHttpMessage")
    assert "\n" not in record.getMessage()
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1
