"""Passwords: "Forgotten password" (a code by email, then a new password on the page) and, signed
in, changing the password. A new password meets the policy, is not the current one nor one of the
previous ones (the history), and the holder is emailed when it changes.

A reset for an email with no account says the same as for one that has one, and sends nothing.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import emails
from core.accounts.codes import CodeScope, CodeStatus, Purpose
from core.accounts.forms import PASSWORDS_DIFFER, normalise_email
from core.accounts.models import Account
from core.accounts.results import (
    ConfirmResult,
    PasswordResult,
    PasswordStatus,
    StartResult,
    StartStatus,
)
from core.accounts.steps import AccountSteps, Also
from core.audit import Actor, audit

# After the reset code is right, the new password must be set within this time.
RESET_WINDOW = timedelta(minutes=30)

RESET_EXPIRED = PasswordResult(
    PasswordStatus.EXPIRED,
    ['This step has timed out. Please choose "Forgotten password" again to get a new code.'],
)


class Passwords(AccountSteps):
    # -- forgotten password

    async def request_password_reset(
        self, email: str, *, chat_id: int | None = None, request_id: str | None = None, also: Also | None = None
    ) -> StartResult:
        """ "Forgotten password": a code by email if the address has an account; the same answer
        either way (and `also` written with it either way)."""
        try:
            email_n = normalise_email(email)
        except ValueError as exc:
            return StartResult(StartStatus.INVALID, None, {"email": [str(exc)]})
        rid = self._request_id(request_id)
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            account_id = await self._email_taken(s, email_n)
            if not await self._start_request(
                s,
                Purpose.RESET,
                rid,
                now,
                CodeScope(email=email_n, chat_id=chat_id),
                email_n if account_id is not None else None,
                account_id=account_id,
                email=email_n,
                decoy=account_id is None,
                data={},
            ):
                return StartResult(StartStatus.RATE_LIMITED, rid)
            if account_id is not None:
                audit(s, Actor.parent(account_id), "account.password_reset_requested", at=now)
            if also is not None:
                await also(s, now)
        return StartResult(StartStatus.CODE_SENT, rid, minutes=self.settings.code_minutes)

    async def verify_password_reset(
        self, request_id: str, code: str, *, chat_id: int | None = None
    ) -> ConfirmResult:
        """The reset code. On OK the new password may be set with `complete_password_reset`
        (within 30 minutes). Nobody is signed in by this (`account_id` stays None)."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            refused, req, check = await self._checked_request(s, Purpose.RESET, request_id, code, chat_id, now)
            if refused is not None or req is None:
                return refused or ConfirmResult(CodeStatus.NO_CODE)
            if req.account_id is None:
                return ConfirmResult(CodeStatus.WRONG, tries_left=check.tries_left)
            req.verified_at = now
            return ConfirmResult(CodeStatus.OK, None, check.tries_left)

    async def complete_password_reset(
        self, request_id: str, new_password: str, *, confirm_password: str | None = None, also: Also | None = None
    ) -> PasswordResult:
        """Set the new password after `verify_password_reset`, under the policy and the history
        (and `also` with it)."""
        now = self.portal.clock.now()
        async with self.portal.db() as s:
            req = await self._find_request(s, Purpose.RESET, request_id)
            if (
                req is None
                or not self._open(req, now)
                or req.verified_at is None
                or now >= req.verified_at + RESET_WINDOW
                or req.account_id is None
            ):
                return RESET_EXPIRED
            account = await s.get(Account, req.account_id)
            if account is None:
                return RESET_EXPIRED
            history = await self._history_hashes(s, account)
        new_hash = await self._new_hash(account, new_password, confirm_password, history)
        if isinstance(new_hash, PasswordResult):
            return new_hash
        async with self.portal.db() as s, s.begin():
            req = await self._find_request(s, Purpose.RESET, request_id)
            fresh = await s.get(Account, account.id)
            if (
                req is None
                or req.completed_at is not None
                or fresh is None
                or fresh.password_hash != account.password_hash
            ):
                return RESET_EXPIRED
            req.completed_at = now
            await self._password_changed(s, fresh, new_hash, now, "account.password_reset", also)
        return PasswordResult(PasswordStatus.CHANGED)

    # -- signed in

    async def change_password(
        self,
        account_id: int,
        current_password: str,
        new_password: str,
        *,
        confirm_password: str | None = None,
        chat_id: int | None = None,
        also: Also | None = None,
    ) -> PasswordResult:
        """Change the password: the current one is needed; the new one meets the policy and is not
        the current or one of the previous 8. The holder is emailed (and `also` written with it)."""
        now = self.portal.clock.now()
        account, failure = await self._current_password(account_id, current_password, chat_id, now)
        if failure is not None or account is None:
            return PasswordResult(PasswordStatus(failure or "no_account"))
        async with self.portal.db() as s:
            history = await self._history_hashes(s, account)
        new_hash = await self._new_hash(account, new_password, confirm_password, history)
        if isinstance(new_hash, PasswordResult):
            return new_hash
        async with self.portal.db() as s, s.begin():
            fresh = await s.get(Account, account_id)
            if fresh is None:
                return PasswordResult(PasswordStatus.NO_ACCOUNT)
            if fresh.password_hash != account.password_hash:  # changed meanwhile: not current now
                return PasswordResult(PasswordStatus.WRONG_PASSWORD)
            await self._password_changed(s, fresh, new_hash, now, "account.password_changed", also)
        return PasswordResult(PasswordStatus.CHANGED)

    # -- shared

    async def _new_hash(
        self, account: Account, new_password: str, confirm_password: str | None, history: list[str]
    ) -> str | PasswordResult:
        """The new password's hash, or why it cannot be (INVALID, with the problems). The policy's
        history check and argon2 run in a worker thread, outside any transaction."""
        if confirm_password is not None and confirm_password != new_password:
            return PasswordResult(PasswordStatus.INVALID, [PASSWORDS_DIFFER])
        problems = await asyncio.to_thread(
            self.policy.check,
            new_password,
            email=account.email,
            names=(account.forename, account.surname),
            history_hashes=history,
        )
        if problems:
            return PasswordResult(PasswordStatus.INVALID, problems)
        return await asyncio.to_thread(self.hasher.hash, new_password)

    async def _password_changed(
        self, s: AsyncSession, account: Account, new_hash: str, now: datetime, action: str, also: Also | None
    ) -> None:
        """The new password is current; audited, the holder emailed, and `also`, in this transaction."""
        await self._set_password(s, account, new_hash, now)
        audit(s, Actor.parent(account.id), action, at=now)
        self._email(s, now, account.email, emails.password_changed(now, self._contact, self._council))
        if also is not None:
            await also(s, now)
