"""Form definitions: data (YAML or JSON files), validated with pydantic when they are loaded.

A form is a list of steps (the guide's step names: "Parental Preference Form", "Parental
Preference Guidance", ... "Submit"); each step holds items, asked one at a time: guidance pages
(text to read, then Next) and questions. A question has a type, may be optional, may carry
validation rules, and may be shown only when an earlier answer calls for it (`show_if`).

    id: parental_preference          # letters, digits, underscores
    version: 1
    title: Parental Preference Form
    started_by: team                 # team: the SEND team assigns it | parent: from the main menu
    creates_case: false              # true: submitting it opens the case (request for assessment)
    steps:
      - name: Parental Preference Guidance
        items:
          - guidance: |
              Text the parent reads first.
          - id: school_1
            type: list_choice
            text: Which school is your first preference?
            list: schools              # core/data/forms/lists/schools.csv
            required: true
            show_if: {question: wants_school, equals: true}

Everything here is pure: no database, no Telegram, no clock (today is passed in).
"""

from __future__ import annotations

import calendar
import csv
import json
import re
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from core.errors import Refused
from core.timescales import format_date

FORMS_DIR = Path(__file__).resolve().parent.parent / "data" / "forms"
LISTS_DIR = FORMS_DIR / "lists"

MAX_FILE_BYTES = 20 * 1024 * 1024

# Typed answers longer than this are refused unless the question sets its own max_length.
DEFAULT_MAX_TEXT = 300
DEFAULT_MAX_LONG_TEXT = 5000

_ID = r"^[a-z][a-z0-9_]{0,59}$"
_LIST_NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_RELATIVE = re.compile(r"^([+-])(\d{1,3})([dmy])$")


class FormDefinitionError(ValueError):
    """A form definition that cannot be used; the message names the file and the problem
    (for example "parental_preference.yaml: steps[3].items[2] (school_2): show_if refers to
    'wants_school', which is not an earlier question")."""


class AnswerRefused(Refused):
    """A wrong answer: `message` is what the parent is told (plain English, kind, saying what
    is wanted), before the question is asked again."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "invalid_answer")


class QuestionType(StrEnum):
    TEXT = "text"  # one line
    LONG_TEXT = "long_text"
    ONE_CHOICE = "one_choice"
    SEVERAL_CHOICES = "several_choices"
    YES_NO = "yes_no"
    DATE = "date"
    NUMBER = "number"
    EMAIL = "email"
    PHONE = "phone"
    LIST_CHOICE = "list_choice"  # one entry of a long list (schools), found by typing part of it
    FILE = "file"  # one or more uploaded files


_CHOICE_TYPES = (QuestionType.ONE_CHOICE, QuestionType.SEVERAL_CHOICES)
_TEXT_TYPES = (QuestionType.TEXT, QuestionType.LONG_TEXT)


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(min_length=1, max_length=60)
    label: str = Field(min_length=1, max_length=120)


class Condition(BaseModel):
    """Shown only when the earlier question `question` was answered `equals` (or one of `in`;
    for several_choices: when the answer includes it, or `contains` it). A yes_no question is
    compared with true/false; a one_choice or several_choices one with option values. A
    condition on a question that is itself hidden is not met."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    question: str
    equals: str | bool | int | float | None = None
    in_: list[str | bool | int | float] | None = Field(None, alias="in")
    contains: str | None = None  # several_choices: the answer includes this option value

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        given = [k for k in ("equals", "in_", "contains") if k in self.model_fields_set]
        if len(given) != 1:
            raise ValueError(
                f"show_if on '{self.question}' needs exactly one of equals, in or contains"
            )
        if "equals" in given and self.equals is None:
            raise ValueError(f"show_if on '{self.question}': equals needs a value")
        if "in_" in given and not self.in_:
            raise ValueError(f"show_if on '{self.question}': in needs a list of values")
        return self

    def values(self) -> list[Any]:
        if "contains" in self.model_fields_set:
            return [self.contains]
        if "in_" in self.model_fields_set:
            return list(self.in_ or [])
        return [self.equals]

    def met(self, answer: Any) -> bool:
        if answer is None:
            return False
        wanted = self.values()
        if isinstance(answer, list):  # several_choices
            return any(w in answer for w in wanted)
        for w in wanted:
            # True == 1 in Python: keep booleans apart from numbers.
            if isinstance(w, bool) != isinstance(answer, bool):
                continue
            if w == answer:
                return True
        return False


