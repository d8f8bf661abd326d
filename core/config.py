"""Settings, from the environment (prefix EHCP_) and an optional .env file.

One class per concern, composed into `Settings`. Secrets are `SecretStr`: their repr is masked,
so they never reach a log by accident. Every field here is listed in the README's settings table
(a test checks that), with its default.
"""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _config() -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix="EHCP_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )


class TelegramSettings(BaseSettings):
    model_config = _config()

    bot_token: SecretStr | None = Field(None, description="The bot's token from @BotFather.")
    telegram_api_base: str = Field(
        "https://api.telegram.org",
        description="Bot API base URL. Tests and the sandbox point it at the local stand-in.",
    )
    polling_timeout: int = Field(30, description="Long-polling timeout in seconds.")
    staff_chat_id: int | None = Field(
        None,
        description="The staff supergroup (with topics) where families' messages appear and caseworkers "
        "reply. Unset: no staff group.",
    )


class StorageSettings(BaseSettings):
    model_config = _config()

    data_dir: Path = Field(Path("var"), description="Folder for the SQLite file, secret key, mail and files.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL. Default: sqlite+aiosqlite under the data folder. "
        "At scale: postgresql+asyncpg://user:password@host/db.",
    )
    sqlite_busy_timeout_ms: int = Field(
        15000,
        ge=100,
        description="How long a write waits for its turn: behind this process's other writers (first come, first served), and on SQLite's lock behind other processes. Past it, the work is tried again.",
    )
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        "FULL",
        description="SQLite's synchronous setting in WAL mode. FULL: a commit survives a power cut too (about 0.3 ms more per commit); NORMAL: only a crash of the process.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Server secret for code HMACs and page tokens. Generated into "
        "<data_dir>/secret_key on first run when not given.",
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'ehcp.sqlite3').resolve()}"


class MailSettings(BaseSettings):
    model_config = _config()

    smtp_host: str | None = Field(None, description="SMTP server. Unset: emails are written as .eml files to mail_dir.")
    smtp_port: int = Field(587, description="SMTP port.")
    smtp_user: str | None = Field(None, description="SMTP user name, if the server needs one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_from: str = Field("SEND Team <send-team@example.invalid>", description="From address of every email.")
    smtp_tls: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="starttls (port 587), tls (implicit, port 465) or none (loopback only)."
    )
    smtp_timeout: float = Field(30.0, description="Seconds before an SMTP attempt is given up and retried.")
    mail_dir: Path | None = Field(None, description="Folder for .eml files when no SMTP host. Default: <data_dir>/mail.")


class HttpSettings(BaseSettings):
    model_config = _config()

    api_host: str = Field("127.0.0.1", description="Caseworker API listen address (keep it internal).")
    api_port: int = Field(8081, description="Caseworker API port.")
    web_host: str = Field("127.0.0.1", description="Parents' pages listen address.")
    web_port: int = Field(8080, description="Parents' pages port.")
    public_url: str = Field(
        "http://127.0.0.1:8080",
        description="Where parents reach the pages. HTTPS makes them open as a Telegram Mini App.",
    )

    @field_validator("public_url")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.rstrip("/")


class DeliverySettings(BaseSettings):
    model_config = _config()

    delivery_rate: float = Field(25.0, description="Telegram sends per second, all chats together.")
    delivery_rate_per_chat: float = Field(1.0, description="Telegram sends per second to one chat.")
    delivery_interval: float = Field(1.0, description="Seconds between outbox ticks.")
    delivery_batch: int = Field(200, description="Notices claimed from the outbox per tick.")
    delivery_max_attempts: int = Field(8, description="Attempts before a notice is marked failed.")
    delivery_lease_seconds: int = Field(
        120,
        description="How long a claimed notice stays locked to one worker (a stopped worker's notices are taken back at once).",
    )
    delivery_in_flight: int = Field(
        1,
        ge=1,
        le=16,
        description="Sends to Telegram at once per worker. Each is one notice a crash can send twice; raise it only where Telegram is far away.",
    )
    quiet_hours_start: time = Field(time(21, 0), description="Quiet hours begin (Europe/London).")
    quiet_hours_end: time = Field(time(8, 0), description="Quiet hours end (Europe/London).")


class ReminderSettings(BaseSettings):
    model_config = _config()

    reminder_time: time = Field(
        time(9, 0), description="Time of day (Europe/London) reminders are sent on their day."
    )
    reminder_horizon_days: int = Field(
        14, ge=8, le=120, description="How far ahead reminders are planned as rows (replanned daily)."
    )
    reminder_interval: float = Field(60.0, description="Seconds between reminder ticks.")
    missed_relevant_days: int = Field(
        14, ge=1, description="A missed-date notice is still sent this many days after the date, not later."
    )


class ProductSettings(BaseSettings):
    model_config = _config()

    council_name: str = Field("the council", description="The council's name, as parents know it.")
    send_team_contact: str = Field(
        "the SEND team at the council", description="How to reach a person, shown in /help."
    )
    response_time: str = Field(
        "within 5 working days", description="The SEND team's stated response time, told to parents."
    )
    log_level: str = Field("INFO", description="Logging level.")
    forms_dir: Path | None = Field(
        None,
        description="A folder of the council's own form definitions (YAML or JSON), added to the "
        "bundled ones (a file with a bundled form's id replaces it). Checked at start.",
    )
    protect_documents: bool = Field(
        False,
        description="Send documents, and the PDFs of forms, as protected content (the parent "
        "cannot forward or save them from the chat).",
    )


class OnboardingSettings(BaseSettings):
    model_config = _config()

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


class Settings:
    """All settings, one object per concern."""

    def __init__(self, _env_file: str | None = ".env", **overrides: object) -> None:
        groups = {
            "telegram": TelegramSettings,
            "storage": StorageSettings,
            "mail": MailSettings,
            "http": HttpSettings,
            "delivery": DeliverySettings,
            "product": ProductSettings,
            "reminders": ReminderSettings,
            "onboarding": OnboardingSettings,
        }
        for name, cls in groups.items():
            own = {k: v for k, v in overrides.items() if k in cls.model_fields}
            setattr(self, name, cls(_env_file=_env_file, **own))
        known = {f for cls in groups.values() for f in cls.model_fields}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")

    telegram: TelegramSettings
    storage: StorageSettings
    mail: MailSettings
    http: HttpSettings
    delivery: DeliverySettings
    product: ProductSettings
    reminders: ReminderSettings
    onboarding: OnboardingSettings

    @staticmethod
    def groups() -> list[type[BaseSettings]]:
        return [
            TelegramSettings, StorageSettings, MailSettings, HttpSettings, DeliverySettings,
            ProductSettings, ReminderSettings, OnboardingSettings,
        ]

    @property
    def mail_dir(self) -> Path:
        return self.mail.mail_dir or self.storage.data_dir / "mail"


def settings_table() -> str:
    """The README's settings table, made from the classes above (`python -m core.config`)."""
    from core.accounts.config import AccountSettings

    rows = ["| setting | default | what it is |", "|---|---|---|"]
    for cls in [*Settings.groups(), AccountSettings]:
        for name, field in cls.model_fields.items():
            default = field.default
            if default is None:
                shown = "(unset)"
            elif isinstance(default, time):
                shown = default.strftime("%H:%M")
            else:
                shown = str(default)
            rows.append(f"| `EHCP_{name.upper()}` | `{shown}` | {field.description or ''} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
