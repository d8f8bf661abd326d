"""The dashboard's "Timeline" picture: a case's process drawn as a PNG.

Pure: no database, no clock, no Telegram. ``timeline_layout`` works out the picture's geometry
from the case's events and today's date (on top of ``core.timescales``); ``timeline_png`` draws
that layout with Pillow and the bundled DejaVu font, so any child's name prints correctly.

Which picture:

- a request and no final plan: the 20-week EHC needs assessment (decision whether to assess by
  week 6, assessment, decision whether to issue a plan by week 16, draft plan, final plan by
  week 20). A decision not to assess, or not to issue a plan, ends the process there.
- a final plan: the annual review cycle, from the later of the last plan and the last review
  meeting to the next annual review, with the review decision and any amendment in between.
- neither: a picture saying the timeline starts when the request is recorded.

The current stage (``current_stage``) is filled purple, as the guide's dashboard shows it; past
stages are muted and stages to come light grey. Each key date is a tick with its name, its date
and its status (met, overdue, due); today is a vertical marker, clamped to an edge with an arrow
when it falls outside the picture.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from PIL import Image, ImageDraw, ImageFont

from core.fonts import load_font
from core.timescales import (
    CaseEvents,
    KeyDate,
    Stage,
    Status,
    current_stage,
    format_date,
    key_dates,
    within_months,
    within_weeks,
)

# --------------------------------------------------------------------------- geometry and style

WIDTH, HEIGHT = 1280, 560
AXIS_X0, AXIS_X1 = 80, 1200
BAR_Y0, BAR_Y1 = 236, 272
BAR_MID = (BAR_Y0 + BAR_Y1) // 2
DIAMOND = 16  # half-size of a milestone diamond
TODAY_OUTSIDE = 22  # how far into the margin a clamped today marker sits

# Label rows for key dates: negative above the axis (-1 nearest), positive below (1 nearest).
ROW_TOP = {-2: 90, -1: 144, 1: 312, 2: 366}
ROW_ORDER_ABOVE_FIRST = (-1, 1, -2, 2)
ROW_ORDER_BELOW_FIRST = (1, -1, 2, -2)
LABEL_PAD_X, LABEL_PAD_Y, LABEL_LINE = 7, 5, 18
LABEL_GAP = 10
SHARED_LEADER = 16  # ticks closer than this may run their leader lines behind each other's label
TODAY_LINE_Y0, TODAY_LABEL_Y = 84, 420
NOTES_Y = 456
LEGEND_Y = 524

WHITE = "#FFFFFF"
INK = "#1F2328"
MUTED_INK = "#57606A"
FAINT_INK = "#8C959F"
PURPLE = "#6B2C91"  # the guide shows the current stage in purple
PAST = "#B5A9C4"  # a muted, greyed purple: done
FUTURE = "#E3E5E8"  # light grey: to come
STOPPED_FILL = "#F6F7F8"
STOPPED_LINE = "#C4C9CF"
STOP_MARK = "#8B1A1A"
TODAY_COLOUR = "#0B5CAD"
LABEL_BORDER = "#D0D7DE"
STATUS_COLOUR = {Status.MET: "#1A7F37", Status.OVERDUE: "#CF222E", Status.DUE: "#424A53"}
STATUS_WORD = {Status.MET: "met", Status.OVERDUE: "overdue", Status.DUE: "due"}
STATE_FILL = {"past": PAST, "current": PURPLE, "future": FUTURE, "stopped": STOPPED_FILL}
STATE_TEXT = {"past": INK, "current": WHITE, "future": MUTED_INK, "stopped": FAINT_INK}

TITLE_SIZE, SUBTITLE_SIZE, BAR_TEXT_SIZE, LABEL_SIZE, SMALL_SIZE = 26, 17, 15, 14, 13

# Key dates drawn on each picture, with their short labels.
ASSESSMENT_KEYS = {
    "decision_to_assess": "Decision whether to assess",
    "assessment_decision": "Decision whether to issue a plan",
    "draft_plan_comments": "Your comments on the draft",
    "final_plan": "Final plan",
    "tribunal_appeal": "Last day to appeal",
}
REVIEW_KEYS = {
    "review_report": "Review report",
    "review_decision": "Decision after review",
    "amendment_comments": "Your comments on amendments",
    "amended_plan": "Amended plan",
    "annual_review": "Annual review",
    "phase_transfer": "Next school or college named",
    "tribunal_appeal": "Last day to appeal",
}
# A key date at most this far past the process's end stretches the picture; later ones are noted.
STRETCH = timedelta(days=183)

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

ASSESSMENT_STAGE_SEGMENT = {
    Stage.REQUEST_RECEIVED: DECIDE_ASSESS,
    Stage.DECIDING_WHETHER_TO_ASSESS: DECIDE_ASSESS,
    Stage.ASSESSING: ASSESSMENT,
    Stage.DECIDING_WHETHER_TO_ISSUE: DECIDE_ISSUE,
    Stage.DRAFT_PLAN: DRAFT,
}


# --------------------------------------------------------------------------- the layout


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


class _Scale:
    """Dates to x pixels: a date's x is the start of that day; a deadline sits at its end."""

    def __init__(self, start: date, end: date) -> None:
        self.start = start
        self.days = max((end - start).days + 1, 1)

    def x(self, d: date, fraction: float = 0.0) -> int:
        offset = (d - self.start).days + fraction
        return round(AXIS_X0 + offset / self.days * (AXIS_X1 - AXIS_X0))

    def end_of(self, d: date) -> int:
        return self.x(d, 1.0)


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return load_font(size, bold)


