"""The HTTP face of the stand-in: Bot API routes and one handler per Bot API method.

Routes (as on ``api.telegram.org``):

* ``GET|POST /bot<token>/<method>`` with query, url-encoded, multipart or JSON parameters;
  answers ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, ...}``.
* ``GET /file/bot<token>/<file_path>`` serves files (those users uploaded and the bot sent).

Method names are case-insensitive like Telegram's. A wrong token gets ``401 Unauthorized`` and
an unknown method ``404 Not Found``. Handlers validate with :mod:`standin.checks`, change the
:class:`~standin.world.World` and return the result object as the Bot API serialises it.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import checks
from .actors import TOPIC_COLORS, SimGroup
from .checks import ApiError, bad_request
from .models import BotMessage, ChatAction, FileInfo, Keyboard, UserMessage, WebhookConfig
from .world import DELETE_WINDOW, CommandScope, World

__all__ = ["ApiServer", "Params", "Upload"]

MAX_UPLOAD = 50 * 1024 * 1024
MAX_PHOTO = 10 * 1024 * 1024
MAX_DOWNLOAD = 20 * 1024 * 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)

Handler = Callable[["Params"], Awaitable[Any]]


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    data: bytes
    filename: str | None
    content_type: str | None


class Params:
    """Request parameters with the Bot API's loose typing (everything may arrive as a string)."""

    def __init__(self, values: dict[str, Any], files: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.files = files or {}

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value)

    def int(self, name: str, *, required: bool = False) -> int | None:
        value = self.values.get(name)
        if value in (None, ""):
            if required:
                raise bad_request(f"{name} is empty")
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def bool(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1")

    def json(self, name: str, *, error: str | None = None) -> Any:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(error or f"can't parse {name} JSON object") from None

    def file(self, name: str) -> Upload | str | None:
        """An uploaded file (directly or via ``attach://``) or a file_id/URL string."""
        if name in self.files:
            return self.files[name]
        value = self.str(name)
        if value and value.startswith("attach://"):
            key = value[len("attach://") :]
            if key not in self.files:
                raise bad_request(f"file {key} not found in the request")
            return self.files[key]
        return value or None


async def read_params(request: web.Request) -> Params:
    values: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON encoded request") from None
            if isinstance(body, dict):
                values.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = Upload(value.file.read(), value.filename, value.content_type)
                else:
                    values[key] = value
    return Params(values, files)


class ApiServer:
    """Bot API method handlers over a :class:`World`, plus the aiohttp application."""

    def __init__(self, world: World, *, strict_webhooks: bool = False) -> None:
        self.world = world
        self.strict_webhooks = strict_webhooks
        self.on_webhook_change: Callable[[], None] = lambda: None
        self.handlers: dict[str, Handler] = {
            "getme": self.get_me,
            "getupdates": self.get_updates,
            "setwebhook": self.set_webhook,
            "deletewebhook": self.delete_webhook,
            "getwebhookinfo": self.get_webhook_info,
            "sendmessage": self.send_message,
            "editmessagetext": self.edit_message_text,
            "editmessagecaption": self.edit_message_caption,
            "editmessagereplymarkup": self.edit_message_reply_markup,
            "deletemessage": self.delete_message,
            "deletemessages": self.delete_messages,
            "answercallbackquery": self.answer_callback_query,
            "senddocument": self.send_document,
            "sendphoto": self.send_photo,
            "sendchataction": self.send_chat_action,
            "getfile": self.get_file,
            "setmycommands": self.set_my_commands,
            "getmycommands": self.get_my_commands,
            "deletemycommands": self.delete_my_commands,
            "createforumtopic": self.create_forum_topic,
            "editforumtopic": self.edit_forum_topic,
            "closeforumtopic": self.close_forum_topic,
            "reopenforumtopic": self.reopen_forum_topic,
            "deleteforumtopic": self.delete_forum_topic,
            "getchat": self.get_chat,
            "getchatmember": self.get_chat_member,
            "setmydescription": self._setting("description"),
            "getmydescription": self._getting("description"),
            "setmyshortdescription": self._setting("short_description"),
            "getmyshortdescription": self._getting("short_description"),
            "setmyname": self._setting("name"),
            "getmyname": self._getting("name"),
            "setchatmenubutton": self.set_chat_menu_button,
            "getchatmenubutton": self.get_chat_menu_button,
        }

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

    # ------------------------------------------------------------ updates and webhooks

    async def get_me(self, p: Params) -> Any:
        return self.world.bot_user_dict(full=True)

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
        w.webhook = WebhookConfig(
            url=url,
            secret_token=secret or None,
            max_connections=min(max(p.int("max_connections") or 40, 1), 100),
            allowed_updates=w.allowed_updates,
            ip_address=p.str("ip_address"),
        )
        w.changed.notify()
        self.on_webhook_change()
        return True

    async def delete_webhook(self, p: Params) -> Any:
        w = self.world
        if p.bool("drop_pending_updates"):
            w.drop_pending()
        w.webhook = None
        w.changed.notify()
        self.on_webhook_change()
        return True

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

    # ------------------------------------------------------------ sending

    def _markup(self, p: Params, chat: Any, *, inline_only: bool = False) -> Keyboard | None:
        raw = p.json("reply_markup", error="can't parse reply keyboard markup JSON object")
        return checks.parse_reply_markup(
            raw, private=chat.type == "private", inline_only=inline_only
        )

    def _reply_target(self, p: Params, chat: Any) -> int | None:
        params = p.json("reply_parameters") or {}
        if not isinstance(params, dict):
            raise bad_request("can't parse reply parameters JSON object")
        message_id = params.get("message_id", p.int("reply_to_message_id"))
        if message_id is None:
            return None
        allow = params.get("allow_sending_without_reply") or p.bool("allow_sending_without_reply")
        target = chat.get(int(message_id))
        if target is None or target.deleted:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return int(message_id)

    def _new_message(self, chat: Any, p: Params, method: str, **fields: Any) -> BotMessage:
        return BotMessage(
            message_id=chat.new_message_id(),
            chat_id=chat.id,
            date=self.world.now(),
            method=method,
            disable_notification=p.bool("disable_notification"),
            protect_content=p.bool("protect_content"),
            **fields,
        )

    def _commit(self, chat: Any, msg: BotMessage, at: float) -> Any:
        chat.store(msg)
        self.world.record_send(msg, msg.method, at)
        return self.world.message_dict(msg)

    async def send_message(self, p: Params) -> Any:
        w = self.world
        chat = w.writable_chat(p.raw("chat_id"))
        thread_id = chat.resolve_thread(p.int("message_thread_id"))
        parse_mode = p.str("parse_mode")
        text, entities = checks.check_message_text(p.str("text"), parse_mode, p.json("entities"))
        markup = self._markup(p, chat)
        reply_id = self._reply_target(p, chat)
        preview = p.json("link_preview_options")
        disabled = bool(isinstance(preview, dict) and preview.get("is_disabled")) or p.bool(
            "disable_web_page_preview"
        )
        at = w.admit_send(chat.id)
        msg = self._new_message(
            chat,
            p,
            "sendMessage",
            thread_id=thread_id,
            text=text,
            html=p.str("text"),
            parse_mode=parse_mode,
            entities=entities,
            reply_markup=markup,
            reply_to_message_id=reply_id,
            link_preview_disabled=disabled,
            link_preview_options=preview if isinstance(preview, dict) else None,
        )
        return self._commit(chat, msg, at)

    async def _send_media(self, p: Params, kind: str) -> Any:
        w = self.world
        method = "sendDocument" if kind == "document" else "sendPhoto"
        chat = w.writable_chat(p.raw("chat_id"))
        thread_id = chat.resolve_thread(p.int("message_thread_id"))
        source = p.file(kind)
        if source is None:
            raise bad_request(f"there is no {kind} in the request")
        existing: FileInfo | None = None
        size: tuple[int, int] | None = None
        if isinstance(source, Upload):
            if not source.data:
                raise bad_request("file must be non-empty")
            if len(source.data) > (MAX_UPLOAD if kind == "document" else MAX_PHOTO):
                raise ApiError(413, "Request Entity Too Large")
            if kind == "photo":
                size = checks.image_size(source.data)
                if size is None:
                    raise bad_request("IMAGE_PROCESS_FAILED")
        else:
            existing = w.files.get(source)
            if existing is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            if existing.kind != kind:
                raise bad_request(
                    f"can't use file of type {existing.kind.title()} as {kind.title()}"
                )
        parse_mode = p.str("parse_mode")
        caption, entities = checks.check_caption(
            p.str("caption"), parse_mode, p.json("caption_entities")
        )
        markup = self._markup(p, chat)
        reply_id = self._reply_target(p, chat)
        at = w.admit_send(chat.id)
        if existing is not None:
            info = existing
        elif kind == "document":
            assert isinstance(source, Upload)
            filename = source.filename or "document"
            guessed = mimetypes.guess_type(filename)[0]
            given = source.content_type
            mime = guessed or (given if given != "application/octet-stream" else None)
            info = w.add_file(
                "document",
                source.data,
                filename=filename,
                mime_type=mime or "application/octet-stream",
            )
        else:
            assert isinstance(source, Upload) and size is not None
            info = w.add_file("photo", source.data, width=size[0], height=size[1])
        msg = self._new_message(
            chat,
            p,
            method,
            thread_id=thread_id,
            text=caption or "",
            caption=caption,
            html=p.str("caption"),
            parse_mode=parse_mode,
            entities=entities,
            reply_markup=markup,
            reply_to_message_id=reply_id,
            **{kind: info},
        )
        return self._commit(chat, msg, at)

    async def send_document(self, p: Params) -> Any:
        return await self._send_media(p, "document")

    async def send_photo(self, p: Params) -> Any:
        return await self._send_media(p, "photo")

    async def send_chat_action(self, p: Params) -> Any:
        chat = self.world.writable_chat(p.raw("chat_id"))
        action = checks.check_chat_action(p.str("action"))
        thread_id = chat.resolve_thread(p.int("message_thread_id"))
        chat.actions.append(ChatAction(action, thread_id, self.world.monotonic()))
        self.world.changed.notify()
        return True

    # ------------------------------------------------------------ editing and deleting

    def _editable(self, p: Params) -> tuple[Any, BotMessage]:
        if p.has("inline_message_id"):
            raise bad_request("message to edit not found")
        chat = self.world.writable_chat(p.raw("chat_id"))
        target = chat.get(p.int("message_id", required=True))
        if target is None or target.deleted or not isinstance(target, BotMessage | UserMessage):
            raise bad_request("message to edit not found")
        if isinstance(target, UserMessage):
            raise bad_request("message can't be edited")
        return chat, target

    @staticmethod
    def _inline(msg: BotMessage) -> Keyboard | None:
        markup = msg.reply_markup
        return markup if markup is not None and markup.kind == "inline" else None

    def _apply_edit(self, msg: BotMessage, markup: Keyboard | None) -> None:
        """Set the new inline keyboard (an edit without one removes it) and mark edited."""
        if markup is not None or self._inline(msg) is not None:
            msg.reply_markup = markup
        msg.edited = True
        msg.edit_date = self.world.now()

    async def edit_message_text(self, p: Params) -> Any:
        w = self.world
        chat, msg = self._editable(p)
        if msg.document is not None or msg.photo is not None:
            raise bad_request("there is no text in the message to edit")
        parse_mode = p.str("parse_mode")
        text, entities = checks.check_message_text(p.str("text"), parse_mode, p.json("entities"))
        markup = self._markup(p, chat, inline_only=True)
        if text == msg.text and entities == msg.entities and markup == self._inline(msg):
            raise bad_request(NOT_MODIFIED)
        at = w.admit_send(chat.id)
        if text != msg.text:
            msg.versions.append(msg.text)
        msg.text, msg.html, msg.parse_mode, msg.entities = text, p.str("text"), parse_mode, entities
        preview = p.json("link_preview_options")
        if isinstance(preview, dict):
            msg.link_preview_options = preview
            msg.link_preview_disabled = bool(preview.get("is_disabled"))
        self._apply_edit(msg, markup)
        w.record_send(msg, "editMessageText", at)
        return w.message_dict(msg)

    async def edit_message_caption(self, p: Params) -> Any:
        w = self.world
        chat, msg = self._editable(p)
        if msg.document is None and msg.photo is None:
            raise bad_request("there is no caption in the message to edit")
        parse_mode = p.str("parse_mode")
        caption, entities = checks.check_caption(
            p.str("caption"), parse_mode, p.json("caption_entities")
        )
        markup = self._markup(p, chat, inline_only=True)
        if caption == msg.caption and entities == msg.entities and markup == self._inline(msg):
            raise bad_request(NOT_MODIFIED)
        at = w.admit_send(chat.id)
        if caption != msg.caption:
            msg.versions.append(msg.text)
        msg.caption, msg.text, msg.html = caption, caption or "", p.str("caption")
        msg.parse_mode, msg.entities = parse_mode, entities
        self._apply_edit(msg, markup)
        w.record_send(msg, "editMessageCaption", at)
        return w.message_dict(msg)

    async def edit_message_reply_markup(self, p: Params) -> Any:
        chat, msg = self._editable(p)
        markup = self._markup(p, chat, inline_only=True)
        if markup == self._inline(msg):
            raise bad_request(NOT_MODIFIED)
        self._apply_edit(msg, markup)
        self.world.changed.notify()
        return self.world.message_dict(msg)

    def _delete(self, chat: Any, message_id: int) -> None:
        target = chat.get(message_id)
        if target is None or target.deleted:
            raise bad_request("message to delete not found")
        if self.world.now() - target.date > DELETE_WINDOW:
            raise bad_request("message can't be deleted")
        if isinstance(chat, SimGroup) and chat.bot_status != "administrator":
            raise bad_request("message can't be deleted")
        target.deleted = True
        self.world.changed.notify()

    async def delete_message(self, p: Params) -> Any:
        chat = self.world.resolve_chat(p.raw("chat_id"))
        self._delete(chat, p.int("message_id", required=True) or 0)
        return True

    async def delete_messages(self, p: Params) -> Any:
        chat = self.world.resolve_chat(p.raw("chat_id"))
        ids = p.json("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must be a non-empty list of at most 100 ids")
        for message_id in ids:
            try:
                self._delete(chat, int(message_id))
            except ApiError:
                continue  # Telegram skips messages it can't delete
        return True

    async def answer_callback_query(self, p: Params) -> Any:
        w = self.world
        record = w.callbacks.get(p.str("callback_query_id") or "")
        if record is None or record.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.str("text")
        if text and len(text) > checks.MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        record.text = text
        record.show_alert = p.bool("show_alert")
        record.url = p.str("url")
        record.cache_time = p.int("cache_time")
        w.changed.notify()
        return True

    # ------------------------------------------------------------ files

    async def get_file(self, p: Params) -> Any:
        info = self.world.files.get(p.str("file_id") or "")
        if info is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        if info.size > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return {
            "file_id": info.file_id,
            "file_unique_id": info.file_unique_id,
            "file_size": info.size,
            "file_path": info.file_path,
        }

    # ------------------------------------------------------------ commands and settings

    def _scope_key(self, p: Params) -> CommandScope:
        scope = p.json("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in SCOPE_TYPES:
            raise bad_request("can't parse BotCommandScope")
        chat_id = user_id = None
        if scope["type"] in ("chat", "chat_administrators", "chat_member"):
            chat_id = self.world.resolve_chat(scope.get("chat_id")).id
        if scope["type"] == "chat_member":
            user_id = self.world.user(scope.get("user_id")).id
        language = p.str("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return CommandScope(scope["type"], chat_id, user_id, language)

    async def set_my_commands(self, p: Params) -> Any:
        commands = checks.check_commands(p.json("commands"))
        key = self._scope_key(p)
        if commands:
            self.world.commands[key] = commands
        else:
            self.world.commands.pop(key, None)
        self.world.changed.notify()
        return True

    async def get_my_commands(self, p: Params) -> Any:
        commands = self.world.commands.get(self._scope_key(p), [])
        return [{"command": c, "description": d} for c, d in commands]

    async def delete_my_commands(self, p: Params) -> Any:
        self.world.commands.pop(self._scope_key(p), None)
        self.world.changed.notify()
        return True

    def _setting(self, field: str) -> Handler:
        async def handler(p: Params) -> Any:
            self.world.settings[(field, p.str("language_code") or "")] = p.str(field) or ""
            return True

        return handler

    def _getting(self, field: str) -> Handler:
        async def handler(p: Params) -> Any:
            value = self.world.settings.get((field, p.str("language_code") or ""), "")
            if field == "name" and not value:
                value = self.world.bot_name
            return {field: value}

        return handler

    async def set_chat_menu_button(self, p: Params) -> Any:
        key = ("menu_button", p.int("chat_id"))
        self.world.settings[key] = p.json("menu_button") or {"type": "default"}
        return True

    async def get_chat_menu_button(self, p: Params) -> Any:
        button = self.world.settings.get(("menu_button", p.int("chat_id")))
        return button or self.world.settings.get(("menu_button", None)) or {"type": "commands"}

    # ------------------------------------------------------------ chats and topics

    async def get_chat(self, p: Params) -> Any:
        return self.world.resolve_chat(p.raw("chat_id")).full_chat_dict()

    async def get_chat_member(self, p: Params) -> Any:
        w = self.world
        chat = w.resolve_chat(p.raw("chat_id"))
        user_id = p.int("user_id", required=True)
        if isinstance(chat, SimGroup):
            return chat.member_dict(user_id or 0)
        if user_id == w.bot_id:
            return {"status": "member", "user": w.bot_user_dict()}
        if user_id != chat.id:
            raise bad_request("user not found")
        return {"status": "member", "user": w.user(user_id).user_dict()}

    def _forum(self, p: Params) -> SimGroup:
        chat = self.world.writable_chat(p.raw("chat_id"))
        if not isinstance(chat, SimGroup) or not chat.forum:
            raise bad_request("the chat is not a forum")
        return chat

    async def create_forum_topic(self, p: Params) -> Any:
        chat = self._forum(p)
        name = p.str("name") or ""
        if not name.strip():
            raise bad_request("TOPIC_TITLE_EMPTY")
        if len(name) > 128:
            raise bad_request("TOPIC_TITLE_INVALID")
        color = p.int("icon_color") or TOPIC_COLORS[0]
        if color not in TOPIC_COLORS:
            raise bad_request("TOPIC_ICON_COLOR_INVALID")
        topic = chat.create_topic_message(name, color, self.world.bot_id)
        result: dict[str, Any] = {
            "message_thread_id": topic.thread_id,
            "name": topic.name,
            "icon_color": topic.icon_color,
        }
        if p.has("icon_custom_emoji_id"):
            result["icon_custom_emoji_id"] = p.str("icon_custom_emoji_id")
        return result

    async def edit_forum_topic(self, p: Params) -> Any:
        topic = self._forum(p).topic(p.int("message_thread_id", required=True) or 0)
        name = p.str("name")
        if name is not None:
            if not name.strip() or len(name) > 128:
                raise bad_request("TOPIC_TITLE_INVALID")
            if name == topic.name:
                raise bad_request("TOPIC_NOT_MODIFIED")
            topic.name = name
        self.world.changed.notify()
        return True

    async def close_forum_topic(self, p: Params) -> Any:
        topic = self._forum(p).topic(p.int("message_thread_id", required=True) or 0)
        if topic.closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = True
        return True

    async def reopen_forum_topic(self, p: Params) -> Any:
        topic = self._forum(p).topic(p.int("message_thread_id", required=True) or 0)
        if not topic.closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = False
        return True

    async def delete_forum_topic(self, p: Params) -> Any:
        self._forum(p).remove_topic(p.int("message_thread_id", required=True) or 0)
        return True
