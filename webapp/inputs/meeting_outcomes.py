"""What meetings led to, as people write it: a badge scanned at a meeting point, a side's
rating of a meeting, the answer to a follow-up question, and the agreement a meeting
reached. Whether the point is the event's, the badge a participant's, the moment right
and the writer a side of the meeting, the service decides (services.meeting_outcomes)."""

from __future__ import annotations

from ..models import AgreementType, FollowUpAnswer, MeetingRatingAnswer
from ..models.meeting_outcome import MAX_COMMENT
from ..services.errors import N_
from . import Id, Input, RequiredText, Text
from .agreements import AgreementDay
from .checkin import MAX_TOKEN, SCAN_A_BADGE


class MeetingScanIn(Input):
    """A badge scanned at a meeting point: its holder's meeting there is held."""

    point_id: Id
    token: RequiredText(MAX_TOKEN, title="Badge code",
                        description="The badge's code, or the URL its QR code holds.")

    required_messages = {"token": SCAN_A_BADGE}
    field_messages = {"point_id": N_("Choose one of the event's meeting points.")}


class MeetingRatingIn(Input):
    """A side's rating of a meeting; the comment is read by the organizers only."""

    long_texts = frozenset({"comment"})

    answer: MeetingRatingAnswer
    comment: Text(MAX_COMMENT, title="Comment") = ""

    field_messages = {"answer": N_("Choose how the meeting went.")}


class FollowUpIn(Input):
    """A side's answer to the follow-up question, months after the meeting."""

    answer: FollowUpAnswer

    field_messages = {"answer": N_("Choose what came of the meeting.")}


class MeetingAgreementIn(Input):
    """The agreement a meeting reached, as its side records it: the parties (the two
    organizations), its kind and the event it came from are the meeting's."""

    long_texts = frozenset({"description"})

    type: AgreementType
    title: RequiredText(200, title="Title")
    description: Text(2000, title="Short public description") = ""
    signed_on: AgreementDay

    required_messages = {"title": N_("Enter a title."),
                         "signed_on": N_("Enter the date it was signed.")}
    field_messages = {"type": N_("Choose the type of agreement.")}
