"""A form definition: data (YAML or JSON files, read by `core.forms.loading`), validated with
pydantic.

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

The items (questions and guidance pages) are in `core.forms.questions`, the answers in
`core.forms.answers`. Everything here is pure: no database, no Telegram, no clock.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, PrivateAttr, Tag, model_validator

from core.forms.questions import (
    CHOICE_TYPES,
    ID_PATTERN,
    Condition,
    Guidance,
    Question,
    QuestionType,
)


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

    id: str = Field(pattern=ID_PATTERN)
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
    elif t in CHOICE_TYPES:
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
