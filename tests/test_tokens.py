from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.models import ApiToken, AuditEntry
from core.security import sha256_hex
from core.tokens import TokenError, authenticate, create_token, list_tokens, revoke_token


async def _token_row(portal, name: str) -> ApiToken:
    async with portal.db() as s:
        return (await s.execute(select(ApiToken).where(ApiToken.name == name))).scalar_one()


async def test_create_stores_only_the_digest_and_authenticates(portal):
    token = await create_token(portal, "case-system")
    assert len(token) >= 40
    row = await _token_row(portal, "case-system")
    assert row.digest == sha256_hex(token)
    assert token not in (row.digest, row.name)
    assert await authenticate(portal, token) == "case-system"
    assert await authenticate(portal, token + "x") is None
    assert await authenticate(portal, "") is None
    assert await authenticate(portal, "x" * 10_000) is None


async def test_name_in_use_is_refused_until_revoked(portal):
    first = await create_token(portal, "case-system")
    with pytest.raises(TokenError, match="already exists"):
        await create_token(portal, "case-system")
    assert await revoke_token(portal, "case-system") is True
    assert await revoke_token(portal, "case-system") is False  # nothing active any more
    assert await authenticate(portal, first) is None

    second = await create_token(portal, "case-system")  # a revoked name is reused
    assert second != first
    assert await authenticate(portal, second) == "case-system"
    assert await authenticate(portal, first) is None
    tokens = await list_tokens(portal)
    assert [(t.name, t.active) for t in tokens] == [("case-system", True)]


async def test_bad_names_refused(portal):
    for bad in ("", "   ", "x" * 101, "a\nb"):
        with pytest.raises(TokenError):
            await create_token(portal, bad)


async def test_revoke_unknown_is_false(portal):
    assert await revoke_token(portal, "nobody") is False


async def test_create_and_revoke_are_audited(portal):
    await create_token(portal, "alice")
    await revoke_token(portal, "alice")
    row = await _token_row(portal, "alice")
    async with portal.db() as s:
        entries = (await s.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
    assert [(e.action, e.actor_kind, e.actor_id, e.subject) for e in entries] == [
        ("api_token.create", "system", "cli", f"api_token:{row.id}"),
        ("api_token.revoke", "system", "cli", f"api_token:{row.id}"),
    ]


async def test_last_used_written_at_most_once_a_minute(portal, clock):
    token = await create_token(portal, "bob")
    assert (await _token_row(portal, "bob")).last_used_at is None
    t0 = clock.now()
    await authenticate(portal, token)
    assert (await _token_row(portal, "bob")).last_used_at == t0

    clock.advance(seconds=30)
    await authenticate(portal, token)
    assert (await _token_row(portal, "bob")).last_used_at == t0  # not rewritten within a minute

    clock.advance(seconds=31)
    await authenticate(portal, token)
    assert (await _token_row(portal, "bob")).last_used_at == t0 + timedelta(seconds=61)


async def test_list_tokens_never_shows_the_token(portal):
    token = await create_token(portal, "carol")
    await create_token(portal, "dave")
    await revoke_token(portal, "dave")
    infos = await list_tokens(portal)
    assert [(t.name, t.active) for t in infos] == [("carol", True), ("dave", False)]
    text = "\n".join(str(t) for t in infos) + repr(infos)
    assert token not in text
    assert "revoked" in str(infos[1])
