"""What every account step shares: the portal and the settings, the step's request (one row per
registration, login, reset or email change, found by the HMAC of its request id), its emailed
code, the password history, and the emails that go with a change.

`AccountSteps` is the base of the step families (registration, login, passwords, email change);
`core.accounts.service.AccountService` puts them together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import codes, config
from core.accounts.codes import (
    CodeCheck,
    CodeLimits,
    CodeScope,
    CodeStatus,
    Purpose,
    new_request_id,
    request_key,
)
from core.accounts.models import Account, AccountRequest, PasswordHistory
from core.accounts.policy import Hasher, PasswordPolicy
from core.accounts.results import ConfirmResult
from core.audit import Actor, audit
from core.config import AccountSettings
from core.outbox import enqueue_email
from core.portal import Portal

# Longer input than this is never a password we could have stored; refused without hashing it.
MAX_PASSWORD_INPUT = 4096

# More for a step's own transaction, written only when the step succeeds (the caller's state, a
# notice to the chat): called with (session, now) just before the step commits, so the step and
# what goes with it are committed together or not at all.
Also = Callable[[AsyncSession, datetime], Awaitable[None]]


class AccountSteps:
    def __init__(self, portal: Portal, settings: AccountSettings | None = None) -> None:
        self.portal = portal
        self.settings = settings or portal.settings.accounts

    # -- what the settings make (read each time: a test may change a setting in place)

    @property
    def policy(self) -> PasswordPolicy:
        return config.password_policy(self.settings)

    @property
    def hasher(self) -> Hasher:
        return config.hasher(self.settings)

    @property
    def code_limits(self) -> CodeLimits:
        return config.code_limits(self.settings)

    # -- the council, as the emails name it

    @property
    def _council(self) -> str:
        return self.portal.settings.product.council_name

    @property
    def _contact(self) -> str:
        return self.portal.settings.product.send_team_contact

    def _email(self, s: AsyncSession, now: datetime, to: str, message: tuple[str, str]) -> None:
        """Queue one of `core.accounts.emails`' (subject, body) in this transaction."""
        subject, body = message
        enqueue_email(s, now=now, to_addr=to, subject=subject, body=body)

    # -- the step's request

    @staticmethod
    def _request_id(request_id: str | None) -> str:
        if request_id is None:
            return new_request_id()
        if not (16 <= len(request_id) <= 200) or not request_id.isprintable():
            raise ValueError("a request id is a random string of 16 to 200 characters")
        return request_id

    async def _find_request(
        self, s: AsyncSession, purpose: Purpose, request_id: str
    ) -> AccountRequest | None:
        return (
            await s.execute(
                select(AccountRequest).where(
                    AccountRequest.purpose == purpose.value,
                    AccountRequest.request_key == request_key(self.portal.secret_key, request_id),
                )
            )
        ).scalar_one_or_none()

    @staticmethod
    def _open(req: AccountRequest | None, now: datetime) -> bool:
        return req is not None and req.completed_at is None and now < req.expires_at

    async def _replace_request(
        self, s: AsyncSession, purpose: Purpose, request_id: str, **values: Any
    ) -> AccountRequest:
        rkey = request_key(self.portal.secret_key, request_id)
        await s.execute(
            delete(AccountRequest).where(
                AccountRequest.purpose == purpose.value, AccountRequest.request_key == rkey
            )
        )
        req = AccountRequest(purpose=purpose.value, request_key=rkey, **values)
        s.add(req)
        return req

    @staticmethod
    def _scope(req: AccountRequest, chat_id: int | None) -> CodeScope:
        chat = chat_id if chat_id is not None else req.chat_id
        if req.purpose in (Purpose.REGISTER.value, Purpose.RESET.value):
            return CodeScope(email=req.email, chat_id=chat)  # per email before there is an account
        if req.purpose == Purpose.CHANGE_EMAIL.value:
            return CodeScope(account_id=req.account_id, email=req.email, chat_id=chat)
        return CodeScope(account_id=req.account_id, chat_id=chat)

    @staticmethod
    async def _email_taken(s: AsyncSession, email: str, but: int | None = None) -> int | None:
        """The account that has this email address (other than `but`), if any."""
        query = select(Account.id).where(Account.email == email)
        if but is not None:
            query = query.where(Account.id != but)
        return (await s.execute(query)).scalar_one_or_none()

    # -- the emailed code

    async def _send_code(
        self,
        s: AsyncSession,
        purpose: Purpose,
        request_id: str,
        now: datetime,
        scope: CodeScope,
        email_to: str | None,
    ) -> bool:
        """Issue a code for the step (emailed to `email_to`; None for a decoy). False if rate-limited."""
        issued = await codes.issue_code(
            s,
            key=self.portal.secret_key,
            now=now,
            purpose=purpose,
            request_id=request_id,
            scope=scope,
            limits=self.code_limits,
            email_to=email_to,
            council=self._council,
        )
        return issued.sent

    async def _start_request(
        self,
        s: AsyncSession,
        purpose: Purpose,
        request_id: str,
        now: datetime,
        scope: CodeScope,
        email_to: str | None,
        **values: Any,
    ) -> bool:
        """`_send_code`, then (if it was sent) a fresh request for the step holding `values`."""
        if not await self._send_code(s, purpose, request_id, now, scope, email_to):
            return False
        await self._replace_request(
            s,
            purpose,
            request_id,
            chat_id=scope.chat_id,
            created_at=now,
            expires_at=now + self.settings.request_ttl,
            **values,
        )
        return True

    async def _checked_request(
        self,
        s: AsyncSession,
        purpose: Purpose,
        request_id: str,
        code: str,
        chat_id: int | None,
        now: datetime,
        req: AccountRequest | None = None,
    ) -> tuple[ConfirmResult | None, AccountRequest | None, CodeCheck]:
        """Check a typed code (counting the try), then find its open request (`req` if the caller
        already has it). (refusal, None, check) when the code is not right, the request is over, or
        it is a decoy (nobody was sent this code; a lucky guess is still a wrong one); else
        (None, request, check)."""
        check = await codes.verify_code(
            s,
            key=self.portal.secret_key,
            now=now,
            purpose=purpose,
            request_id=request_id,
            code=code,
            chat_id=chat_id,
            limits=self.code_limits,
        )
        if not check.ok:
            return ConfirmResult(check.status, None, check.tries_left, minutes=check.minutes), None, check
        if req is None:
            req = await self._find_request(s, purpose, request_id)
        if req is None or not self._open(req, now):
            return ConfirmResult(CodeStatus.NO_CODE), None, check
        if req.decoy:
            return ConfirmResult(CodeStatus.WRONG, tries_left=check.tries_left), None, check
        return None, req, check

    # -- passwords

    async def _too_many_login_failures(self, s: AsyncSession, scopes: list[str], now: datetime) -> bool:
        return await codes.over_limit(s, scopes, codes.LOGIN_FAIL, self.settings.login_failures_per_hour, now)

    async def _record_login_failure(self, scopes: list[str], now: datetime, account_id: int | None = None) -> None:
        """A wrong password, counted against the hourly limit (and audited when it was an account's)."""
        async with self.portal.db() as s, s.begin():
            codes.record(s, scopes, codes.LOGIN_FAIL, now)
            if account_id is not None:
                audit(s, Actor.parent(account_id), "account.login_failed", at=now)

    async def _current_password(
        self, account_id: int, password: str, chat_id: int | None, now: datetime
    ) -> tuple[Account | None, str | None]:
        """For a signed-in step: (account, None) if `password` is the account's current one; else
        (account or None, "rate_limited", "no_account" or "wrong_password")."""
        scopes = codes.scope_list(account_id, None, [chat_id])
        async with self.portal.db() as s:
            if await self._too_many_login_failures(s, scopes, now):
                return None, "rate_limited"
            account = await s.get(Account, account_id)
        if account is None:
            return None, "no_account"
        password = password or ""
        ok = len(password) <= MAX_PASSWORD_INPUT and await asyncio.to_thread(
            self.hasher.verify, account.password_hash, password
        )
        if not ok:
            await self._record_login_failure(scopes, now)
            return account, "wrong_password"
        return account, None

    async def _history_hashes(self, s: AsyncSession, account: Account) -> list[str]:
        """The current hash, then the previous `password_history`, newest first."""
        keep = self.settings.password_history
        if keep <= 0:
            return [account.password_hash]
        rows = await s.scalars(
            select(PasswordHistory.hash)
            .where(PasswordHistory.account_id == account.id)
            .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
            .limit(keep)
        )
        return [account.password_hash, *rows.all()]

    async def _set_password(self, s: AsyncSession, account: Account, new_hash: str, now: datetime) -> None:
        """Make `new_hash` current; the old one goes into the history, which keeps
        `password_history` entries."""
        s.add(PasswordHistory(account_id=account.id, hash=account.password_hash, created_at=now))
        account.password_hash = new_hash
        account.password_changed_at = now
        account.updated_at = now
        await s.flush()
        stale = await s.scalars(
            select(PasswordHistory.id)
            .where(PasswordHistory.account_id == account.id)
            .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
            .offset(self.settings.password_history)
        )
        ids = stale.all()
        if ids:
            await s.execute(delete(PasswordHistory).where(PasswordHistory.id.in_(ids)))

