"""Portal accounts: registering, logging in, forgotten password, changing the password or email.

`AccountService(portal)` is built once, with the portal, into the core's container
(`core.services.Services.accounts`); its settings are `portal.settings.accounts`. Each step
returns a small result with a status the caller turns into a kind answer. Rules kept here:

- No answer reveals whether an email has an account. Registering with an email that has one says
  "we sent you a code" and emails the holder a note instead of a code; a reset for an email with
  no account says the same and sends nothing; a wrong email and a wrong password give the same
  answer after the same argon2 work (a dummy hash when there is no account). Such requests are
  "decoys": their code exists, counts tries and limits as a real one, and can never succeed.
- Passwords live only as argon2id hashes, codes and request ids only as HMACs under the key.
  argon2 runs in a worker thread, outside any database transaction.
- Every change is audited (`account.<action>`, actor = the account), never the data itself, and
  the emails that go with a change are queued in its transaction.

The steps live in one module per family (registration, login, passwords, email change), on a
common base (`core.accounts.steps`); this module puts them together with what concerns them all.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from core.accounts import codes, emails
from core.accounts.codes import Purpose
from core.accounts.email_change import EmailChange
from core.accounts.login import Login
from core.accounts.models import Account, AccountRequest
from core.accounts.passwords import Passwords
from core.accounts.registration import Registration
from core.accounts.results import AccountInfo, StartResult, StartStatus

# The decoy's note, sent again with a "new code" instead of a code (nobody may learn the address has an account).
_DECOY_NOTES = {
    Purpose.REGISTER: emails.someone_tried_to_register,
    Purpose.CHANGE_EMAIL: emails.address_already_used,
}


class AccountService(Registration, Login, Passwords, EmailChange):
    async def resend_code(
        self, request_id: str, purpose: Purpose | str, *, chat_id: int | None = None
    ) -> StartResult:
        """ "Please send me a new code": a new code for the same step (the old one stops working)."""
        purpose = Purpose(purpose)
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            req = await self._find_request(s, purpose, request_id)
            if req is None or not self._open(req, now) or req.verified_at is not None:
                return StartResult(StartStatus.NO_REQUEST, request_id)
            if not await self._send_code(
                s, purpose, request_id, now, self._scope(req, chat_id), None if req.decoy else req.email
            ):
                return StartResult(StartStatus.RATE_LIMITED, request_id)
            note = _DECOY_NOTES.get(purpose)
            if req.decoy and note is not None:
                self._email(s, now, req.email, note(self._council))
        return StartResult(StartStatus.CODE_SENT, request_id, minutes=self.settings.code_minutes)

    async def get_account(self, account_id: int) -> AccountInfo | None:
        async with self.portal.db() as s:
            account = await s.get(Account, account_id)
            return AccountInfo.of(account) if account is not None else None

    def password_rules(self) -> list[str]:
        """The password rules in force, as the guide lists them."""
        return self.policy.describe()

    async def purge_expired(self) -> int:
        """Drop finished and timed-out requests, old codes and old rate records (a scheduled job)."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            n = await codes.purge(s, now)
            n += (await s.execute(delete(AccountRequest).where(AccountRequest.expires_at < now))).rowcount or 0
            n += (
                await s.execute(
                    delete(AccountRequest).where(
                        AccountRequest.completed_at.is_not(None),
                        AccountRequest.completed_at < now - timedelta(hours=1),
                    )
                )
            ).rowcount or 0
        return n

    async def forget_chat(self, chat_id: int) -> None:
        """Erase the chat id from these tables ("delete my data from this chat")."""
        async with self.portal.db() as s, s.begin():
            await codes.forget_chat(s, chat_id)
            rows = await s.scalars(select(AccountRequest).where(AccountRequest.chat_id == chat_id))
            for row in rows.all():
                row.chat_id = None
