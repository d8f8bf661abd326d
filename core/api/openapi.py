"""The OpenAPI 3.1 document, generated from the route registry and its pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from core.api.idempotency import KEY_MAX
from core.api.routes import Route

REF = "#/components/schemas/{model}"


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    """Every error answer, whatever the status."""

    error: ErrorInfo


ERROR_TEXT = {
    400: "Bad request (e.g. an invalid Idempotency-Key).",
    401: "Missing, invalid or revoked bearer token.",
    404: "Not found.",
    409: "Conflict (e.g. a request with the same Idempotency-Key is still in progress).",
    413: "The request body is too large.",
    422: "Invalid JSON, fields or query parameters (details: pydantic's error list), "
    "or an Idempotency-Key reused with a different request.",
    500: "Internal error. Nothing about it is revealed; it is logged.",
    503: "Unavailable (e.g. the database cannot be reached).",
}


def _error(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_TEXT.get(status, "Error."),
        "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorResponse")}}},
    }


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    schemas.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            param["description"] = prop["description"]
        params.append(param)
    return params


def build_openapi(
    routes: list[Route], *, title: str = "EHCP Parent Portal: caseworker API", version: str = "1"
) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], str]] = [(ErrorResponse, "serialization")]
    for r in routes:
        if r.body is not None:
            models.append((r.body, "validation"))
        if r.response is not None:
            models.append((r.response, "serialization"))
    seen: set[tuple[type[BaseModel], str]] = set()
    unique = [m for m in models if not (m in seen or seen.add(m))]
    refs, defs = models_json_schema(unique, ref_template=REF)  # type: ignore[arg-type]
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))

    paths: dict[str, dict[str, Any]] = {}
    for r in routes:
        op: dict[str, Any] = {"operationId": r.operation_id, "summary": r.summary or r.operation_id}
        if r.description:
            op["description"] = r.description
        if r.tags:
            op["tags"] = list(r.tags)
        params: list[dict[str, Any]] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer"} if kind == "int" else {"type": "string"},
            }
            for name, kind in r.path_params
        ]
        if r.query is not None:
            params += _query_parameters(r.query, schemas)
        if r.idempotent:
            params.append({"$ref": "#/components/parameters/IdempotencyKey"})
        if params:
            op["parameters"] = params
        if r.body is not None:
            op["requestBody"] = {
                "required": not r.body_optional,
                "content": {"application/json": {"schema": refs[(r.body, "validation")]}},
            }

        ok: dict[str, Any] = {"description": r.summary or "Success."}
        if r.response is not None:
            ok["content"] = {"application/json": {"schema": refs[(r.response, "serialization")]}}
        elif r.status != 204:
            ok["content"] = {"application/json": {"schema": {"type": "object"}}}
        if r.idempotent:
            ok["headers"] = {"Idempotency-Replayed": {"$ref": "#/components/headers/IdempotencyReplayed"}}
        responses: dict[str, Any] = {str(r.status): ok}
        for status in r.other_statuses:
            responses[str(status)] = {**ok, "description": ERROR_TEXT.get(status, "See the body.")}

        errors = set(r.errors) | {500}
        if r.auth:
            errors.add(401)
        if r.body is not None or r.query is not None:
            errors.add(422)
        if r.body is not None or r.idempotent:
            errors.add(413)
        if r.path_params:
            errors.add(404)
        if r.idempotent:
            errors |= {400, 409, 422}
        for status in sorted(errors):
            responses[str(status)] = _error(status)
        op["responses"] = responses
        op["security"] = [{"bearerAuth": []}] if r.auth else []
        paths.setdefault(r.openapi_path, {})[r.method.lower()] = op

    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "The council's case system talks to the EHCP Parent Portal through this API. "
            "Every endpoint but health and this document needs `Authorization: Bearer <token>` "
            "(tokens: `ehcp-bot token create <name>`). A POST, PATCH or DELETE may carry an "
            "`Idempotency-Key`: the first answer is replayed for 24 hours; requests without one "
            "are allowed and not deduplicated.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "parameters": {
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "Any unique string (e.g. a UUID). The same key with the same request "
                    "within 24 hours replays the first answer; with a different request: 422; while "
                    "the first is still running: 409. 5xx answers are not kept.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX},
                }
            },
            "headers": {
                "IdempotencyReplayed": {
                    "description": "`true` when this answer is a replay of an earlier request's.",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            },
        },
        "security": [{"bearerAuth": []}],
    }
