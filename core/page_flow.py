"""A page link's steps: the page's form, posted, starts an account step; the emailed code, typed
in the chat, finishes it.

The pages call `register`, `log_in`, `request_reset`, `new_password`, `change_password` or
`change_email` with what was posted: the account's step, the link's new state (submitted, or used)
and the chat's notice ("type the 6-digit code here", "your password has been changed") are written
in one transaction, so none is ever kept without the others.

The bot calls `submit_code` with whatever the parent typed; this module knows which page the
chat used and what finishing it means:

- register, log in: the account is made or logged in to -> `LINKED` (the caller links the chat
  to `account_id`);
- forgotten password: the code is checked -> `VERIFIED_GO_BACK` (the parent goes back to the
  page, which now asks for the new password; nothing to link);
- change email: the new address is confirmed -> `EMAIL_CHANGED` (the account's chats now fall
  back to the new address; the chat is already linked).

Every other answer is `PROBLEM` with a plain-English `message`, or `NO_PAGE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import (
    AccountService,
    Also,
    CodeStatus,
    ConfirmResult,
    LoginResult,
    PasswordResult,
    StartResult,
)
from core.accounts import Purpose as CodePurpose
from core.models import PageLink
from core.onboarding.links import ChatLinkService
from core.outbox import NOTICE, enqueue
from core.page_links import Link, PageLinks, Purpose
from core.portal import Portal

GO_BACK_TO_PAGE = "Code accepted. Please go back to the page to choose a new password."
NOT_LOGGED_IN = (
    "This chat is no longer logged in to your account, so we cannot change your email address. "
    "Please log in again, then ask for a new link."
)
EMAIL_IN_USE = (
    "That email address already has an account, so your email address has not been changed. "
    "You can ask for a new link to try a different address."
)


# What the chat is told when a page's form has done its step ({minutes}: how long a code works).
TYPE_THE_CODE = "Please type the 6-digit code here. The code works for {minutes} minutes."
REGISTER_CODE_SENT = "We have emailed you a code to confirm your email address. " + TYPE_THE_CODE
LOGIN_CODE_SENT = "We have emailed you a code. " + TYPE_THE_CODE
RESET_CODE_SENT = (
    "If the email address you gave has an account, we have emailed it a code to reset your password. "
    + TYPE_THE_CODE
)
EMAIL_CODE_SENT = "We have emailed a code to your new email address. " + TYPE_THE_CODE
PASSWORD_RESET = (
    "Your password has been changed, and we have emailed you to say so. "
    'To log in, send /start and choose "I already have an account".'
)
PASSWORD_CHANGED = (
    "Your password has been changed, and we have emailed you to say so. "
    "If you did not do this, please contact the SEND team straight away."
)


class CodeOutcome(StrEnum):
    NO_PAGE = "no_page"  # no page form is waiting for a code in this chat
    LINKED = "linked"  # registered or logged in: link the chat to `account_id`
    VERIFIED_GO_BACK = "verified_go_back"  # forgotten password: say `message`; the page takes it from here
    EMAIL_CHANGED = "email_changed"  # the account's email is now the new one: say `message`
    PROBLEM = "problem"  # wrong, expired, used... see `message`


@dataclass(frozen=True, slots=True)
class CodeResult:
    outcome: CodeOutcome
    purpose: Purpose | None = None
    account_id: int | None = None
    message: str = ""


_SUBMITTED, _USED = "submitted_at", "completed_at"  # a page link's state, as its columns have it

_CODE_PURPOSES = {
    Purpose.REGISTER: CodePurpose.REGISTER,
    Purpose.LOGIN: CodePurpose.LOGIN,
    Purpose.RESET: CodePurpose.RESET,
    Purpose.CHANGE_EMAIL: CodePurpose.CHANGE_EMAIL,
}


def email_changed_message(email: str) -> str:
    return (
        f"Your email address has been changed to {email}. We have emailed your old address to say so. "
        "Please use the new address to log in from now on."
    )


def _with_tries(result: ConfirmResult) -> str:
    left = result.tries_left
    if result.status is CodeStatus.WRONG and left:
        return f"{result.message} You have {left} more {'try' if left == 1 else 'tries'} with this code."
    return result.message


class PageFlow:
    def __init__(
        self, portal: Portal, accounts: AccountService | None = None, links: PageLinks | None = None
    ) -> None:
        self.portal = portal
        self.accounts = accounts or AccountService(portal)
        self.links = links or PageLinks(portal)

    # -- the page's form, posted

    async def register(self, link: Link, form: Mapping[str, str]) -> StartResult:
        return await self.accounts.start_registration(
            form, chat_id=link.chat_id, request_id=link.request_id,
            also=self._with_step(link, _SUBMITTED, REGISTER_CODE_SENT),
        )

    async def log_in(self, link: Link, email: str, password: str) -> LoginResult:
        return await self.accounts.start_login(
            email, password, chat_id=link.chat_id, request_id=link.request_id,
            also=self._with_step(link, _SUBMITTED, LOGIN_CODE_SENT),
        )

    async def request_reset(self, link: Link, email: str) -> StartResult:
        """ "Forgotten password": the same answer, and the same notice, whether or not the email
        has an account."""
        return await self.accounts.request_password_reset(
            email, chat_id=link.chat_id, request_id=link.request_id,
            also=self._with_step(link, _SUBMITTED, RESET_CODE_SENT),
        )

    async def new_password(self, link: Link, password: str, confirm_password: str) -> PasswordResult:
        """ "Forgotten password", once the chat had the right code: the new password."""
        return await self.accounts.complete_password_reset(
            link.request_id, password, confirm_password=confirm_password,
            also=self._with_step(link, _USED, PASSWORD_RESET),
        )

    async def change_password(
        self, link: Link, account_id: int, current: str, password: str, confirm_password: str
    ) -> PasswordResult:
        return await self.accounts.change_password(
            account_id, current, password, confirm_password=confirm_password, chat_id=link.chat_id,
            also=self._with_step(link, _USED, PASSWORD_CHANGED),
        )

    async def change_email(self, link: Link, account_id: int, password: str, email: str) -> StartResult:
        return await self.accounts.start_email_change(
            account_id, password, email, chat_id=link.chat_id, request_id=link.request_id,
            also=self._with_step(link, _SUBMITTED, EMAIL_CODE_SENT),
        )

    def _with_step(self, link: Link, stamp: str, notice: str) -> Also:
        """What goes with the account's step, in its transaction: the link moves on (`stamp`: its
        submitted_at or completed_at) and the chat is told `notice`."""

        async def also(s: AsyncSession, now: datetime) -> None:
            await s.execute(update(PageLink).where(PageLink.id == link.id).values({stamp: now}))
            text = notice.format(minutes=self.accounts.settings.code_minutes)
            enqueue(s, now=now, chat_id=link.chat_id, text=text, kind=NOTICE)

        return also

    # -- the emailed code, typed in the chat

    async def submit_code(self, chat_id: int, code: str) -> CodeResult:
        link = await self.links.awaiting_code(chat_id)
        if link is None:
            return CodeResult(CodeOutcome.NO_PAGE)
        if link.purpose is Purpose.RESET:
            return await self._reset_code(link, code)
        if link.purpose is Purpose.CHANGE_EMAIL:
            return await self._email_code(link, code)
        if link.purpose is Purpose.REGISTER:
            result = await self.accounts.confirm_registration(link.request_id, code, chat_id=chat_id)
        elif link.purpose is Purpose.LOGIN:
            result = await self.accounts.finish_login(link.request_id, code, chat_id=chat_id)
        else:  # a page with no emailed code (change password) never waits for one
            return CodeResult(CodeOutcome.NO_PAGE)
        if result.status is not CodeStatus.OK:
            return CodeResult(CodeOutcome.PROBLEM, link.purpose, message=_with_tries(result))
        await self.links.complete(link.id)  # the request is over either way
        if result.account_id is None:  # the email got an account in the meantime
            return CodeResult(CodeOutcome.PROBLEM, link.purpose, message=result.message)
        return CodeResult(CodeOutcome.LINKED, link.purpose, result.account_id)

    async def _reset_code(self, link: Link, code: str) -> CodeResult:
        result = await self.accounts.verify_password_reset(link.request_id, code, chat_id=link.chat_id)
        if not result.ok:
            return CodeResult(CodeOutcome.PROBLEM, link.purpose, message=result.message)
        await self.links.mark_verified(link.id)
        return CodeResult(CodeOutcome.VERIFIED_GO_BACK, link.purpose, message=GO_BACK_TO_PAGE)

    async def _email_code(self, link: Link, code: str) -> CodeResult:
        account_id = await self.links.account_for(link)
        if account_id is None:
            return CodeResult(CodeOutcome.PROBLEM, link.purpose, message=NOT_LOGGED_IN)
        result = await self.accounts.confirm_email_change(account_id, link.request_id, code, chat_id=link.chat_id)
        if not result.ok:
            return CodeResult(CodeOutcome.PROBLEM, link.purpose, message=result.message)
        await self.links.complete(link.id)  # the request is over either way
        if result.email_in_use:
            return CodeResult(CodeOutcome.PROBLEM, link.purpose, message=EMAIL_IN_USE)
        await ChatLinkService(self.portal).refresh_fallback_email(account_id)
        info = await self.accounts.get_account(account_id)
        return CodeResult(
            CodeOutcome.EMAIL_CHANGED, link.purpose, account_id, email_changed_message(info.email if info else "")
        )

    async def new_code(self, chat_id: int) -> str | None:
        """ "Please send me a new code": the answer to show, or None if no page is waiting."""
        link: Link | None = await self.links.awaiting_code(chat_id)
        if link is None:
            return None
        purpose = _CODE_PURPOSES.get(link.purpose)
        if purpose is None:
            return None
        if link.purpose is Purpose.CHANGE_EMAIL and await self.links.account_for(link) is None:
            return NOT_LOGGED_IN
        result = await self.accounts.resend_code(link.request_id, purpose, chat_id=chat_id)
        return result.message
