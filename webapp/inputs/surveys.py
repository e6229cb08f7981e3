"""A delegate's answer to a mission's follow-up survey, and a partner manager's
confirmation of the agreement a delegate reported. Whether the survey link still works,
was answered already, and which agreements may be confirmed, the service decides."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, ValidationError, ValidatorFunctionWrapHandler, WrapValidator

from ..models.survey import MAX_AGREEMENTS, MAX_LEADS, MAX_MEETINGS, MAX_PARTIES, MAX_TEXT
from ..services.errors import N_
from . import Id, Input, Text, refuse

SATISFACTION = N_("Choose your satisfaction from 1 (poor) to 5 (excellent).")
COUNT = "Give a whole number from 0 to %(max)d."


def _count(limit: int) -> Any:
    """A count from 0 to `limit`: one sentence for whatever is wrong with it."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> int:
        try:
            return handler(value)
        except ValidationError:
            raise refuse(None, COUNT, max=limit) from None

    return Annotated[int, Field(ge=0, le=limit), WrapValidator(check)]


class SurveyAnswerIn(Input):
    long_texts = frozenset({"outcome", "comment"})

    satisfaction: int = Field(ge=1, le=5, title="Satisfaction")
    b2b_meetings: _count(MAX_MEETINGS) = 0
    leads: _count(MAX_LEADS) = 0
    agreements_in_negotiation: _count(MAX_AGREEMENTS) = 0
    agreements_signed: _count(MAX_AGREEMENTS) = 0
    agreement_parties: Text(MAX_PARTIES, title="With whom?") = ""
    outcome: Text(MAX_TEXT, title="What came of the mission?") = ""
    comment: Text(MAX_TEXT, title="Anything else you would like to tell us?") = ""

    field_messages = {"satisfaction": SATISFACTION}


class OutcomeConfirmationIn(Input):
    """The agreement record a delegate's reported agreement is."""

    agreement_id: Id

    field_messages = {"agreement_id": N_("Choose the agreement.")}
