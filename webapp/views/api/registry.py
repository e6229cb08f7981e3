"""The API's operations: one decorator declares an endpoint's route, its request and
response models and the problems it can answer with; the same declaration authenticates
the token, counts it against the rate limit, parses and validates the request, serializes
the response and writes the endpoint into the OpenAPI document.

    @operation("GET", "/events/{event_id}", response=EventDetail, problems=(404,))
    def event(event_id: int): ...

Path parameters are ids (1 to 2**31-1; others are 404 before any query). The problems
the wrapper itself raises are added to each operation's list: 401 and 429 for every
operation that needs a token, 403 for writes (read-only tokens), 400 for query
parameters, 400, 413, 415 and 422 for a body, and 503 for every operation (the database
does not answer).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from pydantic import BaseModel, ValidationError
from redis import RedisError

from ... import inputs, unit
from ...extensions import login_manager
from ...services import api_tokens, jobs
from ...services.api_tokens import TokenNotAccepted
from . import schemas
from .problems import ApiProblem, field_errors

MAX_BODY = 64 * 1024
# Problems that say which fields are wrong (`errors`).
VALIDATION_STATUSES = (400, 422)
PATH_PARAMETER = re.compile(r"{(\w+)}")


@dataclass
class Operation:
    method: str
    path: str  # as in the document: "/events/{event_id}"
    endpoint: str
    summary: str
    tag: str
    response: type[BaseModel] | None
    media_type: str
    status: int
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    write: bool
    public: bool
    problems: frozenset[int]
    # A response model per problem status that says more than a plain Problem.
    problem_models: dict[int, type[BaseModel]] = field(default_factory=dict)
    description: str = ""
    extra_statuses: dict[int, str] = field(default_factory=dict)
    # Further media types of the success response (text, by the Accept header).
    alternatives: tuple[str, ...] = ()

    def problem_model(self, status: int) -> type[BaseModel]:
        """The schema of the operation's problem responses of `status`."""
        if status in self.problem_models:
            return self.problem_models[status]
        if status in VALIDATION_STATUSES:
            return schemas.ValidationProblem
        return schemas.Problem


OPERATIONS: list[Operation] = []


def flask_rule(path: str) -> str:
    return PATH_PARAMETER.sub(r"<int(min=1, max=2147483647):\1>", path)


def operation(
    method: str,
    path: str,
    *,
    bp: Blueprint,
    summary: str,
    tag: str,
    response: type[BaseModel] | None = None,
    media_type: str = "application/json",
    status: int = 200,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    write: bool = False,
    public: bool = False,
    problems: tuple[int, ...] = (),
    problem_models: dict[int, type[BaseModel]] | None = None,
    extra_statuses: dict[int, str] | None = None,
    alternatives: tuple[str, ...] = (),
) -> Callable[[Callable], Callable]:
    declared = {*problems, 503}  # the database may not answer (webapp.errors)
    if not public:
        declared |= {401, 429}
    if write:
        declared.add(403)
    if query is not None:
        declared.add(400)
    if body is not None:
        declared |= {400, 413, 415, 422}

    def decorator(view: Callable) -> Callable:
        op = Operation(
            method=method, path=path, endpoint=f"{bp.name}.{view.__name__}", summary=summary,
            tag=tag, response=response, media_type=media_type, status=status, query=query,
            body=body, write=write, public=public, problems=frozenset(declared),
            problem_models=problem_models or {}, description=inspect.cleandoc(view.__doc__ or ""),
            extra_statuses=extra_statuses or {}, alternatives=alternatives,
        )

        @wraps(view)
        def wrapped(**kwargs):
            try:
                result = _run(op, view, kwargs)
            except ApiProblem as problem:
                # A problem is a status >= 400: the request's unit rolls back.
                return _checked(op, problem.response())
            return result

        wrapped.access_rule = "public" if public else (  # type: ignore[attr-defined]
            "api-token:write" if write else "api-token")
        wrapped.operation = op  # type: ignore[attr-defined]
        bp.add_url_rule(flask_rule(path), view.__name__, wrapped, methods=[method])
        OPERATIONS.append(op)
        return wrapped

    return decorator


