"""Ask anything, the knowledge base (issue 17, first part): files checked at load with the file and
the problem named; questions answered by quoting a passage with its source, misspelt ones too;
questions nothing answers declined; a council's own folder searched; `ehcp-bot kb check` and
`ehcp-bot kb ask` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.knowledge import Answer, Declined, KBError, load_kb
from core.rights import OGL_ATTRIBUTION
from tests.test_cli_and_settings import cli_env, run_cli

COUNCIL = """\
---
source:
  title: Exampleshire SEND Local Offer
  url: https://example.gov.uk/local-offer
licence:
  name: council
  attribution: Exampleshire County Council's own words.
verbatim: true
---
## Short breaks for disabled children {#exampleshire_short_breaks}

Exampleshire offers short breaks for disabled children: holiday clubs, youth clubs and overnight stays. Ask for a short breaks assessment from the Children with Disabilities team.
"""


@pytest.fixture(scope="module")
def kb():
    return load_kb()


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_a_file_without_a_licence_is_refused_naming_the_file(tmp_path: Path):
    own = write(tmp_path / "kb", "breaks.md", COUNCIL.replace(
        "licence:\n  name: council\n  attribution: Exampleshire County Council's own words.\n", ""))
    with pytest.raises(KBError, match=r"breaks\.md: has no licence"):
        load_kb(own)


def test_a_duplicate_id_is_refused_naming_both_files(tmp_path: Path):
    own = write(tmp_path / "kb", "a.md", COUNCIL)
    write(own, "b.md", COUNCIL)
    with pytest.raises(KBError, match=r"b\.md: passage id 'exampleshire_short_breaks' is also used in council/a\.md"):
        load_kb(own)
    clash = write(tmp_path / "kb2", "c.md", COUNCIL.replace("exampleshire_short_breaks", "cop_9_77_draft_plan"))
    with pytest.raises(KBError, match=r"c\.md: passage id 'cop_9_77_draft_plan' is also used in send_code_of_practice\.md"):
        load_kb(clash)


@pytest.mark.parametrize(("change", "problem"), [
    (lambda t: t.rstrip("\n").rsplit("\n\n", 1)[0] + "\n", "is empty"),
    (lambda t: t.replace("{#exampleshire_short_breaks}", ""), "a passage heading is"),
    (lambda t: t.replace("  url: https://example.gov.uk/local-offer\n", ""), "url must be text"),
    (lambda t: t.replace("https://example.gov.uk", "http://example.gov.uk"), "https://"),
    (lambda t: t.split("---\n", 2)[2], "must start with a '---' block"),
])
def test_other_problems_are_named_with_the_file(tmp_path: Path, change, problem):
    own = write(tmp_path / "kb", "breaks.md", change(COUNCIL))
    with pytest.raises(KBError, match="breaks.md") as err:
        load_kb(own)
    assert problem in str(err.value)


def test_a_question_is_answered_with_a_verbatim_excerpt_and_its_source(kb):
    reply = kb.ask("how long do i get to comment on the draft plan and can i ask for a meeting")
    assert isinstance(reply, Answer), reply
    assert reply.passage.id in {"cop_9_77_draft_plan", "reg_13_draft_plan", "rights_draft_plan"}
    # Extractive: every line of the excerpt is the passage's own text.
    for line in reply.excerpt.split("\n"):
        assert line == "…" or line in reply.passage.text, line
    assert "15 days" in reply.excerpt
    assert reply.citation.startswith("Source: ") and reply.passage.source.title in reply.citation
    assert OGL_ATTRIBUTION in reply.text()


def test_the_code_of_practice_is_quoted_with_its_address_and_the_ogl(kb):
    reply = kb.ask("how often does the ehcp have to be reviewed")
    assert isinstance(reply, Answer), reply
    top3 = [h.passage.id for h in reply.hits]
    assert "cop_9_166_review" in top3
    passage = kb.get("cop_9_166_review")
    assert passage is not None and passage.verbatim
    assert "https://www.gov.uk/government/publications/send-code-of-practice-0-to-25" in passage.citation()
    assert OGL_ATTRIBUTION in passage.citation()


@pytest.mark.parametrize("question", [
    "whats the weather tomorrow", "can you do my tax return", "what is the capital of france", "", "???",
])
def test_a_question_nothing_answers_is_declined(kb, question):
    assert isinstance(kb.ask(question), Declined)


@pytest.mark.parametrize(("question", "wanted"), [
    ("how do i apeal to the tribunel", {"rights_appeal", "rights_appeal_how"}),
    ("wat is a mediaton certifcate", {"rights_mediation_the_certificate", "rights_mediation"}),
    ("echp draught plan how many days to coment", {"cop_9_77_draft_plan", "reg_13_draft_plan", "rights_draft_plan"}),
    ("who is the sendco", {"sum_senco"}),
    ("the LA missed the deadline", {"rights_missed_date"}),
])
def test_misspelt_questions_are_still_answered(kb, question, wanted):
    reply = kb.ask(question)
    assert isinstance(reply, Answer), (question, reply)
    assert reply.passage.id in wanted, (question, reply.passage.id)


def test_the_rights_pages_are_passages_with_general_facts_filled_in(kb):
    ids = {p.id for p in kb.passages}
    assert {"rights_appeal", "rights_appeal_by_when", "rights_mediation_the_certificate"} <= ids
    for p in kb.passages:
        assert "{" not in p.text or p.id.startswith("cop"), p.id  # no unfilled placeholder
    custom = load_kb(facts={"mediation_adviser": "Global Mediation, 0800 000 0000"})
    assert "Global Mediation" in (custom.get("rights_mediation").text)


def test_a_councils_own_page_is_found(tmp_path: Path):
    own = write(tmp_path / "kb", "breaks.md", COUNCIL)
    kb = load_kb(own)
    reply = kb.ask("are there any short brakes or holiday clubs for disabled kids")
    assert isinstance(reply, Answer), reply
    assert reply.passage.id == "exampleshire_short_breaks" and reply.passage.file == "council/breaks.md"
    assert "Exampleshire SEND Local Offer, https://example.gov.uk/local-offer" in reply.citation
    assert isinstance(load_kb().ask("are there any short brakes or holiday clubs for disabled kids"), Declined)


def test_kb_check_and_kb_ask_from_the_command_line(tmp_path: Path):
    own = write(tmp_path / "kb", "breaks.md", COUNCIL)
    env = cli_env(tmp_path / "var", EHCP_KB_DIR=str(own))
    checked = run_cli("kb", "check", env=env)
    assert checked.returncode == 0, checked.stderr
    assert "send_code_of_practice.md" in checked.stdout and "breaks.md\tcouncil\t1 passages" in checked.stdout
    asked = run_cli("kb", "ask", "can i apeal against the school named in the plan", env=env)
    assert asked.returncode == 0, asked.stderr
    assert "Source: " in asked.stdout and "tribunal" in asked.stdout.lower()
    declined = run_cli("kb", "ask", "whats the weather like", env=env)
    assert declined.returncode == 0 and "I don't know" in declined.stdout and "Ask the SEND team" in declined.stdout

    write(own, "broken.md", COUNCIL.replace("exampleshire_short_breaks", "exampleshire_other").replace(
        "verbatim: true\n", "verbatim: true\nlicense: oops\n"))
    bad = run_cli("kb", "check", env=env)
    assert bad.returncode == 1
    assert "broken.md" in bad.stderr and "unknown keys: license" in bad.stderr, bad.stderr
