"""The marketplace's forms: joining with consent, the profile, an opportunity, the slots a
participant cannot meet in, and the search. Their fields are their models'
(webapp/inputs/matchmaking.py); the lists offer choices, the service judges what was
chosen. The default opportunity types are labelled here, the participant types with the
matchmaking settings (forms/matchmaking.py); an organizer's own type carries its own
label."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ..inputs.matchmaking import JoinIn, OpportunityIn, ProfileIn, UnavailableSlotsIn
from ..services.fields import territory_codes
from . import BaseForm, CheckboxesField, PlainForm
from .matchmaking import type_label as participant_type_label
from .places import country_choices

# "Request" alone is also a meeting request's column heading: the type's has a context.
OPPORTUNITY_TYPE_LABELS: dict[str, Callable[[], str]] = {
    "offer": lambda: pgettext("opportunity type", "Offer"),
    "request": lambda: pgettext("opportunity type", "Request"),
}
TAGS_HELP = _l("One per line, or separated by commas.")


def opportunity_type_label(kind) -> str:
    """An opportunity type's name: the organizer's label, else its default's."""
    if kind.label:
        return kind.label
    default = OPPORTUNITY_TYPE_LABELS.get(kind.key)
    return default() if default else kind.key


def _type_choices(types, label) -> list[SelectChoice]:
    return [SelectChoice(kind.key, label(kind)) for kind in types]


class _ChoosesAType(BaseForm):
    """A form whose field `type_field` chooses among the event's `types` (the view
    passes them), each named by `type_label`."""

    type_field: ClassVar[str] = "participant_type"
    type_label: ClassVar[Callable[[Any], str]] = staticmethod(participant_type_label)

    def __init__(self, *args, types=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self[self.type_field].choices = _type_choices(types, type(self).type_label)


class JoinForm(_ChoosesAType):
    input_model = JoinIn

    participant_type = SelectField(_l("You take part as"), validate_choice=False)
    consent = BooleanField(_l(
        "Show me in the event's marketplace: the other participants of this event see my "
        "organization's name, country, sector, website and profile text, my participant "
        "type, sectors, technologies and opportunities. My name, email address and phone "
        "number are shown only to those whose meeting request I accept, and to the "
        "organizers."))


class ProfileForm(_ChoosesAType):
    input_model = ProfileIn

    participant_type = SelectField(_l("You take part as"), validate_choice=False)
    sectors = TextAreaField(_l("Sectors"), render_kw={"rows": 3})
    technologies = TextAreaField(_l("Technologies"), render_kw={"rows": 3})


class OpportunityForm(_ChoosesAType):
    input_model = OpportunityIn
    type_field = "opportunity_type"
    type_label = staticmethod(opportunity_type_label)

    opportunity_type = SelectField(_l("Type"), validate_choice=False)
    title = StringField(_l("Title"))
    text = TextAreaField(_l("Description"), render_kw={"rows": 4})
    tags = TextAreaField(_l("Tags"), render_kw={"rows": 2})


class AvailabilityForm(BaseForm):
    """One box per meeting slot (its start, ISO 8601): ticked, not available."""

    input_model = UnavailableSlotsIn

    slots = CheckboxesField(_l("Not available"), validate_choice=False)

    def __init__(self, *args, slots=(), label=str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.slots.choices = [SelectChoice(start.isoformat(), label(start)) for start in slots]


class SearchForm(PlainForm):
    """The marketplace's query string. A choice that is not offered (an old link, a
    hand-edited URL, a country nobody comes from any longer) falls back to "all" instead
    of failing the page."""

    q = StringField(_l("Search"))
    type = SelectField(_l("Opportunity type"), validate_choice=False)
    sector = StringField(_l("Sector"))
    country = SelectField(_l("Country"), validate_choice=False)
    participant_type = SelectField(_l("Participant type"), validate_choice=False)

    def __init__(self, formdata, *, participant_types=(), opportunity_types=(),
                 countries=()) -> None:
        super().__init__(formdata)
        self.type.choices = [SelectChoice("", _l("All types")), *_type_choices(
            opportunity_types, opportunity_type_label)]
        self.participant_type.choices = [SelectChoice("", _l("All participants")), *(
            _type_choices(participant_types, participant_type_label))]
        # The countries the marketplace's participants come from, not every country.
        self.country.choices = country_choices(set(countries) & territory_codes(),
                                               _l("All countries"))
        for name in ("type", "country", "participant_type"):
            field = self[name]
            if field.data not in {choice[0] for choice in field.iter_choices()}:
                field.data = ""
        for name in ("q", "sector"):
            if not isinstance(self[name].data, str):
                self[name].data = ""
            self[name].data = self[name].data.strip()[:200]

    def filters(self) -> dict[str, Any]:
        """The search's arguments (services.marketplace.search)."""
        return dict(text=self.q.data, opportunity_type=self.type.data or None,
                    sector=self.sector.data or None, country=self.country.data or None,
                    participant_type=self.participant_type.data or None)

    @property
    def narrowed(self) -> bool:
        return any(self.filters().values())
