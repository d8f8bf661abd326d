"""The dashboard's "Timeline" picture: layout geometry, pixels, fonts, determinism.

Dates are PRODUCT.md's worked example: a request of 30 Jan 2023 gives a decision whether to assess
by 12 Mar 2023, a decision whether to issue a plan by 21 May 2023 and the final plan by 18 Jun
2023; a plan of 18 Jun 2023 gives the first annual review by 17 Jun 2024; a review meeting of
6 Mar 2024 gives the report by 19 Mar 2024 and the decision by 2 Apr 2024; an amendment notice of
2 Apr 2024 gives the amended plan by 27 May 2024.
"""

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFont

import core
from core.fonts import font_path, load_font
from core.timeline import (
    BAR_Y0,
    HEIGHT,
    PURPLE,
    STATUS_COLOUR,
    TODAY_COLOUR,
    TODAY_LINE_Y0,
    WIDTH,
    Layout,
    Segment,
    timeline_layout,
    timeline_png,
)
from core.timescales import CaseEvents, Stage, Status, current_stage

REQUEST = date(2023, 1, 30)
ASSESSING = CaseEvents(request=REQUEST, decision_to_assess=date(2023, 3, 1))
PLAN = CaseEvents(
    request=REQUEST, decision_to_assess=date(2023, 3, 1), final_plan_issued=date(2023, 6, 18)
)
IN_REVIEW = CaseEvents(
    request=REQUEST, final_plan_issued=date(2023, 6, 18), annual_review_meeting=date(2024, 3, 6)
)
AMENDING = CaseEvents(
    request=REQUEST,
    final_plan_issued=date(2023, 6, 18),
    annual_review_meeting=date(2024, 3, 6),
    review_report=date(2024, 3, 15),
    amendment_notice=date(2024, 4, 2),
)
NOT_ASSESSING = CaseEvents(
    request=REQUEST, decision_not_to_assess=date(2023, 3, 1), decision_letter=date(2023, 3, 1)
)
NO_PLAN = CaseEvents(
    request=REQUEST,
    decision_to_assess=date(2023, 3, 1),
    assessment_decision=date(2023, 5, 15),
    issue_plan=False,
)


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def picture(events: CaseEvents, today: date, name: str = "Sam Jones") -> Image.Image:
    data = timeline_png(events, today, child_name=name)
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def share_of(image: Image.Image, colour: str, x0: int, x1: int, y0: int, y1: int) -> float:
    """The share of pixels of exactly ``colour`` in the box [x0, x1) x [y0, y1)."""
    target = rgb(colour)
    region = image.crop((x0, y0, x1, y1)).convert("RGB")
    total = region.width * region.height
    counts = dict((c, n) for n, c in region.getcolors(maxcolors=total))
    return counts.get(target, 0) / total


def bar_strip(image: Image.Image, seg: Segment, colour: str) -> float:
    """Share of ``colour`` along a strip at the top of a bar (above its name), inside its ends."""
    return share_of(image, colour, seg.x0 + 6, seg.x1 - 6, BAR_Y0 + 2, BAR_Y0 + 6)


def marks(layout: Layout) -> dict:
    return {m.key: m for m in layout.marks}


# ------------------------------------------------------------------ (a) a valid, small PNG


def test_png_opens_with_expected_size_and_mode() -> None:
    data = timeline_png(ASSESSING, date(2023, 4, 20), child_name="Sam Jones")
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.size == (WIDTH, HEIGHT) == (1280, 560)
    assert image.mode == "RGB"
    assert len(data) < 150_000
    # Telegram's photo limits: width + height <= 10000, ratio <= 20.
    assert sum(image.size) <= 10_000 and max(image.size) / min(image.size) <= 20
    # White background.
    assert image.getpixel((2, HEIGHT - 2)) == (255, 255, 255)


# ------------------------------------------------------------------ (b) the current stage in purple


