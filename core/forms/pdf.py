"""The PDF of a form's answers: for the parent ("Create PDF", their copy on Submit) and for the
caseworker (the submission's PDF). fpdf2 with the bundled DejaVu fonts, so any script prints."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fpdf import FPDF

from core.clock import LONDON
from core.fonts import font_path
from core.forms.answers import format_answer
from core.forms.form import FormDefinition
from core.forms.questions import Question

FONT = "DejaVu"
MARGIN = 18  # mm
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean(text: str) -> str:
    """User text as the PDF can print it: line breaks kept, tabs as spaces, other control
    characters dropped."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return _CONTROL.sub("", text)


def _when(dt: datetime) -> str:
    """24 Nov 2026 at 14:00, in Europe/London (a naive time is taken as UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    local = dt.astimezone(LONDON)
    return f"{local.day} {local:%b %Y} at {local:%H:%M}"


class _Document(FPDF):
    council_name = ""
    form_title = ""

    def header(self) -> None:
        self.set_font(FONT, "", 9)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, _clean(self.council_name), new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(180, 180, 180)
        self.line(MARGIN, self.get_y() + 1, self.w - MARGIN, self.get_y() + 1)
        self.ln(5)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, _clean(self.form_title), align="L")
        self.set_x(MARGIN)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0, 0, 0)


def form_pdf(
    form: FormDefinition,
    answers: dict[str, Any],
    *,
    council_name: str,
    child_name: str | None,
    carer_name: str | None,
    submitted_at: datetime | None,
    generated_at: datetime,
    reference: str | None = None,
) -> bytes:
    """Title, who and about whom, "Submitted on 24 Nov 2026 at 14:00" (or "Not submitted yet:
    the answers so far"), then each step by name with each shown question and its answer
    (format_answer; "Not answered" for a gap; files by name). Long answers wrap; pages numbered."""
    pdf = _Document(orientation="portrait", unit="mm", format="A4")
    pdf.council_name = council_name
    pdf.form_title = form.title
    pdf.add_font(FONT, "", str(font_path()))
    pdf.add_font(FONT, "B", str(font_path(bold=True)))
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.alias_nb_pages()
    created = generated_at if generated_at.tzinfo else generated_at.replace(tzinfo=UTC)
    pdf.set_creation_date(created)
    pdf.set_title(_clean(form.title))
    pdf.set_author(_clean(council_name))
    pdf.set_creator("EHCP portal")
    pdf.add_page()
    width = pdf.w - 2 * MARGIN

    pdf.set_font(FONT, "B", 18)
    pdf.multi_cell(width, 9, _clean(form.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    pdf.set_font(FONT, "", 11)
    facts = []
    if child_name:
        facts.append(("Child or young person", child_name))
    if carer_name:
        facts.append(("Filled in by", carer_name))
    if reference:
        facts.append(("Case reference", reference))
    pdf.set_font(FONT, "B", 11)
    label_width = max((pdf.get_string_width(f"{label}:") for label, _ in facts), default=0) + 3
    for label, value in facts:
        pdf.set_font(FONT, "B", 11)
        pdf.cell(label_width, 6, f"{label}:")
        pdf.set_font(FONT, "", 11)
        pdf.multi_cell(width - label_width, 6, _clean(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    if submitted_at is not None:
        status = f"Submitted on {_when(submitted_at)}"
    else:
        status = "Not submitted yet: the answers so far"
    pdf.multi_cell(width, 6, status, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(width, 5, f"This copy was made on {_when(generated_at)}.",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)

    visible = {str(it.id) for it in form.visible_items(answers)}
    steps = len(form.steps)
    for number, step in enumerate(form.steps, start=1):
        questions = [
            it for it in step.items if isinstance(it, Question) and it.id in visible
        ]
        if not questions:
            continue  # guidance only: nothing was asked
        pdf.ln(5)
        if pdf.will_page_break(25):
            pdf.add_page()
        pdf.set_font(FONT, "B", 13)
        pdf.set_fill_color(232, 238, 245)
        pdf.multi_cell(width, 8, _clean(f"Step {number} of {steps}: {step.name}"), fill=True,
                       new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        for q in questions:
            if pdf.will_page_break(16):
                pdf.add_page()
            pdf.set_font(FONT, "B", 10.5)
            pdf.multi_cell(width, 5.5, _clean(q.text), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(FONT, "", 10.5)
            value = answers.get(q.id)
            text = format_answer(q, value)
            if text == "Not answered":
                pdf.set_text_color(110, 110, 110)
            pdf.multi_cell(width, 5.5, _clean(text), new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
            pdf.ln(3)
    return bytes(pdf.output())
