"""Logging in as the portal does: email and password (on a page), then an emailed one-time code
(typed in the chat). An unknown email and a wrong password give the same answer after the same
argon2 work."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from core.accounts import codes
from core.accounts.codes import CodeScope, CodeStatus, Purpose
from core.accounts.forms import normalise_email
from core.accounts.models import Account
from core.accounts.results import ConfirmResult, LoginResult, LoginStatus
from core.accounts.steps import MAX_PASSWORD_INPUT, AccountSteps, Also
from core.audit import Actor, audit


class Login(AccountSteps):
    async def start_login(
        self,
        email: str,
        password: str,
        *,
        chat_id: int | None = None,
        request_id: str | None = None,
        also: Also | None = None,
    ) -> LoginResult:
        """Step 1 of logging in: email and password. If they match, a login code is emailed
        (and `also` written with it)."""
        hasher = self.hasher
        now = self.portal.clock.now()
        try:
            email_n: str | None = normalise_email(email)
        except ValueError:
            email_n = None
        scopes = codes.scope_list(
            None, codes.email_key(self.portal.secret_key, email_n) if email_n else None, [chat_id]
        )
        async with self.portal.db() as s:
            if await self._too_many_login_failures(s, scopes, now):
                return LoginResult(LoginStatus.RATE_LIMITED)
            row = None
            if email_n is not None:
                row = (
                    await s.execute(select(Account.id, Account.password_hash).where(Account.email == email_n))
                ).first()
        password = password or ""
        if row is None or len(password) > MAX_PASSWORD_INPUT:
            ok = await asyncio.to_thread(hasher.verify_dummy, password[:MAX_PASSWORD_INPUT])
        else:
            ok = await asyncio.to_thread(hasher.verify, row.password_hash, password)
        if not ok:
            await self._record_login_failure(scopes, now, row.id if row is not None else None)
            return LoginResult(LoginStatus.WRONG_CREDENTIALS)
        assert row is not None
        new_hash = (
            await asyncio.to_thread(hasher.hash, password) if hasher.needs_rehash(row.password_hash) else None
        )
        rid = self._request_id(request_id)
        async with self.portal.db() as s, s.begin():
            account = await s.get(Account, row.id)
            if account is None:
                return LoginResult(LoginStatus.WRONG_CREDENTIALS)
            if new_hash is not None and account.password_hash == row.password_hash:
                account.password_hash = new_hash  # stronger argon2 settings since it was made
            if not await self._start_request(
                s,
                Purpose.LOGIN,
                rid,
                now,
                CodeScope(account_id=account.id, chat_id=chat_id),
                account.email,
                account_id=account.id,
                email=account.email,
                decoy=False,
                data={},
            ):
                return LoginResult(LoginStatus.RATE_LIMITED)
            if also is not None:
                await also(s, now)
        return LoginResult(LoginStatus.CODE_SENT, rid, minutes=self.settings.code_minutes)

    async def finish_login(self, request_id: str, code: str, *, chat_id: int | None = None) -> ConfirmResult:
        """Step 2 of logging in: the emailed code. On OK, `account_id` is the account logged in to."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            refused, req, check = await self._checked_request(s, Purpose.LOGIN, request_id, code, chat_id, now)
            if refused is not None or req is None or req.account_id is None:
                return refused or ConfirmResult(CodeStatus.NO_CODE)
            req.completed_at = now
            audit(s, Actor.parent(req.account_id), "account.login", at=now)
            return ConfirmResult(CodeStatus.OK, req.account_id, check.tries_left)
