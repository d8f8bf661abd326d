"""What the timeline picture shows, worked out before anything is drawn: the stages as segments
on the axis, the key dates as marks with labels, the scale labels, and the whole layout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.timescales import Stage, Status

from .style import HEIGHT, WIDTH

# Stage names on the pictures.
DECIDE_ASSESS = "Decision whether to assess"
ASSESSMENT = "Assessment"
DECIDE_ISSUE = "Decision whether to issue a plan"
DRAFT = "Draft plan"
FINAL = "Final plan"
PLAN_IN_PLACE = "Plan in place"
REVIEW_DECISION = "Review decision"
AMENDMENT = "Amendment"
REVIEW_MEETING = "Annual review meeting"

# Shorter names for bars too narrow for the full one.
SHORT_NAMES = {DECIDE_ASSESS: "Deciding", REVIEW_DECISION: "Review", PLAN_IN_PLACE: "Plan"}


@dataclass(frozen=True)
class Segment:
    """One stage on the axis: a bar over a date range, or a milestone (a diamond on one date).

    ``start``/``end`` are inclusive dates; ``x0``/``x1`` the pixel range it is drawn over.
    ``state``: "past", "current" (purple), "future", or "stopped" (the process ended before it).
    """

    name: str
    start: date
    end: date
    x0: int
    x1: int
    state: str
    kind: str = "bar"

    @property
    def current(self) -> bool:
        return self.state == "current"


@dataclass(frozen=True)
class Mark:
    """A key date: a tick at ``x`` (the end of its due day) and a two-line label in ``row``.

    ``row`` < 0 is above the axis, > 0 below; ``box`` is the label's (x0, y0, x1, y1).
    """

    key: str
    label: str
    due: date
    status: Status
    x: int
    text: str
    row: int
    box: tuple[int, int, int, int]

    @property
    def above(self) -> bool:
        return self.row < 0


@dataclass(frozen=True)
class Tick:
    """A small scale label under the axis (a date, a week number, a month)."""

    x: int
    text: str
    anchor: str  # Pillow text anchor: "la" (left), "ma" (middle), "ra" (right)


@dataclass(frozen=True)
class Layout:
    """Everything ``timeline_png`` draws, worked out without drawing."""

    kind: str  # "assessment", "annual_review" or "not_started"
    heading: str
    summary: str
    stage: Stage
    today: date
    start: date | None = None
    end: date | None = None
    segments: tuple[Segment, ...] = ()
    marks: tuple[Mark, ...] = ()
    ticks: tuple[Tick, ...] = ()
    today_x: int | None = None
    today_side: str | None = None  # "before" / "after" when today is outside the picture
    ended: str | None = None  # e.g. "The council decided not to assess"
    ended_on: date | None = None
    ended_x: int | None = None
    notes: tuple[str, ...] = ()
    width: int = WIDTH
    height: int = HEIGHT

    def segment(self, name: str) -> Segment:
        for s in self.segments:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def current_segment(self) -> Segment | None:
        return next((s for s in self.segments if s.current), None)
