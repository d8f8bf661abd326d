"""The pages a parent opens from the chat: register, log in, "Forgotten password", change the
password, change the email. Passwords are typed here, never in the chat; the emailed codes are
typed in the chat (see core.page_flow).

- register, log in: the form -> a code emailed -> typed in the chat -> the chat is linked.
- forgotten password (from the login page's button, a new link for the same chat): the email ->
  a code emailed (the same answer whether or not the address has an account) -> typed in the
  chat -> this same page, reloaded, asks for the new password -> done.
- change password (a linked chat): the current password and the new one -> done.
- change email (a linked chat): the password and the new address -> a code to the new address
  -> typed in the chat -> done (the old address is told).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from core.accounts import PASSWORDS_DIFFER, LoginStatus, PasswordStatus, StartStatus
from core.page_links import SIGNED_IN, Link, LinkState, PageLinks, Purpose
from web.pages import PageRequest, WebPages
from web.render import errors_by_field, message_page

EXPIRED = (
    "This link has expired or has already been used. Please go back to the chat and ask for a new one."
)
TRY_LATER = "Please try again later"

# Each form's boxes, in the order they show (its error summary lists the problems in this order).
REGISTER_FIELDS = ("forename", "surname", "house", "street", "area", "town", "postcode", "email", "password",
                   "confirm_password")
LOGIN_FIELDS = ("email", "password")
RESET_FIELDS = ("email",)
NEW_PASSWORD_FIELDS = ("password", "confirm_password")
CHANGE_PASSWORD_FIELDS = ("current_password", "password", "confirm_password")
CHANGE_EMAIL_FIELDS = ("password", "email")


def _expired() -> web.Response:
    return message_page("This link has expired", EXPIRED, status=410)


def _register_form(req: PageRequest, values: dict[str, str], errors: dict[str, list[str]]) -> web.Response:
    return req.render("register.html", status=400 if errors else 200, values=values,
                      errors=errors_by_field(errors, REGISTER_FIELDS),
                      password_rules=req.services.accounts.password_rules())


def _login_form(req: PageRequest, email: str = "", error: str = "") -> web.Response:
    """`error`: the email and password do not match an account (said once, at the email box)."""
    errors = errors_by_field({"email": [error]} if error else {}, LOGIN_FIELDS)
    return req.render("login.html", status=400 if error else 200, email=email, errors=errors)


def _reset_form(req: PageRequest, email: str = "", errors: list[str] | None = None) -> web.Response:
    return req.render("reset.html", status=400 if errors else 200, email=email,
                      errors=errors_by_field({"email": errors or []}, RESET_FIELDS))


def _reset_waiting(req: PageRequest, first: str) -> web.Response:
    return req.render("reset_waiting.html", first=first)


def _new_password_form(req: PageRequest, errors: dict[str, list[str]] | None = None) -> web.Response:
    return req.render("new_password.html", status=400 if errors else 200,
                      errors=errors_by_field(errors, NEW_PASSWORD_FIELDS),
                      password_rules=req.services.accounts.password_rules())


def _change_password_form(req: PageRequest, errors: dict[str, list[str]] | None = None) -> web.Response:
    return req.render("change_password.html", status=400 if errors else 200,
                      errors=errors_by_field(errors, CHANGE_PASSWORD_FIELDS),
                      password_rules=req.services.accounts.password_rules())


def _change_email_form(req: PageRequest, email: str = "", errors: dict[str, list[str]] | None = None) -> web.Response:
    return req.render("change_email.html", status=400 if errors else 200, email=email,
                      errors=errors_by_field(errors, CHANGE_EMAIL_FIELDS))


def _password_errors(problems: list[str]) -> dict[str, list[str]]:
    """The policy's answers under the new password; "the two are not the same" under the second box."""
    differ = [p for p in problems if p == PASSWORDS_DIFFER]
    rest = [p for p in problems if p != PASSWORDS_DIFFER]
    errors: dict[str, list[str]] = {}
    if rest:
        errors["password"] = rest
    if differ:
        errors["confirm_password"] = differ
    return errors


def _done_page(email_note: str) -> web.Response:
    return message_page(
        "Check your email",
        email_note,
        "Please go back to Telegram and type the 6-digit code in the chat. "
        "If you can't find the email, it may be in your spam or junk folder.",
        "You can close this page now.",
    )


def _fields(form: MultiDictProxy[Any] | None) -> dict[str, str]:
    return {k: str(form.get(k, "")) for k in form} if form else {}


# ------------------------------------------------------------------ the steps after a POST
# Each is one call to the core (services.page_flow), which writes the account's step, the link's
# new state and the chat's notice together; the page only says how it went.


async def _register(req: PageRequest, link: Link, form: dict[str, str]) -> web.Response:
    result = await req.services.page_flow.register(link, form)
    if result.status is StartStatus.INVALID:
        values = {k: v for k, v in form.items() if "password" not in k}
        return _register_form(req, values, result.errors)
    if result.status is not StartStatus.CODE_SENT:
        return message_page(TRY_LATER, result.message, status=429)
    return _done_page("We have just sent you an email to confirm your email address.")


async def _login(req: PageRequest, link: Link, form: dict[str, str]) -> web.Response:
    result = await req.services.page_flow.log_in(link, form.get("email", ""), form.get("password", ""))
    if result.status is LoginStatus.WRONG_CREDENTIALS:
        return _login_form(req, form.get("email", ""), result.message)
    if result.status is not LoginStatus.CODE_SENT:
        return message_page(TRY_LATER, result.message, status=429)
    return _done_page("We have just sent you an email with a one-time code.")


