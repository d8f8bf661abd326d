"""The step after a page: the emailed code, typed in the chat, finishes what the page started.

The bot calls `submit_code` with whatever the parent typed; this module knows which page the
chat used (register, log in, ...) and what finishing it means. Linking the chat is the caller's
next step when the outcome carries an account id.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core import accounts
from core.page_links import Link, PageLinks, Purpose
from core.portal import Portal


class CodeOutcome(StrEnum):
    NO_PAGE = "no_page"  # no page form is waiting for a code in this chat
    LINKED = "linked"  # registered or logged in: link the chat to `account_id`
    PROBLEM = "problem"  # wrong, expired, used... see `message`


@dataclass(frozen=True, slots=True)
class CodeResult:
    outcome: CodeOutcome
    purpose: Purpose | None = None
    account_id: int | None = None
    message: str = ""


class PageFlow:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.links = PageLinks(portal)

    async def submit_code(self, chat_id: int, code: str) -> CodeResult:
        link = await self.links.awaiting_code(chat_id)
        if link is None:
            return CodeResult(CodeOutcome.NO_PAGE)
        if link.purpose is Purpose.REGISTER:
            result = await accounts.confirm_registration(self.portal, link.request_id, code, chat_id=chat_id)
        else:
            result = await accounts.finish_login(self.portal, link.request_id, code, chat_id=chat_id)
        if result.status is not accounts.CodeStatus.OK or result.account_id is None:
            return CodeResult(CodeOutcome.PROBLEM, link.purpose, message=result.message)
        await self.links.complete(link.id)
        return CodeResult(CodeOutcome.LINKED, link.purpose, result.account_id)

    async def new_code(self, chat_id: int) -> str | None:
        """ "Please send me a new code": the answer to show, or None if no page is waiting."""
        link: Link | None = await self.links.awaiting_code(chat_id)
        if link is None:
            return None
        purpose = {
            Purpose.REGISTER: accounts.Purpose.REGISTER,
            Purpose.LOGIN: accounts.Purpose.LOGIN,
            Purpose.RESET: accounts.Purpose.RESET,
        }[link.purpose]
        result = await accounts.resend_code(self.portal, link.request_id, purpose, chat_id=chat_id)
        return result.message
