"""Onboarding services: invitations, deep links, unique codes, answers, activation, chat links."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Column, Integer, String, Table, func, insert, select, update

from core.audit import Actor
from core.dialog_state import DialogStateStore, StateKey
from core.inbox import UpdateInbox
from core.models import AuditEntry, Base, Chat, DialogState, EmailItem, InboundUpdate, OutboxItem
from core.onboarding import (
    AccessService,
    AlreadyInvited,
    CaseReferenceConflict,
    ChatLinkService,
    ChatNotLinked,
    CheckOutcome,
    InvalidState,
    InvitationService,
    InvitationStatus,
    NotFound,
    NotYourInvitation,
    OnboardingSettings,
    WrongCode,
)
from core.onboarding.codes import code_hmac, token_digest
from core.onboarding.models import AccessGrant, Case, ChatLink, Child, Invitation
from core.outbox import enqueue
from tests.stack import rows

CASEWORKER = Actor.caseworker("case-system")
CODE_RE = re.compile(r"unique verification code is: ([A-Z0-9]{4}-[A-Z0-9]{4})")
LINK_RE = re.compile(r"https://t\.me/ehcp_test_bot\?start=([A-Za-z0-9_-]+)")


# --- fixtures and helpers ---------------------------------------------------------------------


def _tables() -> None:
    """Onboarding's tables and `accounts` in the metadata (a stand-in only if accounts is not built yet)."""
    try:
        import core.accounts.models  # noqa: F401
    except ImportError:
        if "accounts" not in Base.metadata.tables:
            Table(
                "accounts",
                Base.metadata,
                Column("id", Integer, primary_key=True),
                Column("email", String(320), unique=True),
            )
    import core.onboarding.models  # noqa: F401


@pytest.fixture
def onboarding_settings() -> OnboardingSettings:
    return OnboardingSettings(_env_file=None, bot_username="ehcp_test_bot", send_team_name="the SEND team")


@pytest.fixture
async def db(portal):
    _tables()
    async with portal.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return portal


@pytest.fixture
def invitations(db, onboarding_settings) -> InvitationService:
    return InvitationService(db, onboarding_settings)


@pytest.fixture
def access(db, onboarding_settings) -> AccessService:
    return AccessService(db, onboarding_settings)


@pytest.fixture
def links(db, onboarding_settings) -> ChatLinkService:
    return ChatLinkService(db, onboarding_settings)


def _filler(column, now: datetime):  # noqa: ANN001, ANN202
    try:
        kind = getattr(column.type, "impl", column.type).python_type
    except NotImplementedError:
        kind = str
    if kind is datetime:
        return now
    if kind is bool:
        return False
    if kind is int:
        return 0
    if kind is date:
        return date(1990, 1, 1)
    return "x"


async def make_account(portal, email: str) -> int:
    """An account row with this (confirmed) email, whatever columns `accounts` has."""
    table = Base.metadata.tables["accounts"]
    now = portal.clock.now()
    values: dict = {"email": email}
    for c in table.columns:
        if c.name in values or c.primary_key or c.nullable or c.default is not None or c.server_default is not None:
            continue
        values[c.name] = _filler(c, now)
    for optional in ("email_confirmed_at",):
        if optional in table.columns:
            values[optional] = now
    async with portal.db() as s, s.begin():
        result = await s.execute(insert(table).values(values))
        return int(result.inserted_primary_key[0])


async def invite(
    invitations: InvitationService,
    email: str = "jane.parent@example.org",
    *,
    parent: tuple[str, str] = ("Jane", "Parent"),
    child: tuple[str, str, date] = ("Sam", "Parent", date(2016, 5, 4)),
    ref: str = "EHC-0001",
):
    return await invitations.create_invitation(
        CASEWORKER,
        parent_email=email,
        parent_forename=parent[0],
        parent_surname=parent[1],
        child_forename=child[0],
        child_surname=child[1],
        child_date_of_birth=child[2],
        case_reference=ref,
    )


async def emails(portal, to: str | None = None) -> list[EmailItem]:
    return await rows(portal, EmailItem, *([] if to is None else [EmailItem.to_addr == to]))


