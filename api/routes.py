"""The caseworker API's route registry: one decorator per endpoint.

    api = ApiRoutes()

    @api.post("/v1/things", body=ThingIn, response=ThingOut, status=201,
              summary="Create a thing", tags=["things"])
    async def create_thing(req: ApiRequest, body: ThingIn) -> ThingOut:
        ...

    @api.get("/v1/things/{id:int}", response=ThingOut, summary="Read a thing", tags=["things"])
    async def read_thing(req: ApiRequest) -> ThingOut:
        thing_id = req.params["id"]   # an int; a non-number in the path is a 404
        ...

The frame authenticates the bearer token (unless `auth=False`), validates the JSON body
(`body=`) and the query string (`query=`, a pydantic model; its instance is `req.query`) with
pydantic (422 with pydantic's error list), handles `Idempotency-Key` on POST/PATCH/DELETE,
serialises the return value with the `response=` model and feeds the OpenAPI document from the
same models. A handler refuses with `raise ApiError(404, "not_found", "No such thing.")`.

A handler returns a model instance (or anything `response.model_validate` accepts), `None`
(answered with `status`, usually 204), an `ApiResponse` to choose the status or add headers
per call, or (escape hatch) an aiohttp response, which is passed through untouched.

Path parameters: `{name}` is a string, `{name:int}` an id (1 to 2**63 - 1), and
`{name:case_ref}`, `{name:form_id}`, `{name:sha256}` strings of those shapes (PATH_KINDS). The
router answers 404 to anything else, and the OpenAPI document states the same bounds.

A route that answers a file (not JSON) names its possible types with `media_types=`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from api.fields import CASE_REFERENCE, FORM_ID, ID_MAX, SHA256
from core import idempotency
from core.audit import Actor
from core.db import persist
from core.errors import NotFound, Refused
from core.portal import Portal
from core.services import Services
from core.tokens import authenticate

DEFAULT_MAX_BODY = 1024 * 1024  # 1 MiB of JSON
IDEMPOTENT_METHODS = frozenset({"POST", "PATCH", "DELETE"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TRANSIENT_TRIES = 4  # a request that met a busy database is run again, whole, up to this often
RUNNING_KEYS = web.AppKey("ehcp_api_running_keys", set)
ACTOR = web.RequestKey("ehcp_api_actor", Actor)
PUBLIC = Actor.system("public")

_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")


@dataclass(frozen=True, slots=True)
class PathKind:
    regex: str  # what the router matches (a segment; ASCII only)
    schema: dict[str, Any]  # the OpenAPI parameter's schema, saying the same


PATH_KINDS: dict[str, PathKind] = {
    "str": PathKind(r"[^{}/]+", {"type": "string"}),
    # Digits only (not \d, which takes any script's digits); 0 and more than 2**63 - 1 are 404.
    "int": PathKind(r"[0-9]+", {"type": "integer", "format": "int64", "minimum": 1, "maximum": ID_MAX}),
    "case_ref": PathKind(CASE_REFERENCE[1:-1], {"type": "string", "pattern": CASE_REFERENCE, "maxLength": 50}),
    "form_id": PathKind(FORM_ID[1:-1], {"type": "string", "pattern": FORM_ID, "maxLength": 60}),
    "sha256": PathKind(SHA256[1:-1], {"type": "string", "pattern": SHA256}),
}


class ApiError(Exception):
    """An answer other than success: becomes {"error": {"code", "message"[, "details"]}}."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})

    @classmethod
    def not_found(cls, what: str = "resource") -> ApiError:
        return cls(404, "not_found", f"No such {what}.")

    @classmethod
    def conflict(cls, message: str, code: str = "conflict") -> ApiError:
        return cls(409, code, message)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        err["details"] = details
    return {"error": err}


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        text=json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def error_response(exc: ApiError) -> web.Response:
    return json_response(error_body(exc.code, exc.message, exc.details), exc.status, exc.headers)


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    """pydantic's error list, JSON-safe, without echoing the input back."""
    return json.loads(exc.json(include_url=False, include_input=False))


@dataclass(slots=True)
class ApiResponse:
    """A handler's answer when it needs another status or extra headers."""

    body: BaseModel | Any = None
    status: int | None = None
    headers: Mapping[str, str] | None = None


SERVICES = web.AppKey("ehcp_api_services", Services)


