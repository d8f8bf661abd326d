"""Every filter (and handler) the bot registers is run on the event loop (issue 13).

aiogram runs a filter that is a plain function, a bare magic filter among them, in a worker
thread for every check; a crowd of parents paid two thread hops per filter per update for a
comparison of two strings. bot/filters.py's `inline(...)` awaits them in place; this fails when a
bare one comes back (named, so it is easy to find).
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.dispatcher.event.handler import FilterObject

from bot.factory import create_dispatcher
from bot.filters import inline


def _threaded(router: Router) -> list[str]:
    found = []
    for r in router.chain_tail:
        for name, observer in r.observers.items():
            if name == "aiogd_update":  # aiogram-dialog's own background events: not parents' taps
                continue
            filters: list[FilterObject] = list(observer._handler.filters or [])
            for handler in observer.handlers:
                filters += handler.filters or []
            found += [f"{r.name}.{name}: {f.callback!r}" for f in filters if not f.awaitable]
            found += [f"{r.name}.{name}: handler {h.callback!r}" for h in observer.handlers if not h.awaitable]
    return found


async def test_no_filter_the_bot_registers_runs_in_a_thread(portal):
    dp = create_dispatcher(portal)
    assert _threaded(dp) == []


async def _handler() -> None:
    return None


def test_the_check_finds_a_bare_magic_filter_and_a_plain_function():
    bare = Router(name="bare")
    bare.message(F.chat.type == "private")(_handler)
    assert len(_threaded(bare)) == 1
    plain = Router(name="plain")
    plain.message(inline(F.chat.type == "private"))(lambda: None)
    assert len(_threaded(plain)) == 1
    fixed = Router(name="fixed")
    fixed.message(inline(F.chat.type == "private"))(_handler)
    assert _threaded(fixed) == []
