"""The SEND Dashboard, stage-change notices and key-date reminders, end to end (issue 4).

A caseworker moves Sam's case through the 20-week process by the API; at each step the parent's
chat (the real bot, through the Bot API stand-in) gets the notice that says what changed, and the
dashboard shows the right stage and dates. Reminders come at the right moments as the clock is
moved (never by sleeping), never twice, never at night, and the missed-date notice comes when the
council lets a date pass. The timeline picture arrives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from core.config import Settings
from core.models import OutboxItem
from core.reminders.models import Reminder
from tests.stack import active_parent, count

LONDON_9AM_GMT = 9  # 09:00 in London is 09:00 UTC in winter


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    # The council's SENDIASS, as a council sets it (EHCP_SENDIASS_NAME, EHCP_SENDIASS_CONTACT).
    return Settings(_env_file=None, data_dir=data_dir, secret_key="test-secret-key-" + "x" * 32,
                    sendiass_name="Worcestershire SENDIASS", sendiass_contact="Phone 01632 960001.")


async def open_dashboard(user, expect: str = "SEND Dashboard: Sam Jones"):  # noqa: ANN001, ANN201
    await user.send("/dashboard")
    return await user.wait_for(lambda m: expect in m.text and m.reply_markup is not None)


def at(y: int, mo: int, d: int, h: int = LONDON_9AM_GMT, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


async def test_a_case_through_the_20_weeks_with_notices_reminders_and_the_dashboard(stack, stand, portal, clock):
    alex = await active_parent(stack, stand)

    # No request recorded yet: the dashboard says so.
    dash = await open_dashboard(alex)
    assert "No dates yet" in dash.text
    assert "not allocated yet" in dash.text

    # The request is recorded (24 Nov 2026, today): the parent is told the next date.
    status, case = await stack.api("PATCH", "/v1/cases/CASE-1", {"request_date": "2026-11-24",
                                                                  "requestor": "Alex Jones"})
    assert status == 200, case
    assert case["stage"] == "deciding whether to assess"
    notice = await alex.wait_for(lambda m: "recorded the request for an EHC needs assessment" in m.text)
    assert "dated 24 Nov 2026" in notice.text
    assert "The next date is 4 Jan 2027" in notice.text
    assert notice.button("SEND Dashboard").callback_data == f"dash:{case['child_id']}"

    status, _ = await stack.api("PUT", "/v1/cases/CASE-1/caseworker",
                                {"name": "Jo Smith", "email": "jo.smith@council.example"})
    assert status == 200
    hello = await alex.wait_for(lambda m: "Jo Smith is now Sam's SEND caseworker" in m.text)
    assert "jo.smith@council.example" in hello.text

    # The notice's button opens the dashboard: stage and every date, as the guide shows them.
    await alex.press(notice, "SEND Dashboard")
    dash = await alex.wait_for(lambda m: "SEND Dashboard: Sam Jones" in m.text and "Jo Smith" in m.text)
    assert "🟣 Decision to assess" in dash.text and "(current stage)" in dash.text
    assert "✔️ Request" in dash.text
    assert "Date of request: 24 Nov 2026" in dash.text
    assert "Requestor: Alex Jones" in dash.text
    assert "Decision to assess due: 4 Jan 2027 (in 41 days)" in dash.text
    assert "If there will be no plan, you are told by: 15 Mar 2027" in dash.text
    assert "Final EHC plan due: 12 Apr 2027" in dash.text
    assert "SEND caseworker: Jo Smith" in dash.text
    for label in ("Actions to Complete (0)", "New Messages (0)", "Documents to View (0)", "Extra information",
                  "What can I do?", "Timeline picture"):
        dash.button(label)

    await alex.press(dash, "Extra information")
    extra = await alex.wait_for(lambda m: "Extra information: Deciding whether to assess" in m.text,
                                include_consumed=True)
    assert "must tell you its decision by 4 Jan 2027" in extra.text
    assert "you can appeal to the SEND Tribunal" in extra.text

    await alex.press(extra, "Back to the SEND Dashboard")
    await alex.wait_until(lambda: "SEND Dashboard: Sam Jones" in alex.message(extra.message_id).text,
                          what="the dashboard again")
    dash = alex.message(extra.message_id)
    await alex.press(dash, "Timeline picture")
    picture = await alex.wait_for(lambda m: m.photo is not None)
    assert "Timeline for Sam" in picture.text and "purple" in picture.text
    assert picture.photo.width >= 800

    # 7 days before (28 Dec, 09:00): the first reminder. The planner looks ahead day by day.
    clock.set(at(2026, 12, 28))
    r7 = await alex.wait_for(lambda m: "Reminder for Sam: in 7 days, 4 Jan 2027" in m.text)
    assert "decision whether to carry out an EHC needs assessment" in r7.text
    assert not r7.disable_notification  # a reminder by day comes with sound

    # 1 day before, 09:00 on 3 Jan.
    clock.set(at(2027, 1, 3))
    await alex.wait_for(lambda m: "Reminder for Sam: tomorrow, 4 Jan 2027" in m.text)

    # The day itself: at 07:30 it is still quiet hours, so nothing; at 09:00 the reminder comes.
    clock.set(at(2027, 1, 4, 7, 30))
    alex.mark_read()
    await alex.ensure_no_message(within=0.5)
    clock.set(at(2027, 1, 4))
    await alex.wait_for(lambda m: "Reminder for Sam: today, 4 Jan 2027" in m.text)

    # The day after the date shown is still within the law ("within 6 weeks of" the request,
    # read strictly, ends on 5 Jan): no missed-date notice, and the dashboard says so.
    clock.set(at(2027, 1, 5))
    alex.mark_read()
    await alex.ensure_no_message(within=0.5)
    dash = await open_dashboard(alex)
    assert "Decision to assess due: 4 Jan 2027 (in law, the council has until the end of 5 Jan 2027)" in dash.text

    # The date passes with nothing recorded: the missed-date notice the next morning ...
    clock.set(at(2027, 1, 6))
    missed = await alex.wait_for(lambda m: "A date for Sam has passed" in m.text)
    assert "was due by 4 Jan 2027" in missed.text
    assert "Jo Smith" in missed.text and "jo.smith@council.example" in missed.text

    # ... with "What can I do?": the page on missed dates, with the council's SENDIASS contact.
    await alex.press(missed, "What can I do?")
    rights = await alex.wait_for(lambda m: "What can I do? When the council misses a date" in m.text)
    assert "Jo Smith, jo.smith@council.example" in rights.text
    assert "Worcestershire SENDIASS" in rights.text and "01632 960001" in rights.text
    assert "Open Government Licence v3.0" in rights.text
    rights.button("Complaining to the council and the Ombudsman")
    await alex.press(rights, "Complaining to the council and the Ombudsman")
    await alex.wait_until(lambda: "Local Government and Social Care Ombudsman" in alex.message(rights.message_id).text,
                          what="the complaints page")

    # ... and the dashboard says so plainly, with how to contact the caseworker.
    dash = await open_dashboard(alex)
    assert "Decision to assess due: 4 Jan 2027. Overdue by 1 day" in dash.text
    assert "Nothing has been recorded yet. Please contact your caseworker, Jo Smith" in dash.text

    # The council decides (late). The stage moves on; the notice gives the next date.
    status, body = await stack.api("POST", "/v1/cases/CASE-1/events",
                                   {"kind": "decision_to_assess", "on": "2027-01-06"})
    assert status == 201, body
    decided = await alex.wait_for(lambda m: "decided to carry out an EHC needs assessment for Sam" in m.text)
    assert "The next date is 15 Mar 2027" in decided.text
    dash = await open_dashboard(alex)
    assert "🟣 Assessment" in dash.text
    assert "Decision to assess due: 4 Jan 2027. Done late, on 6 Jan 2027." in dash.text
    assert "Nothing has been recorded yet" not in dash.text

    # Decision to issue a plan, then the draft: the parent's 15 days are spelt out.
    clock.set(at(2027, 3, 1))
    await stack.api("POST", "/v1/cases/CASE-1/events", {"kind": "decision_to_issue_plan", "on": "2027-03-01"})
    await alex.wait_for(lambda m: "decided to issue an EHC plan for Sam" in m.text)
    await stack.api("POST", "/v1/cases/CASE-1/events", {"kind": "draft_plan_served", "on": "2027-03-01"})
    draft = await alex.wait_for(lambda m: "draft EHC plan for Sam was sent to you on 1 Mar 2027" in m.text)
    assert "You have until 15 Mar 2027" in draft.text
    dash = await open_dashboard(alex)
    assert "🟣 Draft plan" in dash.text
    assert "Your comments on the draft plan by: 15 Mar 2027 (in 14 days)" in dash.text

    # The parent's own window is reminded too (7 days before: 8 Mar).
    clock.set(at(2027, 3, 8))
    await alex.wait_for(lambda m: "Reminder for Sam: in 7 days, 15 Mar 2027" in m.text
                        and "your comments on the draft plan" in m.text.lower())

    # The final plan: the annual review cycle starts, with the right to appeal.
    clock.set(at(2027, 4, 1))
    await stack.api("POST", "/v1/cases/CASE-1/events", {"kind": "final_plan_issued", "on": "2027-04-01"})
    final = await alex.wait_for(lambda m: "final EHC plan for Sam was issued on 1 Apr 2027" in m.text)
    assert "The tribunal must have your appeal by 5pm on Tue 1 Jun 2027" in final.text
    final.button("What can I do?")
    dash = await open_dashboard(alex)
    assert "🟣 Plan in place" in dash.text
    assert "Annual review due: 31 Mar 2028" in dash.text
    assert "Final EHC plan due: 12 Apr 2027. Done on 1 Apr 2027." in dash.text

    # Never twice: each reminder reached the chat once, and each row is sent once.
    texts = [m.text for m in alex.messages]
    for line in ("Reminder for Sam: in 7 days, 4 Jan 2027", "Reminder for Sam: tomorrow, 4 Jan 2027",
                 "Reminder for Sam: today, 4 Jan 2027", "A date for Sam has passed"):
        assert sum(line in t for t in texts) == 1, line
    async with portal.db() as s:
        sent = (await s.scalars(select(Reminder).where(Reminder.status == "sent"))).all()
    assert len(sent) == len({(r.key, r.due, r.kind) for r in sent})
    assert await count(portal, OutboxItem, OutboxItem.kind == "reminder") == len(sent)


async def test_a_parent_with_two_children_picks_one_and_cannot_open_another_familys(stack, stand, portal):
    alex = await active_parent(stack, stand, children=(("Sam", "CASE-1"), ("Ruby", "CASE-2")))
    await stack.api("PATCH", "/v1/cases/CASE-2", {"request_date": "2026-11-02"})
    await alex.wait_for(lambda m: "recorded the request" in m.text and "Ruby" in m.text)
    await alex.send("/dashboard")
    choose = await alex.wait_for(lambda m: "Which child do you want to see?" in m.text)
    await alex.press(choose, "Ruby Jones")
    ruby = await alex.wait_for(lambda m: "SEND Dashboard: Ruby Jones" in m.text, include_consumed=True)
    assert "Decision to assess due: 13 Dec 2026" in ruby.text
    ruby.button("Switch child")

    # Another family's child, by a crafted notice button: nothing of theirs is shown.
    status, other = await stack.api("POST", "/v1/cases", {
        "case_reference": "CASE-9", "child_forename": "Zed", "child_surname": "Other",
        "child_date_of_birth": "2015-01-01", "request_date": "2026-11-01",
    })
    assert status == 201, other
    await alex.press_data(ruby, f"dash:{other['child_id']}")
    refused = await alex.wait_for(lambda m: "not available in this chat" in m.text)
    assert "Zed" not in refused.text and "Other" not in refused.text

    # A forged choice in the child picker is refused too.
    await alex.send("/settings")
    settings = await alex.wait_for(lambda m: "Reminders" in m.text and m.reply_markup is not None)
    intent, _, item = settings.button("Sam Jones").callback_data.partition("\x1d")
    sam_id = str(await _child_id(stack, "CASE-1"))
    assert item.endswith(sam_id)
    forged = f"{intent}\x1d{item[: -len(sam_id)]}{other['child_id']}"
    answer = await alex.press_data(settings, forged)
    assert answer.show_alert and "not available in this chat" in answer.text
    alex.mark_read()
    await alex.ensure_no_message(within=0.3)
    dash = await open_dashboard(alex, "SEND Dashboard: Ruby Jones")
    assert "Zed" not in dash.text


async def _child_id(stack, ref: str) -> int:  # noqa: ANN001
    _, case = await stack.api("GET", f"/v1/cases/{ref}")
    return case["child_id"]


async def test_settings_switch_a_reminder_off_and_it_is_not_sent(stack, stand, portal, clock):
    alex = await active_parent(stack, stand)
    await stack.api("PATCH", "/v1/cases/CASE-1", {"request_date": "2026-11-24"})
    await alex.wait_for(lambda m: "recorded the request" in m.text)
    await alex.send("/settings")
    settings = await alex.wait_for(lambda m: "Reminders" in m.text and m.reply_markup is not None)
    assert "✅ 7 days before a date" in [b.text for b in settings.buttons]
    await alex.press(settings, "7 days before a date")
    await alex.wait_until(
        lambda: any("⬜️ 7 days before a date" == b.text for b in alex.message(settings.message_id).buttons),
        what="the switch to show off",
    )
    clock.set(at(2026, 12, 28))
    alex.mark_read()
    await alex.ensure_no_message(within=0.5)
    clock.set(at(2027, 1, 3))
    tomorrow = await alex.wait_for(lambda m: "Reminder for Sam: tomorrow" in m.text)
    assert "in 7 days" not in "\n".join(m.text for m in alex.messages if m.message_id < tomorrow.message_id)