@dataclass(slots=True)
class ApiRequest:
    portal: Portal
    actor: Actor  # Actor.caseworker(token name); Actor.system("public") on open routes
    params: dict[str, Any]  # path parameters, converted ({id:int} -> int)
    query: Any  # the validated `query=` model instance, or None
    request: web.Request  # the raw aiohttp request (headers, raw query string)

    @property
    def now(self) -> datetime:
        return self.portal.clock.now()

    def db(self):  # noqa: ANN201 - an AsyncSession context manager
        return self.portal.db()

    @property
    def services(self) -> Services:
        """The core's services (one container for the app, as the bot and the pages have)."""
        return self.request.app[SERVICES]


Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    summary: str = ""
    description: str | None = None
    tags: tuple[str, ...] = ()
    auth: bool = True
    max_body: int = DEFAULT_MAX_BODY
    body_optional: bool = False  # no body at all means the body model's defaults
    errors: tuple[int, ...] = ()  # further error statuses worth documenting (e.g. 404, 409)
    other_statuses: tuple[int, ...] = ()  # further statuses answered with the `response` model
    media_types: tuple[str, ...] = ()  # a file's possible types, when the answer is not JSON
    not_found: str | None = None  # the 404's message for the core's NotFound (None: the core's own)
    operation_id: str = ""

    def __post_init__(self) -> None:
        for name, kind in self.path_params:
            if kind not in PATH_KINDS:
                raise ValueError(f"{self.method} {self.path}: unknown path parameter kind {kind!r} for {name!r}")

    @property
    def path_params(self) -> list[tuple[str, str]]:
        return [(m.group(1), m.group(2) or "str") for m in _PARAM.finditer(self.path)]

    @property
    def aiohttp_path(self) -> str:
        def one(m: re.Match[str]) -> str:
            kind = m.group(2) or "str"
            return "{" + m.group(1) + ("" if kind == "str" else ":" + PATH_KINDS[kind].regex) + "}"

        return _PARAM.sub(one, self.path)

    @property
    def openapi_path(self) -> str:
        return _PARAM.sub(r"{\1}", self.path)

    @property
    def idempotent(self) -> bool:
        return self.auth and self.method in IDEMPOTENT_METHODS


@dataclass
class ApiRoutes:
    """A group of endpoints. Feature modules make one and hand it to create_api_app."""

    routes: list[Route] = field(default_factory=list)
    not_found: str | None = None  # every route's 404 message for the core's NotFound, unless it says

    def route(self, method: str, path: str, **options: Any) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            opts = dict(options)
            opts.setdefault("not_found", self.not_found)
            opts["tags"] = tuple(opts.get("tags") or ())
            opts["errors"] = tuple(opts.get("errors") or ())
            opts["other_statuses"] = tuple(opts.get("other_statuses") or ())
            opts["media_types"] = tuple(opts.get("media_types") or ())
            opts.setdefault("operation_id", handler.__name__)
            self.routes.append(Route(method=method.upper(), path=path, handler=handler, **opts))
            return handler

        return decorator

    def get(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **options)

    def put(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **options)

    def __iter__(self):  # noqa: ANN204
        return iter(self.routes)


# --- running a route ------------------------------------------------------------------------


UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="ehcp"'}


async def _actor(portal: Portal, request: web.Request) -> Actor:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header or scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "A bearer token is needed.", headers=UNAUTHORIZED_HEADERS)
    name = await authenticate(portal, token.strip())
    if name is None:
        raise ApiError(
            401,
            "invalid_token",
            "The bearer token is not valid or has been revoked.",
            headers={"WWW-Authenticate": 'Bearer realm="ehcp", error="invalid_token"'},
        )
    return Actor.caseworker(name)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body, refusing (413) more than `limit` bytes before reading it all."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "payload_too_large", f"The request body is larger than {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "payload_too_large", f"The request body is larger than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _params(route: Route, request: web.Request) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, kind in route.path_params:
        raw = request.match_info[name]
        if kind == "int":
            value = int(raw) if len(raw) <= 19 else 0  # more digits: beyond any id
            if not 1 <= value <= ID_MAX:
                raise ApiError(404, "not_found", "There is no such resource.")
            out[name] = value
        else:
            out[name] = raw
    return out


def _query(route: Route, request: web.Request) -> Any:
    if route.query is None:
        return None
    data: dict[str, Any] = {}
    for key in request.query:
        values = request.query.getall(key)
        data[key] = values if len(values) > 1 else values[0]
    try:
        return route.query.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "validation_error", "The query parameters are not valid.", details=validation_details(exc)) from None


def _body(route: Route, raw: bytes) -> Any:
    assert route.body is not None
    if not raw.strip():
        if route.body_optional:
            return route.body()
        raise ApiError(422, "validation_error", "A JSON body is needed.")
    try:
        return route.body.model_validate_json(raw)
    except ValidationError as exc:
        raise ApiError(422, "validation_error", "The request body is not valid.", details=validation_details(exc)) from None


def _serialise(route: Route, result: Any) -> web.StreamResponse:
    if isinstance(result, web.StreamResponse):
        return result
    status, headers, body = route.status, None, result
    if isinstance(result, ApiResponse):
        status, headers, body = result.status or route.status, result.headers, result.body
    if body is None:
        return web.Response(status=status, headers=headers)
    if route.response is not None and not isinstance(body, route.response):
        body = route.response.model_validate(body)
    if isinstance(body, BaseModel):
        text = body.model_dump_json(by_alias=True)
        return web.Response(text=text, status=status, content_type="application/json", headers=headers)
    return json_response(body, status, headers)


