"""Administration forms: events, their agenda, quotas and copies; partners; accounts; the
audit log's filters. Field names match the services' detail names, so a refusal from a
service lands beside the field it is about."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..filters import country_name
from ..ids import MAX_PAGE, coerce_id
from ..models import PartnerKind, QuestionKind, Role, SessionKind
from ..services.fields import territory_codes
from . import BaseForm
from .dates import LocalTimeField
from .public import KIND_LABELS

# Offered in the timezone field's suggestions; any other IANA name may be typed.
COMMON_ZONES = (
    "Europe/Brussels", "Europe/Amsterdam", "Europe/Berlin", "Europe/Copenhagen",
    "Europe/Madrid", "Europe/Paris", "Europe/Rome", "Europe/Stockholm", "Europe/Vienna",
    "Europe/Prague", "Europe/Ljubljana", "Europe/Tallinn", "Europe/Vilnius", "Europe/Dublin",
    "Europe/London", "America/New_York", "America/Chicago", "America/Los_Angeles",
    "America/Toronto", "Asia/Singapore", "Asia/Kolkata", "Asia/Tokyo", "Asia/Shanghai",
    "Asia/Dubai", "Australia/Sydney", "Africa/Johannesburg", "UTC",
)

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

ROLE_LABELS = {
    Role.ADMIN: _l("Admin"),
    Role.PARTNER_MANAGER: _l("Partner manager"),
    Role.BEACHHEAD_HOST: _l("Beachhead host"),
}


def country_choices(blank: str) -> list[SelectChoice]:
    named = sorted(((country_name(code), code) for code in territory_codes()),
                   key=lambda pair: pair[0].casefold())
    return [SelectChoice("", blank)] + [SelectChoice(code, name) for name, code in named]


class EventForm(BaseForm):
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()]
    )
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    slug = StringField(_l("Web address (slug)"), validators=[Optional(), Length(max=120)])
    summary = StringField(_l("Summary"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20_000)],
                                render_kw={"rows": 6})
    target_country = SelectField(_l("Target country"), validators=[InputRequired()])
    target_city = StringField(_l("Target city"), validators=[Optional(), Length(max=120)])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=300)])
    online_url = StringField(_l("Online join address"), validators=[Optional(), Length(max=500)])
    recording_url = StringField(_l("Recording link"), validators=[Optional(), Length(max=500)])
    reminder_offsets = StringField(_l("Reminders before the start"),
                                   validators=[Optional(), Length(max=100)])
    timezone = StringField(_l("Timezone"), validators=[InputRequired(), Length(max=64)],
                           render_kw={"list": "timezone-options", "autocomplete": "off"})
    starts_local = LocalTimeField(_l("Starts (local time)"), validators=[InputRequired()])
    ends_local = LocalTimeField(_l("Ends (local time)"), validators=[InputRequired()])
    registration_opens_local = LocalTimeField(
        _l("Registration opens (local time)"), validators=[Optional()])
    registration_closes_local = LocalTimeField(
        _l("Registration closes (local time)"), validators=[Optional()])
    capacity = IntegerField(_l("Capacity (seats)"),
                            validators=[Optional(), NumberRange(min=0, max=100_000)])
    max_per_organization = IntegerField(
        _l("Delegates per company (at most)"),
        validators=[Optional(), NumberRange(min=1, max=10_000)])
    requires_approval = BooleanField(_l("Applications need approval"), default=True)
    organizer_ids = SelectMultipleField(_l("Organizing partners"), coerce=coerce_id,
                                        render_kw={"size": 8})
    host_ids = SelectMultipleField(_l("Hosting beachheads"), coerce=coerce_id,
                                   render_kw={"size": 4})

    def __init__(self, *args, partners=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.target_country.choices = country_choices(str(_l("Choose a country")))
        self.organizer_ids.choices = [SelectChoice(p.id, p.name) for p in partners]
        self.host_ids.choices = [
            SelectChoice(p.id, p.name) for p in partners if p.kind == PartnerKind.BEACHHEAD
        ]


class SessionForm(BaseForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    kind = SelectField(
        _l("Kind"), default=SessionKind.OTHER.value,
        choices=[SelectChoice(k.value, label) for k, label in SESSION_KIND_LABELS.items()],
    )
    all_day = BooleanField(_l("All day (dates only)"))
    starts_local = LocalTimeField(_l("Starts (local time)"), validators=[Optional()])
    ends_local = LocalTimeField(_l("Ends (local time)"), validators=[Optional()])
    start_date = DateField(_l("First day (all-day sessions)"), validators=[Optional()])
    end_date = DateField(_l("Last day (all-day sessions)"), validators=[Optional()])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)],
                                render_kw={"rows": 2})
    online_url = StringField(_l("Online join address"), validators=[Optional(), Length(max=500)])


class QuestionForm(BaseForm):
    kind = SelectField(
        _l("Kind of answer"), default=QuestionKind.SHORT_TEXT.value,
        choices=[SelectChoice(k.value, label) for k, label in QUESTION_KIND_LABELS.items()],
    )
    label = StringField(_l("Question"), validators=[InputRequired(), Length(max=300)])
    help_text = StringField(_l("Help text (optional)"), validators=[Optional(), Length(max=500)])
    required = BooleanField(_l("An answer is required"))
    choices = TextAreaField(
        _l("Choices, one per line (for one choice or several choices; at least two)"),
        validators=[Optional(), Length(max=12_000)], render_kw={"rows": 4},
    )

    def choice_lines(self) -> list[str]:
        return [line.strip() for line in (self.choices.data or "").splitlines() if line.strip()]


def quota_form(partners, seats: dict[int, int]) -> BaseForm:
    """One seats field per partner that may hold a quota; blank means no quota."""

    class QuotaForm(BaseForm):
        pass

    for partner in partners:
        setattr(QuotaForm, f"seats_{partner.id}", IntegerField(
            partner.name, validators=[Optional(), NumberRange(min=0, max=100_000)],
            default=seats.get(partner.id),
        ))
    return QuotaForm(prefix="quota")


class CloneForm(BaseForm):
    days = IntegerField(_l("Move the copy by (days)"), default=365,
                        validators=[InputRequired(), NumberRange(min=-3650, max=3650)])


class CancelForm(BaseForm):
    reason = TextAreaField(_l("Reason (sent with each cancelled registration)"),
                           validators=[Optional(), Length(max=1000)], render_kw={"rows": 3})


class PartnerForm(BaseForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    short_name = StringField(_l("Short name"), validators=[InputRequired(), Length(max=60)])
    slug = StringField(_l("Web address (slug)"), validators=[Optional(), Length(max=80)])
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(k.value, label) for k, label in PARTNER_KIND_LABELS.items()],
    )
    is_member = BooleanField(_l("Member of the partnership"))
    country = SelectField(_l("Country"), validators=[InputRequired()])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=120)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)],
                                render_kw={"rows": 4})

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(str(_l("Choose a country")))


class UserSearchForm(BaseForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name or email"), validators=[Optional(), Length(max=200)])
    page = IntegerField(_l("Page"), default=1,
                        validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])


class GrantForm(BaseForm):
    role = SelectField(
        _l("Role"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()]
    )
    partner_id = SelectField(_l("For partner"), coerce=coerce_id, validators=[Optional()])

    def __init__(self, *args, partners=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.partner_id.choices = [SelectChoice("", _l("None (admin)"))] + [
            SelectChoice(p.id, f"{p.name} ({PARTNER_KIND_LABELS[p.kind]})") for p in partners
        ]


class AuditFilterForm(BaseForm):
    class Meta:
        csrf = False

    action = StringField(_l("Action starts with"), validators=[Optional(), Length(max=60)],
                         render_kw={"placeholder": "event."})
    actor = StringField(_l("Actor email"), validators=[Optional(), Length(max=254)])
    subject_type = SelectField(_l("Subject"), validators=[Optional()])
    event_id = SelectField(_l("Event"), coerce=coerce_id, validators=[Optional()])
    since = DateField(_l("From (UTC date)"), validators=[Optional()])
    until = DateField(_l("Until (UTC date)"), validators=[Optional()])
    page = IntegerField(_l("Page"), default=1,
                        validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])

    def __init__(self, *args, subject_types=(), events=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.subject_type.choices = [SelectChoice("", _l("Any"))] + [
            SelectChoice(t, t) for t in subject_types
        ]
        self.event_id.choices = [SelectChoice("", _l("Any event"))] + [
            SelectChoice(e.id, e.title) for e in events
        ]
