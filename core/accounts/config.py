"""Settings of portal accounts: the password policy, argon2id's cost, one-time code limits.

Read from the environment (prefix EHCP_) and the optional .env file, like `core.config`. The
defaults are the council's policy (the guide) and PRODUCT.md's code rules.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.accounts.codes import CodeLimits
from core.accounts.policy import Hasher, PasswordPolicy


class AccountSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EHCP_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    password_min_length: int = Field(15, ge=1, description="Shortest password allowed.")
    password_max_length: int = Field(
        256, ge=128, description="Longest password allowed (at least 128; long passphrases pass)."
    )
    password_require_letter: bool = Field(
        True, description="A password needs a letter (the guide; NIST drops it)."
    )
    password_require_upper: bool = Field(
        True, description="A password needs an upper-case letter (the guide)."
    )
    password_require_digit: bool = Field(True, description="A password needs a digit (the guide).")
    password_restrict_characters: bool = Field(
        True, description="Only letters, digits, space and the guide's special characters."
    )
    password_history: int = Field(
        8, ge=0, description="Previous passwords that cannot be used again (the guide: 8)."
    )
    password_check_blocklist: bool = Field(
        True, description="Refuse common and known-breached passwords."
    )
    password_check_personal: bool = Field(
        True, description="Refuse a password containing the holder's name or email."
    )
    argon2_time_cost: int = Field(3, ge=1, description="argon2id passes.")
    argon2_memory_kib: int = Field(
        65536, ge=8, description="argon2id memory in KiB (64 MiB, RFC 9106)."
    )
    argon2_parallelism: int = Field(4, ge=1, description="argon2id lanes.")
    code_minutes: int = Field(10, ge=1, description="How long an emailed code works.")
    code_max_tries: int = Field(5, ge=1, description="Wrong tries before a code is dead.")
    codes_per_hour: int = Field(
        5, ge=1, description="Codes sent per account (or email) and per chat in an hour."
    )
    wrong_codes_per_hour: int = Field(
        10, ge=1, description="Wrong codes per account and per chat in an hour."
    )
    login_failures_per_hour: int = Field(
        10, ge=1, description="Wrong email/password pairs per email and per chat in an hour."
    )
    request_hours: int = Field(
        24, ge=1, description="How long a registration, reset or email change stays open."
    )

    def policy(self) -> PasswordPolicy:
        return PasswordPolicy(
            min_length=self.password_min_length,
            max_length=max(self.password_max_length, self.password_min_length),
            require_letter=self.password_require_letter,
            require_upper=self.password_require_upper,
            require_digit=self.password_require_digit,
            restrict_characters=self.password_restrict_characters,
            history=self.password_history,
            check_blocklist=self.password_check_blocklist,
            check_personal=self.password_check_personal,
        )

    def hasher(self) -> Hasher:
        return Hasher.cached(self.argon2_time_cost, self.argon2_memory_kib, self.argon2_parallelism)

    def code_limits(self) -> CodeLimits:
        return CodeLimits(
            ttl=timedelta(minutes=self.code_minutes),
            max_tries=self.code_max_tries,
            issues_per_hour=self.codes_per_hour,
            wrong_per_hour=self.wrong_codes_per_hour,
        )

    @property
    def request_ttl(self) -> timedelta:
        return timedelta(hours=self.request_hours)


@cache
def default_account_settings() -> AccountSettings:
    """The settings from the environment, read once per process."""
    return AccountSettings()