async def _run(route: Route, req: ApiRequest, raw_body: bytes | None) -> web.StreamResponse:
    try:
        body = _body(route, raw_body or b"") if route.body is not None else None
        result = await _call(route, [req] if route.body is None else [req, body])
        return _serialise(route, result)
    except ApiError as exc:
        return error_response(exc)


def _what(route: Route) -> str:
    """A request, in the log when the database was busy and it is run again, whole."""
    return f"{route.method} {route.path}"


def make_handler(route: Route, portal: Portal) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            actor = await _actor(portal, request) if route.auth else PUBLIC
            request[ACTOR] = actor
            req = ApiRequest(portal, actor, _params(route, request), _query(route, request), request)
            wants_body = route.body is not None or route.method in IDEMPOTENT_METHODS
            raw_body = await read_body(request, route.max_body) if wants_body else None
        except ApiError as exc:
            return error_response(exc)

        if route.method not in WRITE_METHODS:
            return await persist(_what(route), lambda: _run(route, req, raw_body), tries=TRANSIENT_TRIES)
        key = request.headers.get("Idempotency-Key") if route.idempotent else None
        return await _run_write(route, req, key, raw_body or b"")

    handle.__name__ = route.handler.__name__
    return handle


async def _call(route: Route, args: list[Any]) -> Any:
    """Run the handler; the core's refusals become the API's answers, in this one place."""
    try:
        return await route.handler(*args)
    except NotFound as exc:
        raise ApiError(404, "not_found", route.not_found or exc.message) from None
    except Refused as exc:
        raise ApiError(exc.status, exc.api_code, exc.message) from None


class _Answer(Exception):  # noqa: N818 - not an error: the answer, leaving the unit of work undone
    def __init__(self, response: web.StreamResponse) -> None:
        self.response = response


async def _run_write(route: Route, req: ApiRequest, key: str | None, raw_body: bytes) -> web.StreamResponse:
    """A request that changes something runs as one unit of work: its effects, the notices they
    cause and its Idempotency-Key's answer are committed together, or (on a 5xx, a crash or a
    busy database) none of them. A busy database runs the whole request again."""
    portal, request = req.portal, req.request
    if key is not None and not idempotency.valid_key(key):
        return error_response(
            ApiError(
                400,
                "invalid_idempotency_key",
                f"Idempotency-Key must be 1 to {idempotency.KEY_MAX} printable ASCII characters.",
            )
        )
    try:
        body = _body(route, raw_body) if route.body is not None else None
    except ApiError as exc:
        return error_response(exc)  # refused before running: not kept, a fixed retry may reuse the key
    args: list[Any] = [req] if route.body is None else [req, body]
    running: set[tuple[str, str]] = request.app[RUNNING_KEYS] if RUNNING_KEYS in request.app else set()
    slot = (req.actor.id, key) if key is not None else None
    if slot is not None and slot in running:
        return error_response(
            ApiError(409, "idempotency_in_progress", "A request with this Idempotency-Key is still in progress.")
        )
    path = request.rel_url.path_qs

    async def once() -> web.StreamResponse:
        try:
            async with portal.db.unit_of_work() as session:
                claim = None
                if key is not None:
                    claim = await idempotency.claim(
                        session, portal, token_name=req.actor.id, key=key, method=route.method, path=path,
                        req_hash=idempotency.request_hash(route.method, path, raw_body),
                    )
                    if claim.outcome == "mismatch":
                        raise _Answer(error_response(ApiError(
                            422, "idempotency_key_reused",
                            "This Idempotency-Key was used with a different request in the last 24 hours.",
                        )))
                    if claim.outcome == "replay":
                        headers = {"Idempotency-Replayed": "true"}
                        if claim.body:
                            raise _Answer(web.Response(text=claim.body, status=claim.status or 200,
                                                       content_type="application/json", headers=headers))
                        raise _Answer(web.Response(status=claim.status or 200, headers=headers))
                try:
                    response = _serialise(route, await _call(route, args))
                except ApiError as exc:
                    response = error_response(exc)
                if response.status >= 500:
                    raise _Answer(response)  # not kept, and its effects undone
                if claim is not None and claim.record_id is not None and isinstance(response, web.Response):
                    await idempotency.complete(session, portal, claim.record_id, response.status, response.text or "")
            return response
        except _Answer as answer:
            return answer.response

    if slot is not None:
        running.add(slot)
    try:
        return await persist(_what(route), once, tries=TRANSIENT_TRIES)
    finally:
        if slot is not None:
            running.discard(slot)


def all_routes(groups: Iterable[ApiRoutes]) -> list[Route]:
    """Every route of the groups; refuses two routes with the same operation id."""
    routes = [r for g in groups for r in g.routes]
    seen: dict[str, Route] = {}
    for r in routes:
        if r.operation_id in seen:
            other = seen[r.operation_id]
            raise ValueError(
                f"two API routes share the operation id {r.operation_id!r} ({other.method} {other.path}, "
                f"{r.method} {r.path}): rename a handler or pass operation_id="
            )
        seen[r.operation_id] = r
    return routes
