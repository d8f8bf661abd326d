"""The OpenAPI 3.1 document, generated from the route registry and its pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema, models_json_schema

from api.routes import IDEMPOTENT_METHODS, PATH_KINDS, Route
from core.idempotency import KEY_MAX

REF = "#/components/schemas/{model}"
# What the server takes (idempotency.valid_key) once HTTP has dropped the spaces and tabs around
# a header's value.
IDEMPOTENCY_KEY = f"^[ \\t]*[!-~](?:[ -~]{{0,{KEY_MAX - 2}}}[!-~])?[ \\t]*$"


class ErrorInfo(BaseModel):
    code: str = Field(description="What went wrong, for programs: not_found, validation_error, ...")
    message: str = Field(description="What went wrong, in plain English.")
    details: list[dict[str, Any]] | SkipJsonSchema[None] = Field(
        None, description="For validation errors: pydantic's list of the fields refused and why."
    )


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
    out: dict[str, Any] = {
        "description": ERROR_TEXT.get(status, "Error."),
        "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorResponse")}}},
    }
    if status == 401:
        out["headers"] = {"WWW-Authenticate": {"$ref": "#/components/headers/WWWAuthenticate"}}
    return out


def _present(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: a parameter is given or not, never null (`x | None` loses
    its null branch) and its default (as the server fills it in) is kept."""
    branches = prop.get("anyOf")
    if isinstance(branches, list) and {"type": "null"} in branches:
        rest = [b for b in branches if b != {"type": "null"}]
        outer = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
        prop = {**(rest[0] if len(rest) == 1 else {"anyOf": rest}), **outer}
        if prop.get("default", None) is None:
            prop.pop("default", None)
    prop.pop("title", None)
    return prop


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    schemas.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = _present(dict(prop))
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            param["description"] = prop["description"]
        params.append(param)
    return params


def _path_parameter(name: str, kind: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": dict(PATH_KINDS[kind].schema)}


def error_statuses(r: Route) -> set[int]:
    """Every error status the frame and the route can answer (as make_handler does)."""
    errors = set(r.errors) | {500}
    if r.auth:
        errors.add(401)  # a missing, wrong or revoked bearer token
    if r.body is not None or r.query is not None:
        errors.add(422)  # the body or the query string refused
    if r.body is not None or r.method in IDEMPOTENT_METHODS:
        errors.add(413)  # the body is read (and refused past max_body)
    if r.path_params:
        errors.add(404)  # no such resource (or a path parameter out of its bounds)
    if r.idempotent:
        errors |= {400, 409, 422}  # a bad Idempotency-Key, one still running, one reused
    return errors


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
        params: list[dict[str, Any]] = [_path_parameter(name, kind) for name, kind in r.path_params]
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
        elif r.media_types:
            ok["content"] = {mt: {} for mt in r.media_types}  # a file: its bytes, no JSON
            ok["headers"] = {"Content-Disposition": {"$ref": "#/components/headers/ContentDisposition"}}
        elif r.status != 204:
            ok["content"] = {"application/json": {"schema": {"type": "object"}}}
        if r.idempotent:
            ok["headers"] = {"Idempotency-Replayed": {"$ref": "#/components/headers/IdempotencyReplayed"}}
        responses: dict[str, Any] = {str(r.status): ok}
        for status in r.other_statuses:
            responses[str(status)] = {**ok, "description": ERROR_TEXT.get(status, "See the body.")}

        for status in sorted(error_statuses(r)):
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
                    "description": f"A unique key (e.g. a UUID): 1 to {KEY_MAX} printable ASCII characters "
                    "(space to ~; spaces and tabs around it are not part of it, as in any HTTP header), "
                    "otherwise 400. The same key with the same request within 24 hours replays the first "
                    "answer; with a different request: 422; while the first is still running: 409. "
                    "5xx answers are not kept.",
                    "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY},
                }
            },
            "headers": {
                "WWWAuthenticate": {
                    "description": "The authentication scheme: `Bearer realm=\"ehcp\"` (with "
                    "`error=\"invalid_token\"` for a wrong or revoked token).",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^Bearer realm=\"ehcp\""},
                },
                "ContentDisposition": {
                    "description": "`attachment` with the file's name (`filename*` in UTF-8 where it has one).",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^attachment; filename=\""},
                },
                "IdempotencyReplayed": {
                    "description": "`true` when this answer is a replay of an earlier request's.",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            },
        },
        "security": [{"bearerAuth": []}],
    }