async def code_and_token(portal, to: str, nth: int = -1) -> tuple[str, str]:
    mails = [m for m in await emails(portal, to) if m.subject == "Accept Portal Invitation"]
    body = mails[nth].body
    return CODE_RE.search(body).group(1), LINK_RE.search(body).group(1)


async def outbox(portal) -> list[OutboxItem]:
    async with portal.db() as s:
        return list((await s.scalars(select(OutboxItem).order_by(OutboxItem.id))).all())


async def grant_of(portal, invitation_id: int) -> AccessGrant:
    async with portal.db() as s:
        return await s.scalar(select(AccessGrant).where(AccessGrant.invitation_id == invitation_id))


async def verified_parent(invitations, links, portal, email: str, chat_id: int, **kw):
    """An invitation opened in `chat_id`, its code given, and an account with `email` linked to the chat."""
    view = await invite(invitations, email, **kw)
    code, token = await code_and_token(portal, email)
    assert (await invitations.open_invitation_link(token, chat_id)).outcome == CheckOutcome.NEEDS_CODE
    assert (await invitations.check_unique_code(view.id, chat_id, code)).outcome == CheckOutcome.VERIFIED
    account_id = await make_account(portal, email)
    await links.link_chat(account_id, chat_id)
    return view, account_id


def db_text_without_emails(portal) -> str:
    """Every value of every table but the email queue (whose bodies are the emails themselves)."""
    con = sqlite3.connect(portal.settings.storage.data_dir / "ehcp.sqlite3")
    try:
        out = []
        for (table,) in con.execute("select name from sqlite_master where type='table'"):
            if table == "email_outbox":
                continue
            for row in con.execute(f'select * from "{table}"'):
                out.extend(str(v) for v in row)
        return "\n".join(out)
    finally:
        con.close()


# --- invitations ------------------------------------------------------------------------------


async def test_invitation_creates_child_case_grant_and_email(invitations, db, clock):
    view = await invite(invitations, " Jane.Parent@Example.org ")
    assert view.status == InvitationStatus.SENT and not view.locked
    assert view.parent_email == "jane.parent@example.org"
    assert view.expires_at == clock.now() + timedelta(days=28)
    assert view.grant_status == "pending"

    async with db.db() as s:
        child = await s.get(Child, view.child_id)
        case = await s.get(Case, view.case_id)
        grant = await s.get(AccessGrant, view.grant_id)
    assert (child.forename, child.surname, child.date_of_birth) == ("Sam", "Parent", date(2016, 5, 4))
    assert case.child_id == child.id and case.case_reference == "EHC-0001"
    assert grant.invitation_id == view.id and grant.child_id == child.id
    assert grant.account_id is None and grant.status == "pending"

    [mail] = await emails(db)
    assert mail.to_addr == "jane.parent@example.org"
    assert mail.subject == "Accept Portal Invitation"
    assert "Dear Jane" in mail.body and "Sam Parent" in mail.body and "22 Dec 2026" in mail.body
    code, token = await code_and_token(db, "jane.parent@example.org")
    assert len(token) == 43 and len(f"/start {token}") < 64 + 7

    async with db.db() as s:
        actions = (await s.execute(select(AuditEntry.action, AuditEntry.child_id, AuditEntry.actor_id))).all()
    assert ("invitation.create", child.id, "case-system") in actions


async def test_code_and_token_are_not_stored_in_clear(invitations, db):
    view = await invite(invitations)
    code, token = await code_and_token(db, "jane.parent@example.org")
    text = db_text_without_emails(db)
    assert code not in text and code.replace("-", "") not in text
    assert token not in text
    async with db.db() as s:
        inv = await s.get(Invitation, view.id)
    assert inv.code_hmac == code_hmac(db.secret_key, code.replace("-", ""))
    assert inv.token_digest == token_digest(token)


