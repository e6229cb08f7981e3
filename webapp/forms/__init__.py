"""WTForms classes, one module per area, all built on the two bases here.

`BaseForm` (a FlaskForm: CSRF) and `PlainForm` (a wtforms Form: query strings, sub-forms)
hold every field to the app's rules for text (webapp/text.py), so no form can forget
them: each text is NFC-normalized as it arrives, and a field refuses control characters,
surrogates and noncharacters, and line breaks unless it is a long text (a TextAreaField).

A form that writes names its input model (`input_model`, webapp/inputs): after its fields
decoded what was posted, `validate` hands their values (`input_data`) to the model, puts
each of the model's messages beside its field (the others above the form), and keeps the
validated model as `form.input` for the service. The model states what is required and
how long a text may be; the fields take their `required`, `maxlength`, `min` and `max`
attributes from it, so the browser's hints and the server's rule cannot disagree. A form
without a model (a filter, a search) keeps its own validators.
"""

from __future__ import annotations

from typing import Any, ClassVar

from annotated_types import Ge, Le, MaxLen, MinLen
from flask_wtf import FlaskForm
from wtforms import (
    Form,
    IntegerField,
    PasswordField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .. import inputs, text


def _nfc(value):
    return text.normalize(value) if isinstance(value, str) else value


def _readable_text(form, field) -> None:
    """Refuses what webapp.text refuses, naming the field."""
    values = field.data if isinstance(field.data, (list, tuple)) else [field.data]
    multiline = isinstance(field, TextAreaField)
    for value in values:
        if isinstance(value, str):
            problem = text.refusal(value, multiline=multiline, field=field.label.text)
            if problem:
                raise ValidationError(problem)


def _text_not_a_file(form, field) -> None:
    """A text field sent as something else (a file part under its name) is refused
    before its other validators measure it."""
    if field.data is not None and not isinstance(field.data, str):
        raise StopValidation(text.not_text(field.label.text))


def _model_hints(field, model: type[inputs.Input]) -> None:
    """The browser's hints of `field` from the model's rule for it."""
    info = model.model_fields.get(field.short_name)
    if info is None:
        return
    render_kw = dict(field.render_kw or {})
    if info.is_required() and not isinstance(field.default, bool):
        field.flags.required = True
    elif not any(isinstance(v, Optional) for v in field.validators):
        # Left empty, a field the model does not require is absent (the model's default),
        # not a date or number that failed to decode.
        field.validators = [Optional(), *field.validators]
    for rule in info.metadata:
        for constraint in getattr(rule, "metadata", [rule]):
            if isinstance(constraint, MinLen) and constraint.min_length >= 1:
                field.flags.required = True
            elif isinstance(constraint, MaxLen) and isinstance(field, StringField):
                render_kw.setdefault("maxlength", constraint.max_length)
            elif isinstance(constraint, Ge) and isinstance(field, IntegerField):
                render_kw.setdefault("min", constraint.ge)
            elif isinstance(constraint, Le) and isinstance(field, IntegerField):
                render_kw.setdefault("max", constraint.le)
    field.render_kw = render_kw


class TextRules:
    """The Meta both bases share: binds the text rules to every field, and the hints of
    the form's input model."""

    def bind_field(self, form, unbound_field, options):
        field = unbound_field.bind(form=form, **options)
        model = getattr(form, "input_model", None)
        if model is not None:
            _model_hints(field, model)
        # Passwords are compared as typed: normalizing them would lock out whoever set one
        # before normalization.
        if issubclass(unbound_field.field_class, StringField) and not issubclass(
                unbound_field.field_class, PasswordField):
            field.filters = (*field.filters, _nfc)
        if issubclass(unbound_field.field_class, StringField):
            field.validators = [_text_not_a_file, *field.validators]
        if model is None or field.short_name not in model.model_fields:
            # The model checks its own fields' text, in the API's words.
            field.validators = [*field.validators, _readable_text]
        return field


class BaseForm(FlaskForm):
    class Meta(TextRules, FlaskForm.Meta):
        pass

    # The write this form makes (webapp/inputs); None: the form writes nothing.
    input_model: ClassVar[type[inputs.Input] | None] = None
    # The validated model, once `validate` succeeded.
    input: Any = None

    def input_data(self) -> dict[str, Any]:
        """The values the model validates: by default each of the model's fields that
        the form has, as its field decoded it; a field left without a value is absent
        (the model's default, or "This field is required.")."""
        assert self.input_model is not None
        return {name: self._fields[name].data for name in self.input_model.model_fields
                if name in self._fields and self._fields[name].data is not None}

    def input_context(self) -> dict[str, Any]:
        """What the model's rules may need besides the values (none by default)."""
        return {}

    def field_for(self, where: tuple[Any, ...]) -> str | None:
        """The name of the field that shows a message about `where` (a location in the
        model); None: above the form. Overridden by a form whose fields are not named as
        its model's (the answers of an application, the door's badge code)."""
        return str(where[0]) if where else None

    def validate(self, extra_validators=None) -> bool:
        fields_valid = super().validate(extra_validators)
        if self.input_model is None:
            return fields_valid
        # A field that could not decode its value has said so; the model judges the rest.
        undecoded = {name for name, field in self._fields.items() if field.errors}
        data = {k: v for k, v in self.input_data().items() if k not in undecoded}
        try:
            self.input = self.input_model.from_form(data, **self.input_context())
        except inputs.ValidationError as error:
            self.input = None
            for where, message in inputs.messages(error, self.input_model):
                name = self.field_for(where)
                if name in undecoded:
                    continue
                if name in self._fields:
                    field = self._fields[name]
                    field.errors = [*field.errors, message]
                else:
                    self.form_errors.append(message)
            return False
        return fields_valid


class PlainForm(Form):
    class Meta(TextRules, Form.Meta):
        pass


class CheckboxesField(SelectMultipleField):
    """Several choices as a box each, which anyone can tick without holding a key (a
    multiple select needs Ctrl-click); the `field` macro lays them out in a fieldset."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
