"""The public catalogue's filters, and the search box every list shares."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional, ValidationError

from .. import collation, localtime
from ..ids import MAX_PAGE
from ..models import EventKind, search
from ..services.catalogue import CatalogueFilters, When
from . import BaseForm
from .dates import Within
from .places import country_choices

KIND_LABELS = {
    EventKind.OUTBOUND_MISSION: _l("Outbound mission"),
    EventKind.INBOUND_MISSION: _l("Inbound mission"),
    EventKind.FACT_FINDING_MISSION: _l("Fact-finding mission"),
    EventKind.WEBINAR: _l("Webinar"),
    EventKind.WORKSHOP: _l("Workshop"),
    EventKind.MATCHMAKING: _l("B2B matchmaking"),
    EventKind.RECEPTION: _l("Reception"),
}


def search_box(label, **kwargs) -> StringField:
    """A search box: it keeps what is searched of what was typed (a query too long is cut
    to the length searched, not refused), and shows it back."""
    return StringField(label, filters=[search.typed], **kwargs)


class SearchForm(BaseForm):
    """A list's search box and page, read from the query string."""

    class Meta:
        csrf = False

    q = search_box(_l("Search"))
    page = IntegerField(_l("Page"), default=1,
                        validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])


class EventFilterForm(SearchForm):
    """The catalogue's search and filters, read from the query string (a link keeps
    them). A filter whose value is not valid is ignored, and named above the list."""

    q = search_box(_l("Search"), description=_l("Title, place or country"))
    when = SelectField(
        _l("When"),
        choices=[SelectChoice(When.UPCOMING.value, _l("Upcoming")),
                 SelectChoice(When.PAST.value, _l("Past"))],
        default=When.UPCOMING.value,
        validators=[Optional()],
    )
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice("", _l("All kinds"))]
        + [SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
        default="",
        validators=[Optional()],
    )
    country = SelectField(_l("Target region"), default="", validators=[Optional()])
    partner = SelectField(_l("Organized by"), default="", validators=[Optional()])
    start = DateField(_l("From"), validators=[Optional(), Within(localtime.EVENT_DATES)],
                      description=_l("In the event's own dates; a date range lists past "
                                     "and upcoming events alike."))
    end = DateField(_l("To"), validators=[Optional(), Within(localtime.EVENT_DATES)])

    def __init__(self, formdata, *, countries=(), partners=()) -> None:
        super().__init__(formdata)
        # In the order people read them: "Clúster ..." beside "Cluster ...", not after.
        self.country.choices = country_choices(countries, _l("All regions"))
        self.partner.choices = [SelectChoice("", _l("All partners"))] + [
            SelectChoice(str(p.id), p.name)
            for p in collation.sorted_by(partners, lambda p: p.name)]

    def validate_end(self, field) -> None:
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The last day comes before the first."))

    def _value(self, name: str):
        """A filter's value, or None when it is empty or not valid."""
        field = self[name]
        return None if field.errors or field.data in ("", None) else field.data

    def filters(self) -> CatalogueFilters:
        """The valid filters (call `validate` first). The dates are one filter: a range
        with a wrong end is ignored whole, not read as open-ended."""
        kind, partner = self._value("kind"), self._value("partner")
        dated = not (self.start.errors or self.end.errors)
        return CatalogueFilters(
            search=self._value("q") or "",
            when=When(self._value("when") or When.UPCOMING),
            kind=EventKind(kind) if kind else None,
            country=self._value("country"),
            partner_id=int(partner) if partner else None,
            start=self._value("start") if dated else None,
            end=self._value("end") if dated else None,
        )

    @property
    def page_number(self) -> int:
        return self._value("page") or 1

    @property
    def filtered(self) -> bool:
        """Whether anything narrows the list beyond the upcoming events."""
        return any(self[name].data not in ("", None, self[name].default)
                   for name in ("q", "when", "kind", "country", "partner", "start", "end"))
