"""Readiness: can this process do its work? The database answers a `SELECT 1`; Redis answers a
ping (when one is used); Telegram has answered the bot lately (when a bot runs).

Each check has a few seconds; its result is a word ("ok", "failed", "timeout"), never an error's
text (which could hold an address or a password).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.portal import Portal

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[object]]  # answers truthy when fine; falsy or raising: not fine
CHECK_SECONDS = 3.0


class TelegramCheck:
    """Is Telegram reachable? Yes while the bot's last successful call is recent; otherwise one
    cheap call (`probe`, e.g. `bot.get_me`), at most once every `fresh` seconds, whose result is
    kept meanwhile. So a probe of /readyz never calls Telegram by itself more than that.

    Put `middleware` on the bot's session (`bot.session.middleware(check.middleware)`) so every
    successful call counts; without it only the probe does.
    """

    def __init__(self, probe: Check, *, fresh: float = 30.0, timeout: float = CHECK_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._probe = probe
        self.fresh = fresh
        self.timeout = timeout
        self._clock = clock
        self._ok_at: float | None = None
        self._probed_at: float | None = None
        self._probed_ok = False
        self._lock = asyncio.Lock()

    def seen(self) -> None:
        """Telegram answered a call of the bot's just now."""
        self._ok_at = self._clock()

    async def middleware(self, make_request: Any, bot: Any, method: Any) -> Any:
        """An aiogram request middleware: a call that succeeds marks Telegram as seen."""
        result = await make_request(bot, method)
        self.seen()
        return result

    def _recent(self, at: float | None) -> bool:
        return at is not None and self._clock() - at < self.fresh

    async def __call__(self) -> bool:
        if self._recent(self._ok_at):
            return True
        async with self._lock:  # concurrent probes of /readyz share one call
            if self._recent(self._ok_at):
                return True
            if self._recent(self._probed_at):
                return self._probed_ok
            try:
                ok = bool(await asyncio.wait_for(self._probe(), self.timeout))
            except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
                log.warning("readiness: Telegram did not answer (%s)", type(exc).__name__)
                ok = False
            self._probed_at, self._probed_ok = self._clock(), ok
            if ok:
                self.seen()
            return ok


async def _run(name: str, check: Check, within: float) -> str:
    try:
        ok = await asyncio.wait_for(check(), within)
    except TimeoutError:
        log.warning("readiness: %s did not answer within %.0f s", name, within)
        return "timeout"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        log.warning("readiness: %s failed (%s)", name, type(exc).__name__)
        return "failed"
    return "ok" if ok else "failed"


def checks_for(portal: Portal, *, redis_ping: Check | None = None, telegram: Check | None = None) -> dict[str, Check]:
    """The named checks of a process: the database always; Redis and Telegram when given."""
    found: dict[str, Check] = {"database": lambda: portal.reachable(within=CHECK_SECONDS)}
    if redis_ping is not None:
        found["redis"] = redis_ping
    if telegram is not None:
        found["telegram"] = telegram
    return found


REQUIRED = frozenset({"database"})  # without it a process can do nothing; without the others, most things


async def readiness(checks: dict[str, Check], within: float = CHECK_SECONDS) -> tuple[str, dict[str, str]]:
    """Run the checks at once; (status, {name: "ok" | "failed" | "timeout"}).

    The status is "ok" when every check passed; "degraded" when only Redis or Telegram did not
    (the process still serves the API and the pages, stores updates and queues notices, and
    Telegram's work waits: taking it out of the load balancer would only take those away too);
    "unavailable" when the database did not."""
    names = list(checks)
    results = await asyncio.gather(*(_run(n, checks[n], within) for n in names))
    found = dict(zip(names, results, strict=True))
    if any(found[n] != "ok" for n in names if n in REQUIRED):
        return "unavailable", found
    return ("ok" if all(r == "ok" for r in results) else "degraded"), found


__all__ = ["CHECK_SECONDS", "Check", "TelegramCheck", "checks_for", "readiness"]
