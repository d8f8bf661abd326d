"""The timeline picture drawn: a layout to a PNG with Pillow and the bundled DejaVu fonts."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image, ImageDraw

from core.fonts import load_font
from core.timescales import CaseEvents, Status, format_date

from .layout import timeline_layout
from .model import SHORT_NAMES, Layout
from .style import (
    AXIS_X0,
    AXIS_X1,
    BAR_MID,
    BAR_TEXT_SIZE,
    BAR_Y0,
    BAR_Y1,
    DIAMOND,
    FAINT_INK,
    FUTURE,
    INK,
    LABEL_BORDER,
    LABEL_LINE,
    LABEL_PAD_X,
    LABEL_PAD_Y,
    LABEL_SIZE,
    LEGEND_Y,
    MUTED_INK,
    NOTES_Y,
    PAST,
    PURPLE,
    SMALL_SIZE,
    STATE_FILL,
    STATE_TEXT,
    STATUS_COLOUR,
    STOP_MARK,
    STOPPED_FILL,
    STOPPED_LINE,
    SUBTITLE_SIZE,
    TITLE_SIZE,
    TODAY_COLOUR,
    TODAY_LABEL_Y,
    TODAY_LINE_Y0,
    WHITE,
    WIDTH,
    fit,
    text_width,
)


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
    bar_font, small_font = load_font(BAR_TEXT_SIZE, bold=True), load_font(SMALL_SIZE, bold=True)
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
        if text_width(name, font) > room:
            font = small_font
        if text_width(name, font) > room:
            name = SHORT_NAMES.get(name, name)
        name = fit(name, font, room)
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
    label_font, status_font = load_font(LABEL_SIZE), load_font(LABEL_SIZE, bold=True)
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
    font = load_font(15, bold=True)
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
    w = text_width(text, font) + 16
    bx0 = min(max(x - w // 2, 6), WIDTH - 6 - w)
    draw.rectangle((bx0, TODAY_LABEL_Y, bx0 + w, TODAY_LABEL_Y + 26), fill=TODAY_COLOUR)
    draw.text((bx0 + 8, TODAY_LABEL_Y + 13), text, font=font, fill=WHITE, anchor="lm")


def _draw_legend(draw: ImageDraw.ImageDraw, layout: Layout) -> None:
    font = load_font(SMALL_SIZE + 1)
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
    widths = [34 + text_width(text, font) for _, text in items]
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

    title_font = load_font(TITLE_SIZE, bold=True)
    name = " ".join(child_name.split())
    title = f"{name}: {layout.heading}" if name else layout.heading[:1].upper() + layout.heading[1:]
    if text_width(title, title_font) > WIDTH - 2 * 24:
        rest = f": {layout.heading}"
        name = fit(name, title_font, WIDTH - 2 * 24 - text_width(rest, title_font))
        title = f"{name}{rest}"
    draw.text((24, 18), title, font=title_font, fill=INK)
    summary_font = load_font(SUBTITLE_SIZE, bold=layout.ended is not None)
    summary_colour = STOP_MARK if layout.ended else (PURPLE if layout.segments else MUTED_INK)
    draw.text(
        (24, 56),
        fit(layout.summary, summary_font, WIDTH - 48),
        font=summary_font,
        fill=summary_colour,
    )

    if layout.kind == "not_started":
        draw.rectangle((AXIS_X0, BAR_Y0, AXIS_X1, BAR_Y1), fill=STOPPED_FILL)
        _dashed_rect(draw, (AXIS_X0, BAR_Y0, AXIS_X1, BAR_Y1), STOPPED_LINE)
        draw.line([(AXIS_X0, BAR_Y0), (AXIS_X0, BAR_Y1)], fill=STOPPED_LINE)
        font = load_font(BAR_TEXT_SIZE + 2)
        draw.text(
            (WIDTH // 2, BAR_MID), "No request recorded yet", font=font, fill=MUTED_INK, anchor="mm"
        )
        font = load_font(LABEL_SIZE + 1)
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
        small = load_font(SMALL_SIZE)
        for t in layout.ticks:  # over the leader lines, on a white ground
            w = text_width(t.text, small)
            draw.rectangle((t.x - 3, BAR_Y1 + 12, t.x + w + 3, BAR_Y1 + 28), fill=WHITE)
            draw.text((t.x, BAR_Y1 + 12), t.text, font=small, fill=MUTED_INK)
        _draw_labels(draw, layout)
        notes_font = load_font(SMALL_SIZE + 1)
        for i, note in enumerate(layout.notes[:2]):
            draw.text(
                (24, NOTES_Y + 20 * i),
                fit(note, notes_font, WIDTH - 48),
                font=notes_font,
                fill=MUTED_INK,
            )
        _draw_legend(draw, layout)

    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    return buf.getvalue()