async def test_existing_case_reference_reuses_child_and_refuses_another_child(invitations, db):
    first = await invite(invitations, "a@example.org")
    second = await invite(invitations, "b@example.org", parent=("Bob", "Carer"), child=("sam ", "PARENT", date(2016, 5, 4)))
    assert second.child_id == first.child_id and second.case_id == first.case_id
    assert second.grant_id != first.grant_id

    with pytest.raises(CaseReferenceConflict):
        await invite(invitations, "c@example.org", child=("Alex", "Other", date(2015, 1, 1)))
    with pytest.raises(CaseReferenceConflict):
        await invite(invitations, "c@example.org", child=("Sam", "Parent", date(2016, 5, 5)))
    with pytest.raises(AlreadyInvited):
        await invite(invitations, "A@example.org")
    async with db.db() as s:
        assert await s.scalar(select(func.count()).select_from(Child)) == 1
        assert await s.scalar(select(func.count()).select_from(Invitation)) == 2


# --- deep links and unique codes ----------------------------------------------------------------


async def test_deep_link_bound_to_first_chat_and_expires(invitations, db, clock):
    view = await invite(invitations)
    _, token = await code_and_token(db, "jane.parent@example.org")

    first = await invitations.open_invitation_link(token, 111)
    assert first.outcome == CheckOutcome.NEEDS_CODE and first.invitation_id == view.id
    assert first.tries_left == 5 and first.child_forename is None  # the link alone reveals no name
    assert (await invitations.open_invitation_link(token, 111)).outcome == CheckOutcome.NEEDS_CODE
    other = await invitations.open_invitation_link(token, 222)
    assert other.outcome == CheckOutcome.OTHER_CHAT and other.invitation_id is None

    assert (await invitations.open_invitation_link(token[:-1] + ("B" if token.endswith("A") else "A"), 111)).outcome == CheckOutcome.UNKNOWN
    assert (await invitations.open_invitation_link("not a token!", 111)).outcome == CheckOutcome.UNKNOWN
    assert (await invitations.open_invitation_link("", 111)).outcome == CheckOutcome.UNKNOWN

    clock.advance(days=28)
    assert (await invitations.open_invitation_link(token, 111)).outcome == CheckOutcome.EXPIRED
    assert (await invitations.open_invitation_link(token, 222)).outcome == CheckOutcome.OTHER_CHAT
    assert (await invitations.get_invitation(view.id, CASEWORKER)).status == InvitationStatus.EXPIRED


async def test_link_is_used_up_only_when_answered(invitations, links, db):
    view, account_id = await verified_parent(invitations, links, db, "jane.parent@example.org", 111)
    _, token = await code_and_token(db, "jane.parent@example.org")
    # Opened again (a preview, a second tap): still fine.
    again = await invitations.open_invitation_link(token, 111)
    assert again.outcome == CheckOutcome.ALREADY_VERIFIED and again.child_forename == "Sam"

    await invitations.respond(account_id, 111, {view.id: True})
    assert (await invitations.open_invitation_link(token, 111)).outcome == CheckOutcome.USED
    assert (await invitations.open_invitation_link(token, 222)).outcome == CheckOutcome.OTHER_CHAT


async def test_wrong_codes_then_locked_until_resent(invitations, db):
    view = await invite(invitations)
    code, token = await code_and_token(db, "jane.parent@example.org")
    await invitations.open_invitation_link(token, 111)

    # Only the chat the link was opened in can try codes.
    assert (await invitations.check_unique_code(view.id, 222, code)).outcome == CheckOutcome.UNKNOWN
    assert (await invitations.check_unique_code(view.id + 99, 111, code)).outcome == CheckOutcome.UNKNOWN

    malformed = await invitations.check_unique_code(view.id, 111, "hello")
    assert malformed.outcome == CheckOutcome.MALFORMED and malformed.tries_left == 5
    wrong = "ABCD-EFGH" if code != "ABCD-EFGH" else "HGFE-DCBA"
    for left in (4, 3, 2, 1):
        result = await invitations.check_unique_code(view.id, 111, wrong)
        assert result.outcome == CheckOutcome.WRONG and result.tries_left == left
    assert (await invitations.check_unique_code(view.id, 111, wrong)).outcome == CheckOutcome.LOCKED
    # Locked: even the right code does nothing now, and the link says so.
    assert (await invitations.check_unique_code(view.id, 111, code)).outcome == CheckOutcome.LOCKED
    assert (await invitations.open_invitation_link(token, 111)).outcome == CheckOutcome.LOCKED
    assert (await invitations.get_invitation(view.id, CASEWORKER)).locked
    with pytest.raises(InvalidState) as exc:
        await invitations.mark_verified(view.id, CASEWORKER)
    assert exc.value.code == "locked"

    resent = await invitations.resend(view.id, CASEWORKER)
    assert not resent.locked and resent.sent_count == 2
    new_code, new_token = await code_and_token(db, "jane.parent@example.org")
    assert new_token != token and new_code != code
    assert "no longer work" in (await emails(db))[-1].body
    assert (await invitations.open_invitation_link(token, 111)).outcome == CheckOutcome.UNKNOWN
    # The new link is free to bind again (here, to another chat).
    assert (await invitations.open_invitation_link(new_token, 333)).outcome == CheckOutcome.NEEDS_CODE
    assert (await invitations.check_unique_code(view.id, 333, code)).outcome == CheckOutcome.WRONG
    ok = await invitations.check_unique_code(view.id, 333, new_code.lower().replace("-", " "))
    assert ok.outcome == CheckOutcome.VERIFIED and ok.child_forename == "Sam"
    assert (await invitations.get_invitation(view.id, CASEWORKER)).status == InvitationStatus.VERIFIED


