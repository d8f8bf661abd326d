"""Documents in the caseworker API (being built)."""

from __future__ import annotations

from core.api.routes import ApiRoutes


def build_routes() -> ApiRoutes:
    api = ApiRoutes()
    return api


api = build_routes()
