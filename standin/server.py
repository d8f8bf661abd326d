"""The HTTP face of the stand-in: Bot API routes, each method sent to its handler.

Routes (as on ``api.telegram.org``):

* ``GET|POST /bot<token>/<method>`` with query, url-encoded, multipart or JSON parameters;
  answers ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, ...}``.
* ``GET /file/bot<token>/<file_path>`` serves files (those users uploaded and the bot sent).

Method names are case-insensitive like Telegram's. A wrong token gets ``401 Unauthorized`` and
an unknown method ``404 Not Found``. The handlers, one per Bot API method, live in
:mod:`standin.methods` grouped by area; they validate with :mod:`standin.checks`, change the
:class:`~standin.world.World` and return the result object as the Bot API serialises it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from .checks import ApiError
from .methods import ChatMethods, CommandMethods, EditingMethods, SendingMethods, UpdateMethods
from .params import MAX_UPLOAD, Handler, Params, Upload, read_params
from .world import World

__all__ = ["ApiServer", "Params", "Upload"]


class ApiServer:
    """The aiohttp application over a :class:`World`: each Bot API method to its handler."""

    def __init__(self, world: World, *, strict_webhooks: bool = False) -> None:
        self.world = world
        self.on_webhook_change: Callable[[], None] = lambda: None
        groups = (
            UpdateMethods(
                world,
                strict_webhooks=strict_webhooks,
                on_webhook_change=lambda: self.on_webhook_change(),
            ),
            SendingMethods(world),
            EditingMethods(world),
            CommandMethods(world),
            ChatMethods(world),
        )
        self.handlers: dict[str, Handler] = {}
        """Lower-case method name → handler."""
        for group in groups:
            self.handlers.update(group.handlers())

    # ------------------------------------------------------------ HTTP

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self.handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self.handle_file)
        return app

    async def handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.world.stats.requests[method] += 1
        try:
            if request.match_info["token"] != self.world.token:
                raise ApiError(401, "Unauthorized")
            if method.lower() not in self.handlers:
                raise ApiError(404, "Not Found")
            params = await read_params(request)
            result = await self.call(method, params)
        except ApiError as e:
            self.world.stats.errors.append((method, e.code, e.description))
            return web.json_response(e.body(), status=e.code)
        return web.json_response({"ok": True, "result": result})

    async def handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.world.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        info = self.world.files_by_path.get(request.match_info["path"])
        if info is None:
            return web.json_response(ApiError(404, "Not Found").body(), status=404)
        return web.Response(
            body=info.data, content_type=info.mime_type or "application/octet-stream"
        )

    async def call(self, method: str, params: Params) -> Any:
        """Run one Bot API method (also used for methods in webhook replies)."""
        handler = self.handlers.get(method.lower())
        if handler is None:
            raise ApiError(404, "Not Found")
        return await handler(params)