def _text_width(text: str, font: ImageFont.FreeTypeFont) -> int:
    return round(font.getlength(text))


def _fit(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """``text``, shortened with an ellipsis to fit ``width`` pixels ("" if nothing fits)."""
    if _text_width(text, font) <= width:
        return text
    for cut in range(len(text) - 1, 0, -1):
        short = text[:cut].rstrip() + "…"
        if _text_width(short, font) <= width:
            return short
    return ""


def _bar(name: str, start: date, end: date, scale: _Scale) -> Segment:
    return Segment(name, start, end, scale.x(start), scale.end_of(end), "future")


def _milestone(name: str, on: date, scale: _Scale) -> Segment:
    x = scale.end_of(on)
    return Segment(name, on, on, x - DIAMOND, x + DIAMOND, "future", kind="milestone")


def _with_states(
    segments: list[Segment], current: str | None, stopped_after: str | None = None
) -> tuple[Segment, ...]:
    """Past before the current segment, future after it; or, for a process that ended, past up
    to and including ``stopped_after`` and stopped beyond."""
    names = [s.name for s in segments]
    out: list[Segment] = []
    if stopped_after is not None:
        cut = names.index(stopped_after) if stopped_after in names else len(names) - 1
        for i, s in enumerate(segments):
            out.append(_state(s, "past" if i <= cut else "stopped"))
        return tuple(out)
    # The last segment with that name (e.g. the plan in place after a review), else none.
    idx = max((i for i, n in enumerate(names) if n == current), default=None)
    for i, s in enumerate(segments):
        if idx is None:
            state = "future"
        else:
            state = "past" if i < idx else "current" if i == idx else "future"
        out.append(_state(s, state))
    return tuple(out)


def _state(s: Segment, state: str) -> Segment:
    return Segment(s.name, s.start, s.end, s.x0, s.x1, state, s.kind)


def _stopped_at(
    segments: tuple[Segment, ...], last: str, ended_on: date, scale: _Scale
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


def _place_labels(items: list[tuple[KeyDate, str, int]]) -> tuple[Mark, ...]:
    """Put each key date's label in a row, alternating above and below the axis, so that labels
    never overlap each other or hide another label's leader line.

    A small depth-first search over rows and anchors (centred on the tick, or shifted to either
    side of it), trying the nicest choice first; if no clash-free placement exists, each label
    takes its least-clashing choice in turn.
    """
    label_font, status_font = _font(LABEL_SIZE), _font(LABEL_SIZE, bold=True)
    todo: list[tuple[KeyDate, str, int, str, int]] = []
    for kd, label, x in sorted(items, key=lambda item: (item[2], item[0].key)):
        assert kd.due is not None
        text = f"{format_date(kd.due)} · {STATUS_WORD[kd.status]}"
        w = max(_text_width(label, label_font), _text_width(text, status_font)) + 2 * LABEL_PAD_X
        todo.append((kd, label, x, text, w))

    def options(i: int, previous_above: bool | None) -> list[tuple[int, int]]:
        """(row, box left) choices for label ``i``, nicest first."""
        _kd, _label, x, _text, w = todo[i]
        first = (1, -1) if previous_above else (-1, 1)
        lefts: list[int] = []
        for left in (x - w // 2, x - 14, x + 14 - w):
            left = min(max(left, 6), WIDTH - 6 - w)
            if left + 6 <= x <= left + w - 6 and left not in lefts:
                lefts.append(left)
        out = []
        for distance in (1, 2):
            for shifted in (False, True):
                for side in first:
                    for left in lefts[1:] if shifted else lefts[:1]:
                        out.append((side * distance, left))
        return out

    def mark(i: int, row: int, left: int) -> Mark:
        kd, label, x, text, w = todo[i]
        top = ROW_TOP[row]
        box = (left, top, left + w, top + 2 * LABEL_LINE + 2 * LABEL_PAD_Y)
        return Mark(kd.key, label, kd.due, kd.status, x, text, row, box)  # type: ignore[arg-type]

    budget = [20_000]

    def search(placed: list[Mark]) -> list[Mark] | None:
        i = len(placed)
        if i == len(todo):
            return placed
        previous_above = placed[-1].above if placed else None
        for row, left in options(i, previous_above):
            budget[0] -= 1
            if budget[0] < 0:
                return None
            w = todo[i][4]
            if _clashes(placed, row, left, left + w, todo[i][2]) == 0:
                found = search([*placed, mark(i, row, left)])
                if found is not None:
                    return found
        return None

    found = search([])
    if found is None:  # too crowded for a clean placement: the least clashes, label by label
        found = []
        for i in range(len(todo)):
            previous_above = found[-1].above if found else None
            w, x = todo[i][4], todo[i][2]
            row, left = min(
                options(i, previous_above),
                key=lambda o: _clashes(found, o[0], o[1], o[1] + w, x),  # type: ignore[arg-type]
            )
            found.append(mark(i, row, left))
    return tuple(found)


def _clashes(placed: list[Mark], row: int, bx0: int, bx1: int, x: int) -> int:
    """How many placed labels a label in ``row`` over [bx0, bx1] (leader at ``x``) would hit."""
    n = 0
    for m in placed:
        mx0, mx1 = m.box[0], m.box[2]
        if m.row == row and bx0 < mx1 + LABEL_GAP and mx0 < bx1 + LABEL_GAP:
            n += 1
        same_side = (m.row < 0) == (row < 0)
        if abs(m.x - x) <= SHARED_LEADER:
            continue  # ticks this close share one visible leader line
        if same_side and abs(row) == 2 and abs(m.row) == 1 and mx0 - 4 <= x <= mx1 + 4:
            n += 1  # our leader line would run behind that nearer label
        if same_side and abs(row) == 1 and abs(m.row) == 2 and bx0 - 4 <= m.x <= bx1 + 4:
            n += 1  # our label would hide that farther label's leader line
    return n


def _ticks(candidates: Iterable[Tick]) -> tuple[Tick, ...]:
    """Scale labels in priority order, dropping any that would overlap one already kept."""
    font = _font(SMALL_SIZE)
    kept: list[tuple[int, int, Tick]] = []
    for t in candidates:
        w = _text_width(t.text, font)
        x0 = {"la": t.x, "ma": t.x - w // 2, "ra": t.x - w}[t.anchor]
        x0 = min(max(x0, 4), WIDTH - 4 - w)
        x1 = x0 + w
        if any(x0 < k1 + 12 and k0 < x1 + 12 for k0, k1, _ in kept):
            continue
        kept.append((x0, x1, Tick(x0, t.text, "la")))
    return tuple(t for _, _, t in sorted(kept, key=lambda k: k[0]))


def _marks_and_notes(
    dates: list[KeyDate], keys: dict[str, str], start: date, end: date
) -> tuple[list[tuple[KeyDate, str]], list[str], date]:
    """The key dates on the picture, the ones noted under it instead, and the picture's end
    (stretched to take in a key date shortly after the process's end)."""
    shown: list[tuple[KeyDate, str]] = []
    notes: list[str] = []
    for kd in dates:
        if kd.key not in keys or kd.status is Status.NOT_APPLICABLE or kd.due is None:
            continue
        if start <= kd.due <= end + STRETCH:
            shown.append((kd, keys[kd.key]))
            end = max(end, kd.due)
        elif kd.status is not Status.MET:
            notes.append(f"{keys[kd.key]}: {format_date(kd.due)} ({STATUS_WORD[kd.status]})")
    return shown, [f"Also: {'; '.join(notes)}"] if notes else [], end


def _exception_note(dates: list[KeyDate]) -> list[str]:
    for kd in dates:
        if kd.exception:
            return [kd.note.split("This window has closed.")[-1].strip()]
    return []


def _today(today: date, start: date, end: date, scale: _Scale) -> tuple[int, str | None]:
    if today < start:
        return AXIS_X0 - TODAY_OUTSIDE, "before"
    if today > end:
        return AXIS_X1 + TODAY_OUTSIDE, "after"
    return scale.x(today, 0.5), None


def timeline_layout(events: CaseEvents, today: date) -> Layout:
    """The picture's geometry for a case on ``today``: segments, key-date marks, today."""
    stage = current_stage(events)
    if events.final_plan_issued is not None:
        return _review_layout(events, today, stage)
    if events.request is not None:
        return _assessment_layout(events, today, stage)
    return Layout(
        kind="not_started",
        heading="timeline",
        summary="The timeline starts when the request for an EHC needs assessment is recorded.",
        stage=stage,
        today=today,
    )


def _assessment_layout(events: CaseEvents, today: date, stage: Stage) -> Layout:
    request = events.request
    assert request is not None
    week6, week16, week20 = (within_weeks(request, n) for n in (6, 16, 20))
    dates = key_dates(events, today)
    shown, notes, end = _marks_and_notes(dates, ASSESSMENT_KEYS, request, week20)

    ended = ended_on = stopped_after = None
    if stage is Stage.NOT_ASSESSING:
        ended, ended_on, stopped_after = (
            "The council decided not to assess",
            events.decision_not_to_assess,
            DECIDE_ASSESS,
        )
    elif stage is Stage.NO_PLAN:
        ended, ended_on, stopped_after = (
            "The council decided not to issue a plan",
            events.assessment_decision,
            DECIDE_ISSUE,
        )
    if ended_on is not None and ended_on > end:
        end = ended_on
    scale = _Scale(request, end)

    segments = [
        _bar(DECIDE_ASSESS, request, week6, scale),
        _bar(ASSESSMENT, week6 + timedelta(days=1), week16, scale),
        _milestone(DECIDE_ISSUE, week16, scale),
        _bar(DRAFT, week16 + timedelta(days=1), week20, scale),
        _milestone(FINAL, week20, scale),
    ]
    current = None if ended else ASSESSMENT_STAGE_SEGMENT.get(stage)
    states = _with_states(segments, current, stopped_after)
    # Where the process stopped (a decision dated before the request is drawn at the request).
    stop_on = max(ended_on, request) if ended_on is not None else None
    if stopped_after is not None and stop_on is not None:
        states = _stopped_at(states, stopped_after, stop_on, scale)
    marks = _place_labels([(kd, label, scale.end_of(kd.due)) for kd, label in shown])  # type: ignore[arg-type]

    ended_x = scale.end_of(stop_on) if stop_on is not None else None
    ticks: list[Tick] = []
    if ended_on is not None and ended_x is not None:
        ticks.append(Tick(ended_x, f"ended {format_date(ended_on)}", "ma"))
    ticks.append(Tick(AXIS_X0, f"{format_date(request)} (request)", "la"))
    for n, d in ((20, week20), (6, week6), (16, week16)):
        ticks.append(Tick(scale.end_of(d), f"week {n}", "ma"))
    if end > week20:
        ticks.append(Tick(AXIS_X1, format_date(end), "ra"))

    if ended and ended_on is not None:
        summary = f"{ended} on {format_date(ended_on)}: the process ended there."
    elif ended:
        summary = f"{ended}: the process ended there."
    else:
        summary = f"Stage now: {current}"
    today_x, side = _today(today, request, end, scale)
    return Layout(
        kind="assessment",
        heading="EHC needs assessment (20 weeks)",
        summary=summary,
        stage=stage,
        today=today,
        start=request,
        end=end,
        segments=states,
        marks=marks,
        ticks=_ticks(ticks),
        today_x=today_x,
        today_side=side,
        ended=ended,
        ended_on=ended_on,
        ended_x=ended_x,
        notes=tuple(notes + _exception_note(dates)),
    )


def _review_layout(events: CaseEvents, today: date, stage: Stage) -> Layout:
    e = events
    assert e.final_plan_issued is not None
    plan = e.final_plan_issued
    plan_label = "final plan"
    if e.amended_plan_issued is not None and e.amended_plan_issued >= plan:
        plan, plan_label = e.amended_plan_issued, "amended plan"
    start, start_label = plan, plan_label
    meeting = e.annual_review_meeting
    review_open = meeting is not None and meeting > plan
    if review_open and meeting is not None:
        start, start_label = meeting, "review meeting"
    notice = e.amendment_notice if stage is Stage.AMENDMENT else None
    if notice is not None and notice < start:
        start, start_label = notice, "amendment notice"

    dates = key_dates(e, today)
    by_key = {kd.key: kd for kd in dates}
    review_due = by_key["annual_review"].due
    end = review_due if review_due is not None and review_due > start else None
    if end is None:
        end = within_months(start, 12)
    next_review = end

    # The episodes since the start (a review, an amendment), then the plan in place around them.
    episodes: list[tuple[str, date, date]] = []
    if review_open and meeting is not None:
        decided = (
            e.amendment_notice if e.amendment_notice and e.amendment_notice > meeting else None
        )
        last = decided - timedelta(days=1) if decided else within_weeks(meeting, 4)
        episodes.append((REVIEW_DECISION, meeting, last))
    if notice is not None:
        episodes.append((AMENDMENT, notice, within_weeks(notice, 8)))
    episodes.sort(key=lambda ep: ep[1])
    for _name, _s, last in episodes:
        end = max(end, last)

    shown, notes, end = _marks_and_notes(dates, REVIEW_KEYS, start, end)
    scale = _Scale(start, end)
    segments: list[Segment] = []
    cursor = start
    for i, (name, s, last) in enumerate(episodes):
        if i + 1 < len(episodes):
            last = min(last, episodes[i + 1][1] - timedelta(days=1))
        if s > cursor:
            segments.append(_bar(PLAN_IN_PLACE, cursor, s - timedelta(days=1), scale))
        if last >= s:
            segments.append(_bar(name, s, last, scale))
        cursor = max(cursor, last + timedelta(days=1))
    if cursor <= end:
        segments.append(_bar(PLAN_IN_PLACE, cursor, end, scale))
    segments.append(_milestone(REVIEW_MEETING, next_review, scale))

    current = {
        Stage.AMENDMENT: AMENDMENT,
        Stage.ANNUAL_REVIEW: REVIEW_DECISION,
    }.get(stage, PLAN_IN_PLACE)
    # The plan in place is the one after the latest episode: never the milestone.
    bars = [s for s in segments if s.kind == "bar"]
    states = list(_with_states(bars, current))
    idx = next((i for i, s in enumerate(states) if s.current), None)
    milestone = segments[-1]
    m_state = "future"
    if idx is not None and milestone.start < states[idx].start:
        m_state = "past"
    states.append(_state(milestone, m_state))
    states.sort(key=lambda s: (s.x0 + s.x1, s.kind))

    marks = _place_labels([(kd, label, scale.end_of(kd.due)) for kd, label in shown])  # type: ignore[arg-type]
    ticks = [
        Tick(AXIS_X0, f"{format_date(start)} ({start_label})", "la"),
        Tick(AXIS_X1, format_date(end), "ra"),
    ]
    month = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    while month <= end:
        text = f"{month:%b %Y}" if month.month == 1 else f"{month:%b}"
        ticks.append(Tick(scale.x(month), text, "ma"))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    today_x, side = _today(today, start, end, scale)
    return Layout(
        kind="annual_review",
        heading="annual review",
        summary=f"Stage now: {current}",
        stage=stage,
        today=today,
        start=start,
        end=end,
        segments=tuple(states),
        marks=marks,
        ticks=_ticks(ticks),
        today_x=today_x,
        today_side=side,
        notes=tuple(notes + _exception_note(dates)),
    )


# --------------------------------------------------------------------------- drawing


def _dashed_vline(
    draw: ImageDraw.ImageDraw, x: int, y0: int, y1: int, fill: str, width: int
) -> None:
    y = y0
    while y < y1:
        draw.line([(x, y), (x, min(y + 7, y1))], fill=fill, width=width)
        y += 12


def _dashed_rect(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], fill: str) -> None:
    x0, y0, x1, y1 = box
    x = x0
    while x < x1:
        draw.line([(x, y0), (min(x + 6, x1), y0)], fill=fill)
        draw.line([(x, y1), (min(x + 6, x1), y1)], fill=fill)
        x += 10
    draw.line([(x1, y0), (x1, y1)], fill=fill)


def _draw_bars(draw: ImageDraw.ImageDraw, layout: Layout) -> None:
    bar_font, small_font = _font(BAR_TEXT_SIZE, bold=True), _font(SMALL_SIZE, bold=True)
    for s in layout.segments:
        if s.kind != "bar":
            continue
        box = (s.x0, BAR_Y0, s.x1 - 1, BAR_Y1)
        if s.state == "stopped":
            draw.rectangle(box, fill=STOPPED_FILL)
            _dashed_rect(draw, box, STOPPED_LINE)
        else:
            draw.rectangle(box, fill=STATE_FILL[s.state])
        if s.state == "current":
            draw.rectangle((s.x0, BAR_Y0 - 3, s.x1 - 1, BAR_Y1 + 3), outline=PURPLE, width=3)
        room = s.x1 - s.x0 - 2 * DIAMOND - 8
        font, name = bar_font, s.name
        if _text_width(name, font) > room:
            font = small_font
        if _text_width(name, font) > room:
            name = SHORT_NAMES.get(name, name)
        name = _fit(name, font, room)
        if name and (not name.endswith("…") or len(name) >= 8):
            draw.text(
                ((s.x0 + s.x1) // 2, BAR_MID),
                name,
                font=font,
                fill=STATE_TEXT[s.state],
                anchor="mm",
            )


def _draw_milestones(draw: ImageDraw.ImageDraw, layout: Layout) -> None:
    for s in layout.segments:
        if s.kind != "milestone":
            continue
        cx = (s.x0 + s.x1) // 2
        half = DIAMOND + (4 if s.current else 0)
        points = [
            (cx, BAR_MID - half),
            (cx + half, BAR_MID),
            (cx, BAR_MID + half),
            (cx - half, BAR_MID),
        ]
        if s.state == "stopped":
            draw.polygon(points, fill=WHITE, outline=STOPPED_LINE, width=2)
        elif s.state == "future":
            draw.polygon(points, fill=FUTURE, outline=WHITE, width=2)
            inner = DIAMOND - 6
            draw.polygon(
                [
                    (cx, BAR_MID - inner),
                    (cx + inner, BAR_MID),
                    (cx, BAR_MID + inner),
                    (cx - inner, BAR_MID),
                ],
                outline=FAINT_INK,
                width=2,
            )
        else:
            draw.polygon(points, fill=STATE_FILL[s.state], outline=WHITE, width=2)


def _draw_leaders(draw: ImageDraw.ImageDraw, layout: Layout) -> None:
    for m in layout.marks:
        colour = STATUS_COLOUR[m.status]
        y_label = m.box[3] if m.above else m.box[1]
        y_bar = BAR_Y0 - 4 if m.above else BAR_Y1 + 4
        draw.line([(m.x, y_label), (m.x, y_bar)], fill=colour, width=1)
        draw.line([(m.x, BAR_Y0 - 6), (m.x, BAR_Y1 + 6)], fill=colour, width=3)
        dot_y = y_bar
        draw.ellipse((m.x - 4, dot_y - 4, m.x + 4, dot_y + 4), fill=colour)


def _draw_labels(draw: ImageDraw.ImageDraw, layout: Layout) -> None:
    label_font, status_font = _font(LABEL_SIZE), _font(LABEL_SIZE, bold=True)
    for m in layout.marks:
        colour = STATUS_COLOUR[m.status]
        draw.rectangle(
            m.box, fill=WHITE, outline=colour if m.status is Status.OVERDUE else LABEL_BORDER
        )
        x, y = m.box[0] + LABEL_PAD_X, m.box[1] + LABEL_PAD_Y
        draw.text((x, y), m.label, font=label_font, fill=INK)
        draw.text((x, y + LABEL_LINE), m.text, font=status_font, fill=colour)


def _draw_today(draw: ImageDraw.ImageDraw, layout: Layout) -> None:
    x = layout.today_x
    if x is None:
        return
    _dashed_vline(draw, x, TODAY_LINE_Y0, TODAY_LABEL_Y, TODAY_COLOUR, 2)
    font = _font(15, bold=True)
    text = f"Today, {format_date(layout.today)}"
    if layout.today_side == "before":
        text = f"◀ {text} (before this picture)"
        draw.polygon(
            [(x - 12, BAR_MID), (x + 2, BAR_MID - 10), (x + 2, BAR_MID + 10)], fill=TODAY_COLOUR
        )
    elif layout.today_side == "after":
        text = f"{text} (after this picture) ▶"
        draw.polygon(
            [(x + 12, BAR_MID), (x - 2, BAR_MID - 10), (x - 2, BAR_MID + 10)], fill=TODAY_COLOUR
        )
    w = _text_width(text, font) + 16
    bx0 = min(max(x - w // 2, 6), WIDTH - 6 - w)
    draw.rectangle((bx0, TODAY_LABEL_Y, bx0 + w, TODAY_LABEL_Y + 26), fill=TODAY_COLOUR)
    draw.text((bx0 + 8, TODAY_LABEL_Y + 13), text, font=font, fill=WHITE, anchor="lm")


def _draw_legend(draw: ImageDraw.ImageDraw, layout: Layout) -> None:
    font = _font(SMALL_SIZE + 1)
    items: list[tuple[str, str]] = [
        ("bar:" + PURPLE, "Current stage"),
        ("bar:" + PAST, "Done"),
        ("bar:" + FUTURE, "To come"),
    ]
    if any(s.state == "stopped" for s in layout.segments):
        items.append(("stopped", "Not going ahead"))
    items += [
        ("dot:" + STATUS_COLOUR[Status.MET], "met"),
        ("dot:" + STATUS_COLOUR[Status.OVERDUE], "overdue"),
        ("dot:" + STATUS_COLOUR[Status.DUE], "due"),
        ("today", "Today"),
    ]
    widths = [34 + _text_width(text, font) for _, text in items]
    gap = 26
    x = (WIDTH - (sum(widths) + gap * (len(items) - 1))) // 2
    y = LEGEND_Y
    for (kind, text), w in zip(items, widths, strict=True):
        if kind.startswith("bar:"):
            draw.rectangle((x, y - 8, x + 24, y + 8), fill=kind[4:])
        elif kind == "stopped":
            draw.rectangle((x, y - 8, x + 24, y + 8), fill=STOPPED_FILL, outline=STOPPED_LINE)
        elif kind.startswith("dot:"):
            draw.line([(x + 12, y - 9), (x + 12, y + 9)], fill=kind[4:], width=3)
            draw.ellipse((x + 8, y - 4, x + 16, y + 4), fill=kind[4:])
        else:
            _dashed_vline(draw, x + 12, y - 10, y + 10, TODAY_COLOUR, 2)
        draw.text((x + 32, y), text, font=font, fill=MUTED_INK, anchor="lm")
        x += w + gap


def timeline_png(events: CaseEvents, today: date, *, child_name: str) -> bytes:
    """A PNG picture of the case's process with today, the current stage in purple, and the key dates."""
    layout = timeline_layout(events, today)
    image = Image.new("RGB", (layout.width, layout.height), WHITE)
    draw = ImageDraw.Draw(image)

    title_font = _font(TITLE_SIZE, bold=True)
    name = " ".join(child_name.split())
    title = f"{name}: {layout.heading}" if name else layout.heading[:1].upper() + layout.heading[1:]
    if _text_width(title, title_font) > WIDTH - 2 * 24:
        rest = f": {layout.heading}"
        name = _fit(name, title_font, WIDTH - 2 * 24 - _text_width(rest, title_font))
        title = f"{name}{rest}"
    draw.text((24, 18), title, font=title_font, fill=INK)
    summary_font = _font(SUBTITLE_SIZE, bold=layout.ended is not None)
    summary_colour = STOP_MARK if layout.ended else (PURPLE if layout.segments else MUTED_INK)
    draw.text(
        (24, 56),
        _fit(layout.summary, summary_font, WIDTH - 48),
        font=summary_font,
        fill=summary_colour,
    )

    if layout.kind == "not_started":
        draw.rectangle((AXIS_X0, BAR_Y0, AXIS_X1, BAR_Y1), fill=STOPPED_FILL)
        _dashed_rect(draw, (AXIS_X0, BAR_Y0, AXIS_X1, BAR_Y1), STOPPED_LINE)
        draw.line([(AXIS_X0, BAR_Y0), (AXIS_X0, BAR_Y1)], fill=STOPPED_LINE)
        font = _font(BAR_TEXT_SIZE + 2)
        draw.text(
            (WIDTH // 2, BAR_MID), "No request recorded yet", font=font, fill=MUTED_INK, anchor="mm"
        )
        font = _font(LABEL_SIZE + 1)
        draw.text(
            (WIDTH // 2, BAR_Y1 + 40),
            f"Today, {format_date(today)}",
            font=font,
            fill=TODAY_COLOUR,
            anchor="mm",
        )
    else:
        draw.line([(AXIS_X0, BAR_MID), (AXIS_X1, BAR_MID)], fill=STOPPED_LINE, width=2)
        _draw_bars(draw, layout)
        if layout.ended_x is not None:
            x = layout.ended_x
            draw.line([(x, BAR_Y0 - 12), (x, BAR_Y1 + 10)], fill=STOP_MARK, width=4)
        _draw_today(draw, layout)
        _draw_leaders(draw, layout)
        _draw_milestones(draw, layout)
        small = _font(SMALL_SIZE)
        for t in layout.ticks:  # over the leader lines, on a white ground
            w = _text_width(t.text, small)
            draw.rectangle((t.x - 3, BAR_Y1 + 12, t.x + w + 3, BAR_Y1 + 28), fill=WHITE)
            draw.text((t.x, BAR_Y1 + 12), t.text, font=small, fill=MUTED_INK)
        _draw_labels(draw, layout)
        notes_font = _font(SMALL_SIZE + 1)
        for i, note in enumerate(layout.notes[:2]):
            draw.text(
                (24, NOTES_Y + 20 * i),
                _fit(note, notes_font, WIDTH - 48),
                font=notes_font,
                fill=MUTED_INK,
            )
        _draw_legend(draw, layout)

    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    return buf.getvalue()


__all__ = ["Layout", "Mark", "Segment", "Tick", "timeline_layout", "timeline_png"]
