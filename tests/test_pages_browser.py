"""The portal's own pages (the ones the chat opens) in a real browser, checked by axe-core: every
form as it first shows, the same form sent empty (its errors shown), the new-password step, the
"check your email" pages and the expired link. 0 serious or critical violations, at phone width
(where parents open them) and at desktop width. Screenshots go to test-artifacts/pages/."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from core.page_flow import CodeOutcome, PageFlow
from core.page_links import Purpose
from tests.browser import DESKTOP, PHONE, no_serious_violations, screenshot
from tests.test_account_pages import (
    CHAT,
    EMAIL,
    code_sent_to,
    linked_account,
    make_account,
    new_link,
)
from web import bound_port, start_web
from web.account_pages import account_pages

FORMS = [
    (Purpose.REGISTER, "Register for new account"),
    (Purpose.LOGIN, "Existing users"),
    (Purpose.RESET, "Forgotten password"),
    (Purpose.CHANGE_PASSWORD, "Change your password"),
    (Purpose.CHANGE_EMAIL, "Change your email address"),
]


@pytest.fixture
async def pages(portal):
    runner = await start_web(portal, [account_pages()], port=0)
    portal.settings.http.public_url = f"http://127.0.0.1:{bound_port(runner)}"
    yield portal.settings.http.public_url
    await runner.cleanup()


async def send_empty(page: Page) -> None:
    """The page's form (the one with fields to fill) sent empty: the browser's own checks are
    switched off so the server's errors show."""
    form = page.locator("form:has(input:not([type=hidden]))")
    await form.evaluate("f => f.noValidate = true")
    await form.get_by_role("button").click()
    await expect(page.get_by_role("alert")).to_be_visible()


async def checked(page: Page, name: str, viewport: dict[str, int]) -> None:
    await no_serious_violations(page)
    await screenshot(page, "pages", f"{name}-{'phone' if viewport is PHONE else 'desktop'}")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_every_portal_page_passes_the_accessibility_check(pages, portal, browser: Browser, viewport):
    await linked_account(portal)  # the chat is logged in: change password and email open
    page = await browser.new_page(viewport=viewport)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    for purpose, heading in FORMS:
        await page.goto(await new_link(portal, CHAT, purpose))
        await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        await checked(page, purpose.value, viewport)
        await send_empty(page)
        await checked(page, f"{purpose.value}-errors", viewport)

    # "Forgotten password": the email given, the code typed in the chat, the new password asked.
    reset = await new_link(portal, CHAT, Purpose.RESET)
    await page.goto(reset)
    await page.get_by_label("Email", exact=False).fill(EMAIL)
    await page.locator("form").last.get_by_role("button").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    await checked(page, "reset-waiting", viewport)
    assert (await PageFlow(portal).submit_code(CHAT, await code_sent_to(portal, EMAIL))).outcome \
        is CodeOutcome.VERIFIED_GO_BACK
    await page.get_by_role("link", name="I have typed the code").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    await checked(page, "new-password", viewport)
    await send_empty(page)
    await checked(page, "new-password-errors", viewport)

    assert await page.locator(".page-banner").count() == 0  # the real service: no banner

    # A link used up or never made.
    await page.goto(portal.settings.http.public_url + "/p/not-a-link")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("expired")
    await checked(page, "expired", viewport)
    assert errors == []
    await page.close()


async def test_a_registration_sent_from_the_browser_asks_for_the_emailed_code(pages, portal, browser: Browser):
    """The register form filled in and sent as a parent would: the page says to check the email."""
    await make_account(portal, "someone.else@example.org")
    page = await browser.new_page(viewport=PHONE)
    await page.goto(await new_link(portal, CHAT, Purpose.REGISTER))
    for label, value in (("Forename", "Robin"), ("Surname", "Hughes"), ("Street", "Mill Road"), ("Town", "Malvern"),
                         ("Postcode", "WR14 1AA"), ("Email", "robin@example.org")):
        await page.get_by_label(label, exact=False).first.fill(value)
    await page.get_by_label("Password", exact=False).first.fill("Correct Horse Battery 42")
    await page.get_by_label("Confirm password", exact=False).fill("Correct Horse Battery 42")
    await page.locator("form").last.get_by_role("button").click()
    await expect(page.get_by_text("Check your email")).to_be_visible()
    await checked(page, "register-sent", PHONE)
    await page.close()


async def test_the_page_banner_heads_every_page_when_set(pages, portal, browser: Browser):
    """EHCP_PAGE_BANNER (a test service, the sandbox): on forms and on error pages alike."""
    portal.settings.http.page_banner = "Test service: not for real cases"
    page = await browser.new_page(viewport=PHONE)
    await page.goto(await new_link(portal, CHAT, Purpose.REGISTER))
    await expect(page.locator("main .page-banner")).to_have_text("Test service: not for real cases")
    await checked(page, "banner", PHONE)
    await page.goto(portal.settings.http.public_url + "/no-such-page")
    await expect(page.locator(".page-banner")).to_have_text("Test service: not for real cases")
    await page.close()
