"""Administration forms: events, their agenda, quotas and copies; partners; accounts; the
audit log's filters. The forms that write validate through their input models
(webapp/inputs/events.py, webapp/inputs/partners.py), whose field names they share, so a
refusal, the model's or a service's, lands beside the field it is about."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from .. import collation, languages
from ..ids import MAX_PAGE, coerce_id
from ..inputs.events import (
    MAX_OFFSETS_TEXT,
    MAX_SEATS,
    CancelIn,
    CloneIn,
    EventIn,
    QuestionIn,
    QuotasIn,
    SessionIn,
)
from ..inputs.partners import GrantIn, PartnerIn
from ..models import PartnerKind, QuestionKind, Role, SessionKind
from ..services.events import quota_field
from ..services.fields import territory_codes
from . import BaseForm, CheckboxesField
from .dates import LocalTimeField
from .lookup import LookupFields
from .places import country_choices, zone_choices
from .public import KIND_LABELS, SearchForm, search_box

SESSION_KIND_LABELS = {
    SessionKind.CONFERENCE: _l("Conference"),
    SessionKind.VISIT: _l("Visit"),
    SessionKind.WORKSHOP: _l("Workshop"),
    SessionKind.MATCHMAKING: _l("B2B meetings"),
    SessionKind.RECEPTION: _l("Reception"),
    SessionKind.WEBINAR: _l("Webinar"),
    SessionKind.OTHER: _l("Other"),
}

QUESTION_KIND_LABELS = {
    QuestionKind.SHORT_TEXT: _l("Short text"),
    QuestionKind.LONG_TEXT: _l("Long text"),
    QuestionKind.SINGLE_CHOICE: _l("One choice"),
    QuestionKind.MULTIPLE_CHOICE: _l("Several choices"),
    QuestionKind.YES_NO: _l("Yes or no"),
    QuestionKind.COUNTRY: _l("Country"),
}

PARTNER_KIND_LABELS = {
    PartnerKind.CLUSTER: _l("Cluster"),
    PartnerKind.BEACHHEAD: _l("Beachhead"),
    PartnerKind.NETWORK: _l("Network"),
}


class Translations:
    """A form that also takes its texts in every offered language (`translated`: the
    model's field names), as fields `texts_<language>_<name>`, each marked with its
    language (`lang`) and found through `translations()`. The fields are added on first
    use, for the languages the app offers (`offered_texts` is called by the form's
    metaclass before the form is built)."""

    translated: tuple[str, ...] = ()
    labels: dict[str, Any] = {}

    @classmethod
    def offered_texts(cls) -> None:
        for code in languages.offered():
            for name in cls.translated:
                attribute = text_field(code, name)
                if not hasattr(cls, attribute):
                    label = _l("%(field)s in %(language)s", field=cls.labels[name],
                               language=languages.name_of(code))
                    field_class = TextAreaField if name == "description" else StringField
                    render_kw = {"lang": languages.tag(code)}
                    if name == "description":
                        render_kw["rows"] = 4
                    setattr(cls, attribute, field_class(label, render_kw=render_kw))

    def translations(self, main: str | None) -> list[tuple[str, str, list]]:
        """(code, name, fields) of each language besides `main` whose texts the form
        takes, and of `main` too if it holds any (to be refused there)."""
        shown = []
        for code, name in languages.choices():
            fields = [self[text_field(code, n)] for n in self.translated]
            if code != main or any(f.data or f.errors for f in fields):
                shown.append((code, name, fields))
        return shown

    def texts_data(self) -> dict[str, dict[str, str]]:
        """The texts given per language; a language with every field empty has none."""
        texts = {}
        for code in languages.offered():
            values = {n: (self[text_field(code, n)].data or "") for n in self.translated}
            if any(v.strip() for v in values.values()):
                texts[code] = values
        return texts

    @staticmethod
    def texts_form_data(texts) -> dict[str, str]:
        """The form's data of stored translations (`EventText`, `SessionText` rows)."""
        return {text_field(t.language, n): getattr(t, n) for t in texts
                for n in ("title", "summary", "description") if hasattr(t, n)}

    def translation_field(self, where: tuple) -> str | None:
        """The field of a message about ("texts", code, name): None if it is not one."""
        if len(where) >= 3 and where[0] == "texts":
            name = text_field(str(where[1]), str(where[2]))
            return name if name in self._fields else None
        return None


def text_field(code: str, name: str) -> str:
    return f"texts_{code}_{name}"


class _TranslatedFormMeta(type(BaseForm)):
    def __call__(cls, *args, **kwargs):
        cls.offered_texts()
        return super().__call__(*args, **kwargs)


ROLE_LABELS = {
    Role.ADMIN: _l("Admin"),
    Role.PARTNER_MANAGER: _l("Partner manager"),
    Role.BEACHHEAD_HOST: _l("Beachhead host"),
}


class EventForm(Translations, BaseForm, metaclass=_TranslatedFormMeta):
    """An event; its local times are read in the zone typed beside them (`input_data`);
    its main language, and its texts in the others (`Translations`)."""

    input_model = EventIn
    translated = ("title", "summary", "description")
    labels = {"title": _l("Title"), "summary": _l("Summary"),
              "description": _l("Description")}

    kind = SelectField(
        _l("Kind"), validate_choice=False,
        choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
    )
    title = StringField(_l("Title"))
    slug = StringField(_l("Web address (slug)"))
    summary = StringField(_l("Summary"))
    description = TextAreaField(_l("Description"), render_kw={"rows": 6})
    target_country = SelectField(_l("Target country"), validate_choice=False)
    target_city = StringField(_l("Target city"))
    venue = StringField(_l("Venue"))
    online_url = StringField(_l("Online join address"))
    recording_url = StringField(_l("Recording link"))
    reminder_offsets = StringField(_l("Reminders before the start"),
                                   render_kw={"maxlength": MAX_OFFSETS_TEXT})
    timezone = SelectField(_l("Timezone"), validate_choice=False)
    starts_local = LocalTimeField(_l("Starts (local time)"), validators=[Optional()])
    ends_local = LocalTimeField(_l("Ends (local time)"), validators=[Optional()])
    registration_opens_local = LocalTimeField(
        _l("Registration opens (local time)"), validators=[Optional()])
    registration_closes_local = LocalTimeField(
        _l("Registration closes (local time)"), validators=[Optional()])
    capacity = IntegerField(_l("Capacity (seats)"), validators=[Optional()])
    max_per_organization = IntegerField(_l("Delegates per company (at most)"),
                                        validators=[Optional()])
    requires_approval = BooleanField(_l("Applications need approval"), default=True)
    organizer_ids = CheckboxesField(_l("Organizing partners"), coerce=coerce_id)
    host_ids = CheckboxesField(_l("Hosting beachheads"), coerce=coerce_id)
    language = SelectField(_l("Main language"), validate_choice=False)

    def __init__(self, *args, partners=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = [SelectChoice(code, name, render_kw={"lang": languages.tag(code)})
                                 for code, name in languages.choices()]
        self.target_country.choices = country_choices(territory_codes(), _l("Choose a country"))
        self.timezone.choices = zone_choices(
            first=[SelectChoice("", _l("Choose a time zone"))], current=self.timezone.data)
        partners = collation.sorted_by(partners, lambda p: p.name)
        self.organizer_ids.choices = [SelectChoice(p.id, p.name) for p in partners]
        self.host_ids.choices = [
            SelectChoice(p.id, p.name) for p in partners if p.kind == PartnerKind.BEACHHEAD
        ]

    def input_data(self) -> dict:
        data = super().input_data()
        zone = self.timezone.data
        for name in LOCAL_TIMES:
            data.pop(name, None)
            value = self[name].value_in(zone)
            if value is not None:
                data[name] = value
        if not self.reminder_offsets.raw_data:
            # A form posted without the field (an older page) leaves the reminders alone.
            data.pop("reminder_offsets", None)
        if not self.language.raw_data:
            # Likewise the main language and the translations.
            data.pop("language", None)
        else:
            data["texts"] = self.texts_data()
        return data

    def field_for(self, where: tuple) -> str | None:
        if where[:1] == ("texts",):
            # A translation in the main language: beside the main language's choice.
            return self.translation_field(where) or ("language" if len(where) < 3 else None)
        return super().field_for(where)


LOCAL_TIMES = ("starts_local", "ends_local", "registration_opens_local",
               "registration_closes_local")


class SessionForm(Translations, BaseForm, metaclass=_TranslatedFormMeta):
    """An agenda item; its local times are read in the event's zone (`zone`); its texts
    in the languages besides its event's main one (`main_language`)."""

    input_model = SessionIn
    translated = ("title", "description")
    labels = {"title": _l("Title"), "description": _l("Description")}

    title = StringField(_l("Title"))
    kind = SelectField(
        _l("Kind"), default=SessionKind.OTHER.value, validate_choice=False,
        choices=[SelectChoice(k.value, label) for k, label in SESSION_KIND_LABELS.items()],
    )
    all_day = BooleanField(_l("All day (dates only)"))
    starts_local = LocalTimeField(_l("Starts (local time)"), validators=[Optional()])
    ends_local = LocalTimeField(_l("Ends (local time)"), validators=[Optional()])
    start_date = DateField(_l("First day (all-day sessions)"), validators=[Optional()])
    end_date = DateField(_l("Last day (all-day sessions)"), validators=[Optional()])
    venue = StringField(_l("Venue"))
    description = TextAreaField(_l("Description"), render_kw={"rows": 2})
    online_url = StringField(_l("Online join address"))

    def __init__(self, *args, zone: str | None = None, main_language: str | None = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.main_language = main_language

    def input_data(self) -> dict:
        data = super().input_data()
        for name in ("starts_local", "ends_local"):
            data.pop(name, None)
            value = self[name].value_in(self.zone)
            if value is not None:
                data[name] = value
        if self.main_language is not None:
            data["texts"] = self.texts_data()
        return data

    def input_context(self) -> dict:
        return {"main_language": self.main_language}

    def field_for(self, where: tuple) -> str | None:
        if where[:1] == ("texts",):
            return self.translation_field(where)
        return super().field_for(where)


class QuestionForm(BaseForm):
    input_model = QuestionIn

    kind = SelectField(
        _l("Kind of answer"), default=QuestionKind.SHORT_TEXT.value, validate_choice=False,
        choices=[SelectChoice(k.value, label) for k, label in QUESTION_KIND_LABELS.items()],
    )
    label = StringField(_l("Question"))
    help_text = StringField(_l("Help text (optional)"))
    required = BooleanField(_l("An answer is required"))
    choices = TextAreaField(
        _l("Choices, one per line (for one choice or several choices; at least two)"),
        render_kw={"rows": 4},
    )

    def input_data(self) -> dict:
        return {**super().input_data(), "choices": self.choice_lines()}

    def choice_lines(self) -> list[str]:
        return [line.strip() for line in (self.choices.data or "").splitlines() if line.strip()]


class QuotaForm(BaseForm):
    """One seats field per partner that may hold a quota (`quota_form` adds them); blank
    means no quota. The model's message about a partner's seats goes beside its field."""

    input_model = QuotasIn
    partner_ids: tuple[int, ...] = ()

    def input_data(self) -> dict:
        return {"seats": {pid: self[quota_field(pid)].data for pid in self.partner_ids}}

    def field_for(self, where) -> str | None:
        # The model speaks of partner 12's seats at ("seats", 12): beside seats_12.
        return quota_field(where[1]) if len(where) > 1 else None


def quota_form(partners, seats: dict[int, int]) -> QuotaForm:
    """The quotas form of `partners`, showing `seats`."""

    class PartnersQuotaForm(QuotaForm):
        partner_ids = tuple(p.id for p in partners)

    for partner in partners:
        setattr(PartnersQuotaForm, quota_field(partner.id), IntegerField(
            partner.name, validators=[Optional()], default=seats.get(partner.id),
            render_kw={"min": 0, "max": MAX_SEATS},
        ))
    return PartnersQuotaForm(prefix="quota")


class CloneForm(BaseForm):
    input_model = CloneIn

    days = IntegerField(_l("Move the copy by (days)"), default=365, validators=[Optional()])


class CancelForm(BaseForm):
    input_model = CancelIn

    reason = TextAreaField(_l("Reason (sent with each cancelled registration)"),
                           render_kw={"rows": 3})


class PartnerForm(BaseForm):
    input_model = PartnerIn

    name = StringField(_l("Name"))
    short_name = StringField(_l("Short name"))
    slug = StringField(_l("Web address (slug)"))
    kind = SelectField(
        _l("Kind"), validate_choice=False,
        choices=[SelectChoice(k.value, label) for k, label in PARTNER_KIND_LABELS.items()],
    )
    is_member = BooleanField(_l("Member of the partnership"))
    country = SelectField(_l("Country"), validate_choice=False)
    region = StringField(_l("Region"))
    city = StringField(_l("City"))
    website = StringField(_l("Website"))
    description = TextAreaField(_l("Description"), render_kw={"rows": 4})

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(territory_codes(), _l("Choose a country"))


class UserSearchForm(SearchForm):
    q = search_box(_l("Name or email"))


class EventSearchForm(SearchForm):
    q = search_box(_l("Title, place or country"))


class GrantForm(BaseForm):
    input_model = GrantIn

    role = SelectField(
        _l("Role"), validate_choice=False,
        choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
    )
    partner_id = SelectField(_l("For partner"), coerce=coerce_id, validators=[Optional()])

    def __init__(self, *args, partners=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.partner_id.choices = [SelectChoice("", _l("None (admin)"))] + [
            SelectChoice(p.id, f"{p.name} ({PARTNER_KIND_LABELS[p.kind]})") for p in partners
        ]


class AuditFilterForm(LookupFields, BaseForm):
    class Meta:
        csrf = False

    action = StringField(_l("Action starts with"), validators=[Optional(), Length(max=60)],
                         render_kw={"placeholder": "event."})
    actor = StringField(_l("Actor email"), validators=[Optional(), Length(max=254)])
    subject_type = SelectField(_l("Subject"), validators=[Optional()])
    # A look-up field (forms/lookup.py): the chosen event's id, and the text shown or typed.
    event_id = HiddenField()
    event_id_q = StringField(_l("Event"), validators=[Optional(), Length(max=200)])
    since = DateField(_l("From (UTC date)"), validators=[Optional()])
    until = DateField(_l("Until (UTC date)"), validators=[Optional()])
    page = IntegerField(_l("Page"), default=1,
                        validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])

    def __init__(self, formdata=None, *, subject_types=(), **kwargs) -> None:
        super().__init__(formdata, **kwargs)
        self.remember_sent(formdata)
        self.subject_type.choices = [SelectChoice("", _l("Any"))] + [
            SelectChoice(t, t) for t in subject_types
        ]
