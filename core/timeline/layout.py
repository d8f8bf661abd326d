"""The timeline picture worked out for a case on a day: which picture (the 20-week assessment,
the annual review cycle, or not started yet), its stages, key dates, scale and today."""

from __future__ import annotations

from datetime import date, timedelta

from core.timescales import (
    CaseEvents,
    Stage,
    current_stage,
    format_date,
    key_dates,
    within_months,
    within_weeks,
)

from .axis import (
    Scale,
    bar_segment,
    in_state,
    milestone_segment,
    stopped_at,
    today_position,
    with_states,
)
from .labels import exception_note, kept_ticks, marks_and_notes, place_labels
from .model import (
    AMENDMENT,
    ASSESSMENT,
    DECIDE_ASSESS,
    DECIDE_ISSUE,
    DRAFT,
    FINAL,
    PLAN_IN_PLACE,
    REVIEW_DECISION,
    REVIEW_MEETING,
    Layout,
    Segment,
    Tick,
)
from .style import AXIS_X0, AXIS_X1

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

ASSESSMENT_STAGE_SEGMENT = {
    Stage.REQUEST_RECEIVED: DECIDE_ASSESS,
    Stage.DECIDING_WHETHER_TO_ASSESS: DECIDE_ASSESS,
    Stage.ASSESSING: ASSESSMENT,
    Stage.DECIDING_WHETHER_TO_ISSUE: DECIDE_ISSUE,
    Stage.DRAFT_PLAN: DRAFT,
}


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
    shown, notes, end = marks_and_notes(dates, ASSESSMENT_KEYS, request, week20)

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
    scale = Scale(request, end)

    segments = [
        bar_segment(DECIDE_ASSESS, request, week6, scale),
        bar_segment(ASSESSMENT, week6 + timedelta(days=1), week16, scale),
        milestone_segment(DECIDE_ISSUE, week16, scale),
        bar_segment(DRAFT, week16 + timedelta(days=1), week20, scale),
        milestone_segment(FINAL, week20, scale),
    ]
    current = None if ended else ASSESSMENT_STAGE_SEGMENT.get(stage)
    states = with_states(segments, current, stopped_after)
    # Where the process stopped (a decision dated before the request is drawn at the request).
    stop_on = max(ended_on, request) if ended_on is not None else None
    if stopped_after is not None and stop_on is not None:
        states = stopped_at(states, stopped_after, stop_on, scale)
    marks = place_labels([(kd, label, scale.end_of(kd.due)) for kd, label in shown])  # type: ignore[arg-type]

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
    today_x, side = today_position(today, request, end, scale)
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
        ticks=kept_ticks(ticks),
        today_x=today_x,
        today_side=side,
        ended=ended,
        ended_on=ended_on,
        ended_x=ended_x,
        notes=tuple(notes + exception_note(dates)),
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
        after = [d for d in (e.amendment_notice, e.review_decision, e.cease_decision) if d is not None and d > meeting]
        decided = min(after) if after else None
        last = decided - timedelta(days=1) if decided else within_weeks(meeting, 4)
        episodes.append((REVIEW_DECISION, meeting, last))
    if notice is not None:
        episodes.append((AMENDMENT, notice, within_weeks(notice, 8)))
    episodes.sort(key=lambda ep: ep[1])
    for _name, _s, last in episodes:
        end = max(end, last)

    shown, notes, end = marks_and_notes(dates, REVIEW_KEYS, start, end)
    scale = Scale(start, end)
    segments: list[Segment] = []
    cursor = start
    for i, (name, s, last) in enumerate(episodes):
        if i + 1 < len(episodes):
            last = min(last, episodes[i + 1][1] - timedelta(days=1))
        if s > cursor:
            segments.append(bar_segment(PLAN_IN_PLACE, cursor, s - timedelta(days=1), scale))
        if last >= s:
            segments.append(bar_segment(name, s, last, scale))
        cursor = max(cursor, last + timedelta(days=1))
    if cursor <= end:
        segments.append(bar_segment(PLAN_IN_PLACE, cursor, end, scale))
    segments.append(milestone_segment(REVIEW_MEETING, next_review, scale))

    current = {
        Stage.AMENDMENT: AMENDMENT,
        Stage.ANNUAL_REVIEW: REVIEW_DECISION,
    }.get(stage, PLAN_IN_PLACE)
    # The plan in place is the one after the latest episode: never the milestone.
    bars = [s for s in segments if s.kind == "bar"]
    states = list(with_states(bars, current))
    idx = next((i for i, s in enumerate(states) if s.current), None)
    milestone = segments[-1]
    m_state = "future"
    if idx is not None and milestone.start < states[idx].start:
        m_state = "past"
    states.append(in_state(milestone, m_state))
    states.sort(key=lambda s: (s.x0 + s.x1, s.kind))

    marks = place_labels([(kd, label, scale.end_of(kd.due)) for kd, label in shown])  # type: ignore[arg-type]
    ticks = [
        Tick(AXIS_X0, f"{format_date(start)} ({start_label})", "la"),
        Tick(AXIS_X1, format_date(end), "ra"),
    ]
    month = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    while month <= end:
        text = f"{month:%b %Y}" if month.month == 1 else f"{month:%b}"
        ticks.append(Tick(scale.x(month), text, "ma"))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    today_x, side = today_position(today, start, end, scale)
    ended = ended_on = ended_x = None
    summary = f"Stage now: {current}"
    if stage is Stage.CEASING and e.ceased is not None:
        # s.45: the plan carries on while the parent may appeal; the picture says where it ended.
        ended, ended_on = "The council decided to stop the plan", e.ceased
        ended_x = scale.end_of(max(ended_on, start))
        summary = f"{ended} on {format_date(ended_on)}. The plan carries on while you can appeal."
    return Layout(
        kind="annual_review",
        heading="annual review",
        summary=summary,
        ended=ended,
        ended_on=ended_on,
        ended_x=ended_x,
        stage=stage,
        today=today,
        start=start,
        end=end,
        segments=tuple(states),
        marks=marks,
        ticks=kept_ticks(ticks),
        today_x=today_x,
        today_side=side,
        notes=tuple(notes + exception_note(dates)),
    )
