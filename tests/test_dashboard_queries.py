"""The SEND Dashboard's reads cost a fixed, small number of queries (3, not counting
dialogue state and audit writes), however many events the case has. The statements are counted
on the engine, as the database sees them."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

from sqlalchemy import event

from core.audit import Actor
from core.cases.dashboard import DashboardService
from core.cases.events import EventKind
from core.cases.service import CaseService
from core.onboarding import AccessService, ChatLinkService, InvitationService, OnboardingSettings
from core.services import Services
from tests.test_onboarding_service import CASEWORKER, grant_of, verified_parent

CHAT = 424242


@contextmanager
def statements(portal):  # noqa: ANN001, ANN201
    """Every SQL statement run on the portal's engine meanwhile, but audit and dialogue-state
    writes (which the budget leaves out)."""
    seen: list[str] = []

    def on_execute(_conn, _cursor, statement, _params, _context, _many) -> None:  # noqa: ANN001
        s = " ".join(statement.split()).lower()
        if s.startswith(("insert into audit", "insert into dialog_state", "update dialog_state")):
            return
        if s in ("begin", "commit", "rollback") or s.startswith(("begin", "savepoint", "release")):
            return
        seen.append(s)

    engine = portal.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


async def _parent_with_a_case(portal) -> int:  # noqa: ANN001
    cfg = OnboardingSettings(_env_file=None, bot_username="ehcp_test_bot")
    invitations, links = InvitationService(portal, cfg), ChatLinkService(portal, cfg)
    view, account_id = await verified_parent(invitations, links, portal, "jane@example.org", CHAT)
    await invitations.respond(account_id, CHAT, {view.id: True})
    await AccessService(portal).activate_access((await grant_of(portal, view.id)).id, CASEWORKER)
    return view.child_id


async def _events(portal, n: int) -> None:  # noqa: ANN001
    cases = CaseService(portal)
    actor = Actor.caseworker("case-system")
    await cases.update_case("EHC-0001", actor, {"request_date": date(2026, 1, 5)})
    await cases.record_event("EHC-0001", actor, EventKind.DECISION_TO_ASSESS, date(2026, 2, 2), {})
    for i in range(n):
        await cases.record_event(
            "EHC-0001", actor, EventKind.DECISION_LETTER, date(2026, 3, 1 + i % 28), {"about": f"letter {i}"}
        )


async def test_the_dashboard_costs_a_few_queries_whatever_the_number_of_events(portal):
    child_id = await _parent_with_a_case(portal)
    dashboard = Services.build(portal).dashboard  # as the bot has it: with its three counts

    await _events(portal, 0)
    with statements(portal) as few:
        small = await dashboard.overview(CHAT)
    await _events(portal, 60)
    with statements(portal) as many:
        large = await dashboard.overview(CHAT)

    assert small.dashboard is not None and large.dashboard is not None
    assert large.dashboard.child_id == child_id
    assert large.dashboard.stage.value == "assessing"
    assert len(few) == len(many) == 3, many  # the children and cases, the events, every count at once
    assert all(s.startswith("select") for s in many), many


async def test_another_chat_gets_no_dashboard_in_the_same_budget(portal):
    child_id = await _parent_with_a_case(portal)
    await _events(portal, 3)
    with statements(portal) as seen:
        other = await DashboardService(portal).overview(CHAT + 1, child_id)
    assert other.account_id is None and other.dashboard is None and other.children == []
    assert len(seen) <= 1
