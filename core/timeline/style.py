"""The timeline picture's geometry, colours and type: where things go and how they look."""

from __future__ import annotations

from PIL import ImageFont

from core.timescales import Status

WIDTH, HEIGHT = 1280, 560
AXIS_X0, AXIS_X1 = 80, 1200
BAR_Y0, BAR_Y1 = 236, 272
BAR_MID = (BAR_Y0 + BAR_Y1) // 2
DIAMOND = 16  # half-size of a milestone diamond
TODAY_OUTSIDE = 22  # how far into the margin a clamped today marker sits

# Label rows for key dates: negative above the axis (-1 nearest), positive below (1 nearest).
ROW_TOP = {-2: 90, -1: 144, 1: 312, 2: 366}
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


def text_width(text: str, font: ImageFont.FreeTypeFont) -> int:
    return round(font.getlength(text))


def fit(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """``text``, shortened with an ellipsis to fit ``width`` pixels ("" if nothing fits)."""
    if text_width(text, font) <= width:
        return text
    for cut in range(len(text) - 1, 0, -1):
        short = text[:cut].rstrip() + "…"
        if text_width(short, font) <= width:
            return short
    return ""