def _checked(op: Operation, response: Response) -> Response:
    """A problem the document does not list for the operation, or whose body does not
    match its schema, is a bug: under test it fails loudly."""
    if current_app.testing:
        if response.status_code not in op.problems:
            raise AssertionError(f"{op.method} {op.path} answered {response.status_code}, "
                                 "not in its document")
        op.problem_model(response.status_code).model_validate_json(response.get_data())
    return response


def _run(op: Operation, view: Callable, kwargs: dict[str, Any]) -> Response:
    if not op.public:
        _authenticate(write=op.write)
    if op.query is not None:
        kwargs["query"] = _parse_query(op.query)
    if op.body is not None:
        kwargs["body"] = _parse_body(op.body)
    result = view(**kwargs)
    if isinstance(result, Response):
        return result
    status = op.status
    if isinstance(result, tuple):
        result, status = result
    response = Response(result.model_dump_json(), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _authenticate(*, write: bool) -> None:
    """The token of `Authorization: Bearer`, counted; its owner becomes the current user
    of this request (cookies never authenticate an API call)."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiProblem(401, "Send your API token as `Authorization: Bearer <token>`; "
                              "make one on your profile page.")
    # The look-up, the use and the count are one short write of their own, before the
    # request's unit writes anything: they stand whatever the request does next (a
    # refused call counts too), and a GET holds no write lock beyond them.
    try:
        with unit.aside("rate_limit"):
            token = api_tokens.authenticate(secret.strip())
            count, retry_after = _counted(token)
    except TokenNotAccepted as refusal:
        # RFC 6750: a token was sent, and it is not one we accept.
        raise ApiProblem(401, refusal.message, headers={
            "WWW-Authenticate": 'Bearer realm="beachhead", error="invalid_token"'}) from None
    limit = api_tokens.rate_limit()
    if count > limit:
        raise ApiProblem(429, f"This token made more than {limit} requests this minute; try "
                              f"again in {retry_after} s.",
                         headers={"Retry-After": str(retry_after)})
    g._login_user = token.user
    g.api_token = token
    if write and token.read_only:
        raise ApiProblem(403, "This token is read-only: make a read-write token on your "
                              "profile to change anything.")


def _counted(token) -> tuple[int, int]:
    """Count the request in Redis (with REDIS_URL), or in the database when Redis does not
    answer: the API keeps its limit, and keeps answering, through a Redis outage."""
    try:
        counted = api_tokens.count_request(token)
    except RedisError as error:
        jobs.redis_failed("API rate limits are counted in the database", error)
        return api_tokens.count_in_database(token)
    if current_app.config.get("REDIS_URL"):
        jobs.redis_answered()
    return counted


def _parse_query(model: type[BaseModel]) -> BaseModel:
    repeated = [name for name, values in request.args.lists() if len(values) > 1]
    if repeated:
        raise ApiProblem(400, "Give each query parameter once.", errors=[
            {"pointer": f"query/{name}", "detail": "repeated"} for name in repeated])
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as error:
        raise ApiProblem(400, "Some query parameters are not valid.",
                         errors=field_errors(error.errors(), prefix="query")) from None


def _parse_body(model: type[BaseModel]) -> BaseModel:
    if request.mimetype != "application/json":
        raise ApiProblem(415, f"Send the body as application/json, not "
                              f"{request.mimetype or 'nothing'}.")
    if (request.content_length or 0) > MAX_BODY:
        raise ApiProblem(413)
    raw = request.get_data(cache=True)  # a chunked body past the limit raises 413 here
    try:
        return model.model_validate_json(raw or b"", strict=True)
    except ValidationError as error:
        errors = error.errors()
        if any(e["type"] == "json_invalid" for e in errors):
            where = errors[0].get("ctx", {}).get("error", "")
            detail = f"The body is not valid JSON: {where}".rstrip(": ")
            raise ApiProblem(400, detail, errors=[{"pointer": "/", "detail": detail}]) from None
        found = inputs.messages(error, model if issubclass(model, inputs.Input) else None)
        raise ApiProblem(422, "The body does not match the schema: "
                              + "; ".join(message for _, message in found[:3]),
                         errors=[{"pointer": "/" + "/".join(str(p) for p in where),
                                  "detail": message} for where, message in found]) from None


def anonymous_request() -> None:
    """Every API request starts anonymous: a session cookie must not make it someone's."""
    g._login_user = login_manager.anonymous_user()
    request.max_content_length = MAX_BODY
