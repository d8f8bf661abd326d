"""Portal accounts end to end through the service: registration, login, forgotten password,
changing the password and the email; nothing revealing which emails exist; nothing secret in
clear in any table."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import String, Text, select

import core.accounts.models  # noqa: F401 - registers the tables on Base.metadata
from core.accounts import (
    AccountService,
    AccountSettings,
    CodeStatus,
    LoginStatus,
    PasswordStatus,
    Purpose,
    StartStatus,
)
from core.accounts.models import Account, AccountRequest, PasswordHistory
from core.accounts.policy import Hasher
from core.models import AuditEntry, Base, EmailItem

# Cheap argon2id keeps the suite fast; one test checks the real cost and rehashing.
CFG = AccountSettings(
    _env_file=None, argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1
)
PASSWORD = "Blue kettle sings 42"
CHAT = 4242


def service(portal, settings: AccountSettings = CFG) -> AccountService:
    return AccountService(portal, settings)


@pytest.fixture
async def portal(portal):
    """The portal, with the account tables (not yet in the migrations) created."""
    async with portal.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return portal


def form(**over) -> dict:
    f = {
        "forename": "Jessamy",
        "surname": "Okafor",
        "house": "12",
        "street": "Orchard Lane",
        "area": "St John's",
        "town": "Worcester",
        "postcode": "wr2 5aa",
        "email": "  Jess.Okafor@Example.org ",
        "password": PASSWORD,
        "confirm_password": PASSWORD,
    }
    f.update(over)
    return f


async def outbox(portal) -> list[EmailItem]:
    async with portal.db() as s:
        return list((await s.execute(select(EmailItem).order_by(EmailItem.id))).scalars())


async def code_sent_to(portal, addr: str) -> str:
    mails = [m for m in await outbox(portal) if m.to_addr == addr]
    assert mails, f"no email to {addr}"
    m = re.search(r"Your code is (\d{6})\.", mails[-1].body)
    assert m, mails[-1].body
    return m.group(1)


async def actions(portal) -> list[str]:
    async with portal.db() as s:
        return [
            a.action
            for a in (await s.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        ]


async def register(portal, **over) -> int:
    r = await service(portal).start_registration(form(**over), chat_id=CHAT)
    assert r.status is StartStatus.CODE_SENT, r.errors
    email = form(**over)["email"].strip().lower()
    c = await service(portal).confirm_registration(r.request_id, await code_sent_to(portal, email), chat_id=CHAT)
    assert c.ok and c.account_id
    return c.account_id


async def login(portal, email: str, password: str) -> int | None:
    r = await service(portal).start_login(email, password, chat_id=CHAT)
    if r.status is not LoginStatus.CODE_SENT:
        return None
    c = await service(portal).finish_login(r.request_id, await code_sent_to(portal, email.strip().lower()))
    assert c.ok
    return c.account_id


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# -- registration


async def test_registration_email_code_confirm_account(portal):
    r = await service(portal).start_registration(form(), chat_id=CHAT)
    assert r.status is StartStatus.CODE_SENT and r.request_id and r.errors == {}
    assert "sent you an email with a code" in r.message
    (mail,) = await outbox(portal)
    assert mail.to_addr == "jess.okafor@example.org"
    assert "It works for 10 minutes." in mail.body
    async with portal.db() as s:
        assert (
            await s.execute(select(Account))
        ).first() is None  # not before the email is confirmed

    code = await code_sent_to(portal, "jess.okafor@example.org")
    c = await service(portal).confirm_registration(r.request_id, code, chat_id=CHAT)
    assert c.status is CodeStatus.OK and c.account_id

    info = await service(portal).get_account(c.account_id)
    assert info is not None
    assert (info.forename, info.surname, info.house, info.street, info.area, info.town) == (
        "Jessamy",
        "Okafor",
        "12",
        "Orchard Lane",
        "St John's",
        "Worcester",
    )
    assert info.postcode == "WR2 5AA"
    assert info.email == "jess.okafor@example.org"
    assert info.email_confirmed_at == portal.clock.now()
    async with portal.db() as s:
        account = (await s.execute(select(Account))).scalar_one()
        assert account.password_hash.startswith("$argon2id$")
        req = (await s.execute(select(AccountRequest))).scalar_one()
        assert req.completed_at is not None and req.data == {}  # the pending copy is erased
    assert "account.registered" in await actions(portal)
    # the code works once
    again = await service(portal).confirm_registration(r.request_id, code)
    assert again.status is CodeStatus.USED


async def test_registration_form_problems_are_explained(portal):
    r = await service(portal).start_registration(
        form(forename="  ", postcode="12345", email="not-an-email", confirm_password="something else")
    )
    assert r.status is StartStatus.INVALID
    assert r.errors["forename"] == ["Please enter your forename."]
    assert r.errors["postcode"] == ["Please enter a UK postcode, like WR5 2YA."]
    assert r.errors["email"] == ["Please enter a full email address, like name@example.com."]
    r2 = await service(portal).start_registration({k: v for k, v in form().items() if k != "street"})
    assert r2.errors == {"street": ["Please enter your street."]}
    r3 = await service(portal).start_registration(form(confirm_password="Blue kettle sings 43"))
    assert list(r3.errors) == ["confirm_password"]
    assert await outbox(portal) == []


async def test_optional_fields_and_no_professional_capacity_box(portal):
    r = await service(portal).start_registration(form(house="", area=None, professional_capacity=True, postcode="GIR0AA"))
    assert r.status is StartStatus.CODE_SENT
    c = await service(portal).confirm_registration(r.request_id, await code_sent_to(portal, "jess.okafor@example.org"))
    info = await service(portal).get_account(c.account_id)
    assert info.house is None and info.area is None and info.postcode == "GIR 0AA"


async def test_weak_password_refused_with_the_policys_messages(portal):
    r = await service(portal).start_registration(form(password="Password12345678", confirm_password=None))
    assert r.status is StartStatus.INVALID
    assert any("too common" in m for m in r.errors["password"])
    r = await service(portal).start_registration(form(password="short1A", confirm_password=None))
    assert "Your password must be at least 15 characters long." in r.errors["password"]
    r = await service(portal).start_registration(form(password="Jessamy rides 42 bikes", confirm_password=None))
    assert r.errors["password"] == [
        "Your password must not contain your name or your email address."
    ]
    assert await outbox(portal) == []


async def test_duplicate_email_same_answer_no_second_account(portal):
    first = await register(portal)
    before = len(await outbox(portal))
    r = await service(portal).start_registration(
        form(forename="Mallory", surname="Intruder", email="JESS.OKAFOR@example.org"), chat_id=999
    )
    assert r.status is StartStatus.CODE_SENT and r.request_id and r.errors == {}  # the same answer
    new_mail = (await outbox(portal))[before:]
    assert len(new_mail) == 1
    assert new_mail[0].to_addr == "jess.okafor@example.org"
    assert "Someone tried to register" in new_mail[0].subject + new_mail[0].body
    assert not re.search(r"\d{6}", new_mail[0].body)  # no code in the note
    for guess in ("000000", "123456", "999999"):
        c = await service(portal).confirm_registration(r.request_id, guess)
        assert c.status is CodeStatus.WRONG
    # "Please send me a new code" answers the same too (and notes the holder again)
    again = await service(portal).resend_code(r.request_id, Purpose.REGISTER)
    assert again.status is StartStatus.CODE_SENT
    async with portal.db() as s:
        accounts = (await s.execute(select(Account))).scalars().all()
    assert [a.id for a in accounts] == [first]
    assert accounts[0].forename == "Jessamy"


async def test_please_send_me_a_new_code(portal):
    r = await service(portal).start_registration(form())
    old = await code_sent_to(portal, "jess.okafor@example.org")
    new = old
    while new == old:
        again = await service(portal).resend_code(r.request_id, Purpose.REGISTER)
        assert again.status is StartStatus.CODE_SENT
        new = await code_sent_to(portal, "jess.okafor@example.org")
    assert (
        await service(portal).confirm_registration(r.request_id, old)
    ).status is CodeStatus.WRONG
    assert (await service(portal).confirm_registration(r.request_id, new)).ok
    done = await service(portal).resend_code(r.request_id, Purpose.REGISTER)
    assert done.status is StartStatus.NO_REQUEST


async def test_wrong_codes_get_kind_answers(portal, clock):
    r = await service(portal).start_registration(form())
    code = await code_sent_to(portal, "jess.okafor@example.org")
    c = await service(portal).confirm_registration(r.request_id, wrong(code))
    assert c.status is CodeStatus.WRONG and c.tries_left == 4
    assert "ask for a new code" in c.message
    clock.advance(minutes=11)
    c = await service(portal).confirm_registration(r.request_id, code)
    assert c.status is CodeStatus.EXPIRED and "new code" in c.message
    await service(portal).resend_code(r.request_id, Purpose.REGISTER)
    assert (
        await service(portal).confirm_registration(r.request_id, await code_sent_to(portal, "jess.okafor@example.org"))
    ).ok


# -- logging in


async def test_login_right_and_wrong_answers_look_the_same(portal, monkeypatch):
    account_id = await register(portal)
    dummies: list[str] = []
    real_dummy = Hasher.verify_dummy

    def spy(self, password):
        dummies.append("x")
        return real_dummy(self, password)

    monkeypatch.setattr(Hasher, "verify_dummy", spy)
    wrong_pw = await service(portal).start_login("jess.okafor@example.org", "Not the password 1")
    wrong_email = await service(portal).start_login("nobody@example.org", PASSWORD)
    assert wrong_pw == wrong_email
    assert wrong_pw.status is LoginStatus.WRONG_CREDENTIALS and wrong_pw.request_id is None
    assert len(dummies) == 1  # the unknown email still paid for an argon2 verification

    before = len(await outbox(portal))
    r = await service(portal).start_login(" Jess.Okafor@EXAMPLE.org", PASSWORD, chat_id=CHAT)
    assert r.status is LoginStatus.CODE_SENT and r.request_id
    assert len(await outbox(portal)) == before + 1
    code = await code_sent_to(portal, "jess.okafor@example.org")
    assert (
        await service(portal).finish_login(r.request_id, wrong(code))
    ).status is CodeStatus.WRONG
    c = await service(portal).finish_login(r.request_id, code, chat_id=CHAT)
    assert c.ok and c.account_id == account_id
    assert (await service(portal).finish_login(r.request_id, code)).status is CodeStatus.USED
    acts = await actions(portal)
    assert "account.login_failed" in acts and "account.login" in acts


async def test_a_login_code_is_not_a_registration_code(portal):
    await register(portal)
    r = await service(portal).start_login("jess.okafor@example.org", PASSWORD)
    code = await code_sent_to(portal, "jess.okafor@example.org")
    assert (
        await service(portal).confirm_registration(r.request_id, code)
    ).status is CodeStatus.NO_CODE
    assert (
        await service(portal).verify_password_reset(r.request_id, code)
    ).status is CodeStatus.NO_CODE


async def test_too_many_failed_logins_lock_the_email_for_an_hour(portal, clock):
    await register(portal)
    for _ in range(10):
        r = await service(portal).start_login("jess.okafor@example.org", "Not the password 1")
        assert r.status is LoginStatus.WRONG_CREDENTIALS
    locked = await service(portal).start_login("jess.okafor@example.org", PASSWORD)
    assert locked.status is LoginStatus.RATE_LIMITED
    # an email with no account is locked the same way, so the lock reveals nothing
    for _ in range(10):
        await service(portal).start_login("nobody@example.org", "Not the password 1")
    assert (
        await service(portal).start_login("nobody@example.org", PASSWORD)
    ).status is LoginStatus.RATE_LIMITED
    clock.advance(hours=1)
    assert (
        await service(portal).start_login("jess.okafor@example.org", PASSWORD)
    ).status is LoginStatus.CODE_SENT


async def test_login_upgrades_an_old_hash(portal):
    account_id = await register(portal)
    stronger = AccountSettings(
        _env_file=None, argon2_time_cost=2, argon2_memory_kib=2048, argon2_parallelism=1
    )
    r = await service(portal, stronger).start_login("jess.okafor@example.org", PASSWORD)
    assert r.status is LoginStatus.CODE_SENT
    async with portal.db() as s:
        h = (await s.get(Account, account_id)).password_hash
    assert h.startswith("$argon2id$") and "m=2048,t=2,p=1" in h
    assert await login(portal, "jess.okafor@example.org", PASSWORD) == account_id


# -- forgotten password


async def test_forgotten_password(portal):
    account_id = await register(portal)
    before = len(await outbox(portal))
    nobody = await service(portal).request_password_reset("nobody@example.org")
    assert nobody.status is StartStatus.CODE_SENT and nobody.request_id
    assert len(await outbox(portal)) == before  # nothing sent, same answer
    assert (
        await service(portal).verify_password_reset(nobody.request_id, "123456")
    ).status is CodeStatus.WRONG

    r = await service(portal).request_password_reset("Jess.Okafor@example.org", chat_id=CHAT)
    assert r.status is StartStatus.CODE_SENT
    code = await code_sent_to(portal, "jess.okafor@example.org")
    # setting the password before the code is checked is refused
    early = await service(portal).complete_password_reset(r.request_id, "Green teapot hums 77")
    assert early.status is PasswordStatus.EXPIRED
    v = await service(portal).verify_password_reset(r.request_id, code)
    assert v.ok and v.account_id is None  # nobody is signed in by a reset code
    same = await service(portal).complete_password_reset(r.request_id, PASSWORD)
    assert same.status is PasswordStatus.INVALID
    assert same.problems == ["Your new password must be different from your current password."]
    weak = await service(portal).complete_password_reset(r.request_id, "Password12345678")
    assert weak.status is PasswordStatus.INVALID
    done = await service(portal).complete_password_reset(
        r.request_id, "Green teapot hums 77", confirm_password="Green teapot hums 77"
    )
    assert done.ok
    assert (
        await service(portal).complete_password_reset(r.request_id, "Red teapot hums 88")
    ).status is PasswordStatus.EXPIRED
    assert "your password was changed" in (await outbox(portal))[-1].subject
    assert await login(portal, "jess.okafor@example.org", PASSWORD) is None
    assert await login(portal, "jess.okafor@example.org", "Green teapot hums 77") == account_id
    assert "account.password_reset" in await actions(portal)


async def test_reset_must_be_finished_within_30_minutes(portal, clock):
    await register(portal)
    r = await service(portal).request_password_reset("jess.okafor@example.org")
    assert (
        await service(portal).verify_password_reset(r.request_id, await code_sent_to(portal, "jess.okafor@example.org"))
    ).ok
    clock.advance(minutes=31)
    late = await service(portal).complete_password_reset(r.request_id, "Green teapot hums 77")
    assert late.status is PasswordStatus.EXPIRED and "Forgotten password" in late.problems[0]


# -- change password


async def test_change_password_respects_history(portal):
    account_id = await register(portal)
    bad = await service(portal).change_password(account_id, "Not the password 1", "Green teapot hums 77")
    assert bad.status is PasswordStatus.WRONG_PASSWORD
    same = await service(portal).change_password(account_id, PASSWORD, PASSWORD)
    assert same.problems == ["Your new password must be different from your current password."]

    current = PASSWORD
    for i in range(1, 9):  # eight changes: PASSWORD is now the 8th previous
        new = f"Teapot number {i} hums"
        assert (
            await service(portal).change_password(account_id, current, new, confirm_password=new)
        ).ok
        current = new
    again = await service(portal).change_password(account_id, current, PASSWORD)
    assert again.status is PasswordStatus.INVALID
    assert again.problems == ["Your new password must be different from your previous 8 passwords."]
    assert (
        await service(portal).change_password(account_id, current, "Teapot number 3 hums")
    ).status is PasswordStatus.INVALID

    assert (
        await service(portal).change_password(account_id, current, "Teapot number 9 hums")
    ).ok
    current = "Teapot number 9 hums"
    # PASSWORD is now 9 back: allowed again
    assert (await service(portal).change_password(account_id, current, PASSWORD)).ok
    async with portal.db() as s:
        kept = (
            (
                await s.execute(
                    select(PasswordHistory).where(PasswordHistory.account_id == account_id)
                )
            )
            .scalars()
            .all()
        )
    assert len(kept) == 8
    assert (await actions(portal)).count("account.password_changed") == 10
    assert await login(portal, "jess.okafor@example.org", PASSWORD) == account_id


async def test_change_password_checks_confirmation_and_policy(portal):
    account_id = await register(portal)
    r = await service(portal).change_password(
        account_id, PASSWORD, "Green teapot hums 77", confirm_password="Green teapot hums 78"
    )
    assert r.status is PasswordStatus.INVALID and "not the same" in r.problems[0]
    r = await service(portal).change_password(account_id, PASSWORD, "green teapot hums 77")
    assert r.problems == ["Your password must contain at least one upper-case (capital) letter."]


# -- change email


async def test_change_email(portal):
    account_id = await register(portal)
    bad = await service(portal).start_email_change(account_id, "Not the password 1", "new.home@example.net")
    assert bad.status is StartStatus.WRONG_PASSWORD
    r = await service(portal).start_email_change(account_id, PASSWORD, " New.Home@Example.NET", chat_id=CHAT)
    assert r.status is StartStatus.CODE_SENT
    code = await code_sent_to(portal, "new.home@example.net")  # the code goes to the NEW address
    assert (
        await service(portal).confirm_email_change(account_id + 1, r.request_id, code)
    ).status is CodeStatus.NO_CODE
    c = await service(portal).confirm_email_change(account_id, r.request_id, code, chat_id=CHAT)
    assert c.ok and c.account_id == account_id
    assert (await service(portal).get_account(account_id)).email == "new.home@example.net"
    told = (await outbox(portal))[-1]
    assert told.to_addr == "jess.okafor@example.org"  # the old address is told
    assert "new.home@example.net" in told.body and not re.search(r"\b\d{6}\b", told.body)
    assert await login(portal, "jess.okafor@example.org", PASSWORD) is None
    assert await login(portal, "new.home@example.net", PASSWORD) == account_id
    assert "account.email_changed" in await actions(portal)


async def test_change_email_to_an_address_with_an_account_reveals_nothing(portal):
    first = await register(portal)
    other = await register(portal, forename="Tunde", surname="Bello", email="tunde@example.org")
    before = len(await outbox(portal))
    r = await service(portal).start_email_change(first, PASSWORD, "tunde@example.org")
    assert r.status is StartStatus.CODE_SENT
    (note,) = (await outbox(portal))[before:]
    assert note.to_addr == "tunde@example.org" and "already has an account" in note.body
    assert not re.search(r"\b\d{6}\b", note.body)
    assert (
        await service(portal).confirm_email_change(first, r.request_id, "123456")
    ).status is CodeStatus.WRONG
    assert (await service(portal).get_account(first)).email == "jess.okafor@example.org"
    assert (await service(portal).get_account(other)).email == "tunde@example.org"


# -- nothing secret in clear


async def test_nothing_secret_in_clear_in_any_table(portal):
    secrets: set[str] = {PASSWORD}
    request_ids: set[str] = set()

    r = await service(portal).start_registration(form(), chat_id=CHAT)
    request_ids.add(r.request_id)
    codes_seen = {await code_sent_to(portal, "jess.okafor@example.org")}
    account_id = (
        await service(portal).confirm_registration(r.request_id, next(iter(codes_seen)))
    ).account_id

    lr = await service(portal).start_login("jess.okafor@example.org", PASSWORD)
    request_ids.add(lr.request_id)
    codes_seen.add(await code_sent_to(portal, "jess.okafor@example.org"))

    new_pw = "Green teapot hums 77"
    secrets.add(new_pw)
    assert (await service(portal).change_password(account_id, PASSWORD, new_pw)).ok

    rr = await service(portal).request_password_reset("jess.okafor@example.org")
    request_ids.add(rr.request_id)
    reset_code = await code_sent_to(portal, "jess.okafor@example.org")
    codes_seen.add(reset_code)
    assert (await service(portal).verify_password_reset(rr.request_id, reset_code)).ok
    reset_pw = "Violet harbour glows 31"
    secrets.add(reset_pw)
    assert (await service(portal).complete_password_reset(rr.request_id, reset_pw)).ok

    er = await service(portal).start_email_change(account_id, reset_pw, "moved@example.net")
    request_ids.add(er.request_id)
    codes_seen.add(await code_sent_to(portal, "moved@example.net"))
    await service(portal).start_login("moved@example.net", "A wrong guess 12345")
    secrets.add("A wrong guess 12345")

    async with portal.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            text_cols = [
                c
                for c in table.columns
                if isinstance(c.type, String | Text) or c.type.__class__.__name__ == "JSON"
            ]
            if not text_cols:
                continue
            rows = (await conn.execute(select(*text_cols))).all()
            for row in rows:
                for col, value in zip(text_cols, row, strict=True):
                    if value is None:
                        continue
                    text = str(value)
                    for secret in secrets | request_ids:
                        assert secret.lower() not in text.lower(), (
                            f"{table.name}.{col.name} holds a secret"
                        )
                    # codes travel only in their own emails (email_outbox.body) until sent
                    if not (table.name == "email_outbox" and col.name == "body"):
                        for code in codes_seen:
                            assert code not in text, f"{table.name}.{col.name} holds a code"


async def test_audit_entries_name_actions_not_data(portal):
    account_id = await register(portal)
    await service(portal).change_password(account_id, PASSWORD, "Green teapot hums 77")
    async with portal.db() as s:
        entries = (await s.execute(select(AuditEntry))).scalars().all()
    assert {e.action for e in entries} >= {"account.registered", "account.password_changed"}
    for e in entries:
        assert e.actor_kind == "parent" and e.actor_id == str(account_id)
        assert e.subject is None


async def test_purge_and_rules(portal, clock):
    await service(portal).start_registration(form())
    clock.advance(hours=25)
    assert await service(portal).purge_expired() >= 2
    async with portal.db() as s:
        assert (await s.execute(select(AccountRequest))).first() is None
    assert "It must be at least 15 characters long (and at most 256)" in service(portal).password_rules()
