"""The application form, built per event from its questions: one field per question, the
company profile (only for those who may edit it), and the two consents.

The question fields only parse what was posted. The answers' shape (lengths, the options'
count, the consents) is the input model's (webapp/inputs/applications.py), whose messages
show beside each question; whether an answer fits its question is decided by
`services.questions.clean_answers`, whose messages the view puts there too. The form has
no field for a user, partner, status or registration: whatever a tampered request posts
under such names is never read.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    Field,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..inputs import applications as inputs
from ..models import Event, Question, QuestionKind
from ..services.questions import NO, YES, country_codes
from . import BaseForm, CheckboxesField, _readable_text
from .organization import strip, web_address
from .places import country_choices


def question_field_name(question: Question) -> str:
    return f"q_{question.id}"


def _question_field(question: Question) -> Field:
    """A field that takes whatever is posted; `validate_choice=False` leaves the choice
    checks to the service, so every refusal reads the same."""
    label = question.label
    kind = question.kind
    if kind == QuestionKind.LONG_TEXT:
        return TextAreaField(label, render_kw={"rows": 4})
    if kind == QuestionKind.SINGLE_CHOICE:
        return RadioField(label, choices=[SelectChoice(c, c) for c in question.choices],
                          validate_choice=False)
    if kind == QuestionKind.MULTIPLE_CHOICE:
        return CheckboxesField(label, choices=[SelectChoice(c, c) for c in question.choices],
                               validate_choice=False)
    if kind == QuestionKind.YES_NO:
        return RadioField(label, choices=[SelectChoice(YES, _l("Yes")),
                                          SelectChoice(NO, _l("No"))],
                          validate_choice=False)
    if kind == QuestionKind.COUNTRY:
        return SelectField(label, choices=country_choices(country_codes(), _l("Choose a country")),
                           validate_choice=False)
    return StringField(label)


def _initial(question: Question, value: Any) -> Any:
    """A stored answer as its field shows it."""
    if question.kind == QuestionKind.YES_NO and isinstance(value, bool):
        return YES if value else NO
    return value


class _AnswersOnly(BaseForm.Meta):
    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        if field.short_name.startswith("q_"):
            # The model reads the answers' text, naming it "Your answer" as the API does.
            field.validators = [v for v in field.validators if v is not _readable_text]
        return field


class AnswersForm(BaseForm):
    """The questions only (editing the answers of an application)."""

    Meta = _AnswersOnly
    input_model: ClassVar[type[inputs.AnswersIn]] = inputs.AnswersIn
    questions: list[Question]

    def answers(self) -> dict[int, Any]:
        """What was posted, by question id, as strings and lists of strings."""
        return {q.id: self[question_field_name(q)].data for q in self.questions}

    def input_data(self) -> dict[str, Any]:
        data = super().input_data()
        data["answers"] = [{"question_id": q.id, "value": value}
                           for q in self.questions
                           if (value := self[question_field_name(q)].data) is not None]
        return data

    def field_for(self, where: tuple[Any, ...]) -> str | None:
        if len(where) >= 2 and where[0] == "answers" and isinstance(where[1], int):
            answered = [q for q in self.questions
                        if self[question_field_name(q)].data is not None]
            if where[1] < len(answered):
                return question_field_name(answered[where[1]])
        return super().field_for(where)

    def show_problems(self, problems: dict[int, str]) -> None:
        """The service's messages beside their questions, unless the model has spoken
        there already."""
        by_id = {q.id: q for q in self.questions}
        for question_id, message in problems.items():
            field = self[question_field_name(by_id[question_id])]
            if not field.errors:
                field.errors = [*field.errors, message]


class ApplicationForm(AnswersForm):
    input_model = inputs.ApplicationIn

    profile_consent = BooleanField(_l("I agree to share my company's profile with the "
                                      "event's hosts"))
    contact_consent = BooleanField(_l("I agree to share my name, email address and phone "
                                      "number with the event's hosts (optional)"))
    org_name = StringField(_l("Organization name"), filters=[strip],
                           validators=[DataRequired(), Length(min=2, max=200)])
    org_sector = StringField(_l("Sector"), filters=[strip],
                             validators=[Optional(), Length(max=120)])
    org_website = StringField(_l("Website"), filters=[strip],
                              validators=[Optional(), Length(max=300), web_address],
                              render_kw={"type": "url", "placeholder": "https://"})
    org_profile = TextAreaField(_l("Profile"), filters=[strip],
                                validators=[Optional(), Length(max=5000)],
                                render_kw={"rows": 5})

    PROFILE_FIELDS = ("org_name", "org_sector", "org_website", "org_profile")
    CONSENT_FIELDS = ("profile_consent", "contact_consent")

    @property
    def asks_consents(self) -> bool:
        return "profile_consent" in self

    @property
    def edits_profile(self) -> bool:
        return "org_name" in self

    def profile(self) -> dict[str, str] | None:
        if not self.edits_profile:
            return None
        return {name.removeprefix("org_"): self[name].data or "" for name in self.PROFILE_FIELDS}


def _build(base: type[AnswersForm], questions: list[Question],
           answers: dict[int, Any] | None, **kwargs) -> Any:
    """A subclass of `base` with one field per question, instantiated."""
    fields = {question_field_name(q): _question_field(q) for q in questions}
    form_class = type(base.__name__, (base,), fields)
    data = dict(kwargs.pop("data", {}))
    for question in questions:
        if answers and question.id in answers and answers[question.id] is not None:
            data[question_field_name(question)] = _initial(question, answers[question.id])
    form = form_class(data=data, **kwargs)
    form.questions = list(questions)
    return form


def answers_form(questions: list[Question], answers: dict[int, Any] | None = None) -> AnswersForm:
    return _build(AnswersForm, questions, answers)


def application_form(event: Event, *, organization=None, edits_profile: bool = False,
                     answers: dict[int, Any] | None = None) -> ApplicationForm:
    """The form for `event`. The profile fields exist only when the applicant may edit
    the profile; the consents only for an event met in person, the profile's required
    for missions."""
    data = {}
    if organization is not None and edits_profile:
        data = {f"org_{name}": getattr(organization, name) or ""
                for name in ("name", "sector", "website", "profile")}
    form = _build(ApplicationForm, list(event.questions), answers, data=data)
    if not edits_profile:
        for name in ApplicationForm.PROFILE_FIELDS:
            del form[name]
    if not event.meets_in_person:
        # No hosts receive a webinar's registrants: there is nothing to consent to.
        for name in ApplicationForm.CONSENT_FIELDS:
            del form[name]
    elif event.kind.is_mission:
        # Required for missions: the service says so (it knows the event); the browser
        # is told too.
        form.profile_consent.flags.required = True
    return form
