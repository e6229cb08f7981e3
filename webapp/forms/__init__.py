"""WTForms classes, one module per area, all built on the two bases here.

`BaseForm` (a FlaskForm: CSRF) and `PlainForm` (a wtforms Form: query strings, sub-forms)
hold every field to the app's rules for text (webapp/text.py), so no form can forget
them: each text is NFC-normalized as it arrives, and a field refuses control characters,
surrogates and noncharacters, and line breaks unless it is a long text (a TextAreaField).
Lengths are the fields' own Length validators, set to their columns' lengths, which run
on the normalized text; a field without one is held to the column by the models' last
line (webapp.text.clean_pending).
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Form, PasswordField, StringField, TextAreaField
from wtforms.validators import StopValidation, ValidationError

from .. import text


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


class TextRules:
    """The Meta both bases share: binds the text rules to every field."""

    def bind_field(self, form, unbound_field, options):
        field = unbound_field.bind(form=form, **options)
        # Passwords are compared as typed: normalizing them would lock out whoever set one
        # before normalization.
        if issubclass(unbound_field.field_class, StringField) and not issubclass(
                unbound_field.field_class, PasswordField):
            field.filters = (*field.filters, _nfc)
        if issubclass(unbound_field.field_class, StringField):
            field.validators = [_text_not_a_file, *field.validators]
        field.validators = [*field.validators, _readable_text]
        return field


class BaseForm(FlaskForm):
    class Meta(TextRules, FlaskForm.Meta):
        pass


class PlainForm(Form):
    class Meta(TextRules, Form.Meta):
        pass