async def test_verified_by_phone_skips_the_code(invitations, db):
    view = await invite(invitations)
    code, token = await code_and_token(db, "jane.parent@example.org")
    with pytest.raises(WrongCode):
        await invitations.mark_verified(view.id, CASEWORKER, code="ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY")
    assert (await invitations.get_invitation(view.id, CASEWORKER)).status == InvitationStatus.SENT

    marked = await invitations.mark_verified(view.id, CASEWORKER, code=code)
    assert marked.status == InvitationStatus.VERIFIED and marked.verified_by == "phone"
    opened = await invitations.open_invitation_link(token, 111)
    assert opened.outcome == CheckOutcome.ALREADY_VERIFIED and opened.child_forename == "Sam"
    assert (await invitations.check_unique_code(view.id, 111, "anything")).outcome == CheckOutcome.ALREADY_VERIFIED
    # A resend keeps a phone verification.
    assert (await invitations.resend(view.id, CASEWORKER)).status == InvitationStatus.VERIFIED

    with pytest.raises(NotFound):
        await invitations.mark_verified(9999, CASEWORKER)


# --- answering ----------------------------------------------------------------------------------


async def test_accept_one_child_and_decline_another(invitations, links, access, db):
    email = "jane.parent@example.org"
    sam, account_id = await verified_parent(invitations, links, db, email, 111)
    ana = await invite(invitations, email, child=("Ana", "Parent", date(2019, 2, 3)), ref="EHC-0002")

    pending = await invitations.pending_invitations_for(account_id, email)
    assert [(p.invitation_id, p.child_forename, p.verified) for p in pending] == [
        (sam.id, "Sam", True),
        (ana.id, "Ana", False),
    ]
    assert await invitations.pending_invitations_for(account_id, "someone.else@example.org") == []

    result = await invitations.respond(account_id, 111, {sam.id: True, ana.id: False})
    assert [c.child_forename for c in result.accepted] == ["Sam"]
    assert [c.child_forename for c in result.declined] == ["Ana"]

    sam_grant, ana_grant = await grant_of(db, sam.id), await grant_of(db, ana.id)
    assert (sam_grant.status, sam_grant.account_id) == ("accepted", account_id)
    assert (ana_grant.status, ana_grant.account_id) == ("declined", account_id)
    assert (await invitations.get_invitation(sam.id, CASEWORKER)).status == InvitationStatus.ACCEPTED
    assert (await invitations.get_invitation(ana.id, CASEWORKER)).status == InvitationStatus.DECLINED
    assert await invitations.pending_invitations_for(account_id) == []

    confirm = (await emails(db, email))[-1]
    assert "You accepted access for Sam" in confirm.body and "said no to access for Ana" in confirm.body
    # Nothing can be changed afterwards.
    with pytest.raises(NotYourInvitation):
        await invitations.respond(account_id, 111, {ana.id: True})
    # Accepted is not yet active.
    assert await access.children_for_account(account_id) == []

    async with db.db() as s:
        actions = set((await s.execute(select(AuditEntry.action, AuditEntry.child_id))).all())
    assert ("invitation.accept", sam.child_id) in actions and ("invitation.decline", ana.child_id) in actions


