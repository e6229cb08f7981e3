"""Forms of the partner desk: the list's filters, a decision, a bulk decision, a decision
corrected, the role on the event, a direct registration and the choice behind applying on
behalf.

None of them carries a user, partner or event the view would trust: ids name objects the
view looks up again through the policy, and the status the decider saw only makes a
decision stale when it no longer matches.
"""

from __future__ import annotations

from flask_babel import LazyString, pgettext
from flask_babel import lazy_gettext as _l
from wtforms import (
    EmailField,
    Field,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice

from ..ids import parse_id
from ..inputs.desk import DirectRegistrationIn, RoleIn
from ..inputs.registrations import BulkDecisionIn, CorrectionIn, DecisionIn
from ..models import DIRECT_ROLES, EventRole, RegistrationStatus
from ..services.desk import PAGE_SIZES, SORTS, DeskFilters
from ..services.names import ROLE_LABELS
from . import BaseForm, PlainForm
from .lookup import LookupFields
from .organization import strip
from .places import country_choices

STATUS_LABELS = {
    RegistrationStatus.SUBMITTED: _l("Submitted"),
    # A status, not the "Approved" column of counts (webinar report): languages may differ.
    RegistrationStatus.APPROVED: LazyString(lambda: pgettext("registration status",
                                                             "Approved")),
    RegistrationStatus.REJECTED: _l("Rejected"),
    RegistrationStatus.WAITLISTED: _l("Waiting list"),
    RegistrationStatus.WITHDRAWN: _l("Withdrawn"),
    RegistrationStatus.CANCELLED: _l("Cancelled"),
}
SORT_LABELS = {"applied": _l("Applied (newest first)"), "name": _l("Name"),
               "company": _l("Company"), "status": _l("Status")}
DECISION_CHOICES = [SelectChoice("approve", _l("Approve")), SelectChoice("reject", _l("Reject")),
                    SelectChoice("waitlist", _l("Waiting list"))]


class DeskFilterForm(LookupFields, PlainForm):
    """The list's query string. A value that is not one of the choices (an old link, a
    hand-edited URL) falls back to "all" instead of failing the page."""

    # The event: a look-up field (templates/macros/lookup.html). `event` holds the id the
    # typeahead chose (or a link names), `event_q` what the field shows or was typed.
    event = HiddenField()
    event_q = StringField(_l("Event"), filters=[strip])
    status = SelectField(_l("Status"), validate_choice=False, choices=[
        SelectChoice("", _l("All statuses"))] + [
        SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()])
    country = SelectField(_l("Country"), validate_choice=False)
    q = StringField(_l("Name or company"), filters=[strip])
    sort = SelectField(_l("Sort by"), validate_choice=False, default="applied",
                       choices=[SelectChoice(k, SORT_LABELS[k]) for k in SORTS])
    per_page = SelectField(_l("Per page"), validate_choice=False, default=str(PAGE_SIZES[0]),
                           choices=[SelectChoice(str(n), str(n)) for n in PAGE_SIZES])

    def __init__(self, formdata, *, countries=()) -> None:
        super().__init__(formdata)
        self.remember_sent(formdata)
        self.country.choices = country_choices(countries, _l("All countries"))
        for name in ("status", "country", "sort", "per_page"):
            field = self[name]
            if field.data not in {c[0] for c in field.iter_choices()} | {None}:
                field.data = field.default or ""

    def filters(self, chosen) -> DeskFilters:
        status = self.status.data or None
        return DeskFilters(
            # No event has id 0: an event field that names nothing shows nothing.
            event_id=chosen.one.id if chosen.one is not None else (0 if chosen.missing
                                                                     else None),
            event_search=chosen.text,
            status=RegistrationStatus(status) if status else None,
            country=self.country.data or None,
            search=(self.q.data or "")[:200],
            sort=self.sort.data or "applied",
        )

    @property
    def page_size(self) -> int:
        return int(self.per_page.data or PAGE_SIZES[0])


class DecisionForm(BaseForm):
    """One application: the buttons post `decision`; `expected_status` is the status the
    page showed (a value that is not a status at all means the page is not ours)."""

    input_model = DecisionIn

    decision = HiddenField()
    expected_status = HiddenField()
    reason = TextAreaField(_l("Reason (required to reject; sent to the applicant)"),
                           render_kw={"rows": 3})


class CorrectionForm(BaseForm):
    """A decision reopened or one registration cancelled, posted from its confirmation
    page: the reason, and the status the page showed."""

    input_model = CorrectionIn

    expected_status = HiddenField()
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 3}, description=_l(
        "The applicant receives it by mail; it stays in the application's history."))


class IdsField(Field):
    """The ticked checkboxes: every value must be an id (1..MAX_ID)."""

    def _value(self) -> str:
        return ""

    def process_formdata(self, valuelist) -> None:
        ids = [parse_id(v) for v in valuelist]
        if None in ids:
            self.data = []
            raise ValueError(_l("The selection was not understood: tick the applications "
                                "again."))
        self.data = ids

    def process_data(self, value) -> None:
        self.data = list(value or [])


class BulkDecisionForm(BaseForm):
    input_model = BulkDecisionIn

    ids = IdsField(_l("Applications"))
    decision = SelectField(_l("Decision"), choices=DECISION_CHOICES)
    reason = TextAreaField(_l("Reason (required to reject; sent to each applicant)"),
                           render_kw={"rows": 2})


class RoleForm(BaseForm):
    input_model = RoleIn

    role = SelectField(_l("Role on the event"), validate_choice=False,
                       choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()])


class DirectRegistrationForm(BaseForm):
    input_model = DirectRegistrationIn

    email = EmailField(_l("Email of their account"), filters=[strip])
    role = SelectField(_l("Role"), validate_choice=False, choices=[
        SelectChoice(r.value, ROLE_LABELS[r]) for r in EventRole if r in DIRECT_ROLES])


class OnBehalfChoiceForm(LookupFields, PlainForm):
    """Whom to apply for, and to which event (a GET form: choosing changes nothing), both
    look-up fields."""

    member = HiddenField()
    member_q = StringField(_l("Member"), filters=[strip],
                           description=_l("Their name or their organization's."))
    event = HiddenField()
    event_q = StringField(_l("Event"), filters=[strip])

    def __init__(self, formdata) -> None:
        super().__init__(formdata)
        self.remember_sent(formdata)
