"""The sandbox in a real browser: Debian's Chromium driven by Playwright's async API, only by
clicking and typing in the page (issue 14). Screenshots of each step, at desktop width and at
phone width (390 x 844), go to `test-artifacts/sandbox/` (`.ci/run` prints the folder); axe-core
checks the page for accessibility violations (none of any impact).

Chromium is Debian's (`.ci/run` installs the `chromium` package; `EHCP_TEST_CHROMIUM` names
another binary): Playwright never downloads a browser here.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from tests.browser import DESKTOP, PHONE, no_violations, screenshot
from tests.test_sandbox import running

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


async def shot(page: Page, name: str) -> None:
    await screenshot(page, "sandbox", name)


class PhoneToo:
    """The same step seen on a phone (390 x 844): a second page on the same sandbox, showing the
    same parent and the pane the step is about; both screenshots saved."""

    PANES = {"phone": "Parent's phone", "staff": "Staff group", "mail": "Mailbox", "team": "SEND team"}

    def __init__(self, browser: Browser, url: str) -> None:
        self.browser, self.url, self.page = browser, url, None

    async def shot(self, desktop: Page, name: str, *, parent: str | None = None, pane: str = "phone",
                   showing: str | None = None) -> None:
        await shot(desktop, f"{name}-desktop")
        if self.page is None:
            self.page = await self.browser.new_page(viewport=PHONE)
            await self.page.goto(self.url)
        if parent is not None:
            await self.page.get_by_role("button", name=self.PANES["phone"]).click()
            await self.page.get_by_label("You are").select_option(label=parent)
        await self.page.get_by_role("button", name=self.PANES[pane]).click()
        if showing is not None:
            await expect(self.page.locator(f"#{pane}")).to_contain_text(showing)
        await shot(self.page, f"{name}-phone")

    async def close(self) -> None:
        if self.page is not None:
            await self.page.close()


async def test_a_visitor_tries_the_product_in_the_browser(tmp_path: Path, browser: Browser):
    async with running(tmp_path, demo=True) as sandbox:
        # The demo families are there before the visitor looks.
        await sandbox.until(lambda s: s if len(s["parents"]) == 3 and s["staff"]["topics"] else None, "the demo")
        errors: list[str] = []
        page = await browser.new_page(viewport=DESKTOP)
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(sandbox.url)
        both = PhoneToo(browser, sandbox.url)

        await expect(page.get_by_text("Sandbox", exact=True)).to_be_visible()
        await expect(page.locator("#mails details").first).to_be_visible()
        await both.shot(page, "01-first-look", pane="mail", showing="Accept Portal Invitation")
        await no_violations(page)

        # Priya's phone: the notices the SEND team's work sent her.
        await page.get_by_label("You are").select_option(label="Priya")
        await expect(page.locator("#chat")).to_contain_text("New message from Jo Smith")
        await expect(page.locator("#chat")).to_contain_text("A form to complete for Maya")

        # From the bot's command menu, /dashboard: the SEND Dashboard for Maya, with its buttons.
        await page.get_by_role("button", name="Menu").click()
        await page.locator("#commands button", has_text="/dashboard").click()
        await expect(page.locator("#chat")).to_contain_text("SEND Dashboard: Maya")
        await expect(page.locator("#chat button", has_text="Actions to Complete")).to_be_visible()
        await both.shot(page, "02-dashboard", parent="Priya", showing="SEND Dashboard: Maya")

        # A button in the chat: Receive under the new-document notice; the letter arrives to download.
        await page.locator("#chat button", has_text=re.compile("Receive")).last.click()
        download = page.locator("#chat a", has_text="Decision to assess Maya.pdf")
        await expect(download).to_be_visible()
        async with page.expect_download() as got:
            await download.click()
        assert (await got.value).suggested_filename == "Decision to assess Maya.pdf"
        await both.shot(page, "03-document", parent="Priya", showing="Decision to assess Maya.pdf")

        # In the staff group, Sam Patel answers in Maya's topic; Priya's phone shows it.
        topic = page.locator("#topics details", has_text="Maya Shah")
        await topic.get_by_label("Write as").select_option(label="Sam Patel")
        await topic.get_by_label("Reply").fill("Hello Priya, Sam here. Jo is away this week.")
        await topic.get_by_role("button", name="Send").click()
        await expect(page.locator("#chat")).to_contain_text("New message from Sam Patel")
        await both.shot(page, "04-staff-reply", parent="Priya", showing="New message from Sam Patel")

        # The form the SEND team asked for: opened from its notice, its first question answered.
        await page.locator("#chat button", has_text="Open the form").last.click()
        await expect(page.locator("#chat")).to_contain_text("About this form")
        await page.locator("#chat button", has_text="Next").last.click()
        await expect(page.locator("#chat")).to_contain_text("What is your full name?")
        await page.get_by_label("Message", exact=True).fill("Priya Shah")
        await page.get_by_label("Message", exact=True).press("Enter")
        await expect(page.locator("#chat")).to_contain_text("What is your relationship to the child")
        await both.shot(page, "05-form-question", parent="Priya", showing="relationship to the child")

        # The clock moves a day, then to the next reminder: it arrives in a family's chat.
        before = await page.locator("#clock").inner_text()
        await page.get_by_role("button", name="Forward 1 day").click()
        await expect(page.locator("#clock")).not_to_have_text(before)
        await page.get_by_role("button", name="To the next reminder").click()
        s = await sandbox.until(lambda s: next((p["name"] for p in s["parents"] for m in p["chat"]
                                                if "Reminder for" in m["html"]), None), "a reminder")
        await page.get_by_label("You are").select_option(label=s)
        await expect(page.locator("#chat")).to_contain_text("Reminder for")
        await both.shot(page, "06-reminder", parent=s, showing="Reminder for")
        assert errors == []

        # At phone width: one pane at a time, chosen by tabs.
        phone = await browser.new_page(viewport=PHONE)
        phone.on("pageerror", lambda e: errors.append(str(e)))
        await phone.goto(sandbox.url)
        await expect(phone.locator("#phone")).to_be_visible()
        await expect(phone.locator("#mail")).to_be_hidden()
        width = await phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width} px wide on a 390 px phone"
        await shot(phone, "07-phone-tabs-chat")
        await no_violations(phone)
        await phone.get_by_role("button", name="Mailbox").click()
        await expect(phone.locator("#mail")).to_be_visible()
        await expect(phone.locator("#phone")).to_be_hidden()
        await shot(phone, "08-phone-tabs-mailbox")
        await no_violations(phone)
        await phone.get_by_role("button", name="SEND team").click()
        await expect(phone.locator("#invitations li")).to_have_count(3)
        await shot(phone, "09-phone-tabs-send-team")
        await no_violations(phone)
        # The staff group: a topic's posts scroll in their own box, which a keyboard can reach.
        await phone.get_by_role("button", name="Staff group").click()
        await expect(phone.locator("#topics details[open] .posts li").first).to_be_visible()
        await no_violations(phone)
        assert errors == []
        await page.close()
        await phone.close()
        await both.close()


async def test_an_invited_parent_sets_up_the_portal_from_the_email_to_the_dashboard(tmp_path: Path, browser: Browser):
    """Alex, invited by the demo: the email's link, the unique code, registration on the portal's
    page opened over the chat, the emailed code, the invitation accepted, access activated by the
    SEND team, the dashboard. Only clicks and typing in the page."""
    async with running(tmp_path, demo=True) as sandbox:
        await sandbox.until(lambda s: s if sandbox.sandbox.seeded else None, "the demo")
        errors: list[str] = []
        page = await browser.new_page(viewport=DESKTOP)
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(sandbox.url)
        both = PhoneToo(browser, sandbox.url)
        chat = page.locator("#chat")
        await page.get_by_label("You are").select_option(label="Alex")

        # The invitation email: its link opens the chat on Alex's phone.
        invitation = page.locator("#mails details", has_text="Accept Portal Invitation").filter(has_text="alex.jones")
        if await invitation.get_attribute("open") is None:
            await invitation.locator("summary").click()
        mail_text = await invitation.inner_text()
        code = re.search(r"verification code is: (\S+)", mail_text).group(1)
        await invitation.locator("a", has_text="ehcp_sandbox_bot").click()
        await expect(chat).to_contain_text("Verify your identity")
        await both.shot(page, "11-code-asked", parent="Alex", showing="Verify your identity")

        await page.get_by_label("Message", exact=True).fill(code)
        await page.get_by_label("Message", exact=True).press("Enter")
        await expect(chat).to_contain_text("Do you already have an account")
        await chat.get_by_role("button", name="Register for new account").last.click()
        await expect(chat).to_contain_text("never type your password")

        # The registration page, opened over the chat.
        await chat.locator("a", has_text="http://127.0.0.1").last.click()
        await expect(page.locator("#panel")).to_be_visible()
        # The portal's page itself, checked for accessibility on its own (at phone width).
        own = await browser.new_page(viewport=PHONE)
        await own.goto(await page.locator("#panel-frame").get_attribute("src"))
        await expect(own.get_by_role("heading", name="Register for new account")).to_be_visible()
        await expect(own.locator(".page-banner")).to_have_text("Sandbox: nothing here reaches a real person.")
        await no_violations(own)
        await own.close()
        form = page.frame_locator("#panel-frame")
        for label, value in (("Forename", "Alex"), ("Surname", "Jones"), ("Street", "High Street"),
                             ("Town", "Worcester"), ("Postcode", "WR1 2AB"), ("Email", "alex.jones@example.org")):
            await form.get_by_label(label, exact=False).first.fill(value)
        await form.get_by_label("Password", exact=False).first.fill("Correct Horse Battery 42")
        await form.get_by_label("Confirm password", exact=False).fill("Correct Horse Battery 42")
        await shot(page, "12-registration-page-desktop")
        await form.get_by_role("button").last.click()
        await expect(form.get_by_text("Check your email")).to_be_visible()
        await page.get_by_role("button", name="Close").click()

        # The emailed code, typed in the chat.
        confirm = page.locator("#mails details", has_text="Confirm your email").filter(has_text="alex.jones")
        await expect(confirm).to_have_count(1)
        if await confirm.get_attribute("open") is None:
            await confirm.locator("summary").click()
        six = re.search(r"\b(\d{6})\b", await confirm.inner_text()).group(1)
        await page.get_by_label("Message", exact=True).fill(six)
        await page.get_by_label("Message", exact=True).press("Enter")
        await expect(chat).to_contain_text("Invitations awaiting approval")

        # Yes for Sam, Confirm, Submit.
        await chat.get_by_role("button", name=re.compile("Yes")).last.click()
        await chat.get_by_role("button", name=re.compile("Confirm")).last.click()
        await expect(chat).to_contain_text("not be able to make any further changes")
        await chat.get_by_role("button", name=re.compile("Submit")).last.click()
        await expect(chat).to_contain_text("answer has been sent to the SEND team")

        # The SEND team activates Alex's access; Alex is told, and the dashboard is there.
        row = page.locator("#invitations li", has_text="Alex Jones")
        await row.get_by_role("button", name="Activate access").click()
        await expect(chat).to_contain_text("activated your access for Sam")
        await page.get_by_label("Message", exact=True).fill("/dashboard")
        await page.get_by_label("Message", exact=True).press("Enter")
        await expect(chat).to_contain_text("SEND Dashboard: Sam")
        await both.shot(page, "13-dashboard", parent="Alex", showing="SEND Dashboard: Sam")

        # Alex writes to the SEND team: /messages, New Message, its type, subject and text, a
        # photo from the phone, then Send. It opens Sam's topic in the staff group.
        async def say(text: str) -> None:
            await page.get_by_label("Message", exact=True).fill(text)
            await page.get_by_label("Message", exact=True).press("Enter")

        await say("/messages")
        await expect(chat).to_contain_text("Messages: Sam Jones")
        await chat.get_by_role("button", name=re.compile("New Message")).last.click()
        await expect(chat).to_contain_text("Message Type")
        await chat.get_by_role("button", name=re.compile("General")).last.click()
        await expect(chat).to_contain_text("please type a short subject")
        await say("Sam's new school")
        await expect(chat).to_contain_text("please type your message")
        await say("Hello, could we talk about Sam's move to secondary school?")
        await expect(chat).to_contain_text("Added.")
        await chat.get_by_role("button", name=re.compile("Done")).last.click()
        await expect(chat).to_contain_text("Files")
        await page.get_by_label("Send a photo or a file").set_input_files(
            files=[{"name": "drawing.png", "mimeType": "image/png", "buffer": PNG}])
        await expect(chat.locator("li.parent", has_text="Photo")).to_be_visible()
        await expect(chat).to_contain_text("Attached so far")
        await chat.get_by_role("button", name=re.compile("Continue")).last.click()
        await expect(chat).to_contain_text("Check your")
        await chat.get_by_role("button", name=re.compile(r"Send$")).last.click()
        await expect(chat).to_contain_text("has been sent to the SEND team")
        topic = page.locator("#topics details", has_text="Sam Jones")
        await expect(topic).to_contain_text("move to secondary school")
        await both.shot(page, "14-message-in-the-staff-group", pane="staff", showing="Sam Jones")
        assert errors == []
        await page.close()
        await both.close()


async def test_the_send_team_verifies_a_parent_by_phone_then_the_sandbox_starts_again(tmp_path: Path, browser: Browser):
    """The SEND team panel: a parent invited, the code they read out on the phone checked (a wrong
    one refused), the invitation marked verified, so the parent's link skips the code in the chat.
    Then "Start again": the page reloads on a fresh sandbox with nothing in it."""
    async with running(tmp_path, demo=False) as sandbox:
        errors: list[str] = []
        page = await browser.new_page(viewport=DESKTOP)
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(sandbox.url)
        await page.get_by_role("button", name="Send the invitation").click()
        row = page.locator("#invitations li", has_text="Alex Jones")
        await expect(row).to_contain_text("invitation sent")

        await row.get_by_label("Code Alex read out").fill("WRONG-CODE")
        await row.get_by_role("button", name="Mark verified").click()
        await expect(page.locator("#team-answer")).to_contain_text("422")
        await expect(row).to_contain_text("invitation sent")
        await row.get_by_role("button", name="Mark verified").click()  # the caseworker knows them
        await expect(row).to_contain_text("invitation verified")
        await shot(page, "21-verified-by-phone-desktop")

        # A review decision from the panel: the kind with its outcome (reg 20(10)) goes to the API.
        await page.locator("#event").get_by_label("What happened").select_option(label="Review decision: keep the plan as it is")
        await page.locator("#event").get_by_role("button", name="Record it").click()
        await expect(page.locator("#team-answer")).to_contain_text("201")
        await expect(page.locator("#team-answer")).to_contain_text('"outcome": "keep"')

        # The invitation's link, opened on Alex's phone: no unique code asked.
        await page.get_by_placeholder("New parent's first name").fill("Alex")
        await page.get_by_role("button", name="Add a parent").click()
        await page.get_by_label("You are").select_option(label="Alex")
        invitation = page.locator("#mails details", has_text="Accept Portal Invitation")
        if await invitation.get_attribute("open") is None:
            await invitation.locator("summary").click()
        await invitation.locator("a", has_text="ehcp_sandbox_bot").click()
        await expect(page.locator("#chat")).to_contain_text("Do you already have an account")
        await expect(page.locator("#chat")).not_to_contain_text("Verify your identity")

        # Start again: confirmed, the same address serves a fresh sandbox and the page reloads.
        page.once("dialog", lambda d: d.accept())
        await page.get_by_role("button", name="Start again").click()
        await sandbox.runs.ready(2, sandbox.serving)
        await expect(page.locator("#parent option")).to_have_count(0, timeout=30_000)
        await expect(page.locator("#invitations li")).to_have_count(0)
        await expect(page.locator("#mails")).not_to_contain_text("Accept Portal Invitation")
        assert errors == []
        await page.close()
