"""getMe, getUpdates and the webhook methods: how the bot learns who it is and what happened.

A long poll waits (on the world's signal) for updates, and answers ``409 Conflict`` when a newer
poll or a webhook takes over; setting a webhook hands delivery to :mod:`standin.webhook`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..checks import ApiError, bad_request
from ..models import WebhookConfig
from .base import Methods, answers

if TYPE_CHECKING:
    from ..params import Params
    from ..world import World

__all__ = ["UpdateMethods"]


class UpdateMethods(Methods):
    """getMe, getUpdates, setWebhook, deleteWebhook, getWebhookInfo."""

    def __init__(
        self,
        world: World,
        *,
        strict_webhooks: bool = False,
        on_webhook_change: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(world)
        self.strict_webhooks = strict_webhooks
        """Insist on HTTPS webhook URLs, as Telegram does."""
        self.on_webhook_change = on_webhook_change

    @answers("getMe")
    async def get_me(self, p: Params) -> Any:
        return self.world.bot_user_dict(full=True)

    @answers("getUpdates")
    async def get_updates(self, p: Params) -> Any:
        w = self.world
        webhook_conflict = ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
        if w.webhook is not None:
            raise webhook_conflict
        w.poll_generation += 1
        generation = w.poll_generation
        w.changed.notify()  # an older long poll still waiting now answers 409
        if "allowed_updates" in p.values:
            allowed = p.json("allowed_updates")
            w.allowed_updates = list(allowed) if allowed else None
        w.confirm(p.int("offset"))
        limit = min(max(p.int("limit") or 100, 1), 100)
        timeout = max(p.int("timeout") or 0, 0)

        def ready() -> bool:
            return (
                w.closing
                or w.poll_generation != generation
                or w.webhook is not None
                or w.deliverable()
            )

        if timeout:
            await w.changed.wait_for(ready, timeout)
        if w.poll_generation != generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        if w.webhook is not None:
            raise webhook_conflict
        if w.closing:
            return []
        return w.take_updates(limit)

    @answers("setWebhook")
    async def set_webhook(self, p: Params) -> Any:
        w = self.world
        url = p.str("url") or ""
        if not url:
            return await self.delete_webhook(p)
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme not in ("http", "https"):
            raise bad_request("bad webhook: Unsupported URL protocol")
        if self.strict_webhooks and scheme != "https":
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.str("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        if p.bool("drop_pending_updates"):
            w.drop_pending()
        allowed = p.json("allowed_updates") if "allowed_updates" in p.values else w.allowed_updates
        w.allowed_updates = list(allowed) if allowed else None
        self._use(
            WebhookConfig(
                url=url,
                secret_token=secret or None,
                max_connections=min(max(p.int("max_connections") or 40, 1), 100),
                allowed_updates=w.allowed_updates,
                ip_address=p.str("ip_address"),
            )
        )
        return True

    @answers("deleteWebhook")
    async def delete_webhook(self, p: Params) -> Any:
        if p.bool("drop_pending_updates"):
            self.world.drop_pending()
        self._use(None)
        return True

    def _use(self, hook: WebhookConfig | None) -> None:
        """Deliver by ``hook`` from now on (``None``: by getUpdates)."""
        self.world.webhook = hook
        self.world.changed.notify()
        self.on_webhook_change()

    @answers("getWebhookInfo")
    async def get_webhook_info(self, p: Params) -> Any:
        w = self.world
        hook = w.webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(w.updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.ip_address:
                info["ip_address"] = hook.ip_address
            if hook.allowed_updates:
                info["allowed_updates"] = hook.allowed_updates
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info
