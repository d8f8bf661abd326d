"""The step after a page: the emailed code, typed in the chat, finishes what the page started.

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

from dataclasses import dataclass
from enum import StrEnum

from core.accounts import AccountService, CodeStatus, ConfirmResult
from core.accounts import Purpose as CodePurpose
from core.onboarding.links import ChatLinkService
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
