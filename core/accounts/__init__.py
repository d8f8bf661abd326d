"""Portal accounts: the guide's registration, login with an emailed code, forgotten password,
changing the password or email; the password policy; one-time codes.

For the bot and the parents' pages. Passwords are only ever typed on the pages (never in a chat
message); the emailed codes may be typed in the chat. Each step returns a result whose `status`
the caller turns into a kind answer (most results carry a `.message` in plain English), and a
`request_id` to keep (in the page token or the dialogue) for the next step.

    r = await start_registration(portal, form_fields, chat_id=chat_id)     # -> code emailed
    c = await confirm_registration(portal, r.request_id, "123456", chat_id=chat_id)
    c.ok, c.account_id, c.message                                          # signed in if ok
    await resend_code(portal, r.request_id, Purpose.REGISTER)              # "Please send me a new code"

    l = await start_login(portal, email, password, chat_id=chat_id)        # LoginStatus
    c = await finish_login(portal, l.request_id, code, chat_id=chat_id)   # -> account_id

    r = await request_password_reset(portal, email)                        # same answer either way
    await verify_password_reset(portal, r.request_id, code)                # then, on the page:
    await complete_password_reset(portal, r.request_id, new, confirm_password=new)

    await change_password(portal, account_id, current, new, confirm_password=new)
    r = await start_email_change(portal, account_id, password, new_email)  # code to the new address
    await confirm_email_change(portal, account_id, r.request_id, code)     # old address told

No answer reveals whether an email has an account. Settings: `AccountSettings` (EHCP_ prefix).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.accounts.codes import CodeLimits, CodeStatus, Purpose, code_message, new_request_id
    from core.accounts.config import AccountSettings, default_account_settings
    from core.accounts.policy import Hasher, PasswordPolicy, PasswordProblem, Problem, is_common
    from core.accounts.service import (
        AccountInfo,
        ConfirmResult,
        LoginResult,
        LoginStatus,
        PasswordResult,
        PasswordStatus,
        RegistrationForm,
        StartResult,
        StartStatus,
        change_password,
        complete_password_reset,
        confirm_email_change,
        confirm_registration,
        finish_login,
        forget_chat,
        get_account,
        normalise_email,
        normalise_postcode,
        password_rules,
        purge_expired,
        request_password_reset,
        resend_code,
        start_email_change,
        start_login,
        start_registration,
        verify_password_reset,
    )


# Imported on first use (PEP 562), so that `core.models` can import `core.accounts.models` for
# its tables without pulling in the services (which import `core.models` themselves).
_LAZY: dict[str, str] = {
    "AccountInfo": "core.accounts.service",
    "AccountSettings": "core.accounts.config",
    "CodeLimits": "core.accounts.codes",
    "CodeStatus": "core.accounts.codes",
    "ConfirmResult": "core.accounts.service",
    "Hasher": "core.accounts.policy",
    "LoginResult": "core.accounts.service",
    "LoginStatus": "core.accounts.service",
    "PasswordPolicy": "core.accounts.policy",
    "PasswordProblem": "core.accounts.policy",
    "PasswordResult": "core.accounts.service",
    "PasswordStatus": "core.accounts.service",
    "Problem": "core.accounts.policy",
    "Purpose": "core.accounts.codes",
    "RegistrationForm": "core.accounts.service",
    "StartResult": "core.accounts.service",
    "StartStatus": "core.accounts.service",
    "change_password": "core.accounts.service",
    "code_message": "core.accounts.codes",
    "complete_password_reset": "core.accounts.service",
    "confirm_email_change": "core.accounts.service",
    "confirm_registration": "core.accounts.service",
    "default_account_settings": "core.accounts.config",
    "finish_login": "core.accounts.service",
    "forget_chat": "core.accounts.service",
    "get_account": "core.accounts.service",
    "is_common": "core.accounts.policy",
    "new_request_id": "core.accounts.codes",
    "normalise_email": "core.accounts.service",
    "normalise_postcode": "core.accounts.service",
    "password_rules": "core.accounts.service",
    "purge_expired": "core.accounts.service",
    "request_password_reset": "core.accounts.service",
    "resend_code": "core.accounts.service",
    "start_email_change": "core.accounts.service",
    "start_login": "core.accounts.service",
    "start_registration": "core.accounts.service",
    "verify_password_reset": "core.accounts.service",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "AccountInfo",
    "AccountSettings",
    "CodeLimits",
    "CodeStatus",
    "ConfirmResult",
    "Hasher",
    "LoginResult",
    "LoginStatus",
    "PasswordPolicy",
    "PasswordProblem",
    "PasswordResult",
    "PasswordStatus",
    "Problem",
    "Purpose",
    "RegistrationForm",
    "StartResult",
    "StartStatus",
    "change_password",
    "code_message",
    "complete_password_reset",
    "confirm_email_change",
    "confirm_registration",
    "default_account_settings",
    "finish_login",
    "forget_chat",
    "get_account",
    "is_common",
    "new_request_id",
    "normalise_email",
    "normalise_postcode",
    "password_rules",
    "purge_expired",
    "request_password_reset",
    "resend_code",
    "start_email_change",
    "start_login",
    "start_registration",
    "verify_password_reset",
]
