"""The OpenAPI 3.1 document, generated from the operations' declarations and their
pydantic models (never written by hand)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import schemas
from .problems import DETAILS, MIMETYPE
from .registry import OPERATIONS, PATH_PARAMETER, Operation

REF = "#/components/schemas/{model}"


def _models() -> tuple[list[type[BaseModel]], list[type[BaseModel]]]:
    outputs: dict[str, type[BaseModel]] = {}
    inputs: dict[str, type[BaseModel]] = {}
    for op in OPERATIONS:
        if op.response is not None:
            outputs[op.response.__name__] = op.response
        for status in op.problems:
            model = op.problem_model(status)
            outputs[model.__name__] = model
        for model in (op.body, op.query):
            if model is not None:
                inputs[model.__name__] = model
    return list(outputs.values()), list(inputs.values())


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema without its `| None` (an absent parameter is null)."""
    options = schema.get("anyOf")
    if options and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        plain = {k: v for k, v in schema.items() if k != "anyOf"}
        if len(rest) == 1:
            plain.update(rest[0])
        else:
            plain["anyOf"] = rest
        if "default" in plain and plain["default"] is None:
            del plain["default"]  # absent means no filter
        return plain
    return schema


def _parameters(op: Operation, components: dict[str, Any]) -> list[dict[str, Any]]:
    parameters = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "integer", "minimum": 1, "maximum": schemas.MAX_ID}}
        for name in PATH_PARAMETER.findall(op.path)
    ]
    if op.query is not None:
        schema = components[op.query.__name__]
        required = set(schema.get("required", ()))
        for name, prop in schema["properties"].items():
            prop = dict(prop)
            description = prop.pop("description", None)
            prop.pop("title", None)
            parameter = {"name": name, "in": "query", "required": name in required,
                         "schema": _plain(prop)}
            if description:
                parameter["description"] = description
            parameters.append(parameter)
    return parameters


def _responses(op: Operation) -> dict[str, Any]:
    if op.response is not None:
        content = {op.media_type: {"schema": {"$ref": REF.format(model=op.response.__name__)}}}
    else:
        free = {"type": "object"} if op.media_type == "application/json" else {"type": "string"}
        content = {op.media_type: {"schema": free}}
    for media_type in op.alternatives:
        content[media_type] = {"schema": {"type": "string"}}
    responses: dict[str, Any] = {
        str(op.status): {"description": HTTPStatus(op.status).phrase, "content": content}}
    for status, description in op.extra_statuses.items():
        responses[str(status)] = {"description": description, "content": content}
    for status in sorted(op.problems):
        response: dict[str, Any] = {
            "description": DETAILS.get(status, HTTPStatus(status).phrase),
            "content": {MIMETYPE: {"schema": {
                "$ref": REF.format(model=op.problem_model(status).__name__)}}},
        }
        if status == 429:
            response["headers"] = {"Retry-After": {
                "description": "Seconds until the token may call again.",
                "schema": {"type": "integer", "minimum": 1}}}
        if status == 503:
            response["headers"] = {"Retry-After": {
                "description": "Seconds after which to try again.",
                "schema": {"type": "integer", "minimum": 1}}}
        if status == 401:
            response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        responses[str(status)] = response
    return responses


def document(server_url: str) -> dict[str, Any]:
    outputs, inputs = _models()
    _, top = models_json_schema(
        [(m, "serialization") for m in outputs] + [(m, "validation") for m in inputs],
        ref_template=REF,
    )
    components: dict[str, Any] = top.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        item: dict[str, Any] = {
            "operationId": op.endpoint.split(".", 1)[1],
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": _parameters(op, components),
            "responses": _responses(op),
        }
        if op.description:
            item["description"] = op.description
        if op.public:
            item["security"] = []
        if op.body is not None:
            item["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": REF.format(model=op.body.__name__)}}}}
        paths.setdefault(op.path, {})[op.method.lower()] = item
    for op in OPERATIONS:
        if op.query is not None:
            # Query models become parameters, not schemas of their own.
            components.pop(op.query.__name__, None)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Beachhead API",
            "version": "1.0.0",
            "description": (
                "The partners' API: events, your registrations and, for partner managers, "
                "organizers and hosts, the applications in your scope, exactly as the desk "
                "shows them. Authenticate with a personal token from your profile page "
                "(`Authorization: Bearer bh_...`); a token acts with your roles. Errors are "
                "RFC 9457 problem details. Times are ISO 8601 with their offset."),
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer", "bearerFormat": "bh_<43 characters>"}},
        },
    }