def test_assessing_fills_the_assessment_segment_purple_and_nothing_else() -> None:
    today = date(2023, 4, 20)
    assert current_stage(ASSESSING) is Stage.ASSESSING
    layout = timeline_layout(ASSESSING, today)
    assert layout.kind == "assessment"
    assert [s.name for s in layout.segments] == [
        "Decision whether to assess",
        "Assessment",
        "Decision whether to issue a plan",
        "Draft plan",
        "Final plan",
    ]
    assessment = layout.segment("Assessment")
    decide = layout.segment("Decision whether to assess")
    draft = layout.segment("Draft plan")
    assert layout.current_segment == assessment and assessment.current
    assert (decide.state, draft.state) == ("past", "future")
    assert [s.name for s in layout.segments if s.current] == ["Assessment"]
    # Date ranges: weeks 0-6, then to week 16, then to week 20.
    assert (decide.start, decide.end) == (REQUEST, date(2023, 3, 12))
    assert (assessment.start, assessment.end) == (date(2023, 3, 13), date(2023, 5, 21))
    assert (draft.start, draft.end) == (date(2023, 5, 22), date(2023, 6, 18))
    assert decide.x1 == assessment.x0 < assessment.x1 == draft.x0

    image = picture(ASSESSING, today)
    assert bar_strip(image, assessment, PURPLE) > 0.9
    assert bar_strip(image, decide, PURPLE) == 0
    assert bar_strip(image, draft, PURPLE) == 0


@pytest.mark.parametrize(
    ("events", "name"),
    [
        (CaseEvents(request=REQUEST), "Decision whether to assess"),
        (
            CaseEvents(request=REQUEST, decision_to_assess=date(2023, 3, 1), issue_plan=True),
            "Draft plan",
        ),
    ],
)
def test_other_assessment_stages_are_purple_where_they_belong(
    events: CaseEvents, name: str
) -> None:
    today = date(2023, 3, 5)
    layout = timeline_layout(events, today)
    assert layout.current_segment is not None and layout.current_segment.name == name
    image = picture(events, today)
    for seg in layout.segments:
        if seg.kind == "bar":
            assert (bar_strip(image, seg, PURPLE) > 0.9) is (seg.name == name), seg.name


