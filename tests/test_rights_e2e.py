"""A parent's rights end to end (issue 15): the review decision "no changes" and a ceased plan,
recorded by the caseworker through the API, reach the parent's chat with the appeal right and its
last day; the SEND Dashboard shows the decision met; "What can I do?" opens the page for the
stage, with the SENDIASS contact the council set."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import Settings
from tests.stack import active_parent
from tests.test_dashboard_e2e import open_dashboard


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, secret_key="test-secret-key-" + "x" * 32,
                    sendiass_name="Worcestershire SENDIASS", sendiass_contact="Phone 01632 960001.",
                    mediation_adviser="Global Mediation, 01632 960002")


async def event(stack, kind: str, on: str, **details) -> dict:  # noqa: ANN001, ANN003
    status, body = await stack.api("POST", "/v1/cases/CASE-1/events",
                                   {"kind": kind, "on": on, **({"details": details} if details else {})})
    assert status == 201, body
    return body


async def test_a_no_changes_review_decision_meets_the_date_and_opens_the_appeal(stack, stand, portal, clock):
    alex = await active_parent(stack, stand)
    await event(stack, "final_plan_issued", "2025-12-01")
    await alex.wait_for(lambda m: "final EHC plan for Sam was issued" in m.text)
    await event(stack, "annual_review_meeting", "2026-11-02")
    await alex.wait_for(lambda m: "annual review meeting for Sam took place on 2 Nov 2026" in m.text)
    dash = await open_dashboard(alex)
    assert "Decision to keep, change or stop the plan due: 29 Nov 2026 (in 5 days)" in dash.text

    # "No changes": the 4 weeks of reg 20(10) are met, and the parent may appeal (s.51(2)(e)).
    await event(stack, "review_decision", "2026-11-20", outcome="keep")
    kept = await alex.wait_for(lambda m: "decided to keep Sam's EHC plan as it is" in m.text)
    assert "The tribunal must have your appeal by 5pm on Wed 20 Jan 2027" in kept.text
    assert "mediation adviser" in kept.text
    dash = await open_dashboard(alex)
    assert "Decision to keep, change or stop the plan due: 29 Nov 2026. Done on 20 Nov 2026." in dash.text
    assert "Last day to appeal (by 5pm): Wed 20 Jan 2027" in dash.text
    assert "🗓 Contact the mediation adviser by: 20 Jan 2027" in dash.text  # reg 33: within 2 months

    await alex.press(kept, "What can I do?")
    page = await alex.wait_for(lambda m: "What can I do? After the annual review" in m.text)
    assert "The tribunal must have your appeal by 5pm on Wed 20 Jan 2027" in page.text
    assert "Worcestershire SENDIASS" not in page.text  # this page has no help section; the button does
    await alex.press(page, "Free advice and support")
    await alex.wait_until(lambda: "Phone 01632 960001" in alex.message(page.message_id).text,
                          what="the SENDIASS contact")
    await alex.press(alex.message(page.message_id), "Mediation and the certificate")
    await alex.wait_until(lambda: "Global Mediation, 01632 960002" in alex.message(page.message_id).text,
                          what="the mediation adviser")


async def test_a_ceased_plan_says_what_carries_on_and_how_to_appeal(stack, stand, portal, clock):
    alex = await active_parent(stack, stand)
    await event(stack, "final_plan_issued", "2025-06-01")
    await alex.wait_for(lambda m: "final EHC plan for Sam was issued" in m.text)
    await event(stack, "cease_decision", "2026-11-24")
    ceased = await alex.wait_for(lambda m: "decided to stop Sam's EHC plan" in m.text)
    assert "The tribunal must have your appeal by 5pm on Mon 25 Jan 2027" in ceased.text  # 24 Jan is a Sunday
    dash = await open_dashboard(alex)
    assert "🟣 <b>Plan ending" in dash.html or "Plan ending" in dash.text
    assert "Last day to appeal (by 5pm): Mon 25 Jan 2027" in dash.text

    # From the dashboard: the page for this stage, with the SENDIASS the council set.
    await alex.press(dash, "What can I do?")
    await alex.wait_until(lambda: "What can I do? The council decided to stop the plan"
                          in alex.message(dash.message_id).text, what="the ceasing page")
    text = alex.message(dash.message_id).text
    assert "carries on until the time to appeal has passed" in text
    assert "Global Mediation, 01632 960002" in text
    assert "Worcestershire SENDIASS" in text and "Phone 01632 960001" in text
    assert "Sources: Children and Families Act 2014, s.45 and s.51(2)(f)" in text


async def test_a_forged_rights_button_shows_nothing_of_another_family(stack, stand, portal):
    alex = await active_parent(stack, stand)
    status, other = await stack.api("POST", "/v1/cases", {
        "case_reference": "CASE-9", "child_forename": "Zed", "child_surname": "Other",
        "child_date_of_birth": "2015-01-01", "request_date": "2026-11-01",
    })
    assert status == 201, other
    dash = await open_dashboard(alex)
    await alex.press_data(dash, f"rights:{other['child_id']}:missed_date")
    refused = await alex.wait_for(lambda m: "not available in this chat" in m.text)
    assert "Zed" not in refused.text
    # A made-up topic on their own child: the page for the stage, not an error.
    _, sam = await stack.api("GET", "/v1/cases/CASE-1")
    await alex.press_data(alex.message(refused.message_id), f"rights:{sam['child_id']}:../../etc")
    own = await alex.wait_for(lambda m: m.text.startswith("What can I do?"))
    assert "Sam" in own.text and "Zed" not in own.text
