"""The axis of the timeline picture: dates to pixels, the stages' bars and milestones on it and
their states (past, current, future, stopped), and where today's marker goes."""

from __future__ import annotations

from datetime import date, timedelta

from .model import Segment
from .style import AXIS_X0, AXIS_X1, DIAMOND, TODAY_OUTSIDE


class Scale:
    """Dates to x pixels: a date's x is the start of that day; a deadline sits at its end."""

    def __init__(self, start: date, end: date) -> None:
        self.start = start
        self.days = max((end - start).days + 1, 1)

    def x(self, d: date, fraction: float = 0.0) -> int:
        offset = (d - self.start).days + fraction
        return round(AXIS_X0 + offset / self.days * (AXIS_X1 - AXIS_X0))

    def end_of(self, d: date) -> int:
        return self.x(d, 1.0)


def bar_segment(name: str, start: date, end: date, scale: Scale) -> Segment:
    return Segment(name, start, end, scale.x(start), scale.end_of(end), "future")


def milestone_segment(name: str, on: date, scale: Scale) -> Segment:
    x = scale.end_of(on)
    return Segment(name, on, on, x - DIAMOND, x + DIAMOND, "future", kind="milestone")


def with_states(
    segments: list[Segment], current: str | None, stopped_after: str | None = None
) -> tuple[Segment, ...]:
    """Past before the current segment, future after it; or, for a process that ended, past up
    to and including ``stopped_after`` and stopped beyond."""
    names = [s.name for s in segments]
    out: list[Segment] = []
    if stopped_after is not None:
        cut = names.index(stopped_after) if stopped_after in names else len(names) - 1
        for i, s in enumerate(segments):
            out.append(in_state(s, "past" if i <= cut else "stopped"))
        return tuple(out)
    # The last segment with that name (e.g. the plan in place after a review), else none.
    idx = max((i for i, n in enumerate(names) if n == current), default=None)
    for i, s in enumerate(segments):
        if idx is None:
            state = "future"
        else:
            state = "past" if i < idx else "current" if i == idx else "future"
        out.append(in_state(s, state))
    return tuple(out)


def in_state(s: Segment, state: str) -> Segment:
    return Segment(s.name, s.start, s.end, s.x0, s.x1, state, s.kind)


def stopped_at(
    segments: tuple[Segment, ...], last: str, ended_on: date, scale: Scale
) -> tuple[Segment, ...]:
    """A process that ended on ``ended_on`` with the decision ``last``: the past stages end at the
    decision, and what would have followed starts there, stopped."""
    ended_x = scale.end_of(ended_on)
    out: list[Segment] = []
    first_stopped = True
    for s in segments:
        if s.name == last and s.kind == "milestone":
            s = Segment(
                s.name,
                ended_on,
                ended_on,
                ended_x - DIAMOND,
                ended_x + DIAMOND,
                "past",
                "milestone",
            )
        elif s.name == last or (s.state == "past" and s.end > ended_on):
            if s.start > ended_on:
                continue
            s = Segment(s.name, s.start, ended_on, s.x0, max(ended_x, s.x0 + 1), "past")
        elif s.state == "stopped":
            if s.x1 <= ended_x + (DIAMOND if s.kind == "milestone" else 2):
                continue
            if s.kind == "bar":
                after = ended_on + timedelta(days=1)
                if first_stopped:  # it takes in the gap from the decision on
                    s = Segment(s.name, after, s.end, ended_x, s.x1, "stopped")
                else:
                    s = Segment(
                        s.name, max(s.start, after), s.end, max(s.x0, ended_x), s.x1, "stopped"
                    )
                first_stopped = False
        out.append(s)
    return tuple(out)


def today_position(today: date, start: date, end: date, scale: Scale) -> tuple[int, str | None]:
    if today < start:
        return AXIS_X0 - TODAY_OUTSIDE, "before"
    if today > end:
        return AXIS_X1 + TODAY_OUTSIDE, "after"
    return scale.x(today, 0.5), None
