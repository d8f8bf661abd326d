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
    webhook_url: str | None = Field(
        None,
        description="Webhook mode: the public https:// address Telegram posts updates to (it reaches "
        "EHCP_WEBHOOK_HOST:EHCP_WEBHOOK_PORT, path /telegram/webhook, through your TLS proxy). Unset: long polling.",
    )
    webhook_secret: SecretStr | None = Field(
        None,
        description="Webhook mode: the secret Telegram sends with every update (16-256 of A-Z a-z 0-9 _ -); "
        "required with EHCP_WEBHOOK_URL.",
    )
    webhook_host: str = Field("127.0.0.1", description="Webhook mode: the receiver's listen address.")
    webhook_port: int = Field(8082, description="Webhook mode: the receiver's port.")
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
    redis_url: str | None = Field(
        None,
        description="Redis, for several processes (web replicas, workers): one chat's updates handled one at a "
        "time across replicas, and one Telegram flood limit for every process that sends. "
        "Unset: each process keeps its own (right for one process). redis://host:6379/0",
    )
    sqlite_busy_timeout_ms: int = Field(
        15000,
        ge=100,
        description="How long a write waits for its turn: behind this process's other writers (first come, first served), and on SQLite's lock behind other processes. Past it, the work is tried again.",
    )
    sqlite_inline: bool = Field(
        True,
        description="Run SQLite's calls on the event loop's own thread: no thread hop per call, and a wait for another process's lock sleeps on the loop, never blocking it. false: the aiosqlite driver (a thread per connection).",
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
    frame_ancestors: str = Field(
        "", description="Origins, beside Telegram's, allowed to show the parents' pages in a frame "
        "(space-separated; the sandbox sets its own page)."
    )
    page_banner: str = Field(
        "", max_length=120, description="A line at the top of every parents' page, for a service that is not "
        "the real one (for example \"Test service: not for real cases\"); the sandbox sets its own."
    )
    sandbox_port: int = Field(
        8090, description="The sandbox's page (ehcp-bot sandbox, or run with no bot token), on 127.0.0.1 only."
    )
    metrics_port: int = Field(
        0, ge=0, le=65535,
        description="A worker's own /healthz, /readyz and /metrics (ehcp-bot worker), on EHCP_API_HOST. "
        "0: off. The service's are on the caseworker API's port.",
    )
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

    delivery_rate: float = Field(
        29.0, description="Telegram sends per second, all chats together (Telegram allows about 30)."
    )
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
    rights_dir: Path | None = Field(
        None,
        description="A folder of the council's own rights pages (Markdown with a '---' block; see "
        "core/rights.py), added to the bundled ones (a same id replaces one). Checked at start.",
    )
    kb_dir: Path | None = Field(
        None,
        description="A folder of the council's own knowledge-base pages (Markdown with a '---' block naming "
        "source and licence; see core/knowledge/base.py) that answer parents' questions, added to the "
        "bundled ones. Checked at start.",
    )
    question_retention_days: int = Field(
        0, ge=0, le=3650,
        description="How many days the text of a parent's question is kept (for the council to improve its "
        "pages), cleared by the worker's daily housekeeping so none is kept longer. 0: never kept; only the outcome, the passage shown and the answer to \"Was this helpful?\".",
    )
    sendiass_name: str = Field(
        "Your local SENDIASS (SEND Information, Advice and Support Service)",
        description="The free local SEND information, advice and support service, as parents know it.",
    )
    sendiass_contact: str = Field(
        "Ask the SEND team for its phone number and email address.",
        description="How to reach the SENDIASS (phone, email, website), told on every rights page.",
    )
    mediation_adviser: str = Field(
        "the mediation adviser named in the council's decision letter",
        description="The mediation adviser parents must contact before appealing (name and phone).",
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


class AccountSettings(BaseSettings):
    """Portal accounts: the password policy, argon2id's cost, one-time code limits. The defaults
    are the council's policy (the guide) and PRODUCT.md's code rules. What is built from them (the
    policy, the hasher, the code limits) is core.accounts.config's."""

    model_config = _config()

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

    @property
    def request_ttl(self) -> timedelta:
        return timedelta(hours=self.request_hours)


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
            "accounts": AccountSettings,
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
    accounts: AccountSettings

    @staticmethod
    def groups() -> list[type[BaseSettings]]:
        return [
            TelegramSettings, StorageSettings, MailSettings, HttpSettings, DeliverySettings,
            ProductSettings, ReminderSettings, OnboardingSettings, AccountSettings,
        ]

    @property
    def mail_dir(self) -> Path:
        return self.mail.mail_dir or self.storage.data_dir / "mail"


def settings_table() -> str:
    """The README's settings table, made from the classes above (`python -m core.config`)."""
    rows = ["| setting | default | what it is |", "|---|---|---|"]
    for cls in Settings.groups():
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
