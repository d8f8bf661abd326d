"""The rights pages as data (issue 15): every bundled page is well formed, sourced and licensed;
each stage has its page; a council's folder adds or replaces pages; a bad page stops the start
with its file and problem; a page filled for a case says the case's dates and the council's
contacts, and never leaves a placeholder."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.dashboard.rights import to_html
from core.cases.dashboard import Counts, Dashboard
from core.config import Settings
from core.rights import OGL_ATTRIBUTION, PLACEHOLDERS, RightsError, facts_for, load_topics
from core.timescales import CaseEvents, Stage, current_stage, key_dates
from tests.test_forms_cli import cli_env, run_cli

GOOD = """---
id: local_offer
title: Our local offer
stages: []
sources: [Worcestershire's local offer]
licence: council
---
Read **our local offer** at [the council's site](https://www.worcestershire.gov.uk). {sendiass}
"""


def settings(**kw) -> Settings:  # noqa: ANN003
    return Settings(_env_file=None, secret_key="x" * 48, **kw)


def test_every_bundled_page_is_sourced_licensed_and_every_stage_has_one():
    topics = load_topics()
    for stage in Stage:
        assert topics.for_stage(stage) is not None, stage
    for t in topics.by_id.values():
        assert t.sources and t.licence in ("OGL-3.0", "council")
        page = t.page(facts_for(None, settings()))
        assert "Sources: " in page
        assert (OGL_ATTRIBUTION in page) == (t.licence == "OGL-3.0")
        assert "{" not in page and "}" not in page, t.id
        assert len(to_html(page)) < 4096 - 200, t.id  # one chat message, with its title
    # Charities are linked, never quoted as sources.
    assert all("ipsea" not in s.lower() for t in topics.by_id.values() for s in t.sources)


def test_a_councils_folder_adds_and_replaces_pages(tmp_path: Path):
    own = tmp_path / "rights"
    own.mkdir()
    (own / "local_offer.md").write_text(GOOD)
    (own / "help.md").write_text(GOOD.replace("id: local_offer", "id: help").replace("Our local offer", "Help here"))
    topics = load_topics(own)
    assert topics.get("local_offer") is not None
    assert topics.get("help").title == "Help here"
    html = to_html(topics.get("local_offer").page(facts_for(None, settings(sendiass_name="Worcs SENDIASS"))))
    assert "<b>our local offer</b>" in html and '<a href="https://www.worcestershire.gov.uk">' in html
    assert "Worcs SENDIASS" in html and OGL_ATTRIBUTION not in html


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda s: s.replace("{sendiass}", "{secret_key}"), "unknown placeholders"),
        (lambda s: s.replace("licence: council", "licence: CC-BY"), "licence must be"),
        (lambda s: s.replace("sources: [Worcestershire's local offer]", "sources: []"), "sources"),
        (lambda s: s.replace("stages: []", "stages: [tea_time]"), "unknown stages"),
        (lambda s: s.replace("https://www.worcestershire", "http://www.worcestershire"), "https://"),
        (lambda s: s.replace("id: local_offer", "id: Local Offer!"), "id must be"),
        (lambda s: s.replace("---\nid", "id", 1), "starts with"),
        (lambda s: s + "x" * 4000, "characters"),
    ],
)
def test_a_bad_page_is_refused_with_its_file_and_problem(tmp_path: Path, change, problem):  # noqa: ANN001
    own = tmp_path / "rights"
    own.mkdir()
    (own / "local_offer.md").write_text(change(GOOD))
    with pytest.raises(RightsError) as err:
        load_topics(own)
    assert "local_offer.md" in str(err.value) and problem in str(err.value)


def test_run_refuses_to_start_on_a_bad_page(tmp_path: Path):
    own = tmp_path / "rights"
    own.mkdir()
    (own / "local_offer.md").write_text(GOOD.replace("{sendiass}", "{password}"))
    ran = run_cli("run", env=cli_env(tmp_path / "var", EHCP_RIGHTS_DIR=str(own), EHCP_BOT_TOKEN="1:x"))
    assert ran.returncode == 2
    assert "local_offer.md" in ran.stderr and "password" in ran.stderr, ran.stderr
    assert not (tmp_path / "var" / "ehcp.sqlite3").exists()


def test_a_page_filled_for_a_case_has_its_dates_and_contacts():
    events = CaseEvents(final_plan_issued=date(2025, 12, 1), cease_decision=date(2026, 11, 24),
                        decision_letter=date(2026, 11, 24))
    d = Dashboard(child_id=1, child_forename="Sam", child_surname="Jones", case_reference="C", request_date=None,
                  requestor=None, caseworker_name="Jo Smith", contact="jo@council.example",
                  stage=current_stage(events), key_dates=key_dates(events, date(2026, 11, 25)), missed=[],
                  exceptions=[], counts=Counts(0, 0, 0), events=events, today=date(2026, 11, 25))
    topics = load_topics()
    page = topics.for_stage(d.stage).page(facts_for(d, settings(mediation_adviser="Global Mediation")))
    assert "stop maintaining Sam's EHC plan" in page
    assert "5pm on Mon 25 Jan 2027" in page  # 24 Jan 2027 is a Sunday
    assert "Global Mediation" in page
    facts = facts_for(d, settings())
    assert set(facts) == set(PLACEHOLDERS)


def test_every_event_kind_has_a_notice_for_the_parent():
    """A new kind of case event always reaches the parent in words (an unknown one would fail the
    caseworker's request)."""
    from bot.dashboard.texts import event_headline
    from core.cases.events import EventKind

    details = {"date": "2027-01-06", "year": 2027, "outcome": "keep", "exception": "school_closed_4_weeks",
               "about": "the plan", "names_setting": True}
    for kind in EventKind:
        text = event_headline(kind, "Sam", date(2026, 11, 24), details)
        assert "Sam" in text and "{" not in text, kind


def test_the_readme_lists_every_rule_with_its_source():
    from core.timescales import RULES

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for r in RULES:
        assert f"| {r.name} (`{r.key}`) |" in readme and r.source in readme, r.key


def test_a_closed_appeal_window_is_said_as_closed_with_who_to_contact():
    events = CaseEvents(final_plan_issued=date(2023, 6, 1), cease_decision=date(2025, 1, 6),
                        decision_letter=date(2025, 1, 6))
    today = date(2025, 4, 1)
    d = Dashboard(child_id=1, child_forename="Sam", child_surname="Jones", case_reference="C", request_date=None,
                  requestor=None, caseworker_name=None, contact="the SEND team", stage=current_stage(events),
                  key_dates=[k for k in key_dates(events, today) if k.status.value != "not_applicable"],
                  missed=[], exceptions=[], counts=Counts(0, 0, 0), events=events, today=today)
    facts = facts_for(d, settings(sendiass_name="Worcs SENDIASS"))
    assert facts["appeal_by"].startswith("The time to appeal ended on 6 Mar 2025.")
    assert "Worcs SENDIASS" in facts["appeal_by"]


def test_a_name_that_looks_like_a_link_stays_words():
    """A caseworker's name (or any fact) is text: never a link, never bold, never markup."""
    from bot.dashboard.rights import md_quote

    topics = load_topics()
    facts = facts_for(None, settings(send_team_contact="[Pay the tribunal fee here](https://evil.example/pay) **now** <b>"))
    html = to_html(topics.get("missed_date").page(facts, md_quote))
    assert "evil.example" in html and '<a href="https://evil.example' not in html
    assert "[Pay the tribunal fee here](https://evil.example/pay) **now** &lt;b&gt;" in html
    assert "<b>What you can do</b>" in html  # the page's own markup still works
