"""Form definitions as data (core.forms: questions, form, loading, answers, lists): the shipped forms load; a bad definition is
refused at load with a message naming the file and the problem; every answer type is checked
and stored as the parent would expect; navigation and progress follow the show_if conditions."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.forms import lists
from core.forms.answers import (
    AnswerRefused,
    file_answer,
    format_answer,
    parse_answer,
    parse_choices,
)
from core.forms.form import FormDefinition
from core.forms.lists import search_list
from core.forms.loading import FORMS_DIR, load_form, load_forms
from core.forms.questions import FormDefinitionError, Guidance, Question, QuestionType

TODAY = date(2026, 11, 24)  # the test clock's day


@pytest.fixture(scope="module")
def forms() -> dict[str, FormDefinition]:
    return load_forms()


@pytest.fixture(scope="module")
def ppf(forms: dict[str, FormDefinition]) -> FormDefinition:
    return forms["parental_preference"]


def q(form: FormDefinition, qid: str) -> Question:
    item = form.item(qid)
    assert isinstance(item, Question)
    return item


def refused(question: Question, raw: Any) -> str:
    with pytest.raises(AnswerRefused) as e:
        parse_answer(question, raw, TODAY)
    return e.value.message


# ------------------------------------------------------------------ the shipped forms


def test_the_three_shipped_forms_load(forms: dict[str, FormDefinition]) -> None:
    assert set(forms) == {"parental_preference", "annual_review_views", "ehc_needs_assessment_request"}
    assert forms["parental_preference"].started_by == "team"
    assert forms["annual_review_views"].started_by == "team"
    request = forms["ehc_needs_assessment_request"]
    assert request.started_by == "parent" and request.creates_case


def test_the_parental_preference_form_has_the_guides_six_steps(ppf: FormDefinition) -> None:
    assert [s.name for s in ppf.steps] == [
        "Parental Preference Form",
        "Parental Preference Guidance",
        "Parental Guidance Continued",
        "Parental Preference Form",
        "Supporting Documentation",
        "Submit",
    ]
    assert ppf.title == "Parental Preference Form"


def test_the_parental_preference_form_uses_every_question_type(ppf: FormDefinition) -> None:
    assert {x.type for x in ppf.questions()} == set(QuestionType)


def test_the_preference_questions_ask_for_up_to_three_schools_in_order(ppf: FormDefinition) -> None:
    ids = [x.id for x in ppf.questions()]
    for n in (1, 2, 3):
        assert q(ppf, f"school_{n}").type is QuestionType.LIST_CHOICE
        assert q(ppf, f"school_{n}_reasons").type is QuestionType.LONG_TEXT
    assert ids.index("school_1") < ids.index("school_2") < ids.index("school_3")
    assert all(ppf.step_of(f"school_{n}") == 3 for n in (1, 2, 3))


def test_the_declaration_must_be_yes(ppf: FormDefinition) -> None:
    declaration = q(ppf, "declaration")
    assert ppf.step_of("declaration") == 5
    assert refused(declaration, "no") == (
        "Please press Yes to confirm before you submit. If something is not right, press Back "
        "and change it first."
    )
    assert parse_answer(declaration, "yes", TODAY) is True

def test_the_annual_review_forces_no_answer(forms: dict[str, FormDefinition]) -> None:
    """A parent can say no to sharing their views: no question of the form insists on one answer,
    and a No asks (optionally) what should not be shared."""
    views = forms["annual_review_views"]
    assert all(x.must_be is None for x in views.questions())
    share = q(views, "share_agreed")
    assert parse_answer(share, "no", TODAY) is False
    assert views.is_visible("share_concerns", {"share_agreed": False})
    assert not views.is_visible("share_concerns", {"share_agreed": True})
    assert not q(views, "share_concerns").required
    assert views.next_item("share_agreed", {"share_agreed": True}) is None



def test_the_request_for_assessment_has_what_the_case_needs(forms: dict[str, FormDefinition]) -> None:
    request = forms["ehc_needs_assessment_request"]
    assert q(request, "child_forename").type is QuestionType.TEXT
    assert q(request, "child_surname").type is QuestionType.TEXT
    dob = q(request, "child_date_of_birth")
    assert dob.type is QuestionType.DATE and dob.required and dob.show_if is None
    assert refused(dob, "1/12/2026") == "The date of birth cannot be in the future."
    assert "24 Nov 2001" in refused(dob, "23/11/2001")
    assert parse_answer(dob, "24/11/2001", TODAY) == "2001-11-24"
    guidance = " ".join(i.guidance for i in request.steps[0].items if isinstance(i, Guidance))
    assert "6 weeks" in guidance and "20 weeks" in guidance


def test_guidance_pages_without_an_id_are_given_one(tmp_path: Path) -> None:
    form = load_form(write(tmp_path, "ok.yaml", base()))
    assert form.steps[0].items[0].id == "g0_0"
    assert form.item("g0_0").guidance == "Read this first."


def test_a_json_definition_loads(tmp_path: Path) -> None:
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(base()))
    assert load_form(path).id == "sample"


# ------------------------------------------------------------------ bad definitions


def base() -> dict[str, Any]:
    return {
        "id": "sample",
        "version": 1,
        "title": "Sample",
        "steps": [
            {
                "name": "First",
                "items": [
                    {"guidance": "Read this first."},
                    {"id": "wants", "type": "yes_no", "text": "Do you want one?"},
                    {"id": "colour", "type": "one_choice", "text": "Which colour?",
                     "options": [{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}]},
                ],
            },
            {
                "name": "Second",
                "items": [
                    {"id": "name", "type": "text", "text": "Your name?"},
                    {"id": "school_1", "type": "list_choice", "list": "schools", "text": "School?",
                     "show_if": {"question": "wants", "equals": True}},
                ],
            },
        ],
    }


def write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def problem(tmp_path: Path, data: Any, name: str = "bad.yaml") -> str:
    with pytest.raises(FormDefinitionError) as e:
        load_form(write(tmp_path, name, data))
    return str(e.value)


def test_a_choice_question_without_options_is_refused(tmp_path: Path) -> None:
    data = base()
    data["steps"][1]["items"][0] = {"id": "school_1", "type": "one_choice", "text": "Which?"}
    data["steps"][1]["items"][1]["id"] = "school_x"
    assert problem(tmp_path, data) == "bad.yaml: steps[1].items[0] (school_1): type one_choice needs options"


def test_options_given_to_a_text_question_are_refused(tmp_path: Path) -> None:
    data = base()
    data["steps"][1]["items"][0]["options"] = [{"value": "a", "label": "A"}]
    assert problem(tmp_path, data) == "bad.yaml: steps[1].items[0] (name): options given to a text question"


def test_a_show_if_on_a_later_or_unknown_question_is_refused(tmp_path: Path) -> None:
    data = base()
    data["steps"][1]["items"][1]["show_if"] = {"question": "wants_it", "equals": True}
    assert problem(tmp_path, data) == (
        "bad.yaml: steps[1].items[1] (school_1): show_if refers to 'wants_it', which is not an "
        "earlier question"
    )
    data = base()
    data["steps"][0]["items"][1]["show_if"] = {"question": "name", "equals": "Ann"}
    assert "steps[0].items[1] (wants): show_if refers to 'name', which is not an earlier question" in problem(tmp_path, data)


def test_a_show_if_with_a_value_the_question_cannot_have_is_refused(tmp_path: Path) -> None:
    data = base()
    data["steps"][1]["items"][1]["show_if"] = {"question": "colour", "equals": "green"}
    message = problem(tmp_path, data)
    assert message.startswith("bad.yaml: steps[1].items[1] (school_1): ")
    assert "'green', which is not one of its options (red, blue)" in message
    data["steps"][1]["items"][1]["show_if"] = {"question": "wants", "equals": "maybe"}
    assert "yes_no question) must be true or false" in problem(tmp_path, data)
    data["steps"][1]["items"][1]["show_if"] = {"question": "wants"}
    assert "needs exactly one of equals, in or contains" in problem(tmp_path, data)


def test_a_duplicate_id_is_refused(tmp_path: Path) -> None:
    data = base()
    data["steps"][1]["items"][0]["id"] = "colour"
    assert problem(tmp_path, data) == "bad.yaml: steps[1].items[0] (colour): duplicate id 'colour'"


def test_an_unknown_list_is_refused(tmp_path: Path) -> None:
    data = base()
    data["steps"][1]["items"][1]["list"] = "schoolz"
    assert problem(tmp_path, data) == (
        "bad.yaml: steps[1].items[1] (school_1): unknown list 'schoolz' "
        "(no core/data/forms/lists/schoolz.csv)"
    )


def test_contradicting_limits_are_refused(tmp_path: Path) -> None:
    data = base()
    data["steps"][1]["items"][0].update(min_length=10, max_length=5)
    assert problem(tmp_path, data) == "bad.yaml: steps[1].items[0] (name): min_length 10 is more than max_length 5"
    data = base()
    data["steps"][1]["items"][0] = {"id": "days", "type": "number", "text": "Days?", "minimum": 5, "maximum": 1}
    assert "(days): minimum 5 is more than maximum 1" in problem(tmp_path, data)
    data["steps"][1]["items"][0] = {"id": "when", "type": "date", "text": "When?", "earliest": "today", "latest": "-1y"}
    assert "(when): earliest today is after latest -1y" in problem(tmp_path, data)
    data["steps"][1]["items"][0] = {"id": "when", "type": "date", "text": "When?", "earliest": "soon"}
    assert "'soon' is not a date limit" in problem(tmp_path, data)
    data["steps"][1]["items"][0] = {"id": "when", "type": "text", "text": "When?", "minimum": 1}
    assert "(when): minimum given to a text question" in problem(tmp_path, data)


def test_an_unknown_or_missing_field_is_named(tmp_path: Path) -> None:
    data = base()
    data["colour"] = "red"
    data["steps"][0]["items"][1]["colour"] = "red"
    del data["steps"][1]["items"][0]["text"]
    lines = problem(tmp_path, data).splitlines()
    assert "bad.yaml: unknown field 'colour'" in lines
    assert "bad.yaml: steps[0].items[1] (wants): unknown field 'colour'" in lines
    assert "bad.yaml: steps[1].items[0] (name): missing field 'text'" in lines
    assert all(line.startswith("bad.yaml: ") for line in lines)


def test_an_unknown_type_and_a_bad_id_are_named(tmp_path: Path) -> None:
    data = base()
    data["steps"][1]["items"][0]["type"] = "dropdown"
    data["steps"][0]["items"][1]["id"] = "Wants It"
    message = problem(tmp_path, data)
    assert "steps[1].items[0] (name): unknown type 'dropdown' (the types are text, long_text" in message
    assert "id 'Wants It' must be lower-case letters, digits and underscores" in message


def test_bad_yaml_is_refused_with_its_line(tmp_path: Path) -> None:
    text = "id: sample\nversion: 1\nsteps:\n  - name: x\n   items: [\n"
    message = problem(tmp_path, text)
    assert message.startswith("bad.yaml: the YAML cannot be read at line 5")


def test_bad_json_is_refused_with_its_line(tmp_path: Path) -> None:
    message = problem(tmp_path, '{\n  "id": "x",\n  "version": }\n', name="bad.json")
    assert message.startswith("bad.json: not valid JSON (line 3")


def test_a_yaml_yes_where_text_is_wanted_is_explained(tmp_path: Path) -> None:
    data = base()
    data["steps"][0]["items"][2]["options"][0] = {"value": True, "label": "Yes"}
    assert (
        "bad.yaml: steps[0].items[2] (colour): options[0].value: YAML reads yes, no, on and off "
        "as true or false: put the text in quotes"
    ) in problem(tmp_path, data)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    assert problem(tmp_path, "") == "bad.yaml: the file is empty"
    assert problem(tmp_path, "# only a comment\n") == "bad.yaml: the file is empty"
    assert "must hold one form" in problem(tmp_path, "- a\n- b\n")


def test_a_form_that_opens_a_case_needs_the_childs_details(tmp_path: Path) -> None:
    data = base()
    data.update(started_by="parent", creates_case=True)
    data["steps"][1]["items"] += [
        {"id": "child_forename", "type": "text", "text": "First name?"},
        {"id": "child_surname", "type": "text", "text": "Last name?"},
    ]
    assert (
        "bad.yaml: creates_case needs a required date question 'child_date_of_birth' that is always shown"
        in problem(tmp_path, data)
    )


def test_two_files_with_the_same_form_id_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "one.yaml", base())
    write(tmp_path, "two.yaml", base())
    with pytest.raises(FormDefinitionError) as e:
        load_forms(tmp_path)
    assert str(e.value) == "two.yaml: the form id 'sample' is also used by one.yaml"


def test_the_councils_folder_adds_forms_and_replaces_bundled_ones(tmp_path: Path) -> None:
    mine = copy.deepcopy(yaml.safe_load((FORMS_DIR / "parental_preference.yaml").read_text()))
    mine["title"] = "Our Parental Preference Form"
    write(tmp_path, "ppf.yaml", mine)
    write(tmp_path, "extra.yml", base())
    forms = load_forms(tmp_path)
    assert forms["parental_preference"].title == "Our Parental Preference Form"
    assert forms["sample"].title == "Sample"
    assert "annual_review_views" in forms
    with pytest.raises(FormDefinitionError, match="does not exist"):
        load_forms(tmp_path / "nowhere")


def test_a_bad_form_in_the_councils_folder_stops_the_load(tmp_path: Path) -> None:
    write(tmp_path, "broken.yaml", "id: x\n")
    with pytest.raises(FormDefinitionError) as e:
        load_forms(tmp_path)
    assert "broken.yaml: missing field 'version'" in str(e.value)


def test_a_list_without_a_name_column_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lists_dir = tmp_path / "lists"
    lists_dir.mkdir()
    (lists_dir / "towns.csv").write_text("town,county\nStanbury,Shire\n")
    monkeypatch.setattr(lists, "LISTS_DIR", lists_dir)
    lists.load_list.cache_clear()
    try:
        data = base()
        data["steps"][1]["items"][1]["list"] = "towns"
        assert "the list 'towns' (towns.csv) has no 'name' column" in problem(tmp_path, data)
    finally:
        lists.load_list.cache_clear()


# ------------------------------------------------------------------ answers, type by type


def test_text(ppf: FormDefinition) -> None:
    name = q(ppf, "completed_by_name")
    assert parse_answer(name, "  Siân   Jones \n", TODAY) == "Siân Jones"
    assert refused(name, "   ") == "This question needs an answer. Please type it and send it."
    assert refused(name, "x" * 101) == "That is too long: please keep it to 100 characters or fewer (yours has 101)."


def test_long_text_keeps_its_lines(ppf: FormDefinition) -> None:
    reasons = q(ppf, "school_1_reasons")
    assert parse_answer(reasons, "Close to home.\n\nHer sister goes there.", TODAY) == "Close to home.\n\nHer sister goes there."
    assert refused(reasons, "ok") == "Please write a little more: at least 3 characters."
    assert "5000 characters or fewer" in refused(reasons, "x" * 5001)
    anything = q(ppf, "anything_else")
    assert parse_answer(anything, "", TODAY) is None  # optional: skipped


def test_one_choice(ppf: FormDefinition) -> None:
    relationship = q(ppf, "relationship")
    assert parse_answer(relationship, "foster_carer", TODAY) == "foster_carer"
    assert parse_answer(relationship, "foster carer", TODAY) == "foster_carer"  # its label, typed
    assert refused(relationship, "aunt") == "Please choose one of the buttons."
    assert format_answer(relationship, "foster_carer") == "Foster carer"


def test_several_choices(ppf: FormDefinition) -> None:
    kinds = q(ppf, "document_kinds")
    assert parse_choices(kinds, ["letter", "school_report", "letter"]) == ["school_report", "letter"]
    assert parse_answer(kinds, ["medical_report"], TODAY) == ["medical_report"]
    assert parse_answer(kinds, "Letter, Medical report", TODAY) == ["medical_report", "letter"]
    with pytest.raises(AnswerRefused) as e:
        parse_choices(kinds, ["letter", "photo"])
    assert e.value.message == "Please choose from the buttons, then press Done."
    assert parse_choices(kinds, []) == []  # optional
    assert format_answer(kinds, ["school_report", "letter"]) == "Report from school, Letter"


def test_several_choices_within_limits(tmp_path: Path) -> None:
    data = base()
    data["steps"][1]["items"][0] = {
        "id": "pick", "type": "several_choices", "text": "Pick", "min_choices": 2, "max_choices": 2,
        "options": [{"value": v, "label": v.title()} for v in ("a", "b", "c")],
    }
    pick = q(load_form(write(tmp_path, "ok.yaml", data)), "pick")
    with pytest.raises(AnswerRefused, match="Please choose at least 2."):
        parse_choices(pick, ["a"])
    with pytest.raises(AnswerRefused, match="Please choose no more than 2."):
        parse_choices(pick, ["a", "b", "c"])
    with pytest.raises(AnswerRefused, match="Please choose at least one, then press Done."):
        parse_choices(pick, [])
    assert parse_choices(pick, ["c", "a"]) == ["a", "c"]


def test_yes_no(ppf: FormDefinition) -> None:
    wants = q(ppf, "wants_school_2")
    for raw, value in (("yes", True), ("Y", True), ("No", False), ("n", False)):
        assert parse_answer(wants, raw, TODAY) is value
    assert refused(wants, "maybe") == "Please choose one of the buttons: Yes or No."
    assert format_answer(wants, True) == "Yes" and format_answer(wants, False) == "No"


def test_date(ppf: FormDefinition) -> None:
    start = q(ppf, "start_date")
    for raw in ("3/2/2027", "03/02/2027", "3 Feb 2027", "3 February 2027", "2027-02-03", "3.2.27"):
        assert parse_answer(start, raw, TODAY) == "2027-02-03", raw
    assert refused(start, "next spring") == "That is not a date I can read. Please write it like 3/2/2027 or 3 Feb 2027."
    assert refused(start, "13/13/2027") == "That is not a date I can read. Please write it like 3/2/2027 or 3 Feb 2027."
    assert refused(start, "31/2/2027").startswith("There is no 31 Feb 2027")
    assert refused(start, "23/11/2026") == "The start date cannot be in the past."
    assert parse_answer(start, "24/11/2026", TODAY) == "2026-11-24"  # today is allowed
    assert format_answer(start, "2027-02-03") == "3 Feb 2027"


def test_number(ppf: FormDefinition) -> None:
    days = q(ppf, "days_a_week")
    assert parse_answer(days, "3", TODAY) == 3
    assert parse_answer(days, "0", TODAY) == 0
    assert parse_answer(days, "four", TODAY) == 4
    assert refused(days, "6") == "Please give a whole number between 0 and 5."
    assert refused(days, "2.5") == "Please give a whole number between 0 and 5."
    assert refused(days, "lots") == "Please give a whole number between 0 and 5."
    assert format_answer(days, 3) == "3"


def test_number_with_decimals(tmp_path: Path) -> None:
    data = base()
    data["steps"][1]["items"][0] = {"id": "hours", "type": "number", "text": "Hours?", "minimum": 1, "maximum": 3}
    hours = q(load_form(write(tmp_path, "ok.yaml", data)), "hours")
    assert parse_answer(hours, "2.5", TODAY) == 2.5
    assert parse_answer(hours, "2", TODAY) == 2 and isinstance(parse_answer(hours, "2.0", TODAY), int)
    assert refused(hours, "4") == "Please give a number between 1 and 3."
    assert format_answer(hours, 2.5) == "2.5"


def test_email(ppf: FormDefinition) -> None:
    email = q(ppf, "email")
    assert parse_answer(email, " Ann.Smith@Example.CO.UK ", TODAY) == "Ann.Smith@example.co.uk"
    for bad in ("ann", "ann@", "ann@example", "ann@@example.com", "ann smith@example.com", "ann..s@example.com"):
        assert refused(email, bad) == "That email address does not look right. Please check it and send it again.", bad


def test_phone(ppf: FormDefinition) -> None:
    phone = q(ppf, "phone")
    assert parse_answer(phone, "07700 900123", TODAY) == "07700900123"
    assert parse_answer(phone, "+44 7700 900123", TODAY) == "07700900123"
    assert parse_answer(phone, "+44 (0)20 7946 0018", TODAY) == "02079460018"
    assert parse_answer(phone, "01632-960123", TODAY) == "01632960123"
    for bad in ("12345", "0770090012", "+33 6 12 34 56 78", "call me", "09098 790123"):
        assert refused(phone, bad) == "Please send a UK phone number, like 07700 900123 or 01632 960123.", bad
    assert format_answer(phone, "07700900123") == "07700 900123"
    assert format_answer(phone, "02079460018") == "020 7946 0018"


def test_list_choice(ppf: FormDefinition, forms: dict[str, FormDefinition]) -> None:
    school = q(ppf, "school_1")
    assert parse_answer(school, "oakfield primary school", TODAY) == "Oakfield Primary School"
    assert parse_answer(school, "St Annes CE Primary School", TODAY) == "St Anne's CE Primary School"
    assert parse_answer(school, "Home education", TODAY) == "Home education"  # allow_other
    strict = Question(id="s", type=QuestionType.LIST_CHOICE, text="School?", list_name="schools")
    assert refused(strict, "Hogwarts") == "That is not on the list. Please type part of the name and choose from the buttons."
    child_school = q(forms["ehc_needs_assessment_request"], "child_school")
    assert parse_answer(child_school, "", TODAY) is None  # optional


def test_a_file_question_refuses_text_and_counts_files(ppf: FormDefinition) -> None:
    files = q(ppf, "supporting_documents")
    assert refused(files, "I will post it") == (
        "This question needs a file. Please send it as a document or a photo "
        "(PDF, Word or a picture, up to 20 MB)."
    )
    assert parse_answer(files, "", TODAY) is None  # optional: skipped
    answer: list[dict[str, Any]] = []
    for n in range(5):
        answer = file_answer(files, answer, {"sha256": str(n), "filename": f"r{n}.pdf", "size": 10})
    assert file_answer(files, answer, {"sha256": "0", "filename": "again.pdf", "size": 10}) == answer
    with pytest.raises(AnswerRefused, match="You can send up to 5 files here"):
        file_answer(files, answer, {"sha256": "6", "filename": "r6.pdf", "size": 10})
    with pytest.raises(AnswerRefused, match="up to 20 MB"):
        file_answer(files, [], {"sha256": "7", "filename": "big.pdf", "size": 21 * 1024 * 1024})
    assert format_answer(files, answer[:2]) == "r0.pdf, r1.pdf"


def test_a_required_question_left_empty_is_asked_again(ppf: FormDefinition) -> None:
    assert refused(q(ppf, "relationship"), "") == "This question needs an answer. Please choose one of the buttons."
    assert refused(q(ppf, "school_1"), " ") == "This question needs an answer. Please type part of the name."
    assert format_answer(q(ppf, "anything_else"), None) == "Not answered"


# ------------------------------------------------------------------ searching a list


def test_search_finds_schools_by_part_of_a_name(ppf: FormDefinition) -> None:
    school = q(ppf, "school_1")
    found = search_list(school, "oak")
    assert found[:3] == ["Oakfield Primary School", "Oakwood Academy", "Oakwood Infant School"]
    assert search_list(school, "OAKWOOD inf") == ["Oakwood Infant School"]
    assert search_list(school, "st annes") == ["St Anne's CE Primary School"]
    assert search_list(school, "special", limit=3) == [
        "Beacon Hill Special School", "Fieldway Special School", "Linden Lodge Special School"
    ]
    assert len(search_list(school, "primary")) == 8
    assert search_list(school, "zzz") == [] and search_list(school, "  ") == []


def test_the_schools_list_is_a_real_list() -> None:
    schools = lists.load_list("schools")
    assert 70 <= len(schools) <= 100
    assert len(set(schools)) == len(schools)
    rows = lists.load_list_rows("schools")
    assert {"name", "phase", "town"} <= set(rows[0])


# ------------------------------------------------------------------ navigation and progress


def walk(form: FormDefinition, answers: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    item = form.next_item(None, answers)
    while item is not None:
        ids.append(item)
        item = form.next_item(item, answers)
    return ids


PREFERENCE_STEP = [
    "school_1", "school_1_reasons", "wants_school_2", "setting_type", "attends_school", "days_a_week", "start_date",
]


def test_a_hidden_second_preference_is_skipped(ppf: FormDefinition) -> None:
    answers = {"wants_school_2": False, "attends_school": True}
    ids = walk(ppf, answers)
    assert [i for i in ids if ppf.step_of(i) == 3] == PREFERENCE_STEP
    assert ppf.next_item("wants_school_2", answers) == "setting_type"
    assert ppf.previous_item("setting_type", answers) == "wants_school_2"
    assert ids[0] == "intro" and ids[-1] == "declaration"
    assert ppf.next_item("declaration", answers) is None  # then the review


def test_a_second_and_third_preference_are_asked_when_wanted(ppf: FormDefinition) -> None:
    answers = {"wants_school_2": True, "wants_school_3": True, "attends_school": False}
    step = [i for i in walk(ppf, answers) if ppf.step_of(i) == 3]
    assert step == [
        "school_1", "school_1_reasons", "wants_school_2", "school_2", "school_2_reasons", "wants_school_3",
        "school_3", "school_3_reasons", "setting_type", "attends_school", "start_date",
    ]


def test_a_condition_on_a_hidden_question_is_not_met(ppf: FormDefinition) -> None:
    # A third preference was wanted, then the second was taken back: the third is hidden too.
    answers = {"wants_school_2": False, "wants_school_3": True, "school_3": "Riverside Academy"}
    ids = walk(ppf, answers)
    assert "wants_school_3" not in ids and "school_3" not in ids
    assert not ppf.is_visible("school_3", answers)
    assert "school_3" not in ppf.visible_answers(answers)
    # From a question hidden since, Next and Back find the nearest shown ones.
    assert ppf.next_item("school_3", answers) == "setting_type"
    assert ppf.previous_item("school_3", answers) == "wants_school_2"


def test_progress_counts_the_questions_shown(ppf: FormDefinition) -> None:
    no_second = {"wants_school_2": False, "attends_school": False}
    assert ppf.progress("school_1_reasons", no_second) == (4, 6, 2, 6)
    assert ppf.progress_text("school_1_reasons", no_second) == "Step 4 of 6, question 2 of 6"
    with_days = {"wants_school_2": False, "attends_school": True}
    assert ppf.progress("start_date", with_days) == (4, 6, 7, 7)
    all_three = {"wants_school_2": True, "wants_school_3": True, "attends_school": True}
    assert ppf.progress("setting_type", all_three) == (4, 6, 9, 12)
    # A step of guidance only: 0 of 0 questions.
    assert ppf.progress("guidance_right", {}) == (2, 6, 0, 0)
    assert ppf.progress_text("guidance_right", {}) == "Step 2 of 6"


def test_a_guidance_page_can_be_conditional(ppf: FormDefinition) -> None:
    assert ppf.next_item("read_guidance", {"read_guidance": False}) == "guidance_questions"
    assert ppf.next_item("read_guidance", {"read_guidance": True}) == "school_1"


def test_missing_lists_only_the_required_questions_shown(ppf: FormDefinition) -> None:
    answers: dict[str, Any] = {
        "completed_by_name": "Ann", "relationship": "mother", "phone": "07700900123", "email": "a@b.co",
        "read_guidance": True, "school_1": "Oakfield Primary School", "school_1_reasons": "Near home",
        "wants_school_2": True, "setting_type": "mainstream", "attends_school": False,
        "start_date": "2027-09-01", "declaration": True,
    }
    assert [x.id for x in ppf.missing(answers)] == ["school_2", "school_2_reasons", "wants_school_3"]
    answers["wants_school_2"] = False
    assert ppf.missing(answers) == []
    answers["school_1"] = ""
    assert [x.id for x in ppf.missing(answers)] == ["school_1"]


def test_several_choices_conditions_use_contains(forms: dict[str, FormDefinition]) -> None:
    views = forms["annual_review_views"]
    assert views.is_visible("invite_other", {"invite": ["school", "other"]})
    assert not views.is_visible("invite_other", {"invite": ["school"]})
    assert not views.is_visible("invite_other", {})
