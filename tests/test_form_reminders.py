"""Reminders of a form the SEND team asked for (issue 6: "the due date feeds the reminders"):
7 days and 1 day before its due date and on the day, at 09:00 London, to each carer it is for,
until that carer submits it; none once it is withdrawn. The clock is moved by hand."""

from __future__ import annotations

from datetime import date

import pytest

from core.clock import FrozenClock
from core.forms.casework import FormCasework
from core.forms.filling import FormFilling
from core.forms.form import FormDefinition
from core.forms.loading import load_forms
from core.reminders import plan_all
from core.reminders.models import Reminder
from tests.test_onboarding_service import CASEWORKER
from tests.test_reminders import family, pending, rows, sent_reminders, tick, utc

DUE = date(2023, 3, 20)

TINY = FormDefinition.model_validate({
    "id": "tiny_views",
    "version": 1,
    "title": "Your Views",
    "steps": [{"name": "Your views", "items": [
        {"id": "views", "type": "long_text", "text": "Anything to tell us?", "required": False},
    ]}],
})


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(utc(2023, 3, 1))  # 1 Mar 2023, 12:00 GMT


def team_side(portal) -> FormCasework:  # noqa: ANN001
    return FormCasework(portal, forms={**load_forms(), TINY.id: TINY})


def parent_side(portal) -> FormFilling:  # noqa: ANN001
    return FormFilling(portal, forms={**load_forms(), TINY.id: TINY})


def form_rows(expected: set[tuple], key: str) -> set[tuple]:
    return {r for r in expected if r[1] == key}


async def test_a_due_date_plans_reminders_for_each_carer_as_days_come_into_view(portal, clock):
    _, mum, dad = await family(portal)
    a = await team_side(portal).assign(CASEWORKER, "EHC-0001", form_id="parental_preference", due_date=DUE)
    key = f"form:{a.id}"

    # 1 Mar: only "7 days before" (13 Mar) is within the 14-day horizon.
    assert form_rows(await pending(portal), key) == {
        (who, key, DUE, "before_7", utc(2023, 3, 13, 9)) for who in (mum, dad)
    }
    # 6 Mar: the daily planning adds the day before and the day itself.
    clock.set(utc(2023, 3, 6, 0, 30))
    await plan_all(portal)
    assert {(r[0], r[3]) for r in form_rows(await pending(portal), key)} == {
        (who, kind) for who in (mum, dad) for kind in ("before_7", "before_1", "on_day")
    }

    before = len(await sent_reminders(portal))
    await tick(portal, clock, utc(2023, 3, 13, 9))
    sent = [n for n in (await sent_reminders(portal))[before:] if "Preference" in n.text]
    assert {n.fallback_email for n in sent} == {"mum@example.org", "dad@example.org"}
    for n in sent:
        assert "Reminder for Sam: in 7 days, 20 Mar 2023." in n.text
        assert "Parental Preference Form by 20 Mar 2023" in n.text
        assert n.payload["buttons"] == [[{"text": "✍️ Open the form", "data": f"form:{a.id}:open"}]]


async def test_a_form_for_one_carer_reminds_only_them(portal, clock):
    _, mum, dad = await family(portal)
    a = await team_side(portal).assign(
        CASEWORKER, "EHC-0001", form_id="parental_preference", due_date=DUE, account_id=dad
    )
    assert {r[0] for r in form_rows(await pending(portal), f"form:{a.id}")} == {dad}


async def test_a_withdrawn_form_is_not_reminded(portal, clock):
    await family(portal)
    team = team_side(portal)
    a = await team.assign(CASEWORKER, "EHC-0001", form_id="parental_preference", due_date=DUE)
    await team.withdraw_assignment(CASEWORKER, a.id)
    assert form_rows(await pending(portal), f"form:{a.id}") == set()
    before = len(await sent_reminders(portal))
    await tick(portal, clock, utc(2023, 3, 13, 9))
    assert [n for n in (await sent_reminders(portal))[before:] if "Preference" in n.text] == []


async def test_a_carer_who_submitted_is_not_reminded_the_other_still_is(portal, clock):
    _, mum, dad = await family(portal)
    a = await team_side(portal).assign(CASEWORKER, "EHC-0001", form_id=TINY.id, due_date=DUE)
    key = f"form:{a.id}"
    forms = parent_side(portal)
    mine = await forms.open_assignment(111, a.id)  # mum's chat
    await forms.submit(111, mine.id)

    assert {r[0] for r in form_rows(await pending(portal), key)} == {dad}
    await tick(portal, clock, utc(2023, 3, 13, 9))
    reminded = [n for n in await sent_reminders(portal) if "Your Views" in n.text]
    assert [n.fallback_email for n in reminded] == ["dad@example.org"]
    assert {r.status for r in await rows(portal, Reminder.key == key, Reminder.account_id == mum)} <= {"dropped"}
