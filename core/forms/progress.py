"""Where a parent is in a form, and which of their answers stand: pure functions over a
definition and the answers kept (no database, no clock).

A response's position is an item id (a question or a guidance page) or REVIEW. An answer to a
question hidden since (a second school after "no second preference") no longer stands.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from core.errors import NotFound
from core.forms.answers import AnswerRefused, parse_answer, parse_choices
from core.forms.form import FormDefinition
from core.forms.questions import Question, QuestionType

REVIEW = "review"


def has_answer(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _item_ids(form: FormDefinition) -> list[str]:
    return [str(item.id) for step in form.steps for item in step.items]


def visible_ids(form: FormDefinition, answers: dict[str, Any]) -> list[str]:
    return [str(item.id) for item in form.visible_items(answers)]


def visible_questions(form: FormDefinition, answers: dict[str, Any]) -> list[Question]:
    return [item for item in form.visible_items(answers) if isinstance(item, Question)]


def prune(form: FormDefinition, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers without those to questions now hidden (or no longer in the form). Dropping one
    may hide another (a chain of show_if), so until nothing changes."""
    while True:
        shown = {q.id for q in visible_questions(form, answers)}
        kept = {k: v for k, v in answers.items() if k in shown and has_answer(v)}
        if len(kept) == len(answers):
            return kept
        answers = kept


def answered(form: FormDefinition, answers: dict[str, Any]) -> int:
    return sum(1 for q in visible_questions(form, answers) if has_answer(answers.get(q.id)))


def where(form: FormDefinition, position: str, answers: dict[str, Any]) -> str:
    """The item to show: `position`, or, if that item is now hidden (or gone), the next shown
    one after it (the review if none)."""
    if position == REVIEW:
        return REVIEW
    shown = visible_ids(form, answers)
    if position in shown:
        return position
    order = _item_ids(form)
    at = order.index(position) if position in order else -1
    later = [i for i in shown if order.index(i) > at] if at >= 0 else []
    return later[0] if later else (REVIEW if at >= 0 or not shown else shown[0])


def first_position(form: FormDefinition) -> str:
    first = form.next_item(None, {})
    return first if first is not None else REVIEW


def after(form: FormDefinition, item_id: str, answers: dict[str, Any], from_review: bool) -> tuple[str, bool]:
    """Where to go after `item_id`: the next item; from the review, back to it, unless the
    next item is a required question still to answer (one the change has just shown, such as
    "Which school is your second preference?" after "Yes"): that first, then the review."""
    nxt = form.next_item(item_id, answers)
    if from_review:
        if nxt is not None and nxt in {q.id for q in form.missing(answers)}:
            return nxt, True
        return REVIEW, False
    return (nxt if nxt is not None else REVIEW), False


def shown_question(form: FormDefinition, answers: dict[str, Any], question_id: str) -> Question:
    """The question with this id, if it is shown given the answers (NotFound otherwise)."""
    try:
        item = form.item(question_id)
    except (KeyError, TypeError):
        raise NotFound("no such question") from None
    if not isinstance(item, Question) or question_id not in {q.id for q in visible_questions(form, answers)}:
        raise NotFound("no such question")
    return item


def checked_answer(q: Question, raw: str | list[str] | None, today: date, answers: dict[str, Any]) -> Any:
    """The value to keep for `raw` (typed text, an option value, a list of option values, None
    to skip; a file question's files are already in `answers`), or AnswerRefused."""
    if q.type == QuestionType.FILE:
        if raw is not None:
            raise AnswerRefused("Please send the file here, as a document or a photo.")
        files = answers.get(q.id) or []
        if q.required and not files:
            raise AnswerRefused("Please send at least one file before you go on.")
        return files or None
    if raw is None:
        if q.required:
            raise AnswerRefused("This question needs an answer before you go on.")
        return None
    if isinstance(raw, list):
        if q.type != QuestionType.SEVERAL_CHOICES:
            raise AnswerRefused("Please choose one answer.")
        value: Any = parse_choices(q, [str(v) for v in raw])
    else:
        value = parse_answer(q, str(raw), today)
    if q.required and not has_answer(value):
        raise AnswerRefused("This question needs an answer before you go on.")
    return value
