"""Portal accounts: the guide's registration, login with an emailed code, forgotten password,
changing the password or email; the password policy; one-time codes.

For the bot and the parents' pages, through the container (`services.accounts`, an
`AccountService` built once with the portal). Passwords are only ever typed on the pages (never in
a chat message); the emailed codes may be typed in the chat. Each step returns a result whose
`status` the caller turns into a kind answer (most results carry a `.message` in plain English),
and a `request_id` to keep (in the page token or the dialogue) for the next step.

    accounts = AccountService(portal)
    r = await accounts.start_registration(form_fields, chat_id=chat_id)     # -> code emailed
    c = await accounts.confirm_registration(r.request_id, "123456", chat_id=chat_id)
    c.ok, c.account_id, c.message                                           # signed in if ok
    await accounts.resend_code(r.request_id, Purpose.REGISTER)              # "Please send me a new code"

    l = await accounts.start_login(email, password, chat_id=chat_id)        # LoginStatus
    c = await accounts.finish_login(l.request_id, code, chat_id=chat_id)    # -> account_id

    r = await accounts.request_password_reset(email)                        # same answer either way
    await accounts.verify_password_reset(r.request_id, code)                # then, on the page:
    await accounts.complete_password_reset(r.request_id, new, confirm_password=new)

    await accounts.change_password(account_id, current, new, confirm_password=new)
    r = await accounts.start_email_change(account_id, password, new_email)  # code to the new address
    await accounts.confirm_email_change(account_id, r.request_id, code)     # old address told

No answer reveals whether an email has an account. Settings: `portal.settings.accounts`.
"""

from core.accounts.codes import CodeLimits, CodeStatus, Purpose, code_message, new_request_id
from core.accounts.config import AccountSettings
from core.accounts.forms import (
    PASSWORDS_DIFFER,
    RegistrationForm,
    normalise_email,
    normalise_postcode,
)
from core.accounts.policy import Hasher, PasswordPolicy, PasswordProblem, Problem, is_common
from core.accounts.results import (
    AccountInfo,
    ConfirmResult,
    LoginResult,
    LoginStatus,
    PasswordResult,
    PasswordStatus,
    StartResult,
    StartStatus,
)
from core.accounts.service import AccountService
from core.accounts.steps import Also

__all__ = [
    "PASSWORDS_DIFFER",
    "AccountInfo",
    "AccountService",
    "AccountSettings",
    "Also",
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
    "code_message",
    "is_common",
    "new_request_id",
    "normalise_email",
    "normalise_postcode",
]
