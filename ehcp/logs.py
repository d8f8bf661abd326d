"""Logging set-up. Secrets are masked by type (SecretStr) and, as a second net, by value."""

from __future__ import annotations

import logging
import sys

from aiohttp.http_exceptions import HttpProcessingError

from core.config import Settings
from core.text import one_line


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = message
        for secret in self.secrets:
            cleaned = cleaned.replace(secret, "***")
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def secret_values(settings: Settings, secret_key: bytes | None = None) -> list[str]:
    values = []
    for s in (settings.telegram.bot_token, settings.mail.smtp_password, settings.storage.secret_key):
        if s is not None:
            values.append(s.get_secret_value())
    if settings.telegram.bot_token is not None:
        values.append(settings.telegram.bot_token.get_secret_value().split(":")[-1])
    if secret_key:
        values.append(secret_key.decode("utf-8", "replace"))
    return values


# APScheduler writes two INFO lines for every run of every job ("Running job ...", "... executed
# successfully"): with delivery ticks every second, some 170,000 lines a day that say nothing.
# Its warnings and errors (a job that failed or was missed) still show.
# Each says something at INFO for every run or every update ("Update id=... is handled.
# Duration 12 ms"): at a few hundred updates a second, noise that costs CPU. Failures still show.
# aiosmtpd ("mail.log": the sandbox's mailbox) says a line for every SMTP command.
CHATTY = ("apscheduler", "notifications.scheduler.apscheduler", "aiogram.event", "mail.log")


class _AlembicPreamble(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or not str(record.msg).startswith(("Context impl", "Will assume"))


class MalformedRequests(logging.Filter):
    """aiohttp writes an ERROR with a traceback for every request it cannot parse (a scanner, a
    NUL byte in a header): one WARNING line instead, with what came from outside escaped."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if record.name == "aiohttp.server" and isinstance(exc, HttpProcessingError):
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else "-"
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = "refused a malformed request from %s: %s", (
                one_line(remote), one_line(f"{type(exc).__name__}: {getattr(exc, 'message', exc)}")[:300],
            )
            record.exc_info = record.exc_text = None
        return True


def setup_logging(settings: Settings, secret_key: bytes | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MalformedRequests())
    handler.addFilter(RedactSecrets(secret_values(settings, secret_key)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = settings.product.log_level.upper()
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Alembic's set-up chatter at every start (its plugins, "Context impl SQLiteImpl."); each
    # migration it runs is still one line ("Running upgrade 0005 -> 0006").
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.NOTSET if level == "DEBUG" else logging.WARNING)
    logging.getLogger("alembic.runtime.migration").addFilter(_AlembicPreamble())
    for name in CHATTY:  # quiet unless the operator asks for everything (EHCP_LOG_LEVEL=DEBUG)
        logging.getLogger(name).setLevel(logging.NOTSET if level == "DEBUG" else logging.WARNING)