def test_deciding_whether_to_issue_is_the_week_16_milestone() -> None:
    events = CaseEvents(
        request=REQUEST, decision_to_assess=date(2023, 3, 1), assessment_decision=date(2023, 5, 15)
    )
    layout = timeline_layout(events, date(2023, 5, 16))
    current = layout.current_segment
    assert current is not None
    assert (current.name, current.kind, current.start) == (
        "Decision whether to issue a plan",
        "milestone",
        date(2023, 5, 21),
    )
    assert layout.segment("Assessment").state == "past"
    image = picture(events, date(2023, 5, 16))
    cx = (current.x0 + current.x1) // 2
    assert image.getpixel((cx, (BAR_Y0 + 272) // 2 - 6)) == rgb(PURPLE)


# ------------------------------------------------------------------ key dates


def test_key_dates_are_the_worked_example_at_the_segment_ends() -> None:
    layout = timeline_layout(ASSESSING, date(2023, 4, 20))
    m = marks(layout)
    assert set(m) == {"decision_to_assess", "assessment_decision", "final_plan"}
    assert m["decision_to_assess"].text == "12 Mar 2023 · met"
    assert m["assessment_decision"].text == "21 May 2023 · due"
    assert m["final_plan"].text == "18 Jun 2023 · due"
    assert m["decision_to_assess"].x == layout.segment("Decision whether to assess").x1
    assert m["assessment_decision"].x == layout.segment("Assessment").x1
    assert m["final_plan"].x == layout.segment("Draft plan").x1
    # Labels alternate above and below the axis.
    rows = [mk.above for mk in sorted(layout.marks, key=lambda mk: mk.x)]
    assert rows == [True, False, True]


def test_key_date_labels_never_overlap() -> None:
    # A crowded case: report, decision, comments and amended plan within a few weeks.
    layout = timeline_layout(AMENDING, date(2024, 4, 10))
    assert len(layout.marks) >= 5
    boxes = [m.box for m in layout.marks]
    for i, a in enumerate(boxes):
        assert 0 <= a[0] < a[2] <= WIDTH and 0 <= a[1] < a[3] <= HEIGHT
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


# ------------------------------------------------------------------ (c) today


def test_today_marker_moves_with_today() -> None:
    xs = [timeline_layout(ASSESSING, REQUEST + timedelta(days=d)).today_x for d in (0, 30, 60, 120)]
    assert all(x is not None for x in xs)
    assert xs == sorted(xs) and len(set(xs)) == 4

    early, late = date(2023, 3, 1), date(2023, 5, 1)
    for today in (early, late):
        layout = timeline_layout(ASSESSING, today)
        assert layout.today_side is None
        image = picture(ASSESSING, today)
        assert image.getpixel((layout.today_x, TODAY_LINE_Y0 + 2)) == rgb(TODAY_COLOUR)
    assert picture(ASSESSING, early).tobytes() != picture(ASSESSING, late).tobytes()


def test_today_outside_the_picture_is_clamped_to_an_edge() -> None:
    before = timeline_layout(ASSESSING, date(2022, 12, 1))
    after = timeline_layout(ASSESSING, date(2026, 11, 24))
    inside = timeline_layout(ASSESSING, date(2023, 6, 18))
    assert before.today_side == "before" and after.today_side == "after"
    assert inside.today_side is None
    assert before.today_x < min(s.x0 for s in before.segments if s.kind == "bar")
    assert after.today_x > max(s.x1 for s in after.segments if s.kind == "bar")
    assert 0 < before.today_x < after.today_x < WIDTH
    picture(ASSESSING, date(2022, 12, 1))
    picture(ASSESSING, date(2026, 11, 24))


# ------------------------------------------------------------------ (d) annual review


def test_final_plan_gives_the_annual_review_picture() -> None:
    today = date(2023, 11, 24)
    assert current_stage(PLAN) is Stage.FINAL_PLAN_ISSUED
    layout = timeline_layout(PLAN, today)
    assert layout.kind == "annual_review"
    assert layout.heading == "annual review"
    assert (layout.start, layout.end) == (date(2023, 6, 18), date(2024, 6, 17))
    plan = layout.segment("Plan in place")
    assert plan.current
    assert layout.segment("Annual review meeting").start == date(2024, 6, 17)
    assert marks(layout)["annual_review"].text == "17 Jun 2024 · due"
    assert "final_plan" not in marks(layout)  # the assessment's dates are not on this picture
    image = picture(PLAN, today)
    assert bar_strip(image, plan, PURPLE) > 0.9


def test_annual_review_meeting_then_review_decision_in_purple() -> None:
    today = date(2024, 3, 25)
    assert current_stage(IN_REVIEW) is Stage.ANNUAL_REVIEW
    layout = timeline_layout(IN_REVIEW, today)
    assert layout.start == date(2024, 3, 6) and layout.end == date(2025, 3, 5)
    review = layout.segment("Review decision")
    assert review.current and (review.start, review.end) == (date(2024, 3, 6), date(2024, 4, 2))
    assert layout.segment("Plan in place").state == "future"
    m = marks(layout)
    assert m["review_report"].text == "19 Mar 2024 · overdue"
    assert m["review_decision"].text == "2 Apr 2024 · due"
    assert m["annual_review"].text == "5 Mar 2025 · due"
    image = picture(IN_REVIEW, today)
    assert bar_strip(image, review, PURPLE) > 0.9
    assert bar_strip(image, layout.segment("Plan in place"), PURPLE) == 0


def test_amendment_in_purple() -> None:
    today = date(2024, 4, 10)
    assert current_stage(AMENDING) is Stage.AMENDMENT
    layout = timeline_layout(AMENDING, today)
    amendment = layout.segment("Amendment")
    assert amendment.current
    assert (amendment.start, amendment.end) == (date(2024, 4, 2), date(2024, 5, 27))
    assert layout.segment("Review decision").state == "past"
    m = marks(layout)
    assert m["amended_plan"].text == "27 May 2024 · due"
    assert m["review_report"].status is Status.MET
    image = picture(AMENDING, today)
    assert bar_strip(image, amendment, PURPLE) > 0.9
    assert bar_strip(image, layout.segment("Review decision"), PURPLE) == 0


# ------------------------------------------------------------------ (e) overdue


def test_overdue_key_dates_are_labelled_overdue_in_red() -> None:
    events = CaseEvents(request=REQUEST)
    today = date(2023, 7, 1)
    layout = timeline_layout(events, today)
    m = marks(layout)
    for key, due in (
        ("decision_to_assess", "12 Mar 2023"),
        ("final_plan", "18 Jun 2023"),
    ):
        assert m[key].status is Status.OVERDUE
        assert m[key].text == f"{due} · overdue"
    # Reg 10(1) is only the date to say "no plan": passing it with nothing said is not overdue.
    assert "assessment_decision" not in m or m["assessment_decision"].status is not Status.OVERDUE
    image = picture(events, today)
    box = m["final_plan"].box
    assert share_of(image, STATUS_COLOUR[Status.OVERDUE], *box[::2], *box[1::2]) > 0
    # A date still to come is not red.
    layout = timeline_layout(events, date(2023, 3, 1))
    box = marks(layout)["final_plan"].box
    assert marks(layout)["final_plan"].text == "18 Jun 2023 · due"
    image = picture(events, date(2023, 3, 1))
    assert share_of(image, STATUS_COLOUR[Status.OVERDUE], *box[::2], *box[1::2]) == 0


def test_a_recorded_exception_is_noted_and_moves_no_date() -> None:
    events = CaseEvents(request=REQUEST, exceptions=frozenset({"school_closed_4_weeks"}))
    layout = timeline_layout(events, date(2023, 4, 1))
    assert marks(layout)["decision_to_assess"].due == date(2023, 3, 12)
    assert any("exception" in n and "unchanged" in n for n in layout.notes)


# ------------------------------------------------------------------ (f) the process stops


def test_not_assessing_ends_at_the_decision_with_no_purple_beyond() -> None:
    today = date(2023, 3, 20)
    assert current_stage(NOT_ASSESSING) is Stage.NOT_ASSESSING
    layout = timeline_layout(NOT_ASSESSING, today)
    assert layout.ended == "The council decided not to assess"
    assert layout.ended_on == date(2023, 3, 1)
    assert "The council decided not to assess" in layout.summary
    assert layout.current_segment is None
    decide = layout.segment("Decision whether to assess")
    assert decide.state == "past" and decide.end == date(2023, 3, 1)
    assert layout.ended_x == decide.x1
    assert {s.state for s in layout.segments if s.name != decide.name} == {"stopped"}
    assert "assessment_decision" not in marks(layout) and "final_plan" not in marks(layout)
    assert marks(layout)["decision_to_assess"].status is Status.MET
    # 2 months on is Mon 1 May 2023, a bank holiday: the next working day (rule 12(2)).
    assert marks(layout)["tribunal_appeal"].text == "2 May 2023 · due"
    image = picture(NOT_ASSESSING, today)
    assert share_of(image, PURPLE, 0, WIDTH, BAR_Y0 - 10, 290) == 0


def test_no_plan_ends_at_the_decision_whether_to_issue() -> None:
    layout = timeline_layout(NO_PLAN, date(2023, 5, 20))
    assert layout.ended == "The council decided not to issue a plan"
    assert layout.current_segment is None
    assert layout.segment("Assessment").state == "past"
    assert layout.segment("Decision whether to issue a plan").state == "past"
    assert layout.segment("Draft plan").state == "stopped"
    image = picture(NO_PLAN, date(2023, 5, 20))
    assert share_of(image, PURPLE, 0, WIDTH, BAR_Y0 - 10, 290) == 0


def test_no_request_and_no_plan_is_a_simple_valid_picture() -> None:
    layout = timeline_layout(CaseEvents(), date(2026, 11, 24))
    assert layout.kind == "not_started" and not layout.segments and not layout.marks
    assert "starts when the request" in layout.summary
    image = picture(CaseEvents(), date(2026, 11, 24))
    assert image.size == (WIDTH, HEIGHT)


# ------------------------------------------------------------------ (g) the bundled font


def test_bundled_font_is_in_the_package_and_has_cyrillic_and_greek() -> None:
    package = Path(core.__file__).resolve().parent
    for bold in (False, True):
        path = font_path(bold)
        assert path.is_file() and path.suffix == ".ttf"
        assert package in path.resolve().parents
    assert (package / "data" / "fonts" / "LICENSE-DejaVu.txt").is_file()
    font = load_font(20)
    assert isinstance(font, ImageFont.FreeTypeFont)
    assert load_font(20) is font  # cached
    for text in ("Ілля", "Αλέξης", "Zoë"):
        left, _, right, _ = font.getbbox(text)
        assert right - left > 0
    # Real glyphs, not one "missing" box for every letter.
    masks = {bytes(font.getmask(ch)) for ch in "ІляΑλξ"}
    assert len(masks) == 6


@pytest.mark.parametrize("name", ["Zoë", "Ілля Петренко", "Αλέξης", "李小龍", ""])
def test_names_in_any_script_render(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_bitmap_font(*args: object, **kwargs: object) -> None:
        raise AssertionError("the bitmap default font has no glyphs outside ASCII")

    monkeypatch.setattr(ImageFont, "load_default", no_bitmap_font)
    image = picture(ASSESSING, date(2023, 4, 20), name=name)
    assert image.size == (WIDTH, HEIGHT)
    if name:  # the name is drawn: another name gives another picture
        other = picture(ASSESSING, date(2023, 4, 20), name=name + "a")
        assert other.tobytes() != image.tobytes()


def test_a_very_long_name_still_fits() -> None:
    image = picture(PLAN, date(2023, 11, 24), name="Ілля " * 60)
    assert image.size == (WIDTH, HEIGHT)


# ------------------------------------------------------------------ (h) deterministic


@pytest.mark.parametrize("events", [ASSESSING, PLAN, AMENDING, NOT_ASSESSING, CaseEvents()])
def test_same_inputs_same_bytes(events: CaseEvents) -> None:
    a = timeline_png(events, date(2024, 4, 10), child_name="Αλέξης")
    b = timeline_png(events, date(2024, 4, 10), child_name="Αλέξης")
    assert a == b
    assert len(a) < 150_000


# ------------------------------------------------------------------ properties


dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
maybe = st.one_of(st.none(), dates)


@settings(max_examples=150, deadline=None)
@given(
    events=st.builds(
        CaseEvents,
        request=maybe,
        decision_to_assess=maybe,
        decision_not_to_assess=maybe,
        assessment_decision=maybe,
        issue_plan=st.one_of(st.none(), st.booleans()),
        draft_plan_served=maybe,
        final_plan_issued=maybe,
        annual_review_meeting=maybe,
        review_report=maybe,
        amendment_notice=maybe,
        amended_plan_issued=maybe,
        decision_letter=maybe,
        phase_transfer_year=st.one_of(st.none(), st.integers(2020, 2031)),
    ),
    today=dates,
)
def test_any_case_lays_out_inside_the_picture(events: CaseEvents, today: date) -> None:
    layout = timeline_layout(events, today)
    assert len([s for s in layout.segments if s.current]) <= 1
    for s in layout.segments:
        assert 0 <= s.x0 < s.x1 <= WIDTH, s
        assert s.start <= s.end
    for m in layout.marks:
        assert 0 <= m.box[0] <= m.x <= m.box[2] <= WIDTH
        assert 0 <= m.box[1] < m.box[3] <= HEIGHT
    if layout.today_x is not None:
        assert 0 < layout.today_x < WIDTH
    if layout.stage in (Stage.NOT_ASSESSING, Stage.NO_PLAN) and layout.kind == "assessment":
        assert layout.current_segment is None and layout.ended


@settings(max_examples=25, deadline=None)
@given(
    events=st.builds(
        CaseEvents,
        request=maybe,
        decision_to_assess=maybe,
        final_plan_issued=maybe,
        annual_review_meeting=maybe,
        amendment_notice=maybe,
    ),
    today=dates,
)
def test_any_case_renders(events: CaseEvents, today: date) -> None:
    data = timeline_png(events, today, child_name="Zoë")
    assert Image.open(io.BytesIO(data)).size == (WIDTH, HEIGHT)
