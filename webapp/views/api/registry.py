"""The API's operations on flask-openapi3: the framework routes each one, validates its
path and query against their models and writes it, its parameters and its request body
into the OpenAPI document; this module adds what the contract says beyond that.

    @operation("GET", "/events/{event_id}", response=EventDetail, problems=(404,))
    def event(path: EventPath): ...

- the token (`Authorization: Bearer`), counted against the rate limit, before anything
  else is read: 401 and 429 for every operation that needs one, 403 for writes;
- the body, strictly typed JSON (the framework would validate the decoded object
  leniently): 400, 413, 415 and 422, with the input models' own messages;
- a query parameter given twice is 400 (the framework would read the first);
- problems are RFC 9457 (webapp/problems.py), and each operation's responses list them; under
  test, answering a problem the document does not list for the operation fails loudly;
- 503 for every operation (the database does not answer).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from http import HTTPStatus
from typing import Any, NoReturn, get_type_hints

from flask import Response, current_app, g, request
from flask_openapi3 import APIBlueprint, Schema, Tag
from pydantic import BaseModel, ValidationError
from redis import RedisError

from ... import http_cache, inputs, unit
from ...extensions import db, login_manager
from ...models import ApiToken
from ...problems import DETAILS, MIMETYPE, ApiProblem, field_errors
from ...services import api_tokens, jobs
from ...services.api_tokens import TokenNotAccepted
from . import schemas

MAX_BODY = 64 * 1024
JSON = "application/json"
REF = "#/components/schemas/{model}"
PATH_PARAMETER = re.compile(r"{(\w+)}")
SECONDS = {"type": "integer", "minimum": 1}
HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds until the token may call again.",
                          "schema": SECONDS}},
    503: {"Retry-After": {"description": "Seconds after which to try again.",
                          "schema": SECONDS}},
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as in the document: "/events/{event_id}"
    public: bool
    write: bool
    status: int
    problems: frozenset[int]
    # A response model per problem status that says more than a plain Problem.
    problem_models: dict[int, type[BaseModel]]
    # A list kept per user while the database is unchanged (`http_cache.kept_for_user`).
    kept: bool = False

    def problem_model(self, status: int) -> type[BaseModel]:
        if status in self.problem_models:
            return self.problem_models[status]
        return schemas.ValidationProblem if status in (400, 422) else schemas.Problem


OPERATIONS: list[Operation] = []


class Api(APIBlueprint):
    """flask-openapi3's blueprint, with the contract's own steps around each view: the
    token first, then the framework's path and query, then the strict body."""

    def create_view_func(self, func, header, cookie, path, query, form, body, raw, **kw):
        op: Operation = func.operation

        def run(**kwargs: Any) -> Response:
            if body is not None:
                kwargs["body"] = _parse_body(body)
            result = func(**kwargs)
            if isinstance(result, Response):
                return result
            result, status = result if isinstance(result, tuple) else (result, op.status)
            response = Response(result.model_dump_json(), status=status, mimetype=JSON)
            response.headers["Cache-Control"] = "no-store"
            return response

        # The framework validates the path and the query; the body is ours (see above).
        validated = super().create_view_func(wraps(func)(run), header, cookie, path, query,
                                             form, None, raw, **kw)
        answer = http_cache.kept_for_user(validated) if op.kept else validated

        @wraps(func)
        def view(**kwargs: Any) -> Response:
            try:
                if not op.public:
                    _authenticate(write=op.write)
                if query is not None:
                    _refuse_repeated_parameters()
                return answer(**kwargs)
            except ApiProblem as problem:
                # A problem is a status >= 400: the request's unit rolls back.
                return _checked(op, problem.response())

        view.kept_for_user = op.kept  # type: ignore[attr-defined]
        return view


bp = Api("api", __name__)


