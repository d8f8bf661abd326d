"""The one bootstrap: the portal with everything that follows a change wired in. The core
subscribes its own follow-ups (reminder planning, the notice writer); this adds the faces' (the
bot's wording of every notice). Every process builds its portal here: the service, the workers,
the command line, the tests."""

from __future__ import annotations

from core.clock import Clock
from core.config import Settings
from core.portal import Portal, create_portal


def build_portal(settings: Settings, clock: Clock | None = None) -> Portal:
    from bot import notices

    portal = create_portal(settings, clock)
    assert portal.notices is not None
    notices.register(portal.notices)
    return portal


__all__ = ["build_portal"]
