"""Logging set-up. Secrets are masked by type (SecretStr) and, as a second net, by value."""

from __future__ import annotations

import logging
import sys

from core.config import Settings


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


def setup_logging(settings: Settings, secret_key: bytes | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secret_values(settings, secret_key)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.product.log_level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