async def test_forged_or_foreign_invitation_ids_are_refused(invitations, links, db):
    mine, me = await verified_parent(invitations, links, db, "jane.parent@example.org", 111)
    theirs = await invite(invitations, "other.family@example.org", parent=("Olga", "Other"),
                          child=("Tom", "Other", date(2014, 1, 1)), ref="EHC-0099")
    for forged in ({theirs.id: True}, {mine.id: True, theirs.id: False}, {9999: True}, {"x": True}):
        with pytest.raises(NotYourInvitation):
            await invitations.respond(me, 111, forged)
    # Nothing changed, for either family.
    assert (await grant_of(db, theirs.id)).status == "pending"
    assert (await grant_of(db, mine.id)).status == "pending"
    # The chat must be this account's.
    with pytest.raises(ChatNotLinked):
        await invitations.respond(me, 222, {mine.id: True})
    other = await make_account(db, "other.family@example.org")
    with pytest.raises(ChatNotLinked):
        await invitations.respond(other, 111, {theirs.id: True})
    with pytest.raises(InvalidState):
        await invitations.respond(me, 111, {})


async def test_invitation_to_another_address_needs_the_chat_and_verification(invitations, links, db):
    """A parent who registers with another email reaches the invitation opened and verified in their chat."""
    view = await invite(invitations, "old.address@example.org")
    code, token = await code_and_token(db, "old.address@example.org")
    account_id = await make_account(db, "new.address@example.org")
    await invitations.open_invitation_link(token, 111)
    await links.link_chat(account_id, 111)
    assert await invitations.pending_invitations_for(account_id) == []  # not verified yet
    with pytest.raises(NotYourInvitation):
        await invitations.respond(account_id, 111, {view.id: True})
    await invitations.check_unique_code(view.id, 111, code)
    assert [p.invitation_id for p in await invitations.pending_invitations_for(account_id)] == [view.id]
    # From another chat of the same account it still counts (the account's chat verified it)...
    await links.link_chat(account_id, 222)
    assert len(await invitations.pending_invitations_for(account_id)) == 1
    # ...but not for an account whose chats never opened it.
    stranger = await make_account(db, "stranger@example.org")
    await links.link_chat(stranger, 333)
    assert await invitations.pending_invitations_for(stranger) == []


async def test_expired_invitations_are_not_pending(invitations, links, db, clock):
    view, account_id = await verified_parent(invitations, links, db, "jane.parent@example.org", 111)
    clock.advance(days=28, seconds=1)
    assert await invitations.pending_invitations_for(account_id) == []
    with pytest.raises(NotYourInvitation):
        await invitations.respond(account_id, 111, {view.id: True})


async def test_two_carers_are_separate(invitations, links, access, db):
    mum, mum_account = await verified_parent(invitations, links, db, "mum@example.org", 111, parent=("Mary", "Mum"))
    dad, dad_account = await verified_parent(invitations, links, db, "dad@example.org", 222, parent=("Dan", "Dad"))
    assert mum.child_id == dad.child_id and mum.grant_id != dad.grant_id

    assert [p.invitation_id for p in await invitations.pending_invitations_for(mum_account)] == [mum.id]
    assert [p.invitation_id for p in await invitations.pending_invitations_for(dad_account)] == [dad.id]
    with pytest.raises(NotYourInvitation):
        await invitations.respond(mum_account, 111, {dad.id: True})

    await invitations.respond(mum_account, 111, {mum.id: True})
    await invitations.respond(dad_account, 222, {dad.id: True})
    await access.activate_access(mum.grant_id, CASEWORKER)
    assert [c.forename for c in await access.children_for_account(mum_account)] == ["Sam"]
    assert await access.children_for_account(dad_account) == []
    assert await access.can_access(mum_account, mum.child_id)
    assert not await access.can_access(dad_account, mum.child_id)

    grants = await access.access_for_child(mum.child_id, CASEWORKER)
    assert [(g.carer_forename, g.status) for g in grants] == [("Mary", "active"), ("Dan", "accepted")]
    for g in grants:  # a carer's name and status: never an address
        assert not any("@" in str(getattr(g, f)) for f in g.__slots__)
    # Each carer's emails went to that carer only; the activation notice only to mum's chat.
    assert all("dad@" not in m.body.lower() and "Dan" not in m.body and "Dad" not in m.body for m in await emails(db, "mum@example.org"))
    assert [n.chat_id for n in await outbox(db)] == [111]
    with pytest.raises(NotFound):
        await access.access_for_child(9999, CASEWORKER)