def operation(
    method: str,
    path: str,
    *,
    summary: str,
    tag: str,
    response: type[BaseModel] | None = None,
    media_type: str = JSON,
    status: int = 200,
    write: bool = False,
    public: bool = False,
    problems: tuple[int, ...] = (),
    problem_models: dict[int, type[BaseModel]] | None = None,
    extra_statuses: dict[int, str] | None = None,
    alternatives: tuple[str, ...] = (),
    kept: bool = False,
) -> Callable[[Callable], Callable]:
    """Declares an operation; its query and body models are its view's `query` and `body`
    annotations (and its path's ids, `path`). `kept`: a read whose answer is kept for its
    user while nothing is committed (the lists)."""

    def decorator(view: Callable) -> Callable:
        hints = get_type_hints(view)
        declared = {*problems, 503}  # the database may not answer (webapp.errors)
        if not public:
            declared |= {401, 429}
        if write:
            declared.add(403)
            view.input_model = hints.get("body", inputs.NoInput)  # type: ignore[attr-defined]
        if "query" in hints:
            declared.add(400)
        if "body" in hints:
            declared |= {400, 413, 415, 422}
        view.access_rule = "public" if public else (  # type: ignore[attr-defined]
            "api-token:write" if write else "api-token")
        op = view.operation = Operation(  # type: ignore[attr-defined]
            method, path, public, write, status, frozenset(declared), problem_models or {},
            kept=kept)
        OPERATIONS.append(op)

        schema = _ref(response) if response else {"type": "object" if media_type == JSON
                                                  else "string"}
        content = {media_type: {"schema": schema},
                   **{other: {"schema": {"type": "string"}} for other in alternatives}}
        responses: dict[Any, Any] = {
            status: {"description": HTTPStatus(status).phrase, "content": content},
            **{extra: {"description": description, "content": content}
               for extra, description in (extra_statuses or {}).items()}}
        for problem in sorted(declared):
            responses[problem] = {
                "description": DETAILS.get(problem, HTTPStatus(problem).phrase),
                "content": {MIMETYPE: {"schema": _ref(op.problem_model(problem))}},
                **({"headers": HEADERS[problem]} if problem in HEADERS else {})}
        route = getattr(bp, method.lower())
        return route(PATH_PARAMETER.sub(r"<int:\1>", path), summary=summary, tags=[Tag(name=tag)],
                     description=inspect.cleandoc(view.__doc__ or ""), responses=responses,
                     operation_id=view.__name__,
                     openapi_extensions={"security": []} if public else None)(view)

    return decorator


def _ref(model: type[BaseModel]) -> dict[str, str]:
    """A response's schema: a reference to `model`'s, which joins the components."""
    schema = model.model_json_schema(mode="serialization", ref_template=REF)
    for name, found in {**schema.pop("$defs", {}), model.__name__: schema}.items():
        bp.components_schemas[name] = Schema(**found)
    return {"$ref": REF.format(model=model.__name__)}


def _checked(op: Operation, response: Response) -> Response:
    """A problem the document does not list for the operation, or whose body does not
    match its schema, is a bug: under test it fails loudly."""
    if current_app.testing:
        if response.status_code not in op.problems:
            raise AssertionError(f"{op.method} {op.path} answered {response.status_code}, "
                                 "not in its document")
        op.problem_model(response.status_code).model_validate_json(response.get_data())
    return response


def _authenticate(*, write: bool) -> None:
    """The token of `Authorization: Bearer`, counted; its owner becomes the current user
    of this request (cookies never authenticate an API call)."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiProblem(401, "Send your API token as `Authorization: Bearer <token>`; "
                              "make one on your profile page.")
    try:
        token, (count, retry_after) = _recorded(secret.strip())
    except TokenNotAccepted as refusal:
        # RFC 6750: a token was sent, and it is not one we accept.
        raise ApiProblem.refusing(401, refusal, headers={
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


def _recorded(secret: str) -> tuple[ApiToken, tuple[int, int]]:
    """The token behind `secret`, its use noted (to the minute) and the request counted.

    The use and the count are one short write of their own, before the request's unit
    writes anything: they stand whatever the request does next (a refused call counts
    too), and a GET holds no write lock beyond them. With Redis the count is Redis's, and
    the look-up a plain read: a call that notes nothing writes nothing to the database.
    What the look-up read (the token, its owner and their roles) is kept through that
    write's commit rather than read again: nothing this request does changes them."""
    token = counted = None
    if current_app.config.get("REDIS_URL"):
        token = api_tokens.authenticate(secret)
        try:
            counted = api_tokens.count_request(token)
            jobs.redis_answered()
        except RedisError as error:
            jobs.redis_failed("API rate limits are counted in the database", error)
        if counted is not None and not api_tokens.use_to_record(token):
            return token, counted
    session = db.session()
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        with unit.aside("rate_limit"):
            if token is None:
                token = api_tokens.authenticate(secret)
            if api_tokens.use_to_record(token):
                api_tokens.record_use(token)
            if counted is None:
                counted = api_tokens.count_in_database(token)
    finally:
        session.expire_on_commit = keep
    return token, counted


def _refuse_repeated_parameters() -> None:
    repeated = [name for name, values in request.args.lists() if len(values) > 1]
    if repeated:
        raise ApiProblem(400, "Give each query parameter once.", errors=[
            {"pointer": f"query/{name}", "detail": "repeated"} for name in repeated])


def parameters_refused(error: ValidationError) -> NoReturn:
    """The framework's answer to a query its model refuses (a path's ids are bounded by
    their converter already, so only a query is refused here)."""
    raise ApiProblem(400, "Some query parameters are not valid.",
                     errors=field_errors(error.errors(), prefix="query"))


def _parse_body(model: type[BaseModel]) -> BaseModel:
    if request.mimetype != JSON:
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
