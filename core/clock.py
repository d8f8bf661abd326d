"""Time, injectable. Everything that depends on 'now' takes a Clock so tests can control it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to. For tests and for the sandbox."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime.now(UTC)).astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FrozenClock.set needs an aware datetime")
        self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now


class MovableClock:
    """Real time, moved forward on request (the sandbox's clock: "forward 1 day" shows the
    reminders and missed dates of tomorrow). It never goes back."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = max(offset, timedelta(0))

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self.offset += delta
        return self.now()


def london_today(now: datetime) -> date:
    """The date in London at `now` (the day a reminder or a deadline belongs to)."""
    return now.astimezone(LONDON).date()


def format_date(when: datetime) -> str:
    """Dates as the guide shows them: 30 Jan 2023, in Europe/London."""
    local = when.astimezone(LONDON) if when.tzinfo else when
    return f"{local.day} {local:%b %Y}"


def format_datetime(when: datetime) -> str:
    local = when.astimezone(LONDON)
    return f"{local.day} {local:%b %Y %H:%M}"


def utc(dt: datetime) -> datetime:
    """Normalise an aware datetime to UTC; refuse naive ones (they are always a bug here)."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime")
    return dt.astimezone(UTC)


__all__ = [
    "LONDON", "Clock", "SystemClock", "FrozenClock", "format_date", "format_datetime", "london_today", "utc", "timedelta",
]
