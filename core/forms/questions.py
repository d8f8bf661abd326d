"""The items of a form definition: questions (with their type, limits and `show_if`
condition) and guidance pages, as pydantic models checked when a definition is loaded (the form
itself, its steps and the checks across items are in `core.forms.form`).

A question's date limits (`earliest`, `latest`) are "today", "-25y", "+1y", "-6m", "+30d" or an
ISO date, resolved against a day given by the caller (`resolve_date_bound`). Everything here is
pure: no database, no Telegram, no clock.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Ids of forms, questions and guidance pages: letters, digits, underscores.
ID_PATTERN = r"^[a-z][a-z0-9_]{0,59}$"
# The name of a list in core/data/forms/lists (<name>.csv).
LIST_NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_RELATIVE = re.compile(r"^([+-])(\d{1,3})([dmy])$")


class FormDefinitionError(ValueError):
    """A form definition that cannot be used; the message names the file and the problem
    (for example "parental_preference.yaml: steps[3].items[2] (school_2): show_if refers to
    'wants_school', which is not an earlier question")."""



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


CHOICE_TYPES = (QuestionType.ONE_CHOICE, QuestionType.SEVERAL_CHOICES)
TEXT_TYPES = (QuestionType.TEXT, QuestionType.LONG_TEXT)


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

    id: str | None = Field(None, pattern=ID_PATTERN)  # given one when loaded if absent: "g<step>_<item>"
    guidance: str = Field(min_length=1)
    title: str | None = None
    show_if: Condition | None = None


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(pattern=ID_PATTERN)
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

        if t in CHOICE_TYPES:
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
        only_for(("min_length", "max_length"), TEXT_TYPES, "only text and long_text have them")
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
                f"minimum {plain_number(self.minimum)} is more than "
                f"maximum {plain_number(self.maximum)}"
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
            elif not LIST_NAME.match(self.list_name):
                problems.append(
                    f"the list name '{self.list_name}' must be lower-case letters, digits "
                    "and underscores"
                )
            else:
                from core.forms.lists import load_list  # (lists.py imports this module)

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



# ---------------------------------------------------------------------------- dates and numbers


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


def plain_number(x: float) -> str:
    """A number as written to a person: 3, not 3.0; 2.5 as it is."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
