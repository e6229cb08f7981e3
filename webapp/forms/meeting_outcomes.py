"""The forms of what meetings led to: the table's scanner, a side's rating, the
follow-up question and the agreement it reached (their models in
webapp/inputs/meeting_outcomes.py), and the "we met" button."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..ids import coerce_id
from ..inputs import NoInput
from ..inputs.meeting_outcomes import (
    FollowUpIn,
    MeetingAgreementIn,
    MeetingRatingIn,
    MeetingScanIn,
)
from ..models import FollowUpAnswer, MeetingRatingAnswer
from ..models.meeting_outcome import MAX_COMMENT
from . import BaseForm
from .agreements import TYPE_LABELS
from .auth import _strip

RATING_LABELS = {
    MeetingRatingAnswer.DID_NOT_TAKE_PLACE: _l("The meeting did not take place"),
    MeetingRatingAnswer.INSUFFICIENT_INTEREST: _l("Insufficient interest"),
    MeetingRatingAnswer.INFORMATIVE: _l("Informative, no cooperation planned"),
    MeetingRatingAnswer.COOPERATION_POSSIBLE: _l("Cooperation possible"),
}
FOLLOW_UP_LABELS = {
    FollowUpAnswer.NO_FURTHER_CONTACT: _l("No further contact"),
    FollowUpAnswer.IN_DISCUSSION: _l("In discussion"),
    FollowUpAnswer.NEGOTIATION_STARTED: _l("Negotiation started"),
    FollowUpAnswer.AGREEMENT_REACHED: _l("Cooperation agreement reached"),
}


class ScanForm(BaseForm):
    """The meeting point is chosen once and kept between scans; the service judges a
    point that is not the event's."""

    input_model = MeetingScanIn

    point_id = SelectField(_l("Meeting point"), coerce=coerce_id, validate_choice=False)
    token = StringField(_l("Badge code"), filters=[_strip],
                        description=_l("Scan the badge's QR code or type the code printed "
                                       "under it."),
                        render_kw={"autocomplete": "off", "autofocus": True})

    def __init__(self, *args, points, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.point_id.choices = [SelectChoice(str(p.id), p.name) for p in points]


class MetForm(BaseForm):
    input_model = NoInput


class RatingForm(BaseForm):
    input_model = MeetingRatingIn

    answer = RadioField(_l("How did the meeting go?"), validate_choice=False,
                        choices=[SelectChoice(a.value, label)
                                 for a, label in RATING_LABELS.items()])
    comment = TextAreaField(_l("Comment (optional)"), filters=[_strip],
                            description=_l("Only the event's organizers read it."),
                            render_kw={"rows": 3, "maxlength": MAX_COMMENT})


class FollowUpForm(BaseForm):
    input_model = FollowUpIn

    answer = RadioField(_l("What came of the meeting?"), validate_choice=False,
                        choices=[SelectChoice(a.value, label)
                                 for a, label in FOLLOW_UP_LABELS.items()])


class MeetingAgreementForm(BaseForm):
    input_model = MeetingAgreementIn

    type = SelectField(_l("Type"), validate_choice=False, choices=[
        SelectChoice("", _l("Choose…"))] + [
        SelectChoice(t.value, label) for t, label in TYPE_LABELS.items()])
    title = StringField(_l("Title"), filters=[_strip])
    description = TextAreaField(_l("Short public description"), filters=[_strip],
                                render_kw={"rows": 3})
    signed_on = DateField(_l("Signed on"), validators=[Optional()])
