"""What a write accepts, stated once: one input model (pydantic v2) per thing a user or
the API writes. The HTML form (webapp/forms, through `BaseForm.input_model`) and the API
(webapp/views/api) both validate through the model and report its messages, and the
OpenAPI document is generated from it; the service receives the validated model and
keeps only the rules that need the database (capacity, uniqueness, scope).

A model states its fields' types and limits (`Text`, `RequiredText`, `Count`...) and its
cross-field rules (`model_validator`s that call `refuse`), and it follows the app's rules
for text (webapp/text.py) on every string: NFC, no control characters, surrogates or
noncharacters, line breaks only in the fields named in `long_texts`.

The same model validates in two modes:
- from a form (`from_form`): values as the form's fields decoded them (a checkbox is a
  bool, a number field's text is parsed here), leniently typed;
- from JSON (`from_json`): strictly typed (a number in quotes is not a number), as the
  API's contract says.

Either way a refusal is a `ValidationError` whose messages (`messages`) are the app's own
sentences, the same for a form and the API, each with the field it is about.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Annotated, Any, ClassVar, Self

from flask import has_app_context
from flask_babel import gettext
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from .. import text

MAX_ID = 2**31 - 1

__all__ = [
    "Count", "Id", "Input", "NoInput", "Problems", "RequiredText", "Text", "ValidationError",
    "messages", "refuse", "takes",
]


def stripped(value: str, field: str) -> str:
    """`value` without the blanks around it; a control character Python counts as a blank
    (U+000B, U+000C, U+001C..U+001F, U+0085) is refused there, not stripped away out of
    the text rules' sight."""
    kept = value.strip()
    if kept != value:
        start = value.index(kept) if kept else len(value)
        edges = value[:start] + value[start + len(kept):]
        problem = text.refusal(edges, multiline=True, field=field)
        if problem:
            raise refuse(None, problem)
    return kept


def _nothing_hidden(value: Any, info: ValidationInfo) -> Any:
    return stripped(value, info.field_name or "") if isinstance(value, str) else value


def Text(max_length: int, **field: Any) -> Any:  # noqa: N802 - a type, used as one
    """A text of at most `max_length` characters, blanks around it stripped; "" when
    left empty."""
    return Annotated[str, StringConstraints(strip_whitespace=True, max_length=max_length),
                     BeforeValidator(_nothing_hidden), Field(**field)]


def RequiredText(max_length: int, **field: Any) -> Any:  # noqa: N802
    """A text that must hold something besides blanks."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=max_length),
                     BeforeValidator(_nothing_hidden), Field(**field)]


def Count(minimum: int, maximum: int, **field: Any) -> Any:  # noqa: N802
    """A whole number in [minimum, maximum]."""
    return Annotated[int, Field(ge=minimum, le=maximum, **field)]


Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def Accepted(message: str, **field: Any) -> Any:  # noqa: N802
    """A box that must be ticked (a consent): refused with `message` otherwise, whatever
    else is wrong, since the rule is the field's own."""

    def ticked(value: bool) -> bool:
        if not value:
            raise refuse(None, message)
        return value

    return Annotated[bool, AfterValidator(ticked), Field(**field)]


# --------------------------------------------------------------------------- refusals


def refuse(field: str | None, message: str, **params: Any) -> PydanticCustomError:
    """A cross-field rule's refusal, placed beside `field` (None: the input as a whole).
    Raise what it returns inside a validator: `raise refuse("ends_local", "...")`.
    `message` is a gettext msgid; `params` fill its %(name)s placeholders."""
    return PydanticCustomError("refused", "{message}",
                               {"message": message, "field": field, "params": params})


class Problems:
    """Collects a model validator's refusals so that all of them are reported at once."""

    def __init__(self) -> None:
        self.found: dict[str | None, tuple[str, dict[str, Any]]] = {}

    def add(self, field: str | None, message: str, **params: Any) -> None:
        self.found.setdefault(field, (message, params))

    def raise_any(self) -> None:
        if self.found:
            raise PydanticCustomError("refused", "{message}", {
                "message": next(iter(self.found.values()))[0], "field": None, "params": {},
                "all": {field: found for field, found in self.found.items()}})


# What pydantic's own checks say, as our sentences (gettext msgids; %(name)s from the
# error's context).
_MESSAGES: dict[str, str] = {
    "missing": "This field is required.",
    "string_too_short": "This field is required.",
    "string_too_long": "Enter at most %(max_length)s characters.",
    "too_long": "Give at most %(max_length)s items.",
    "too_short": "Give at least %(min_length)s items.",
    "int_parsing": "Enter a whole number.",
    "int_type": "Enter a whole number.",
    "int_from_float": "Enter a whole number.",
    "greater_than_equal": "Enter a number of at least %(ge)s.",
    "less_than_equal": "Enter a number of at most %(le)s.",
    "greater_than": "Enter a number above %(gt)s.",
    "less_than": "Enter a number below %(lt)s.",
    "bool_parsing": "Answer yes or no.",
    "bool_type": "Answer yes or no.",
    "string_type": "Enter a text.",
    "enum": "Choose one of: %(expected)s.",
    "literal_error": "Choose one of: %(expected)s.",
    "datetime_parsing": "Enter a date and time.",
    "datetime_type": "Enter a date and time.",
    "datetime_from_date_parsing": "Enter a date and time.",
    "date_parsing": "Enter a date.",
    "date_type": "Enter a date.",
    "date_from_datetime_parsing": "Enter a date.",
    "date_from_datetime_inexact": "Enter a date without a time.",
    "list_type": "Give a list.",
    "dict_type": "Give an object.",
    "model_type": "Give an object.",
    "model_attributes_type": "Give an object.",
    "extra_forbidden": "This field is not expected.",
    "string_pattern_mismatch": "This value is not in the expected form.",
    "value_error": "%(error)s",
    "assertion_error": "%(error)s",
}


