"""Quiet hours, in Europe/London: reminders wait for the morning, other notices arrive silently.

The window is given as local wall-clock times and may cross midnight (21:00-08:00, the default).
All arithmetic is done on the local date and converted back through the zone, so the end of the
window is right on the days the clocks change (last Sunday of March and of October).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo

from core.clock import LONDON


def _local(now_utc: datetime, tz: tzinfo) -> datetime:
    if now_utc.tzinfo is None:
        raise ValueError("naive datetime")
    return now_utc.astimezone(tz)


def is_quiet(now_utc: datetime, start: time, end: time, tz: tzinfo = LONDON) -> bool:
    """True if `now_utc` falls in the quiet window [start, end) of local time.

    start == end means no quiet hours at all.
    """
    if start == end:
        return False
    t = _local(now_utc, tz).time().replace(tzinfo=None)
    if start < end:
        return start <= t < end
    return t >= start or t < end


def _at(day, wall: time, tz: tzinfo) -> datetime:  # noqa: ANN001
    """The first instant at or after local `wall` time on `day`, in UTC.

    An ambiguous time (the repeated hour in October) takes its first occurrence (fold=0). A wall
    time inside the spring-forward gap does not exist: the answer is the instant the clocks jump
    (the first moment the local clock reads later than `wall`), found by bisection.
    """
    wall = wall.replace(tzinfo=None)
    early = datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)
    if early.astimezone(tz).time().replace(tzinfo=None) == wall:
        return early
    late = datetime.combine(day, wall, tzinfo=tz).replace(fold=1).astimezone(UTC)
    lo, hi = min(early, late), max(early, late)  # local clock at lo < wall <= at hi

    def before(t: datetime) -> bool:
        return t.astimezone(tz).replace(tzinfo=None) < datetime.combine(day, wall)

    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if before(mid):
            lo = mid
        else:
            hi = mid
    return hi.replace(microsecond=0) if not before(hi.replace(microsecond=0)) else hi


def quiet_ends_at(now_utc: datetime, start: time, end: time, tz: tzinfo = LONDON) -> datetime:
    """When the quiet window containing `now_utc` ends (UTC). `now_utc` itself if not quiet."""
    if not is_quiet(now_utc, start, end, tz):
        return now_utc.astimezone(UTC)
    local = _local(now_utc, tz)
    t = local.time().replace(tzinfo=None)
    day = local.date()
    # In the evening part of a window that crosses midnight, it ends tomorrow morning.
    if start > end and t >= start:
        day = day + timedelta(days=1)
    ends = _at(day, end, tz)
    if ends <= now_utc:  # only possible around a gap; never give back a time in the past
        ends = _at(day + timedelta(days=1), end, tz)
    return ends


__all__ = ["is_quiet", "quiet_ends_at"]