# --- activation ---------------------------------------------------------------------------------


async def test_activation_notice_goes_to_every_chat_in_the_same_transaction(invitations, links, access, db, monkeypatch):
    view, account_id = await verified_parent(invitations, links, db, "jane.parent@example.org", 111)
    await links.link_chat(account_id, 222)
    with pytest.raises(InvalidState) as exc:
        await access.activate_access(view.grant_id, CASEWORKER)  # not accepted yet
    assert exc.value.code == "not_accepted"
    await invitations.respond(account_id, 111, {view.id: True})

    # If anything in the activation fails, neither the grant nor the notice is written.
    import core.onboarding.access as access_module

    def boom(*args, **kwargs):
        raise RuntimeError("audit failed")

    monkeypatch.setattr(access_module, "audit", boom)
    with pytest.raises(RuntimeError):
        await access.activate_access(view.grant_id, CASEWORKER)
    assert (await grant_of(db, view.id)).status == "accepted"
    assert await outbox(db) == []
    monkeypatch.undo()

    grant = await access.activate_access(view.grant_id, CASEWORKER)
    assert grant.status == "active" and grant.activated_at is not None
    notices = await outbox(db)
    assert sorted(n.chat_id for n in notices) == [111, 222]
    for n in notices:
        assert n.important and n.fallback_email == "jane.parent@example.org" and n.child_id == view.child_id
        assert n.text.startswith("Good news: the SEND team has activated your access for Sam. You can now:")
        assert "SEND Dashboard" in n.text and "fill in forms" in n.text
    # Activating again changes nothing and sends nothing.
    assert (await access.activate_access(view.grant_id, CASEWORKER)).status == "active"
    assert len(await outbox(db)) == 2
    assert [c.forename for c in await access.children_for_chat(222)] == ["Sam"]
    assert await access.can_chat_access(111, view.child_id) == account_id
    with pytest.raises(NotFound):
        await access.activate_access(9999, CASEWORKER)


async def test_activation_with_no_linked_chat_goes_by_email(invitations, links, access, db):
    view, account_id = await verified_parent(invitations, links, db, "jane.parent@example.org", 111)
    await invitations.respond(account_id, 111, {view.id: True})
    await links.unlink_chat(111, "logout")
    await access.activate_access(view.grant_id, CASEWORKER)
    [notice] = await outbox(db)
    assert notice.chat_id is None and notice.important and notice.fallback_email == "jane.parent@example.org"


# --- chat links ---------------------------------------------------------------------------------


async def active_parent(invitations, links, access, db, chat_id: int = 111):
    view, account_id = await verified_parent(invitations, links, db, "jane.parent@example.org", chat_id)
    await invitations.respond(account_id, chat_id, {view.id: True})
    await access.activate_access(view.grant_id, CASEWORKER)
    assert await access.children_for_chat(chat_id)
    return view, account_id


async def assert_chat_reaches_nothing(access, links, chat_id: int, child_id: int) -> None:
    assert await links.account_for_chat(chat_id) is None
    assert await access.children_for_chat(chat_id) == []
    assert await access.can_chat_access(chat_id, child_id) is None


async def test_link_rules_and_emails(invitations, links, db):
    a = await make_account(db, "a@example.org")
    b = await make_account(db, "b@example.org")
    first = await links.link_chat(a, 111)
    assert await links.account_for_chat(111) == a
    assert (await links.link_chat(a, 111)).id == first.id  # linking again changes nothing
    await links.link_chat(a, 222)  # an account may have several chats
    assert [link.chat_id for link in await links.active_links(a)] == [111, 222]
    async with db.db() as s:
        assert (await s.get(Chat, 111)).fallback_email == "a@example.org"

    await links.link_chat(b, 111)  # one active link per chat: a's ends
    assert await links.account_for_chat(111) == b
    assert [link.chat_id for link in await links.active_links(a)] == [222]
    subjects_a = [m.subject for m in await emails(db, "a@example.org")]
    assert subjects_a.count("EHCP Parent Portal: a Telegram chat was linked to your account") == 2
    assert subjects_a.count("EHCP Parent Portal: a Telegram chat was unlinked from your account") == 1
    assert len(await emails(db, "b@example.org")) == 1
    async with db.db() as s:
        assert (await s.get(Chat, 111)).fallback_email == "b@example.org"
    with pytest.raises(ValueError):
        await links.link_chat(9999, 333)
    with pytest.raises(ValueError):
        await links.unlink_chat(111, "because")  # type: ignore[arg-type]


