"""What the account settings make: the password policy, the argon2id hasher, the one-time code
limits. The settings themselves are a group of the one settings tree, `portal.settings.accounts`
(`core.config.AccountSettings`, read from the environment with the rest); they are built here, not
there, so that the settings know nothing of the accounts' classes."""

from __future__ import annotations

from datetime import timedelta

from core.accounts.codes import CodeLimits
from core.accounts.policy import Hasher, PasswordPolicy
from core.config import AccountSettings

__all__ = ["AccountSettings", "code_limits", "hasher", "password_policy"]


def password_policy(settings: AccountSettings) -> PasswordPolicy:
    return PasswordPolicy(
        min_length=settings.password_min_length,
        max_length=max(settings.password_max_length, settings.password_min_length),
        require_letter=settings.password_require_letter,
        require_upper=settings.password_require_upper,
        require_digit=settings.password_require_digit,
        restrict_characters=settings.password_restrict_characters,
        history=settings.password_history,
        check_blocklist=settings.password_check_blocklist,
        check_personal=settings.password_check_personal,
    )


def hasher(settings: AccountSettings) -> Hasher:
    """argon2id at the configured cost (one per cost in the process)."""
    return Hasher.cached(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)


def code_limits(settings: AccountSettings) -> CodeLimits:
    return CodeLimits(
        ttl=timedelta(minutes=settings.code_minutes),
        max_tries=settings.code_max_tries,
        issues_per_hour=settings.codes_per_hour,
        wrong_per_hour=settings.wrong_codes_per_hour,
    )
