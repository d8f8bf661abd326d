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

Modules: ``style`` (the picture's geometry, colours and type), ``model`` (what is drawn:
segments, key-date marks, scale labels, the layout), ``axis`` (dates to pixels, the stages'
bars and milestones and their states), ``labels`` (which key dates are drawn or noted, and
where their labels go), ``layout`` (the two pictures worked out), ``drawing`` (the PNG).
"""

from .drawing import timeline_png
from .layout import timeline_layout
from .model import Layout, Mark, Segment, Tick
from .style import (
    BAR_Y0,
    HEIGHT,
    PURPLE,
    STATUS_COLOUR,
    TODAY_COLOUR,
    TODAY_LINE_Y0,
    WIDTH,
)

__all__ = [
    "BAR_Y0",
    "HEIGHT",
    "PURPLE",
    "STATUS_COLOUR",
    "TODAY_COLOUR",
    "TODAY_LINE_Y0",
    "WIDTH",
    "Layout",
    "Mark",
    "Segment",
    "Tick",
    "timeline_layout",
    "timeline_png",
]
