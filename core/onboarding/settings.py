"""Settings of onboarding: the bot's username for deep links, how long an invitation lasts.

Read from the environment (prefix EHCP_) and the optional .env file, like `core.config`.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OnboardingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EHCP_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_username: str = Field(
        "ehcp_portal_bot",
        description="The bot's @username (without @), for invitation links https://t.me/<bot>?start=<token>.",
    )
    invitation_valid_days: int = Field(28, ge=1, description="How long an invitation's code and link work.")
    invitation_code_max_tries: int = Field(
        5, ge=1, description="Wrong unique codes before an invitation is locked (until the SEND team resends it)."
    )
    send_team_name: str = Field("the SEND team", description="How emails and notices name the SEND team.")

    @property
    def invitation_ttl(self) -> timedelta:
        return timedelta(days=self.invitation_valid_days)

    def deep_link(self, token: str) -> str:
        return f"https://t.me/{self.bot_username.lstrip('@')}?start={token}"
