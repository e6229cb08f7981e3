"""The harness of the input-model tables (tests/test_inputs_*.py): a value refused by a
form is refused by the API (the model read from JSON) with the same message beside the
same field, and a value one accepts the other accepts.

A case names the model, the form that validates through it, the values as a form posts
them and as a JSON body holds them, and the field and message expected (None: accepted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from webapp import inputs


@dataclass
class Case:
    name: str
    form_data: dict[str, Any]                 # as posted: strings, or lists for multiples
    json_body: dict[str, Any] | None          # None: the same values as form_data
    field: str | None                         # where the refusal is shown; None: accepted
    message: str | None = None                # the sentence (a part of it) both show
    form_kwargs: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


def form_messages(form_class, data: dict[str, Any], **form_kwargs) -> dict[str | None, list[str]]:
    """What the form says of `data`, per field (None: above the form). Run in a test
    request context; CSRF is off in the testing config."""
    formdata = MultiDict()
    for key, value in data.items():
        for item in (value if isinstance(value, list) else [value]):
            formdata.add(key, item)
    form = form_class(formdata=formdata, meta={"csrf": False}, **form_kwargs)
    form.validate()
    found: dict[str | None, list[str]] = {}
    for name, errors in form.errors.items():
        found.setdefault(name, []).extend(str(e) for e in errors)
    return found


def json_messages(model: type[inputs.Input], body: dict[str, Any]) -> dict[str | None, list[str]]:
    """What the model says of a JSON body, per top-level field (None: the whole)."""
    try:
        model.from_json(json.dumps(body))
    except inputs.ValidationError as error:
        found: dict[str | None, list[str]] = {}
        for where, message in inputs.messages(error, model):
            found.setdefault(str(where[0]) if where else None, []).append(message)
        return found
    return {}


def refusals(error: inputs.ValidationError, model: type[inputs.Input] | None = None,
             ) -> dict[str | None, str]:
    """The first sentence said of each top-level field (None: the whole) in `error`: what
    a program that built the model (a test, the demo) is told."""
    found: dict[str | None, str] = {}
    for where, message in inputs.messages(error, model):
        found.setdefault(str(where[0]) if where else None, message)
    return found


def check(case: Case, model: type[inputs.Input], form_class) -> None:
    """The form and the model from JSON agree on `case`."""
    from_form = form_messages(form_class, case.form_data, **case.form_kwargs)
    from_json = json_messages(model, case.form_data if case.json_body is None
                              else case.json_body)
    if case.field is None and case.message is None:
        assert from_form == {}, (case.name, from_form)
        assert from_json == {}, (case.name, from_json)
        return
    assert case.message is not None
    form_said = from_form.get(case.field, [])
    json_said = from_json.get(case.field, [])
    assert any(case.message in m for m in form_said), (case.name, "form", from_form)
    assert any(case.message in m for m in json_said), (case.name, "api", from_json)
    shared = set(form_said) & set(json_said)
    assert shared, (case.name, "the same sentence in both", form_said, json_said)