async def test_logout_leaves_the_chat_reaching_no_child(invitations, links, access, db):
    view, account_id = await active_parent(invitations, links, access, db)
    async with db.db() as s, s.begin():
        enqueue(s, now=db.clock.now(), text="A new letter for Sam", chat_id=111, child_id=view.child_id)
        enqueue(s, now=db.clock.now(), text="Sam's plan", chat_id=111, child_id=view.child_id, important=True)

    done = await links.unlink_chat(111, "logout")
    assert done.account_id == account_id and done.reason == "logout"
    await assert_chat_reaches_nothing(access, links, 111, view.child_id)
    assert await links.unlink_chat(111, "logout") is None
    assert await access.children_for_account(account_id)  # the account keeps its access

    mail = (await emails(db, "jane.parent@example.org"))[-1]
    assert "unlinked" in mail.subject and "because you logged out" in mail.body
    async with db.db() as s:
        assert (await s.get(Chat, 111)).fallback_email is None
    # Notices still waiting no longer go to the chat: the important one by email, the other dropped.
    waiting = {n.text: n for n in await outbox(db) if n.text in ("A new letter for Sam", "Sam's plan")}
    assert waiting["A new letter for Sam"].chat_id is None and waiting["A new letter for Sam"].status == "failed"
    assert waiting["Sam's plan"].chat_id is None and waiting["Sam's plan"].status == "pending"
    assert waiting["Sam's plan"].fallback_email == "jane.parent@example.org"


async def test_revoke_by_the_send_team(invitations, links, access, db):
    view, account_id = await active_parent(invitations, links, access, db)
    done = await links.unlink_chat(111, "revoked", actor=CASEWORKER)
    assert done.account_id == account_id
    await assert_chat_reaches_nothing(access, links, 111, view.child_id)
    mail = (await emails(db, "jane.parent@example.org"))[-1]
    assert "unlinked" in mail.subject and "by the SEND team" in mail.body
    told = [n for n in await outbox(db) if n.chat_id == 111 and n.status == "pending"]
    assert len(told) == 1 and "unlinked from your portal account" in told[0].text
    assert view.child_id not in {n.child_id for n in told}
    async with db.db() as s:
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "chat.unlink"))
    assert entry.actor_kind == "caseworker" and entry.actor_id == "case-system"


