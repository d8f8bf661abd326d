"""The guide's "Register for new account": the form and the password, then the emailed code that
confirms the address; the account is made only then.

Registering with an email that has an account says "we sent you a code" all the same, and emails
the holder a note instead of a code (a decoy request: its code counts tries, and can never succeed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from core.accounts import emails
from core.accounts.codes import CodeScope, CodeStatus, Purpose
from core.accounts.forms import PASSWORDS_DIFFER, RegistrationForm, form_errors
from core.accounts.models import Account
from core.accounts.results import ConfirmResult, StartResult, StartStatus
from core.accounts.steps import AccountSteps, Also
from core.audit import Actor, audit

log = logging.getLogger(__name__)


class Registration(AccountSteps):
    async def start_registration(
        self,
        form: RegistrationForm | Mapping[str, Any],
        *,
        chat_id: int | None = None,
        request_id: str | None = None,
        also: Also | None = None,
    ) -> StartResult:
        """Step 1 and 2 of "Register for new account": check the form and the password, then email
        a code to confirm the address. Keep the returned `request_id` for `confirm_registration`
        and `resend_code`; passing the same `request_id` again replaces the earlier form (the
        guide's "back" to change the email address). `also`: written with it when the code is
        sent."""
        try:
            f = form if isinstance(form, RegistrationForm) else RegistrationForm.model_validate(dict(form))
        except ValidationError as exc:
            return StartResult(StartStatus.INVALID, None, form_errors(exc))
        password = f.password.get_secret_value()
        errors: dict[str, list[str]] = {}
        if f.confirm_password is not None and f.confirm_password.get_secret_value() != password:
            errors["confirm_password"] = [PASSWORDS_DIFFER]
        problems = self.policy.check(password, email=f.email, names=(f.forename, f.surname))
        if problems:
            errors["password"] = problems
        if errors:
            return StartResult(StartStatus.INVALID, None, errors)
        # Hashed whether or not the email has an account, so both take the same time.
        password_hash = await asyncio.to_thread(self.hasher.hash, password)
        rid = self._request_id(request_id)
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            existing = await self._email_taken(s, f.email)
            decoy = existing is not None
            if not await self._start_request(
                s,
                Purpose.REGISTER,
                rid,
                now,
                CodeScope(email=f.email, chat_id=chat_id),
                None if decoy else f.email,
                email=f.email,
                decoy=decoy,
                data={} if decoy else {**f.address(), "password_hash": password_hash},
            ):
                return StartResult(StartStatus.RATE_LIMITED, rid)
            if decoy:
                self._email(s, now, f.email, emails.someone_tried_to_register(self._council))
                audit(s, Actor.parent(existing), "account.registration_attempt_existing", at=now)
            if also is not None:
                await also(s, now)
        return StartResult(StartStatus.CODE_SENT, rid, minutes=self.settings.code_minutes)

    async def confirm_registration(
        self, request_id: str, code: str, *, chat_id: int | None = None
    ) -> ConfirmResult:
        """Step 3: the emailed code confirms the email, and the account is made. On OK the
        `account_id` is the new account's (the parent is signed in)."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            refused, req, check = await self._checked_request(
                s, Purpose.REGISTER, request_id, code, chat_id, now
            )
            if refused is not None or req is None:
                return refused or ConfirmResult(CodeStatus.NO_CODE)
            req.completed_at = now
            if await self._email_taken(s, req.email) is not None:
                req.data = {}
                return ConfirmResult(CodeStatus.OK, None, email_in_use=True)
            d = dict(req.data)
            account = Account(
                forename=d["forename"],
                surname=d["surname"],
                house=d.get("house"),
                street=d["street"],
                area=d.get("area"),
                town=d["town"],
                postcode=d["postcode"],
                email=req.email,
                email_confirmed_at=now,
                password_hash=d["password_hash"],
                password_changed_at=now,
                created_at=now,
                updated_at=now,
            )
            s.add(account)
            req.data = {}  # the account holds it now
            await s.flush()
            audit(s, Actor.parent(account.id), "account.registered", at=now)
            log.info("account %s registered", account.id)
            return ConfirmResult(CodeStatus.OK, account.id, check.tries_left)
