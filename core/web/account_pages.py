"""The pages a parent opens from the chat to register or to log in: passwords are typed here,
never in the chat. After the form, the emailed code is typed in the chat."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core import accounts
from core.page_links import Link, LinkState, PageLinks, Purpose
from core.web.html import Html, h, join, message_page, page
from core.web.pages import PageRequest, WebPages
from notifications.outbox import enqueue

EXPIRED = (
    "This link has expired or has already been used. Please go back to the chat and ask for a new one."
)


def _field(name: str, label: str, *, kind: str = "text", value: str = "", hint: str = "",
           autocomplete: str = "", errors: list[str] | None = None, required: bool = True) -> Html:
    star = " *" if required else ""
    err = join(h('<p class="error" id="{}-error">{}</p>', name, e) for e in (errors or []))
    hint_html = h('<span class="hint">{}</span>', hint) if hint else Html("")
    value_attr = h(' value="{}"', value) if value and kind != "password" else Html("")
    return h(
        '<label for="{name}">{label}{star}{hint}</label>{err}'
        '<input id="{name}" name="{name}" type="{kind}" autocomplete="{ac}"{value}>',
        name=name, label=label, star=star, hint=hint_html, err=err, kind=kind, ac=autocomplete or "off",
        value=value_attr,
    )


def _rules() -> Html:
    items = join(h("<li>{}</li>", r) for r in accounts.password_rules())
    return h("<details><summary>Password policy</summary><ul>{}</ul></details>", items)


def _register_form(req: PageRequest, values: dict[str, str], errors: dict[str, list[str]]) -> web.Response:
    v = values.get
    e = errors.get
    summary = (
        h('<p class="error" role="alert">Please correct the answers marked below.</p>') if errors else Html("")
    )
    return page(
        "Register for new account",
        summary,
        h("<p>Boxes marked * must be filled in.</p>"),
        req.form_html(
            _field("forename", "Forename", value=v("forename", ""), autocomplete="given-name", errors=e("forename")),
            _field("surname", "Surname", value=v("surname", ""), autocomplete="family-name", errors=e("surname")),
            _field("house", "House number or name", value=v("house", ""), required=False, errors=e("house")),
            _field("street", "Street", value=v("street", ""), autocomplete="address-line1", errors=e("street")),
            _field("area", "Area", value=v("area", ""), required=False, errors=e("area")),
            _field("town", "Town", value=v("town", ""), autocomplete="address-level2", errors=e("town")),
            _field("postcode", "Postcode", value=v("postcode", ""), autocomplete="postal-code", errors=e("postcode")),
            _field("email", "Email", kind="email", value=v("email", ""), autocomplete="email",
                   hint="Please check it is spelt correctly: you will use it to log in.", errors=e("email")),
            _field("password", "Password", kind="password", autocomplete="new-password", errors=e("password")),
            _rules(),
            _field("confirm_password", "Confirm password", kind="password", autocomplete="new-password",
                   errors=e("confirm_password")),
            submit="Next",
        ),
        status=400 if errors else 200,
    )


def _login_form(req: PageRequest, email: str = "", error: str = "") -> web.Response:
    return page(
        "Existing users",
        h('<p class="error" role="alert">{}</p>', error) if error else Html(""),
        h("<p>Enter the email address you registered and your password. For additional security, "
          "we will then email you a code to type in the chat.</p>"),
        req.form_html(
            _field("email", "Email", kind="email", value=email, autocomplete="email"),
            _field("password", "Password", kind="password", autocomplete="current-password"),
            submit="Submit",
        ),
        status=400 if error else 200,
    )


async def _notify_chat(req: PageRequest, link: Link, text: str) -> None:
    async with req.db() as session, session.begin():
        enqueue(session, now=req.now, chat_id=link.chat_id, text=text, kind="notice")


def _done_page(email_note: str) -> web.Response:
    return message_page(
        "Check your email",
        email_note,
        "Please go back to Telegram and type the 6-digit code in the chat. "
        "If you can't find the email, it may be in your spam or junk folder.",
        "You can close this page now.",
    )


def account_pages() -> WebPages:
    pages = WebPages()

    @pages.get("/p/{token}")
    async def show(req: PageRequest) -> web.StreamResponse:
        link = await PageLinks(req.portal).open(req.params["token"])
        if link is None or link.state in (LinkState.EXPIRED, LinkState.USED, LinkState.UNKNOWN):
            return message_page("This link has expired", EXPIRED, status=410)
        if link.state is LinkState.SUBMITTED:
            return _done_page("We have already emailed you a code.")
        if link.purpose is Purpose.REGISTER:
            return _register_form(req, {}, {})
        return _login_form(req)

    @pages.post("/p/{token}")
    async def submit(req: PageRequest) -> web.StreamResponse:
        links = PageLinks(req.portal)
        link = await links.open(req.params["token"])
        if link is None or link.state is not LinkState.OPEN:
            return message_page("This link has expired", EXPIRED, status=410)
        form: dict[str, Any] = {k: req.form.get(k, "") for k in req.form} if req.form else {}
        if link.purpose is Purpose.REGISTER:
            result = await accounts.start_registration(
                req.portal, form, chat_id=link.chat_id, request_id=link.request_id
            )
            if result.status is accounts.StartStatus.INVALID:
                values = {k: str(v) for k, v in form.items() if "password" not in k}
                return _register_form(req, values, result.errors)
            if result.status is not accounts.StartStatus.CODE_SENT:
                return message_page("Please try again later", result.message, status=429)
            await links.mark_submitted(link.id)
            await _notify_chat(req, link, "We have emailed you a code to confirm your email address. "
                               "Please type the 6-digit code here.")
            return _done_page("We have just sent you an email to confirm your email address.")
        result = await accounts.start_login(
            req.portal, str(form.get("email", "")), str(form.get("password", "")),
            chat_id=link.chat_id, request_id=link.request_id,
        )
        if result.status is accounts.LoginStatus.WRONG_CREDENTIALS:
            return _login_form(req, str(form.get("email", "")), result.message)
        if result.status is not accounts.LoginStatus.CODE_SENT:
            return message_page("Please try again later", result.message, status=429)
        await links.mark_submitted(link.id)
        await _notify_chat(req, link, "We have emailed you a code. Please type the 6-digit code here.")
        return _done_page("We have just sent you an email with a one-time code.")

    return pages