async def test_delete_my_data_from_this_chat(invitations, links, access, db, portal):
    view, account_id = await active_parent(invitations, links, access, db)
    await links.link_chat(account_id, 222)  # another chat of the same account stays as it is
    await DialogStateStore(db).set_state(StateKey(bot_id=1, chat_id=111, user_id=111), "Menu:main")
    await DialogStateStore(db).set_state(StateKey(bot_id=1, chat_id=222, user_id=222), "Menu:main")
    await UpdateInbox(db, bot_id=1).store([(1, 111, {"message": {"text": "hi"}}), (2, 222, {"message": {}})])
    async with db.db() as s, s.begin():
        # The activation notice was delivered; two more wait: an important one and another.
        await s.execute(update(OutboxItem).where(OutboxItem.chat_id == 111).values(status="sent"))
        enqueue(s, now=db.clock.now(), text="Sam's plan", chat_id=111, child_id=view.child_id, important=True)
        enqueue(s, now=db.clock.now(), text="A reminder", chat_id=111, child_id=view.child_id)

    summary = await links.delete_chat_data(111)
    assert summary.unlinked and summary.chat_record
    assert summary.dialogue_states == 1 and summary.stored_updates == 1 and summary.delivery_records == 2
    assert summary.links_erased == 1 and summary.invitation_links_erased == 1
    await assert_chat_reaches_nothing(access, links, 111, view.child_id)

    async with db.db() as s:
        for model, column in (
            (DialogState, DialogState.chat_id),
            (InboundUpdate, InboundUpdate.chat_id),
            (OutboxItem, OutboxItem.chat_id),
            (ChatLink, ChatLink.chat_id),
            (Invitation, Invitation.bound_chat_id),
            (Chat, Chat.chat_id),
        ):
            assert await s.scalar(select(func.count()).select_from(model).where(column == 111)) == 0, model
        # The other chat and the statutory records stay.
        assert await s.scalar(select(func.count()).select_from(DialogState).where(DialogState.chat_id == 222)) == 1
        assert await s.get(Chat, 222) is not None
        assert await s.get(Child, view.child_id) is not None
        assert (await s.get(AccessGrant, view.grant_id)).status == "active"
        assert (await s.get(Invitation, view.id)).response == "accepted"
        assert await s.scalar(select(func.count()).select_from(ChatLink)) == 2
        # The important notice that was still waiting goes by email instead.
        plan = await s.scalar(select(OutboxItem).where(OutboxItem.text == "Sam's plan"))
        assert plan.chat_id is None and plan.status == "pending" and plan.fallback_email == "jane.parent@example.org"
    assert [c.forename for c in await access.children_for_chat(222)] == ["Sam"]
    mail = (await emails(db, "jane.parent@example.org"))[-1]
    assert "unlinked" in mail.subject and "delete your data" in mail.body
    # No chat id left in the audit log either.
    async with db.db() as s:
        assert "111" not in {a for (a,) in (await s.execute(select(AuditEntry.actor_id))).all()}


async def test_delete_data_of_a_chat_that_only_opened_an_invitation(invitations, links, db):
    view = await invite(invitations)
    code, token = await code_and_token(db, "jane.parent@example.org")
    await invitations.open_invitation_link(token, 111)
    await invitations.check_unique_code(view.id, 111, code)
    summary = await links.delete_chat_data(111)
    assert not summary.unlinked and summary.invitation_links_erased == 1
    # The verification by code went with the chat: a new chat must give the code again.
    assert (await invitations.open_invitation_link(token, 222)).outcome == CheckOutcome.NEEDS_CODE
    assert (await invitations.get_invitation(view.id, CASEWORKER)).status == InvitationStatus.SENT


async def test_refresh_fallback_email(links, db):
    a = await make_account(db, "a@example.org")
    await links.link_chat(a, 111, fallback_email="a@example.org")
    table = Base.metadata.tables["accounts"]
    async with db.db() as s, s.begin():
        await s.execute(table.update().where(table.c.id == a).values(email="new@example.org"))
    assert await links.refresh_fallback_email(a) == 1
    async with db.db() as s:
        assert (await s.get(Chat, 111)).fallback_email == "new@example.org"


async def test_invitation_list_filters_and_pages(invitations, db, clock):
    a = await invite(invitations, "a@example.org")
    b = await invite(invitations, "b@example.org", child=("Ana", "B", date(2018, 1, 1)), ref="EHC-0002")
    c = await invite(invitations, "c@example.org", child=("Cy", "C", date(2017, 1, 1)), ref="EHC-0003")
    await invitations.mark_verified(b.id, CASEWORKER)
    items, cursor = await invitations.list_invitations(CASEWORKER, limit=2)
    assert [i.id for i in items] == [c.id, b.id] and cursor == b.id
    items, cursor = await invitations.list_invitations(CASEWORKER, limit=2, cursor=cursor)
    assert [i.id for i in items] == [a.id] and cursor is None
    assert [i.id for i in (await invitations.list_invitations(CASEWORKER, status="verified"))[0]] == [b.id]
    assert [i.id for i in (await invitations.list_invitations(CASEWORKER, status="sent"))[0]] == [c.id, a.id]
    assert [i.id for i in (await invitations.list_invitations(CASEWORKER, case_reference="EHC-0003"))[0]] == [c.id]
    clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    assert len((await invitations.list_invitations(CASEWORKER, status="expired"))[0]) == 3