class Guidance(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = Field(None, pattern=_ID)  # given one when loaded if absent: "g<step>_<item>"
    guidance: str = Field(min_length=1)
    title: str | None = None
    show_if: Condition | None = None


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(pattern=_ID)
    type: QuestionType
    text: str = Field(min_length=1, max_length=500)
    hint: str | None = None
    required: bool = True
    show_if: Condition | None = None
    # one_choice, several_choices
    options: list[Option] | None = None
    # several_choices: how many may be ticked
    min_choices: int | None = Field(None, ge=0)
    max_choices: int | None = Field(None, ge=1)
    # text, long_text: length in characters
    min_length: int | None = Field(None, ge=0)
    max_length: int | None = Field(None, ge=1)
    # number
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    # date: "today", "-25y", "+1y", "-6m", "+30d" or an ISO date
    earliest: str | None = None
    latest: str | None = None
    # list_choice: the name of a list in core/data/forms/lists (<name>.csv) and whether an entry
    # not on the list may be typed ("Other: ...")
    list_name: str | None = Field(None, alias="list")
    allow_other: bool = False
    # file: how many files at most
    max_files: int = Field(5, ge=1, le=20)
    # yes_no / one_choice: the only answer that lets the parent go on (a declaration), and
    # what they are told otherwise
    must_be: str | bool | None = None
    must_be_message: str | None = None
    # what the answer is called in messages ("date of birth": "The date of birth cannot be in
    # the future.")
    answer_name: str | None = None

    @field_validator("earliest", "latest")
    @classmethod
    def _date_bound(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                resolve_date_bound(v, date(2000, 1, 1))
            except ValueError:
                raise ValueError(
                    f"'{v}' is not a date limit: use today, -25y, +1y, -6m, +30d or 2027-02-03"
                ) from None
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        t = self.type
        given = self.model_fields_set
        problems: list[str] = []

        def only_for(fields: tuple[str, ...], types: tuple[QuestionType, ...], what: str) -> None:
            if t in types:
                return
            for f in fields:
                if f in given and getattr(self, f) not in (None, False):
                    name = "list" if f == "list_name" else f
                    problems.append(f"{name} given to a {t.value} question ({what})")

        if t in _CHOICE_TYPES:
            if not self.options:
                problems.append(f"type {t.value} needs options")
            else:
                values = [o.value for o in self.options]
                dupes = sorted({v for v in values if values.count(v) > 1})
                if dupes:
                    problems.append(f"the option value '{dupes[0]}' is given twice")
        elif self.options is not None:
            problems.append(f"options given to a {t.value} question")
        only_for(("min_choices", "max_choices"), (QuestionType.SEVERAL_CHOICES,),
                 "only several_choices has them")
        only_for(("min_length", "max_length"), _TEXT_TYPES, "only text and long_text have them")
        only_for(("minimum", "maximum", "integer"), (QuestionType.NUMBER,),
                 "only number has them")
        only_for(("earliest", "latest"), (QuestionType.DATE,), "only date has them")
        only_for(("list_name", "allow_other"), (QuestionType.LIST_CHOICE,),
                 "only list_choice has them")
        only_for(("max_files",), (QuestionType.FILE,), "only file has it")
        only_for(("must_be",), (QuestionType.YES_NO, QuestionType.ONE_CHOICE),
                 "only yes_no and one_choice have it")

        if self.min_length is not None and self.max_length is not None:
            if self.min_length > self.max_length:
                problems.append(
                    f"min_length {self.min_length} is more than max_length {self.max_length}"
                )
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            problems.append(
                f"minimum {_num(self.minimum)} is more than maximum {_num(self.maximum)}"
            )
        if self.min_choices is not None and self.max_choices is not None:
            if self.min_choices > self.max_choices:
                problems.append(
                    f"min_choices {self.min_choices} is more than max_choices {self.max_choices}"
                )
        if t is QuestionType.SEVERAL_CHOICES and self.options:
            for f in ("min_choices", "max_choices"):
                v = getattr(self, f)
                if v is not None and v > len(self.options):
                    problems.append(f"{f} {v} is more than the {len(self.options)} options")
        if self.earliest is not None and self.latest is not None:
            # Both resolved against the same day: "+1y" before "today" is wrong whatever the day.
            ref = date(2000, 1, 1)
            if resolve_date_bound(self.earliest, ref) > resolve_date_bound(self.latest, ref):
                problems.append(f"earliest {self.earliest} is after latest {self.latest}")
        if t is QuestionType.LIST_CHOICE:
            if not self.list_name:
                problems.append("type list_choice needs a list")
            elif not _LIST_NAME.match(self.list_name):
                problems.append(
                    f"the list name '{self.list_name}' must be lower-case letters, digits "
                    "and underscores"
                )
            else:
                try:
                    load_list(self.list_name)
                except FormDefinitionError as e:
                    problems.append(str(e))
        if "must_be" in given and self.must_be is not None:
            if t is QuestionType.YES_NO and not isinstance(self.must_be, bool):
                problems.append("must_be on a yes_no question must be true or false")
            if t is QuestionType.ONE_CHOICE and self.options and self.must_be not in [
                o.value for o in self.options
            ]:
                problems.append(f"must_be '{self.must_be}' is not one of the options")
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _item_kind(v: Any) -> str:
    if isinstance(v, dict):
        return "guidance" if "guidance" in v else "question"
    return "guidance" if isinstance(v, Guidance) else "question"


Item = Annotated[
    Annotated[Guidance, Tag("guidance")] | Annotated[Question, Tag("question")],
    Discriminator(_item_kind),
]


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    items: list[Item] = Field(default_factory=list)


class FormDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    version: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=200)
    description: str | None = None  # one or two sentences shown before the first step
    started_by: Literal["team", "parent"] = "team"
    creates_case: bool = False
    steps: list[Step] = Field(min_length=1)

    _items: list[tuple[int, Guidance | Question]] = PrivateAttr(default_factory=list)
    _by_id: dict[str, tuple[int, Guidance | Question]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _name_guidance(cls, data: Any) -> Any:
        """Give each guidance page without an id the id "g<step>_<item>"."""
        if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
            return data
        steps = []
        for si, step in enumerate(data["steps"]):
            if isinstance(step, dict) and isinstance(step.get("items"), list):
                items = []
                for ii, it in enumerate(step["items"]):
                    if isinstance(it, dict) and "guidance" in it and it.get("id") is None:
                        it = {**it, "id": f"g{si}_{ii}"}
                    items.append(it)
                step = {**step, "items": items}
            steps.append(step)
        return {**data, "steps": steps}

    @model_validator(mode="after")
    def _cross_checks(self) -> FormDefinition:
        problems: list[str] = []
        seen: dict[str, Question | Guidance] = {}
        for si, step in enumerate(self.steps):
            if not step.items:
                problems.append(f"steps[{si}] ({step.name}): has no items")
            for ii, it in enumerate(step.items):
                where = f"steps[{si}].items[{ii}] ({it.id})"
                assert it.id is not None
                if it.id in seen:
                    problems.append(f"{where}: duplicate id '{it.id}'")
                    continue
                if it.show_if is not None:
                    p = _check_condition(it.show_if, seen)
                    if p:
                        problems.append(f"{where}: {p}")
                seen[it.id] = it
        questions = [q for q in seen.values() if isinstance(q, Question)]
        if not questions:
            problems.append("the form has no questions")
        if self.creates_case:
            if self.started_by != "parent":
                problems.append("creates_case needs started_by: parent")
            by_id = {q.id: q for q in questions}
            for qid, qt in (
                ("child_forename", QuestionType.TEXT),
                ("child_surname", QuestionType.TEXT),
                ("child_date_of_birth", QuestionType.DATE),
            ):
                q = by_id.get(qid)
                if q is None or q.type is not qt or not q.required or q.show_if is not None:
                    problems.append(
                        f"creates_case needs a required {qt.value} question '{qid}' that is "
                        "always shown"
                    )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def model_post_init(self, context: Any) -> None:
        items = [(si, it) for si, step in enumerate(self.steps) for it in step.items]
        self._items = items
        self._by_id = {str(it.id): (si, it) for si, it in items}

    # ------------------------------------------------------------------ lookups

    def item(self, item_id: str) -> Guidance | Question:
        """The item with this id (KeyError if none)."""
        return self._by_id[item_id][1]

    def question(self, question_id: str) -> Question:
        """The question with this id (KeyError if none, or if it is a guidance page)."""
        it = self.item(question_id)
        if not isinstance(it, Question):
            raise KeyError(question_id)
        return it

    def questions(self) -> list[Question]:
        """Every question, in order (shown or not)."""
        return [it for _, it in self._items if isinstance(it, Question)]

    def _visible_ids(self, answers: dict[str, Any]) -> list[str]:
        shown: set[str] = set()
        out: list[str] = []
        for _, it in self._items:
            cond = it.show_if
            if cond is not None and not (
                cond.question in shown and cond.met(answers.get(cond.question))
            ):
                continue
            shown.add(str(it.id))
            out.append(str(it.id))
        return out

    def visible_items(self, answers: dict[str, Any]) -> list[Guidance | Question]:
        """The items to ask, in order, given the answers so far (conditions applied)."""
        return [self.item(i) for i in self._visible_ids(answers)]

    def is_visible(self, item_id: str, answers: dict[str, Any]) -> bool:
        return item_id in self._visible_ids(answers)

    def visible_answers(self, answers: dict[str, Any]) -> dict[str, Any]:
        """The answers to questions that are shown (what a submission holds): an answer to a
        question hidden since (a second school after "no second preference") is left out."""
        shown = set(self._visible_ids(answers))
        return {k: v for k, v in answers.items() if k in shown}

    def step_of(self, item_id: str) -> int:
        """The 0-based index of the step holding this item."""
        return self._by_id[item_id][0]

    def progress(self, item_id: str, answers: dict[str, Any]) -> tuple[int, int, int, int]:
        """(step number, steps, question number within its step, questions shown in that step),
        1-based, for "Step 4 of 6, question 2 of 5" (guidance pages count as 0 of 0 questions
        when a step has no question; a guidance page among questions gets the number of the
        questions before it)."""
        si, it = self._by_id[item_id]
        visible = set(self._visible_ids(answers))
        before = 0
        total = 0
        passed = False
        for other in self.steps[si].items:
            if other.id == item_id:
                passed = True
                if isinstance(other, Question):
                    before += 1
                    total += 1 if other.id not in visible else 0
            if isinstance(other, Question) and other.id in visible:
                total += 1
                if not passed:
                    before += 1
        number = before
        return si + 1, len(self.steps), number, max(total, number)

    def progress_text(self, item_id: str, answers: dict[str, Any]) -> str:
        """ "Step 4 of 6, question 2 of 5" (a guidance page: "Step 2 of 6")."""
        step, steps, n, of = self.progress(item_id, answers)
        if isinstance(self.item(item_id), Question):
            return f"Step {step} of {steps}, question {n} of {of}"
        return f"Step {step} of {steps}"

    def _neighbour(self, item_id: str | None, answers: dict[str, Any], step: int) -> str | None:
        visible = self._visible_ids(answers)
        if item_id is None:
            return visible[0] if visible and step > 0 else None
        if item_id in visible:
            i = visible.index(item_id) + step
            return visible[i] if 0 <= i < len(visible) else None
        # The item is hidden now (an earlier answer changed): its nearest visible neighbour.
        order = [str(it.id) for _, it in self._items]
        pos = order.index(item_id)  # KeyError-like ValueError for an unknown id
        rank = {i: n for n, i in enumerate(order)}
        if step > 0:
            later = [i for i in visible if rank[i] > pos]
            return later[0] if later else None
        earlier = [i for i in visible if rank[i] < pos]
        return earlier[-1] if earlier else None

    def next_item(self, item_id: str | None, answers: dict[str, Any]) -> str | None:
        """The id of the visible item after `item_id` (the first with None); None: the review."""
        return self._neighbour(item_id, answers, 1)

    def previous_item(self, item_id: str, answers: dict[str, Any]) -> str | None:
        """The id of the visible item before `item_id`; None at the first."""
        return self._neighbour(item_id, answers, -1)

    def missing(self, answers: dict[str, Any]) -> list[Question]:
        """Visible required questions with no answer."""
        return [
            it
            for it in self.visible_items(answers)
            if isinstance(it, Question) and it.required and _empty(answers.get(it.id))
        ]


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _check_condition(cond: Condition, earlier: dict[str, Question | Guidance]) -> str | None:
    """What is wrong with a show_if, given the items before it (None: nothing)."""
    q = earlier.get(cond.question)
    if not isinstance(q, Question):
        return f"show_if refers to '{cond.question}', which is not an earlier question"
    values = cond.values()
    t = q.type
    if "contains" in cond.model_fields_set and t is not QuestionType.SEVERAL_CHOICES:
        return f"show_if uses contains, which only works on a several_choices question ('{q.id}' is {t.value})"
    if t is QuestionType.YES_NO:
        bad = [v for v in values if not isinstance(v, bool)]
        if bad:
            return (
                f"show_if on '{q.id}' (a yes_no question) must be true or false, not '{bad[0]}'"
            )
    elif t in _CHOICE_TYPES:
        offered = [o.value for o in q.options or []]
        bad = [v for v in values if v not in offered or isinstance(v, bool)]
        if bad:
            return (
                f"show_if on '{q.id}' uses '{bad[0]}', which is not one of its options "
                f"({', '.join(offered)})"
            )
    elif t is QuestionType.NUMBER:
        bad = [v for v in values if isinstance(v, bool) or not isinstance(v, int | float)]
        if bad:
            return f"show_if on '{q.id}' (a number question) must compare with a number"
    elif t is QuestionType.FILE:
        return f"show_if cannot depend on '{q.id}', a file question"
    else:
        bad = [v for v in values if not isinstance(v, str)]
        if bad:
            return f"show_if on '{q.id}' ({t.value}) must compare with text, not '{bad[0]}'"
    return None


# ---------------------------------------------------------------------------- lists


@cache
def load_list(name: str) -> tuple[str, ...]:
    """The entries (the `name` column) of core/data/forms/lists/<name>.csv, loaded once."""
    if not _LIST_NAME.match(name):
        raise FormDefinitionError(f"unknown list '{name}'")
    path = LISTS_DIR / f"{name}.csv"
    if not path.is_file():
        raise FormDefinitionError(f"unknown list '{name}' (no core/data/forms/lists/{name}.csv)")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "name" not in reader.fieldnames:
            raise FormDefinitionError(f"the list '{name}' ({path.name}) has no 'name' column")
        names = [(row.get("name") or "").strip() for row in reader]
    entries = tuple(dict.fromkeys(n for n in names if n))
    if not entries:
        raise FormDefinitionError(f"the list '{name}' ({path.name}) is empty")
    return entries


@cache
def load_list_rows(name: str) -> tuple[dict[str, str], ...]:
    """Every row of a list (all its columns: name, phase, town ...)."""
    load_list(name)
    with (LISTS_DIR / f"{name}.csv").open(newline="", encoding="utf-8-sig") as f:
        return tuple(dict(r) for r in csv.DictReader(f) if (r.get("name") or "").strip())


def _fold(text: str) -> str:
    """Lower case, apostrophes and full stops dropped, other punctuation as spaces."""
    text = text.lower().replace("'", "").replace("\u2019", "").replace(".", "")
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def search_list(question: Question, text: str, limit: int = 8) -> list[str]:
    """Entries of a list_choice question's list that match part of `text` (case-insensitive,
    every word), best first: for the buttons offered after the parent types part of a name."""
    if not question.list_name:
        return []
    words = _fold(text).split()
    if not words:
        return []
    whole = " ".join(words)
    scored = []
    for entry in load_list(question.list_name):
        folded = _fold(entry)
        if not all(w in folded for w in words):
            continue
        entry_words = folded.split()
        if folded == whole:
            rank = 0
        elif folded.startswith(whole):
            rank = 1
        elif all(any(ew.startswith(w) for ew in entry_words) for w in words):
            rank = 2
        else:
            rank = 3
        scored.append((rank, folded, entry))
    scored.sort()
    return [e for _, _, e in scored[: max(limit, 0)]]


# ---------------------------------------------------------------------------- loading


def _describe(loc: tuple[Any, ...], raw: Any) -> tuple[str, str | None]:
    """A location as a reader finds it: ("steps[1].items[0] (school_1)", "options[0].value"):
    the place up to the item (named by its id), and the field within it (None: the item)."""
    clean: list[Any] = []
    for n, p in enumerate(loc):
        if p in ("question", "guidance") and n > 0 and isinstance(loc[n - 1], int):
            continue  # the union's tag after an item's index
        clean.append({"in_": "in", "list_name": "list"}.get(p, p) if isinstance(p, str) else p)
    node = raw
    where = ""
    cut = len(clean) - 1 if clean and isinstance(clean[-1], str) else len(clean)
    for n, p in enumerate(clean):
        if isinstance(p, int):
            node = node[p] if isinstance(node, list) and 0 <= p < len(node) else None
            where += f"[{p}]"
            if n and clean[n - 1] == "items":
                if isinstance(node, dict) and isinstance(node.get("id"), str):
                    where += f" ({node['id']})"
                cut = n + 1
                break
        else:
            if n >= cut:
                break
            where += ("." if where else "") + p
            node = node.get(p) if isinstance(node, dict) else None
    rest = ""
    for p in clean[cut:]:
        rest += f"[{p}]" if isinstance(p, int) else ("." if rest else "") + p
    return where, rest or None


_TYPES = ", ".join(t.value for t in QuestionType)


def _problem(err: dict[str, Any], raw: Any) -> str:
    where, field = _describe(tuple(err["loc"]), raw)
    kind = err["type"]
    msg = str(err["msg"])
    if kind == "extra_forbidden":
        text = f"unknown field '{field}'"
    elif kind == "missing":
        text = f"missing field '{field}'"
    elif kind == "value_error":
        text = msg.removeprefix("Value error, ")
    elif kind == "enum" and field == "type":
        text = f"unknown type '{err.get('input')}' (the types are {_TYPES})"
    elif kind == "string_pattern_mismatch" and field in ("id",):
        text = (
            f"id '{err.get('input')}' must be lower-case letters, digits and underscores, "
            "starting with a letter"
        )
    elif kind == "string_type" and isinstance(err.get("input"), bool):
        text = (
            f"{field}: YAML reads yes, no, on and off as true or false: put the text in quotes "
            f"('{'yes' if err.get('input') else 'no'}')"
        )
    elif kind == "union_tag_invalid" or kind == "model_type" or kind == "model_attributes_type":
        text = f"{field + ': ' if field else ''}should be a mapping (field: value), not {type(err.get('input')).__name__}"
    else:
        text = f"{field}: {msg}" if field else msg
    lines = text.split("\n")
    return "\n".join(f"{where}: {line}" if where else line for line in lines)


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FormDefinitionError(f"{path.name}: the file is not UTF-8 text") from None
    except OSError as e:
        raise FormDefinitionError(f"{path.name}: cannot be read ({e.strerror})") from None
    if not text.strip():
        raise FormDefinitionError(f"{path.name}: the file is empty")
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise FormDefinitionError(
                f"{path.name}: not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}"
            ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        raise FormDefinitionError(
            f"{path.name}: the YAML cannot be read{at}: {problem}. Check the indentation, "
            "colons and quotes there."
        ) from None
    if data is None:
        raise FormDefinitionError(f"{path.name}: the file is empty")
    return data


def load_form(path: Path) -> FormDefinition:
    """Read and validate one definition (.yaml, .yml or .json). Raises FormDefinitionError naming
    the file and the problem: bad YAML, a missing or unknown field, a duplicate id, options
    missing on a choice question or given to another type, a show_if naming a question that is
    not earlier or a value that question cannot have, an unknown list, limits that contradict
    each other."""
    path = Path(path)
    data = _read(path)
    if not isinstance(data, dict):
        raise FormDefinitionError(
            f"{path.name}: the file must hold one form (id, version, title, steps), "
            f"not a {type(data).__name__}"
        )
    try:
        return FormDefinition.model_validate(data)
    except ValidationError as e:
        raw = FormDefinition._name_guidance(data)
        lines: list[str] = []
        for err in e.errors(include_url=False):
            for line in _problem(dict(err), raw).split("\n"):
                if line not in lines:
                    lines.append(line)
        raise FormDefinitionError("\n".join(f"{path.name}: {line}" for line in lines)) from None


def _folder(directory: Path) -> dict[str, FormDefinition]:
    forms: dict[str, FormDefinition] = {}
    files: dict[str, str] = {}
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.suffix.lower() not in (".yaml", ".yml", ".json"):
            continue
        form = load_form(path)
        if form.id in forms:
            raise FormDefinitionError(
                f"{path.name}: the form id '{form.id}' is also used by {files[form.id]}"
            )
        forms[form.id] = form
        files[form.id] = path.name
    return forms


def load_forms(directory: Path | None = None) -> dict[str, FormDefinition]:
    """Every definition in the bundled folder (and `directory`, whose files replace bundled
    ones with the same id), by id. Raises FormDefinitionError on the first bad one."""
    forms = _folder(FORMS_DIR)
    if directory is not None:
        directory = Path(directory)
        if not directory.is_dir():
            raise FormDefinitionError(f"{directory}: the forms folder does not exist")
        forms.update(_folder(directory))
    return forms


# ---------------------------------------------------------------------------- dates


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def resolve_date_bound(bound: str, today: date) -> date:
    """"today", "-25y", "+1y", "-6m", "+30d" or an ISO date, as a date (ValueError if none)."""
    b = bound.strip().lower()
    if b == "today":
        return today
    m = _RELATIVE.match(b)
    if m:
        n = int(m.group(2)) * (-1 if m.group(1) == "-" else 1)
        unit = m.group(3)
        if unit == "d":
            return today + timedelta(days=n)
        return _add_months(today, n * 12 if unit == "y" else n)
    return date.fromisoformat(b)


_MONTHS = {
    name.lower(): n
    for n in range(1, 13)
    for name in (calendar.month_name[n], calendar.month_abbr[n])
}
_MONTHS["sept"] = 9
_DATE_HELP = "That is not a date I can read. Please write it like 3/2/2027 or 3 Feb 2027."


def _year(y: str, today: date) -> int:
    n = int(y)
    if len(y) == 2:
        n += 2000
        if n > today.year + 10:
            n -= 100
    return n


def parse_date(raw: str, today: date) -> date:
    """A typed date in UK order (AnswerRefused if it cannot be read or does not exist)."""
    s = raw.strip().lower().replace(",", " ")
    parts: tuple[int, int, int] | None = None
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s)
    if m:
        parts = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if parts is None:
        m = re.fullmatch(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4}|\d{2})", s)
        if m:
            parts = (_year(m.group(3), today), int(m.group(2)), int(m.group(1)))
    if parts is None:
        m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s*([a-z]+)\.?\s+(\d{4}|\d{2})", s)
        if m and m.group(2) in _MONTHS:
            parts = (_year(m.group(3), today), _MONTHS[m.group(2)], int(m.group(1)))
    if parts is None:
        m = re.fullmatch(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?\s+(\d{4})", s)
        if m and m.group(1) in _MONTHS:
            parts = (int(m.group(3)), _MONTHS[m.group(1)], int(m.group(2)))
    if parts is None:
        raise AnswerRefused(_DATE_HELP)
    y, mo, d = parts
    try:
        return date(y, mo, d)
    except ValueError:
        if 1 <= mo <= 12 and 1900 <= y <= 2200:
            days = calendar.monthrange(y, mo)[1]
            raise AnswerRefused(
                f"There is no {d} {calendar.month_abbr[mo]} {y}: {calendar.month_name[mo]} "
                f"{y} has {days} days. Please check the date and send it again."
            ) from None
        raise AnswerRefused(_DATE_HELP) from None


# ---------------------------------------------------------------------------- answers

_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_NUMBER_WORDS = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
}
_NUMBER_WORDS["none"] = 0
_YES = {"yes", "y", "yeah", "yep", "true"}
_NO = {"no", "n", "nope", "false"}


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _number_help(q: Question) -> str:
    whole = "whole number" if q.integer else "number"
    lo, hi = q.minimum, q.maximum
    if lo is not None and hi is not None:
        return f"Please give a {whole} between {_num(lo)} and {_num(hi)}."
    if lo is not None:
        return f"Please give a {whole} of {_num(lo)} or more."
    if hi is not None:
        return f"Please give a {whole} of {_num(hi)} or less."
    return f"Please give a {whole}, like 3."


def _phone(raw: str) -> str:
    help_ = "Please send a UK phone number, like 07700 900123 or 01632 960123."
    s = re.sub(r"[\s\-().]", "", raw)
    if s.startswith("+44"):
        s = "0" + s[3:].removeprefix("0")
    elif s.startswith("0044"):
        s = "0" + s[4:].removeprefix("0")
    elif s.startswith("44") and len(s) == 12:
        s = "0" + s[2:]
    if not s.isdigit() or not s.startswith("0"):
        raise AnswerRefused(help_)
    ok = (
        (s[:2] in ("02", "03", "07") and len(s) == 11)
        or (s[:2] == "01" and len(s) in (10, 11))
        or (s[:2] == "08" and len(s) in (10, 11))
    )
    if not ok:
        raise AnswerRefused(help_)
    return s


def format_phone(number: str) -> str:
    """A stored UK number grouped as it is usually written: 07700 900123, 020 7946 0018."""
    s = str(number)
    if not s.isdigit() or len(s) not in (10, 11):
        return s
    if s.startswith("02") and len(s) == 11:
        return f"{s[:3]} {s[3:7]} {s[7:]}"
    if (s.startswith("03") or s.startswith("08")) and len(s) == 11:
        return f"{s[:4]} {s[4:7]} {s[7:]}"
    return f"{s[:5]} {s[5:]}"


def _choose(q: Question, text: str) -> str | None:
    """The option value meant by a button's value or a typed label."""
    low = text.strip().lower()
    for o in q.options or []:
        if text == o.value:
            return o.value
    for o in q.options or []:
        if low in (o.value.lower(), o.label.lower()):
            return o.value
    return None


def parse_answer(question: Question, raw: str, today: date) -> Any:
    """The value to store for a typed answer, or AnswerRefused with what to say. Text is
    stripped; a date accepts "3/2/2027", "03/02/2027", "3 Feb 2027", "2027-02-03" (UK order) and is
    stored as ISO text; a number is stored as int or float; yes/no accepts yes/no/y/n (buttons
    send "yes"/"no") and is stored as a bool; one_choice takes an option value (or its label,
    typed); several_choices takes a list of option values (the bot sends them as a list through
    `parse_choices`); list_choice takes an entry of the list (exact, case-insensitive) or, if
    `allow_other`, any text; email and phone are checked and normalised; file answers are not
    parsed here (see `file_answer`). An optional question's empty answer ("skip") is None."""
    q = question
    t = q.type
    if isinstance(raw, list):
        if t is QuestionType.SEVERAL_CHOICES:
            return parse_choices(q, [str(v) for v in raw]) or (None if not q.required else [])
        raise AnswerRefused("Please send one answer.")
    text = "" if raw is None else str(raw).strip()
    if not text:
        if not q.required:
            return None
        raise AnswerRefused(_needs_answer(q))
    if t is QuestionType.FILE:
        raise AnswerRefused(
            "This question needs a file. Please send it as a document or a photo "
            "(PDF, Word or a picture, up to 20 MB)."
        )
    if t in _TEXT_TYPES:
        if t is QuestionType.TEXT:
            text = " ".join(text.split())
        limit = q.max_length or (DEFAULT_MAX_TEXT if t is QuestionType.TEXT else DEFAULT_MAX_LONG_TEXT)
        if len(text) > limit:
            raise AnswerRefused(
                f"That is too long: please keep it to {limit} characters or fewer "
                f"(yours has {len(text)})."
            )
        if q.min_length and len(text) < q.min_length:
            raise AnswerRefused(
                f"Please write a little more: at least {q.min_length} characters."
            )
        return text
    if t is QuestionType.YES_NO:
        low = text.lower().rstrip(".!")
        if low in _YES:
            value: Any = True
        elif low in _NO:
            value = False
        else:
            raise AnswerRefused("Please choose one of the buttons: Yes or No.")
        _check_must_be(q, value)
        return value
    if t is QuestionType.ONE_CHOICE:
        choice = _choose(q, text)
        if choice is None:
            raise AnswerRefused("Please choose one of the buttons.")
        _check_must_be(q, choice)
        return choice
    if t is QuestionType.SEVERAL_CHOICES:
        values = [v for v in re.split(r"[,\n;]", text) if v.strip()]
        return parse_choices(q, values)
    if t is QuestionType.DATE:
        d = parse_date(text, today)
        _check_date(q, d, today)
        return d.isoformat()
    if t is QuestionType.NUMBER:
        return _parse_number(q, text)
    if t is QuestionType.EMAIL:
        s = text.removeprefix("mailto:").strip()
        if len(s) > 254 or not _EMAIL.match(s):
            raise AnswerRefused(
                "That email address does not look right. Please check it and send it again."
            )
        local, domain = s.rsplit("@", 1)
        return f"{local}@{domain.lower()}"
    if t is QuestionType.PHONE:
        return _phone(text)
    if t is QuestionType.LIST_CHOICE:
        low = _fold(text)
        for entry in load_list(str(q.list_name)):
            if entry.lower() == text.lower() or _fold(entry) == low:
                return entry
        if q.allow_other:
            if len(text) > 200:
                raise AnswerRefused("That is too long: please keep the name to 200 characters.")
            return " ".join(text.split())
        raise AnswerRefused(
            "That is not on the list. Please type part of the name and choose from the buttons."
        )
    raise AnswerRefused("Please answer the question.")  # pragma: no cover


def _needs_answer(q: Question) -> str:
    t = q.type
    if t in (QuestionType.ONE_CHOICE, QuestionType.YES_NO):
        return "This question needs an answer. Please choose one of the buttons."
    if t is QuestionType.SEVERAL_CHOICES:
        return "Please choose at least one, then press Done."
    if t is QuestionType.FILE:
        return "This question needs a file. Please send it as a document or a photo."
    if t is QuestionType.LIST_CHOICE:
        return "This question needs an answer. Please type part of the name."
    return "This question needs an answer. Please type it and send it."


def _check_must_be(q: Question, value: Any) -> None:
    if q.must_be is not None and value != q.must_be:
        if q.must_be_message:
            raise AnswerRefused(q.must_be_message)
        if q.type is QuestionType.YES_NO:
            want = "Yes" if q.must_be else "No"
            raise AnswerRefused(f"You need to answer {want} to go on.")
        label = next((o.label for o in q.options or [] if o.value == q.must_be), q.must_be)
        raise AnswerRefused(f"You need to choose {label} to go on.")


def _check_date(q: Question, d: date, today: date) -> None:
    name = q.answer_name or "date"
    if q.earliest is not None:
        lo = resolve_date_bound(q.earliest, today)
        if d < lo:
            if q.earliest.strip().lower() == "today":
                raise AnswerRefused(f"The {name} cannot be in the past.")
            raise AnswerRefused(f"The {name} must be {format_date(lo)} or later.")
    if q.latest is not None:
        hi = resolve_date_bound(q.latest, today)
        if d > hi:
            if q.latest.strip().lower() == "today":
                raise AnswerRefused(f"The {name} cannot be in the future.")
            raise AnswerRefused(f"The {name} must be {format_date(hi)} or earlier.")


def _parse_number(q: Question, text: str) -> int | float:
    s = text.lower().replace(",", "").replace(" ", "")
    value: float
    if s in _NUMBER_WORDS:
        value = _NUMBER_WORDS[s]
    else:
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", s):
            raise AnswerRefused(_number_help(q))
        value = float(s)
    if q.integer and not float(value).is_integer():
        raise AnswerRefused(_number_help(q))
    if (q.minimum is not None and value < q.minimum) or (
        q.maximum is not None and value > q.maximum
    ):
        raise AnswerRefused(_number_help(q))
    if float(value).is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def parse_choices(question: Question, values: list[str]) -> list[str]:
    """A several_choices answer: option values, each offered, within min/max."""
    q = question
    chosen: set[str] = set()
    for v in values:
        c = _choose(q, str(v))
        if c is None:
            raise AnswerRefused("Please choose from the buttons, then press Done.")
        chosen.add(c)
    ordered = [o.value for o in q.options or [] if o.value in chosen]
    if not ordered:
        if q.required or q.min_choices:
            raise AnswerRefused(_needs_answer(q))
        return []
    if q.min_choices and len(ordered) < q.min_choices:
        raise AnswerRefused(f"Please choose at least {q.min_choices}.")
    if q.max_choices and len(ordered) > q.max_choices:
        raise AnswerRefused(f"Please choose no more than {q.max_choices}.")
    return ordered


def file_answer(question: Question, current: list[dict[str, Any]] | None, new: dict[str, Any]) -> list[dict[str, Any]]:
    """A file question's answer with one more file (`new`: {sha256, filename, mime, size, ...},
    already checked by core.files), or AnswerRefused when there would be too many or it is too
    big. The same file sent twice is kept once."""
    files = list(current or [])
    if int(new.get("size") or 0) > MAX_FILE_BYTES:
        raise AnswerRefused("That file is too big. Please send a file of up to 20 MB.")
    if any(f.get("sha256") == new.get("sha256") for f in files):
        return files
    if len(files) >= question.max_files:
        n = question.max_files
        raise AnswerRefused(
            f"You can send up to {n} file{'s' if n != 1 else ''} here. "
            "Press Next to go on, or remove the files and send them again."
        )
    return [*files, new]


def format_answer(question: Question, value: Any) -> str:
    """An answer as the parent and the caseworker read it (review, PDF): dates as 3 Feb 2027,
    yes/no as Yes/No, choices by label, files by name; "Not answered" for None."""
    q = question
    t = q.type
    if value is None or value == "":
        return "Not answered"
    if t is QuestionType.YES_NO:
        return "Yes" if value else "No"
    if t is QuestionType.DATE:
        try:
            return format_date(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if t is QuestionType.NUMBER:
        return _num(value) if isinstance(value, int | float) else str(value)
    if t is QuestionType.ONE_CHOICE:
        return next((o.label for o in q.options or [] if o.value == value), str(value))
    if t is QuestionType.SEVERAL_CHOICES:
        values = value if isinstance(value, list) else [value]
        if not values:
            return "None chosen"
        labels = {o.value: o.label for o in q.options or []}
        return ", ".join(labels.get(v, str(v)) for v in values)
    if t is QuestionType.PHONE:
        return format_phone(str(value))
    if t is QuestionType.FILE:
        files = value if isinstance(value, list) else [value]
        if not files:
            return "Not answered"
        names = [
            str(f.get("filename") or "a file") if isinstance(f, dict) else str(f) for f in files
        ]
        return ", ".join(names)
    return str(value)
