"""One-time codes: single use, 10 minutes, 5 tries, bound to purpose and request, hourly limits,
stored only as an HMAC under the server key. Time is a FrozenClock."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

import core.accounts.models  # noqa: F401 - registers the tables on Base.metadata
from core.accounts.codes import (
    CodeCheck,
    CodeLimits,
    CodeScope,
    CodeStatus,
    IssueResult,
    IssueStatus,
    code_hmac,
    code_message,
    generate_code,
    issue_code,
    new_request_id,
    verify_code,
)
from core.accounts.models import OneTimeCode, RateEvent
from core.models import Base, EmailItem
from core.security import hmac_hex
from tests.stack import rows


@pytest.fixture
async def portal(portal):
    """The portal, with the account tables (not yet in the migrations) created."""
    async with portal.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return portal


async def issue(
    portal,
    request_id: str,
    *,
    purpose: str = "login",
    account_id: int | None = 1,
    chat_id: int | None = None,
    email: str | None = None,
    email_to: str | None = "parent@example.org",
    limits: CodeLimits = CodeLimits(),  # noqa: B008
) -> IssueResult:
    async with portal.db() as s, s.begin():
        return await issue_code(
            s,
            key=portal.secret_key,
            now=portal.clock.now(),
            purpose=purpose,
            request_id=request_id,
            scope=CodeScope(account_id=account_id, email=email, chat_id=chat_id),
            limits=limits,
            email_to=email_to,
        )


async def verify(
    portal, request_id: str, code: str, *, purpose: str = "login", chat_id=None, key=None
) -> CodeCheck:
    async with portal.db() as s, s.begin():
        return await verify_code(
            s,
            key=key or portal.secret_key,
            now=portal.clock.now(),
            purpose=purpose,
            request_id=request_id,
            code=code,
            chat_id=chat_id,
        )


async def last_code(portal) -> str:
    body = (await rows(portal, EmailItem))[-1].body
    m = re.search(r"Your code is (\d{6})\.", body)
    assert m, body
    return m.group(1)


async def issue_and_read(portal, request_id: str, **kw) -> str:
    result = await issue(portal, request_id, **kw)
    assert result.sent
    return await last_code(portal)


def other(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# ---------------------------------------------------------------------------------------------


def test_codes_are_six_random_digits():
    seen = {generate_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in seen)
    assert len(seen) > 190


async def test_right_code_once_then_used(portal):
    rid = new_request_id()
    code = await issue_and_read(portal, rid)
    first = await verify(portal, rid, code)
    assert first.status is CodeStatus.OK and first.account_id == 1
    again = await verify(portal, rid, code)
    assert again.status is CodeStatus.USED


async def test_email_says_the_code_and_how_long_it_works(portal):
    rid = new_request_id()
    code = await issue_and_read(portal, rid)
    (mail,) = await rows(portal, EmailItem)
    assert mail.to_addr == "parent@example.org"
    assert f"Your code is {code}.\n\n" in mail.body
    assert "It works for 10 minutes." in mail.body
    assert "If you did not ask for a code, you can ignore this email." in mail.body
    assert mail.subject


async def test_works_for_9_59_and_expires_at_10_minutes(portal, clock):
    rid1, rid2 = new_request_id(), new_request_id()
    code1 = await issue_and_read(portal, rid1)
    clock.advance(minutes=9, seconds=59)
    assert (await verify(portal, rid1, code1)).status is CodeStatus.OK

    code2 = await issue_and_read(portal, rid2)
    clock.advance(minutes=10)
    assert (await verify(portal, rid2, code2)).status is CodeStatus.EXPIRED


async def test_five_wrong_tries_kill_the_code(portal):
    rid = new_request_id()
    code = await issue_and_read(portal, rid)
    wrong = other(code)
    for left in (4, 3, 2, 1):
        check = await verify(portal, rid, wrong)
        assert check.status is CodeStatus.WRONG and check.tries_left == left
    fifth = await verify(portal, rid, wrong)
    assert fifth.status is CodeStatus.TOO_MANY_TRIES
    assert (
        await verify(portal, rid, code)
    ).status is CodeStatus.TOO_MANY_TRIES  # dead, even when right
    assert "ask for a new code" in code_message(CodeStatus.TOO_MANY_TRIES)


async def test_text_that_is_not_a_code_spends_no_try(portal):
    rid = new_request_id()
    code = await issue_and_read(portal, rid)
    for junk in ("hello", "12345", "1234567", "", "12345x", "١٢٣٤٥٦"):
        check = await verify(portal, rid, junk)
        assert check.status is CodeStatus.WRONG and check.tries_left == 5
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in code)  # a phone keyboard's digits
    assert (await verify(portal, rid, fullwidth, purpose="login")).status is CodeStatus.OK


async def test_spaces_in_a_typed_code_are_fine(portal):
    rid = new_request_id()
    code = await issue_and_read(portal, rid)
    assert (await verify(portal, rid, f" {code[:3]} {code[3:]} ")).status is CodeStatus.OK


async def test_bound_to_the_purpose(portal):
    rid = new_request_id()
    login_code = await issue_and_read(portal, rid, purpose="login")
    reset_code = await issue_and_read(portal, rid, purpose="reset")
    while reset_code == login_code:
        reset_code = await issue_and_read(portal, rid, purpose="reset")
    assert (await verify(portal, rid, login_code, purpose="reset")).status is CodeStatus.WRONG
    assert (
        await verify(portal, rid, login_code, purpose="change_email")
    ).status is CodeStatus.NO_CODE
    assert (await verify(portal, rid, login_code, purpose="login")).status is CodeStatus.OK


async def test_bound_to_the_request(portal):
    rid_a, rid_b = new_request_id(), new_request_id()
    code_a = await issue_and_read(portal, rid_a)
    code_b = await issue_and_read(portal, rid_b)
    while code_b == code_a:
        code_b = await issue_and_read(portal, rid_b)
    assert (await verify(portal, rid_b, code_a)).status is CodeStatus.WRONG
    assert (await verify(portal, new_request_id(), code_a)).status is CodeStatus.NO_CODE
    assert (await verify(portal, rid_a, code_a)).status is CodeStatus.OK


async def test_a_new_code_kills_the_old_one(portal):
    rid = new_request_id()
    old = await issue_and_read(portal, rid)
    new = await issue_and_read(portal, rid)
    while new == old:
        new = await issue_and_read(portal, rid)
    assert (await verify(portal, rid, old)).status is CodeStatus.WRONG
    assert (await verify(portal, rid, new)).status is CodeStatus.OK
    async with portal.db() as s:
        assert len((await s.execute(select(OneTimeCode))).scalars().all()) == 1


async def test_a_new_code_gets_fresh_tries(portal):
    rid = new_request_id()
    code = await issue_and_read(portal, rid)
    for _ in range(5):
        await verify(portal, rid, other(code))
    fresh = await issue_and_read(portal, rid)
    assert (await verify(portal, rid, fresh)).status is CodeStatus.OK


async def test_hourly_issue_limit_per_account(portal, clock):
    for i in range(5):
        assert (await issue(portal, new_request_id(), account_id=7, chat_id=100 + i)).sent
    blocked = await issue(portal, new_request_id(), account_id=7, chat_id=200)
    assert blocked.status is IssueStatus.RATE_LIMITED
    assert len(await rows(portal, EmailItem)) == 5  # nothing sent for the refused one
    assert (
        await issue(portal, new_request_id(), account_id=8, chat_id=200)
    ).sent  # others unaffected
    clock.advance(minutes=59)
    assert not (await issue(portal, new_request_id(), account_id=7)).sent
    clock.advance(minutes=1)
    assert (await issue(portal, new_request_id(), account_id=7)).sent


async def test_hourly_issue_limit_per_chat(portal, clock):
    for i in range(5):
        assert (await issue(portal, new_request_id(), account_id=10 + i, chat_id=555)).sent
    assert not (await issue(portal, new_request_id(), account_id=99, chat_id=555)).sent
    assert (await issue(portal, new_request_id(), account_id=99, chat_id=556)).sent
    clock.advance(hours=1)
    assert (await issue(portal, new_request_id(), account_id=98, chat_id=555)).sent


async def test_hourly_issue_limit_per_email_before_an_account(portal):
    for _ in range(5):
        assert (
            await issue(portal, new_request_id(), account_id=None, email="New@Example.org")
        ).sent
    assert not (
        await issue(portal, new_request_id(), account_id=None, email="new@example.org")
    ).sent


async def test_hourly_limit_of_wrong_codes_per_account(portal, clock):
    rid1, rid2, rid3 = new_request_id(), new_request_id(), new_request_id()
    c1 = await issue_and_read(portal, rid1, account_id=3)
    c2 = await issue_and_read(portal, rid2, account_id=3)
    for _ in range(5):
        await verify(portal, rid1, other(c1))
        await verify(portal, rid2, other(c2))
    c3 = await issue_and_read(portal, rid3, account_id=3)
    limited = await verify(portal, rid3, c3)
    assert limited.status is CodeStatus.RATE_LIMITED  # even the right code is not looked at
    assert "wait an hour" in limited.message
    clock.advance(hours=1)
    c4 = await issue_and_read(portal, rid3, account_id=3)
    assert (await verify(portal, rid3, c4)).status is CodeStatus.OK


async def test_hourly_limit_of_wrong_codes_per_chat(portal):
    codes = {}
    for acc in (21, 22):
        rid = new_request_id()
        codes[rid] = await issue_and_read(portal, rid, account_id=acc, chat_id=777)
    for rid, code in codes.items():
        for _ in range(5):
            await verify(portal, rid, other(code), chat_id=777)
    rid = new_request_id()
    code = await issue_and_read(portal, rid, account_id=23, chat_id=None)
    assert (await verify(portal, rid, code, chat_id=777)).status is CodeStatus.RATE_LIMITED
    # from another chat, account 23's code still works
    assert (await verify(portal, rid, code, chat_id=778)).status is CodeStatus.OK


async def test_stored_code_is_an_hmac_under_the_key(portal):
    rid = new_request_id()
    code = await issue_and_read(portal, rid, purpose="reset")
    async with portal.db() as s:
        row = (await s.execute(select(OneTimeCode))).scalar_one()
    columns = {c.name: getattr(row, c.key) for c in OneTimeCode.__table__.columns}
    assert all(code not in str(v) for v in columns.values())
    assert all(rid not in str(v) for v in columns.values())
    assert row.code_hmac == hmac_hex(portal.secret_key, "reset", rid, code)
    assert row.code_hmac == code_hmac(portal.secret_key, "reset", rid, code)
    assert row.code_hmac != hmac_hex(b"another server key", "reset", rid, code)
    # a different key can verify nothing
    assert not (await verify(portal, rid, code, purpose="reset", key=b"another server key")).ok
    assert (await verify(portal, rid, code, purpose="reset")).ok


async def test_rate_records_keep_no_address_in_clear(portal):
    await issue(portal, new_request_id(), account_id=None, email="someone@example.org", chat_id=5)
    async with portal.db() as s:
        scopes = {r.scope for r in (await s.execute(select(RateEvent))).scalars()}
    assert "chat:5" in scopes
    assert not any("someone" in sc for sc in scopes)


async def test_a_decoy_code_is_sent_nowhere_and_answers_wrong(portal):
    rid = new_request_id()
    result = await issue(portal, rid, email_to=None)
    assert result.sent
    assert await rows(portal, EmailItem) == []
    check = await verify(portal, rid, "123456")
    assert check.status in (
        CodeStatus.WRONG,
        CodeStatus.OK,
    )  # OK only with a one-in-a-million guess
    assert check.status is CodeStatus.OK or check.tries_left == 4


async def test_limits_are_configurable(portal):
    limits = CodeLimits(ttl=timedelta(minutes=2), issues_per_hour=1)
    assert (await issue(portal, new_request_id(), account_id=40, limits=limits)).sent
    assert not (await issue(portal, new_request_id(), account_id=40, limits=limits)).sent
    assert "It works for 2 minutes." in (await rows(portal, EmailItem))[-1].body
