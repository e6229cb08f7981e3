"""An agreement as a partner manager records or corrects it.

The model states its fields and the rules between them (the dates its status calls for,
in order; the parties named once, at least two of them). Which clusters, organizations
and events the ids name, whether the parties fit the kind of agreement (their countries,
their membership) and whether a new organization is already a party are the database's:
the service decides them (`services.agreements`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from .. import localtime
from ..models import AgreementKind, AgreementStatus, AgreementType, Helix
from ..services.errors import N_
from . import Id, Input, Problems, RequiredText, Text, refuse

MAX_PARTIES = 100
PARTY_KEY = re.compile(r"(partner|organization):[1-9][0-9]{0,9}")
FROM_THE_LIST = "Choose the parties from the list."


def _in_agreement_years(day: date) -> date:
    if not localtime.AGREEMENT_DATES.holds(day):
        raise refuse(None, localtime.AGREEMENT_DATES.refusal())
    return day


AgreementDay = Annotated[date, AfterValidator(_in_agreement_years)]


class AgreementIn(Input):
    """An agreement: parties are "partner:<id>" or "organization:<id>"; a party not yet
    recorded is named in `new_organization_*` and recorded with the agreement."""

    long_texts = frozenset({"description"})

    kind: AgreementKind
    type: AgreementType
    status: AgreementStatus
    title: RequiredText(200, title="Title")
    description: Text(2000, title="Short public description") = ""
    responsible_partner_id: Id
    parties: list[str] = Field(default_factory=list)
    new_organization_name: Text(200, title="Another party, not yet recorded: its name") = ""
    new_organization_country: Text(10, title="Its country") = ""
    new_organization_helix: Helix = Helix.INDUSTRY
    started_on: AgreementDay | None = None
    signed_on: AgreementDay | None = None
    ended_on: AgreementDay | None = None
    origin_event_id: Id | None = None

    required_messages = {"title": N_("Enter a title.")}
    # Chosen from lists: whatever is wrong with them, the person chooses again.
    field_messages = {
        "kind": N_("Choose the kind of agreement."),
        "type": N_("Choose the type of agreement."),
        "status": N_("Choose a status."),
        "responsible_partner_id": "Choose the member cluster responsible for it.",
        "origin_event_id": "Choose the event from the list.",
        "new_organization_helix": N_("Choose what it is from the list."),
    }

    @field_validator("parties")
    @classmethod
    def _parties_named_once(cls, parties: list[str]) -> list[str]:
        if len(parties) > MAX_PARTIES or not all(PARTY_KEY.fullmatch(p) for p in parties):
            raise refuse(None, FROM_THE_LIST)
        if len(set(parties)) < len(parties):
            raise refuse(None, "The same party is named twice: an agreement binds "
                               "different organizations.")
        return parties

    @model_validator(mode="after")
    def _dates_and_parties(self):
        problems = Problems()
        status, started = self.status, self.started_on
        signed, ended = self.signed_on, self.ended_on
        if status.was_signed and signed is None:
            problems.add("signed_on", "Enter the date it was signed.")
        if status == AgreementStatus.IN_NEGOTIATION and signed is not None:
            problems.add("signed_on", "An agreement in negotiation has no signing date yet; "
                                      "change its status to signed.")
        if status == AgreementStatus.ENDED and ended is None:
            problems.add("ended_on", "Enter the date it ended.")
        if status != AgreementStatus.ENDED and ended is not None:
            problems.add("ended_on", "Only an ended agreement has an end date.")
        if started and ended and ended < started:
            problems.add("ended_on", "The end date is before the start date.")
        if started and signed and signed < started:
            problems.add("signed_on", "The signing date is before the start date.")
        if signed and ended and ended < signed:
            problems.add("ended_on", "The end date is before the signing date.")
        if len(self.parties) + bool(self.new_organization_name) < 2:
            problems.add("parties", "An agreement has at least two parties.")
        problems.raise_any()
        return self