async def _reset(req: PageRequest, link: Link, form: dict[str, str]) -> web.Response:
    email = form.get("email", "")
    result = await req.services.page_flow.request_reset(link, email)
    if result.status is StartStatus.INVALID:
        return _reset_form(req, email, result.errors.get("email") or [result.message])
    if result.status is not StartStatus.CODE_SENT:
        return message_page(TRY_LATER, result.message, status=429)
    return _reset_waiting(req, "If this email address has an account, we have just sent it an email "
                          "with a 6-digit code.")


async def _new_password(req: PageRequest, link: Link, form: dict[str, str]) -> web.Response:
    result = await req.services.page_flow.new_password(
        link, form.get("password", ""), form.get("confirm_password", "")
    )
    if result.status is PasswordStatus.INVALID:
        return _new_password_form(req, _password_errors(result.problems))
    if not result.ok:
        return message_page("This link has expired", *(result.problems or [EXPIRED]), status=410)
    return message_page(
        "Your password has been changed",
        "Your password has been changed. You can log in from the chat.",
        "We have emailed you to say so. You can close this page now.",
    )


async def _change_password(req: PageRequest, link: Link, account_id: int, form: dict[str, str]) -> web.Response:
    result = await req.services.page_flow.change_password(
        link, account_id, form.get("current_password", ""), form.get("password", ""),
        form.get("confirm_password", ""),
    )
    if result.status is PasswordStatus.WRONG_PASSWORD:
        return _change_password_form(req, {"current_password": ["That password is not right. Please try again."]})
    if result.status is PasswordStatus.INVALID:
        return _change_password_form(req, _password_errors(result.problems))
    if result.status is PasswordStatus.RATE_LIMITED:
        return message_page(TRY_LATER, "There have been too many tries for now. Please wait an hour and try "
                            "again, or contact the SEND team.", status=429)
    if not result.ok:
        return _expired()
    return message_page(
        "Your password has been changed",
        "Your password has been changed. Use your new password the next time you log in.",
        "We have emailed you to say so. You can close this page and go back to the chat.",
    )


async def _change_email(req: PageRequest, link: Link, account_id: int, form: dict[str, str]) -> web.Response:
    email = form.get("email", "")
    result = await req.services.page_flow.change_email(link, account_id, form.get("password", ""), email)
    if result.status is StartStatus.INVALID:
        return _change_email_form(req, email, result.errors or {"email": [result.message]})
    if result.status is StartStatus.WRONG_PASSWORD:
        return _change_email_form(req, email, {"password": [result.message]})
    if result.status is StartStatus.NO_ACCOUNT:
        return _expired()
    if result.status is not StartStatus.CODE_SENT:
        return message_page(TRY_LATER, result.message, status=429)
    return _done_page(f"We have just sent an email with a code to {email.strip()}.")


# ------------------------------------------------------------------ the pages


def account_pages() -> WebPages:
    pages = WebPages()

    async def still_linked(links: PageLinks, link: Link) -> bool:
        """False for a change-password or change-email link whose chat is no longer logged in."""
        return link.purpose not in SIGNED_IN or await links.account_for(link) is not None

    @pages.get("/p/{token}")
    async def show(req: PageRequest) -> web.StreamResponse:
        links = req.services.page_links
        link = await links.open(req.params["token"])
        if link is None or link.state in (LinkState.EXPIRED, LinkState.USED, LinkState.UNKNOWN):
            return _expired()
        if not await still_linked(links, link):
            return _expired()
        if link.state is LinkState.VERIFIED:
            return _new_password_form(req) if link.purpose is Purpose.RESET else _expired()
        if link.state is LinkState.SUBMITTED:
            if link.purpose is Purpose.RESET:
                return _reset_waiting(req, "We have sent a code to the email address you gave, if it has an account.")
            if link.purpose is Purpose.CHANGE_EMAIL:
                return _done_page("We have already emailed a code to your new email address.")
            return _done_page("We have already emailed you a code.")
        forms = {
            Purpose.REGISTER: lambda: _register_form(req, {}, {}),
            Purpose.LOGIN: lambda: _login_form(req),
            Purpose.RESET: lambda: _reset_form(req),
            Purpose.CHANGE_PASSWORD: lambda: _change_password_form(req),
            Purpose.CHANGE_EMAIL: lambda: _change_email_form(req),
        }
        return forms[link.purpose]()

    @pages.post("/p/{token}")
    async def submit(req: PageRequest) -> web.StreamResponse:
        links = req.services.page_links
        link = await links.open(req.params["token"])
        if link is None:
            return _expired()
        form = _fields(req.form)
        if link.state is LinkState.VERIFIED and link.purpose is Purpose.RESET:
            return await _new_password(req, link, form)
        if link.state is not LinkState.OPEN:
            return _expired()
        if link.purpose is Purpose.REGISTER:
            return await _register(req, link, form)
        if link.purpose is Purpose.LOGIN:
            return await _login(req, link, form)
        if link.purpose is Purpose.RESET:
            return await _reset(req, link, form)
        account = await links.account_for(link)  # change password or email: the chat's account
        if account is None:
            return _expired()
        if link.purpose is Purpose.CHANGE_PASSWORD:
            return await _change_password(req, link, account, form)
        return await _change_email(req, link, account, form)

    @pages.post("/p/{token}/forgotten")
    async def forgotten(req: PageRequest) -> web.StreamResponse:
        """The login page's "Forgotten password?": a reset link for the same chat, and off to it."""
        links = req.services.page_links
        link = await links.open(req.params["token"])
        if link is None or link.purpose is not Purpose.LOGIN or link.state is not LinkState.OPEN:
            return _expired()
        token = await links.create_from(link, Purpose.RESET)
        if token is None:
            return _expired()
        return web.Response(status=303, headers={"Location": f"/p/{token}"})

    return pages
