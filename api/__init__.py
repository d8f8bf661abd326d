"""The caseworker HTTP API (aiohttp, JSON, bearer tokens, OpenAPI 3.1 at /v1/openapi.json).

A feature adds endpoints with an `ApiRoutes` group (see api.routes) and passes it to
`create_api_app(portal, [group])` / `start_api(portal, [group])`.
"""

from api.app import bound_port, create_api_app, start_api
from api.routes import ApiError, ApiRequest, ApiResponse, ApiRoutes, Route
from core.idempotency import purge_expired as purge_idempotency_keys

__all__ = [
    "ApiError",
    "ApiRequest",
    "ApiResponse",
    "ApiRoutes",
    "Route",
    "bound_port",
    "create_api_app",
    "purge_idempotency_keys",
    "start_api",
]
