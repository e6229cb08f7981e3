"""Organizations as their members and reviewers write them: the profile, a decision on a
join request, a merge. The new organization of a sign-up (webapp/inputs/accounts.py)
takes the same fields, with the same rules."""

from __future__ import annotations

import enum
from functools import cache
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from ..models import Helix, OrganizationSize
from ..services.errors import N_
from ..services.fields import territory_codes
from . import Id, Input, RequiredText, Text, refuse
from .events import WebAddress

COUNTRY_NEEDED = "Choose a country from the list."
SIZE_NEEDED = N_("Choose the size.")
MIN_NAME_LENGTH = 2


@cache
def country_codes() -> frozenset[str]:
    """Where an organization can be registered: ISO 3166 countries, not the EU (which an
    event or a fellow partnership may name as its place)."""
    return territory_codes() - {"EU"}


def _country(code: str) -> str:
    code = code.strip().upper()
    if code not in country_codes():
        raise refuse(None, COUNTRY_NEEDED)
    return code


def _long_enough(name: str) -> str:
    # One letter names nothing: it is a slip of the keyboard. "" is left to the required
    # rule (a sign-up joining an organization sends none).
    if name and len(name) < MIN_NAME_LENGTH:
        raise refuse(None, "Enter at least %(min_length)s characters.",
                     min_length=MIN_NAME_LENGTH)
    return name


Country = Annotated[str, AfterValidator(_country)]
OrganizationName = Annotated[RequiredText(200), AfterValidator(_long_enough)]
# The same name where it may be left out (the new organization of a sign-up that joins).
OptionalOrganizationName = Annotated[Text(200), AfterValidator(_long_enough)]


class OrganizationIn(Input):
    """An organization's profile. `home_cluster_id` is written only by those who review
    the organization (the service is told whether it is part of the change)."""

    long_texts = frozenset({"profile"})
    required_messages = {"size": SIZE_NEEDED, "country": COUNTRY_NEEDED}

    name: Annotated[OrganizationName, Field(title="Name")]
    country: Annotated[Country, Field(title="Country", description="ISO 3166 code.")]
    city: Text(120, title="City") = ""
    sector: Text(120, title="Sector") = ""
    size: OrganizationSize
    helix: Helix = Helix.INDUSTRY
    website: WebAddress(300, title="Website") = ""
    profile: Text(5000, title="Profile", description="Multi-line.") = ""
    home_cluster_id: Id | None = None

    def profile_values(self) -> dict:
        """The columns the profile sets (the home cluster apart: not everyone sets it)."""
        return self.model_dump(exclude={"home_cluster_id"})


class MembershipDecision(enum.StrEnum):
    ACCEPT = "accept"
    REFUSE = "refuse"


class MembershipDecisionIn(Input):
    """A join request accepted or refused."""

    required_messages = {"decision": "Choose to accept or refuse the request."}

    decision: MembershipDecision

    @property
    def accepts(self) -> bool:
        return self.decision == MembershipDecision.ACCEPT


MERGE_UNCONFIRMED = N_("Tick the box to confirm the merge.")


class MergeIn(Input):
    """A duplicate organization folded into `into`, once the reviewer confirmed it."""

    required_messages = {"confirm": MERGE_UNCONFIRMED}

    into: Id
    confirm: bool = Field(description="Must be true: the duplicate is deleted.")

    @model_validator(mode="after")
    def _confirmed(self):
        if not self.confirm:
            raise refuse("confirm", MERGE_UNCONFIRMED)
        return self
