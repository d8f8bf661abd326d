"""The portal's own pages (the ones the chat opens) in a real browser, checked by axe-core: every
form as it first shows, the same form sent empty (its errors shown), the new-password step, the
"check your email" pages, the expired link and the page banner. 0 violations of any impact (minor
and moderate too), at phone width (where parents open them) and at desktop width, and in dark
mode. A form with problems follows the GOV.UK Design System's pattern, as a parent meets it: the
title starts "Error: ", "There is a problem" heads the page with a link to each box in error, and
that box is marked invalid and described by its message. Screenshots go to test-artifacts/pages/."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from core.page_flow import CodeOutcome, PageFlow
from core.page_links import Purpose
from tests.browser import DESKTOP, PHONE, no_violations, screenshot
from tests.test_account_pages import (
    CHAT,
    EMAIL,
    NEW_PASSWORD,
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

# Each form's boxes: (label as shown, autocomplete, required). WCAG 1.3.5: every box about the
# parent says what it is for. A house number or name alone has no autocomplete token (the street
# box, address-line1, takes a whole first line such as "10 Mill Road"), so it has none.
BOXES = {
    Purpose.REGISTER: {
        "forename": ("Forename", "given-name", True),
        "surname": ("Surname", "family-name", True),
        "house": ("House number or name (optional)", None, False),
        "street": ("Street", "address-line1", True),
        "area": ("Area (optional)", "address-line2", False),
        "town": ("Town", "address-level2", True),
        "postcode": ("Postcode", "postal-code", True),
        "email": ("Email", "email", True),
        "password": ("Password", "new-password", True),
        "confirm_password": ("Confirm password", "new-password", True),
    },
    Purpose.LOGIN: {
        "email": ("Email", "email", True),
        "password": ("Password", "current-password", True),
    },
    Purpose.RESET: {
        "email": ("Email", "email", True),
    },
    Purpose.CHANGE_PASSWORD: {
        "current_password": ("Current password", "current-password", True),
        "password": ("New password", "new-password", True),
        "confirm_password": ("Confirm new password", "new-password", True),
    },
    Purpose.CHANGE_EMAIL: {
        "password": ("Password", "current-password", True),
        "email": ("New email address", "email", True),
    },
}
NEW_PASSWORD_BOXES = {
    "password": ("New password", "new-password", True),
    "confirm_password": ("Confirm new password", "new-password", True),
}
RED = "rgb(212, 53, 28)"  # GOV.UK's error colour


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
    await no_violations(page)
    await screenshot(page, "pages", f"{name}-{'phone' if viewport is PHONE else 'desktop'}")


async def no_errors_shown(page: Page) -> None:
    """A form as it first shows: no "Error: " in the title, no summary, no box marked invalid."""
    assert not (await page.title()).startswith("Error"), await page.title()
    await expect(page.locator(".error-summary")).to_have_count(0)
    await expect(page.locator("[aria-invalid]")).to_have_count(0)


async def errors_lead_to_their_boxes(page: Page, title: str) -> None:
    """A form sent back with problems, as GOV.UK's error pattern has it: the title starts "Error: ";
    "There is a problem" heads the page (announced, and focused as the page opens), each problem a
    link to a real box on the page; that box is aria-invalid, described by its message ("Error: "
    before it, unseen), and its form group has the red line on its left. Following a link brings
    the box into focus, and the box and its label into view."""
    assert await page.title() == f"Error: {title}"
    summary = page.get_by_role("alert")
    await expect(summary).to_have_accessible_name("There is a problem")
    await expect(summary.get_by_role("heading", level=2)).to_have_text("There is a problem")
    await expect(summary).to_be_focused()
    assert await summary.evaluate("e => e.compareDocumentPosition(document.querySelector('h1'))"
                                  " & Node.DOCUMENT_POSITION_FOLLOWING"), "the summary comes before the heading"
    links = summary.get_by_role("link")
    assert await links.count() >= 1
    linked: list[str] = []
    for i in range(await links.count()):
        link = links.nth(i)
        href = await link.get_attribute("href") or ""
        assert re.fullmatch(r"#[a-z_]+", href), href
        box = page.locator(href)
        await expect(box).to_have_count(1)
        assert await box.evaluate("e => e.tagName") == "INPUT"
        await expect(box).to_have_attribute("aria-invalid", "true")
        field = href[1:]
        described = (await box.get_attribute("aria-describedby") or "").split()
        assert f"{field}-error" in described, described
        for ref in described:
            await expect(page.locator(f"#{ref}")).to_have_count(1)
        message = page.locator(f"#{field}-error")
        text = (await link.inner_text()).strip()
        await expect(message).to_contain_text(text)
        await expect(message.locator(".visually-hidden").first).to_have_text("Error:")
        await expect(message.locator(".visually-hidden").first).not_to_be_in_viewport()
        await expect(box).to_have_accessible_description(re.compile(re.escape(f"Error: {text}")))
        group = page.locator(f".form-group:has({href})")
        assert await group.evaluate("e => [getComputedStyle(e).borderLeftWidth, getComputedStyle(e).borderLeftColor]") \
            == ["5px", RED]
        linked.append(field)
    invalid = await page.locator("[aria-invalid=true]").evaluate_all("boxes => boxes.map(b => b.id)")
    assert sorted(invalid) == sorted(set(linked)), "every box marked invalid is in the summary"

    # The last link, followed: its box and label come into view.
    last = links.last
    field = (await last.get_attribute("href") or "")[1:]
    await last.click()
    await expect(page).to_have_url(re.compile(f"#{field}$"))
    await expect(page.locator(f"#{field}")).to_be_focused()
    await expect(page.locator(f"#{field}")).to_be_in_viewport()
    await expect(page.locator(f"label[for={field}]")).to_be_in_viewport()


async def boxes_are_labelled(page: Page, boxes: dict[str, tuple[str, str | None, bool]]) -> None:
    """Each box: its label ("(optional)" where it need not be filled in, no "*" anywhere), its
    autocomplete, `required` exactly where it must be filled in."""
    shown = await page.locator("form input:not([type=hidden])").evaluate_all("boxes => boxes.map(b => b.id)")
    assert shown == list(boxes), shown
    for field, (label, autocomplete, required) in boxes.items():
        box = page.locator(f"#{field}")
        await expect(box).to_have_accessible_name(label)
        assert await box.get_attribute("autocomplete") == autocomplete, field
        assert (await box.get_attribute("required") is not None) is required, field
    assert not [label for label in await page.locator("label").all_inner_texts() if "*" in label]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_every_portal_page_passes_the_accessibility_check(pages, portal, browser: Browser, viewport):
    await linked_account(portal)  # the chat is logged in: change password and email open
    page = await browser.new_page(viewport=viewport)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    for purpose, heading in FORMS:
        await page.goto(await new_link(portal, CHAT, purpose))
        await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        await no_errors_shown(page)
        await boxes_are_labelled(page, BOXES[purpose])
        await checked(page, purpose.value, viewport)
        await send_empty(page)
        await checked(page, f"{purpose.value}-errors", viewport)
        await errors_lead_to_their_boxes(page, heading)

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
    await no_errors_shown(page)
    await boxes_are_labelled(page, NEW_PASSWORD_BOXES)
    # The new password box is described by the rules it must meet.
    await expect(page.get_by_label("New password", exact=True)).to_have_accessible_description(
        re.compile("at least 15 characters"))
    await checked(page, "new-password", viewport)
    await send_empty(page)
    await checked(page, "new-password-errors", viewport)
    await errors_lead_to_their_boxes(page, "Choose a new password")

    # Two problems at once: each is listed and each box says its own.
    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("Confirm new password").fill(NEW_PASSWORD + "x")
    await page.locator("form").last.get_by_role("button").click()
    await expect(page.get_by_role("alert")).to_contain_text("The two passwords are not the same")
    await errors_lead_to_their_boxes(page, "Choose a new password")
    await checked(page, "new-password-differ", viewport)

    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    await page.locator("form").last.get_by_role("button").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your password has been changed")
    await checked(page, "password-changed", viewport)

    assert await page.locator(".page-banner").count() == 0  # the real service: no banner

    # A link used up or never made.
    await page.goto(portal.settings.http.public_url + "/p/not-a-link")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("expired")
    assert not (await page.title()).startswith("Error")
    await checked(page, "expired", viewport)
    assert errors == []
    await page.close()


async def test_the_pages_pass_in_dark_mode_too(pages, portal, browser: Browser):
    """A phone set to dark mode: the forms and their errors still pass (the red is lighter)."""
    await linked_account(portal)
    page = await browser.new_page(viewport=PHONE, color_scheme="dark")
    for purpose, _heading in FORMS:
        await page.goto(await new_link(portal, CHAT, purpose))
        await no_violations(page)
        await send_empty(page)
        await no_violations(page)
        await screenshot(page, "pages", f"{purpose.value}-errors-dark")
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


async def test_a_postcode_not_right_is_said_at_the_postcode_box(pages, portal, browser: Browser):
    """One problem among good answers: only the postcode is in error, the answers given are kept."""
    page = await browser.new_page(viewport=PHONE)
    await page.goto(await new_link(portal, CHAT, Purpose.REGISTER))
    for label, value in (("Forename", "Robin"), ("Surname", "Hughes"), ("Street", "Mill Road"), ("Town", "Malvern"),
                         ("Postcode", "not a postcode"), ("Email", "robin@example.org")):
        await page.get_by_label(label, exact=False).first.fill(value)
    await page.get_by_label("Password", exact=False).first.fill("Correct Horse Battery 42")
    await page.get_by_label("Confirm password", exact=False).fill("Correct Horse Battery 42")
    await page.locator("form").last.get_by_role("button").click()
    summary = page.get_by_role("alert")
    await expect(summary.get_by_role("link")).to_have_count(1)
    await expect(summary.get_by_role("link")).to_have_attribute("href", "#postcode")
    await errors_lead_to_their_boxes(page, "Register for new account")
    await expect(page.get_by_label("Forename")).to_have_value("Robin")
    await expect(page.get_by_label("Postcode")).to_have_value("not a postcode")
    await checked(page, "register-postcode", PHONE)
    await page.close()


async def test_the_page_banner_heads_every_page_when_set(pages, portal, browser: Browser):
    """EHCP_PAGE_BANNER (a test service, the sandbox): on forms and on error pages alike."""
    portal.settings.http.page_banner = "Test service: not for real cases"
    page = await browser.new_page(viewport=PHONE)
    await page.goto(await new_link(portal, CHAT, Purpose.REGISTER))
    await expect(page.locator("main .page-banner")).to_have_text("Test service: not for real cases")
    await checked(page, "banner", PHONE)
    await send_empty(page)
    await expect(page.locator("main .page-banner")).to_have_text("Test service: not for real cases")
    await errors_lead_to_their_boxes(page, "Register for new account")
    await checked(page, "banner-errors", PHONE)
    await page.goto(portal.settings.http.public_url + "/no-such-page")
    await expect(page.locator(".page-banner")).to_have_text("Test service: not for real cases")
    await checked(page, "banner-not-found", PHONE)
    await page.close()
