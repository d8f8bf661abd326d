"""Changing the email, signed in: the current password and the new address (on a page), then the
code sent to the NEW address (typed in the chat); the old address is told.

If the new address has an account, the answer is the same and that address gets a note instead of
a code (a decoy request)."""

from __future__ import annotations

from core.accounts import emails
from core.accounts.codes import CodeScope, CodeStatus, Purpose
from core.accounts.forms import normalise_email
from core.accounts.models import Account
from core.accounts.results import ConfirmResult, StartResult, StartStatus
from core.accounts.steps import AccountSteps, Also
from core.audit import Actor, audit


class EmailChange(AccountSteps):
    async def start_email_change(
        self,
        account_id: int,
        password: str,
        new_email: str,
        *,
        chat_id: int | None = None,
        request_id: str | None = None,
        also: Also | None = None,
    ) -> StartResult:
        """Step 1: the current password, then a code to the new address (and `also` written with
        it, decoy or not)."""
        now = self.portal.clock.now()
        try:
            email_n = normalise_email(new_email)
        except ValueError as exc:
            return StartResult(StartStatus.INVALID, None, {"email": [str(exc)]})
        account, failure = await self._current_password(account_id, password, chat_id, now)
        if failure is not None or account is None:
            return StartResult(StartStatus(failure or "no_account"))
        if email_n == account.email:
            return StartResult(StartStatus.INVALID, None, {"email": ["This is already your email address."]})
        rid = self._request_id(request_id)
        async with self.portal.db() as s, s.begin():
            decoy = await self._email_taken(s, email_n, but=account_id) is not None
            if not await self._start_request(
                s,
                Purpose.CHANGE_EMAIL,
                rid,
                now,
                CodeScope(account_id=account_id, email=email_n, chat_id=chat_id),
                None if decoy else email_n,
                account_id=account_id,
                email=email_n,
                decoy=decoy,
                data={},
            ):
                return StartResult(StartStatus.RATE_LIMITED, rid)
            if decoy:
                self._email(s, now, email_n, emails.address_already_used(self._council))
            audit(s, Actor.parent(account_id), "account.email_change_requested", at=now)
            if also is not None:
                await also(s, now)
        return StartResult(StartStatus.CODE_SENT, rid, minutes=self.settings.code_minutes)

    async def confirm_email_change(
        self, account_id: int, request_id: str, code: str, *, chat_id: int | None = None
    ) -> ConfirmResult:
        """Step 2: the code sent to the new address. The old address is told."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            found = await self._find_request(s, Purpose.CHANGE_EMAIL, request_id)
            if found is None or found.account_id != account_id:
                return ConfirmResult(CodeStatus.NO_CODE)  # before the code: no try is counted
            refused, req, check = await self._checked_request(
                s, Purpose.CHANGE_EMAIL, request_id, code, chat_id, now, found
            )
            if refused is not None or req is None:
                return refused or ConfirmResult(CodeStatus.NO_CODE)
            account = await s.get(Account, account_id)
            if account is None:
                return ConfirmResult(CodeStatus.NO_CODE)
            req.completed_at = now
            if await self._email_taken(s, req.email, but=account_id) is not None:
                return ConfirmResult(CodeStatus.OK, account_id, email_in_use=True)
            old = account.email
            account.email = req.email
            account.email_confirmed_at = now
            account.updated_at = now
            audit(s, Actor.parent(account_id), "account.email_changed", at=now)
            self._email(s, now, old, emails.email_changed(req.email, now, self._contact, self._council))
            return ConfirmResult(CodeStatus.OK, account_id, check.tries_left)
