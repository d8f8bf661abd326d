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

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FORMS_DIR = Path(__file__).resolve().parent.parent / "data" / "forms"
LISTS_DIR = FORMS_DIR / "lists"

MAX_FILE_BYTES = 20 * 1024 * 1024


class FormDefinitionError(ValueError):
    """A form definition that cannot be used; the message names the file and the problem
    (for example "parental_preference.yaml: steps[3].items[2] (school_2): show_if refers to
    'wants_school', which is not an earlier question")."""


class AnswerRefused(ValueError):
    """A wrong answer: `message` is what the parent is told (plain English, kind, saying what
    is wanted), before the question is asked again."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(min_length=1, max_length=60)
    label: str = Field(min_length=1, max_length=120)


class Condition(BaseModel):
    """Shown only when the earlier question `question` was answered `equals` (or one of `in`;
    for several_choices: when the answer includes it)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    question: str
    equals: str | bool | int | float | None = None
    in_: list[str | bool | int | float] | None = Field(None, alias="in")


class Guidance(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = None  # given one when loaded if absent: "<step index>.<item index>"
    guidance: str = Field(min_length=1)
    title: str | None = None
    show_if: Condition | None = None


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,59}$")
    type: QuestionType
    text: str = Field(min_length=1, max_length=500)
    hint: str | None = None
    required: bool = True
    show_if: Condition | None = None
    # one_choice, several_choices
    options: list[Option] | None = None
    # several_choices: how many may be ticked
    min_choices: int | None = None
    max_choices: int | None = None
    # text, long_text: length in characters
    min_length: int | None = None
    max_length: int | None = None
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
    max_files: int = 5


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    items: list[Guidance | Question] = Field(default_factory=list)


class FormDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,59}$")
    version: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=200)
    description: str | None = None  # one or two sentences shown before the first step
    started_by: Literal["team", "parent"] = "team"
    creates_case: bool = False
    steps: list[Step] = Field(min_length=1)

    # The implementations below are filled in by core.forms (see each docstring).

    def item(self, item_id: str) -> Guidance | Question:
        """The item with this id (KeyError if none)."""
        raise NotImplementedError

    def questions(self) -> list[Question]:
        """Every question, in order (shown or not)."""
        raise NotImplementedError

    def visible_items(self, answers: dict[str, Any]) -> list[Guidance | Question]:
        """The items to ask, in order, given the answers so far (conditions applied)."""
        raise NotImplementedError

    def step_of(self, item_id: str) -> int:
        """The 0-based index of the step holding this item."""
        raise NotImplementedError

    def progress(self, item_id: str, answers: dict[str, Any]) -> tuple[int, int, int, int]:
        """(step number, steps, question number within its step, questions shown in that step),
        1-based, for "Step 4 of 6, question 2 of 5" (guidance pages count as 0 of 0 questions
        when a step has no question)."""
        raise NotImplementedError

    def next_item(self, item_id: str | None, answers: dict[str, Any]) -> str | None:
        """The id of the visible item after `item_id` (the first with None); None: the review."""
        raise NotImplementedError

    def previous_item(self, item_id: str, answers: dict[str, Any]) -> str | None:
        """The id of the visible item before `item_id`; None at the first."""
        raise NotImplementedError

    def missing(self, answers: dict[str, Any]) -> list[Question]:
        """Visible required questions with no answer."""
        raise NotImplementedError


def load_form(path: Path) -> FormDefinition:
    """Read and validate one definition (.yaml, .yml or .json). Raises FormDefinitionError naming
    the file and the problem: bad YAML, a missing or unknown field, a duplicate id, options
    missing on a choice question or given to another type, a show_if naming a question that is
    not earlier or a value that question cannot have, an unknown list, limits that contradict
    each other."""
    raise NotImplementedError


def load_forms(directory: Path | None = None) -> dict[str, FormDefinition]:
    """Every definition in the bundled folder (and `directory`, whose files replace bundled
    ones with the same id), by id. Raises FormDefinitionError on the first bad one."""
    raise NotImplementedError


def parse_answer(question: Question, raw: str, today: date) -> Any:
    """The value to store for a typed answer, or AnswerRefused with what to say. Text is
    stripped; a date accepts "3/2/2027", "03/02/2027", "3 Feb 2027", "2027-02-03" (UK order) and is
    stored as ISO text; a number is stored as int or float; yes/no accepts yes/no/y/n (buttons
    send "yes"/"no") and is stored as a bool; one_choice takes an option value (or its label,
    typed); several_choices takes a list of option values (the bot sends them as a list through
    `parse_choices`); list_choice takes an entry of the list (exact, case-insensitive) or, if
    `allow_other`, any text; email and phone are checked and normalised; file answers are not
    parsed here (see `file_answer`). An optional question's empty answer ("skip") is None."""
    raise NotImplementedError


def parse_choices(question: Question, values: list[str]) -> list[str]:
    """A several_choices answer: option values, each offered, within min/max."""
    raise NotImplementedError


def search_list(question: Question, text: str, limit: int = 8) -> list[str]:
    """Entries of a list_choice question's list that match part of `text` (case-insensitive,
    every word), best first: for the buttons offered after the parent types part of a name."""
    raise NotImplementedError


def format_answer(question: Question, value: Any) -> str:
    """An answer as the parent and the caseworker read it (review, PDF): dates as 3 Feb 2027,
    yes/no as Yes/No, choices by label, files by name; "Not answered" for None."""
    raise NotImplementedError