def _translate(message: str, params: dict[str, Any]) -> str:
    translated = gettext(message, **params) if has_app_context() else (
        message % params if params else message)
    return translated


def _message(error: dict[str, Any]) -> tuple[tuple[Any, ...], str]:
    """(where, sentence) of one of pydantic's errors."""
    location = tuple(error.get("loc", ()))
    context = dict(error.get("ctx") or {})
    if error["type"] == "refused":
        field = context.get("field")
        where = (*location, field) if field else location
        return where, _translate(context["message"], context.get("params") or {})
    template = _MESSAGES.get(error["type"])
    if template is None:
        return location, error["msg"]
    if "error" in context:
        context["error"] = str(context["error"])
    params = {k: v for k, v in context.items() if isinstance(v, (int, str, float))}
    try:
        return location, _translate(template, params)
    except (KeyError, TypeError, ValueError):
        return location, error["msg"]


def messages(error: ValidationError, model: type[Input] | None = None,
             ) -> list[tuple[tuple[Any, ...], str]]:
    """Every refusal of `error` as (location, sentence): the location is the field's path
    in the input ("title",), ("answers", 2, "value"), or () for the input as a whole.
    `model`'s `required_messages` replace "This field is required." for its fields."""
    required = model.required_messages if model is not None else {}
    whole = model.field_messages if model is not None else {}
    found: list[tuple[tuple[Any, ...], str]] = []
    for item in error.errors(include_url=False):
        context = item.get("ctx") or {}
        location = tuple(item.get("loc", ()))
        if location and location[0] in whole:
            found.append((location[:1], _translate(whole[location[0]], {})))
            continue
        if (item["type"] in ("missing", "string_too_short") and len(location) == 1
                and location[0] in required):
            found.append((location, _translate(required[location[0]], {})))
            continue
        if item["type"] == "refused" and "all" in context:
            location = tuple(item.get("loc", ()))
            for field, (message, params) in context["all"].items():
                where = (*location, field) if field else location
                found.append((where, _translate(message, params)))
            continue
        found.append(_message(item))
    return found


# --------------------------------------------------------------------------- models


class Input(BaseModel):
    """The base of every input model. Unknown fields are refused; strings follow the
    app's text rules (multi-line only in `long_texts`), and a refused character is named
    with the field's `title` (the label a form shows) or else its name; `required_messages` are the
    sentences a missing or empty value gets for a field, instead of "This field is
    required."."""

    model_config = ConfigDict(extra="forbid", strict=True)

    long_texts: ClassVar[frozenset[str]] = frozenset()
    required_messages: ClassVar[dict[str, str]] = {}
    # Fields a person cannot correct (a page's hidden state): any refusal of theirs says
    # this instead.
    field_messages: ClassVar[dict[str, str]] = {}

    @field_validator("*", mode="after")
    @classmethod
    def _readable_text(cls, value: Any, info: ValidationInfo) -> Any:
        multiline = info.field_name in cls.long_texts
        if isinstance(value, str) and not isinstance(value, enum.Enum):
            name = info.field_name or ""
            title = cls.model_fields[name].title if name in cls.model_fields else None
            problem = text.refusal(value, multiline=multiline, field=title or name)
            if problem:
                raise refuse(None, problem)
            return text.normalize(value)
        if isinstance(value, list):
            return [cls._readable_text(item, info) for item in value]
        return value

    @classmethod
    def from_form(cls, data: dict[str, Any], **context: Any) -> Self:
        """The model of what a form's fields decoded (leniently typed)."""
        return cls.model_validate(data, strict=False, context=context)

    @classmethod
    def from_json(cls, raw: bytes | str, **context: Any) -> Self:
        """The model of a JSON body, strictly typed."""
        return cls.model_validate_json(raw, strict=True, context=context)

    @classmethod
    def from_values(cls, **values: Any) -> Self:
        """The model of values a program passes (the demo, the CLI, tests)."""
        return cls.model_validate(values, strict=False)


class NoInput(Input):
    """A write that sends nothing but its CSRF token (a button: publish, approve all)."""


# --------------------------------------------------------------------------- endpoints


def takes(model: type[Input]) -> Callable[[Callable], Callable]:
    """Declares the input model a write endpoint validates its request with (`NoInput`
    for a button); tests/test_access.py walks the url_map and fails on a write endpoint
    that declares none."""

    def decorator(view: Callable) -> Callable:
        view.input_model = model  # type: ignore[attr-defined]
        return view

    return decorator


def declared_input(view: Callable) -> type[Input] | None:
    """The input model `view` declares (through its decorators' wrappers)."""
    while view is not None:
        if hasattr(view, "input_model"):
            return view.input_model
        view = getattr(view, "__wrapped__", None)
    return None


def fields_of(models: Iterable[type[BaseModel]]) -> set[str]:
    return {name for model in models for name in model.model_fields}
