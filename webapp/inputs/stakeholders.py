"""The host region's stakeholders: the invitation a host writes, and the new account's
password and consent to the privacy notice, given on the invitation's page."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from . import Accepted, Input, RequiredText
from .accounts import PRIVACY_NEEDED, EmailAddress, SetPasswordIn
from .events import Language
from .organizations import COUNTRY_NEEDED, Country, OrganizationName


class StakeholderInvitationIn(Input):
    """A person of the host region invited to the event's matchmaking: who, their
    organization, and the language their invitation is written in."""

    required_messages = {"country": COUNTRY_NEEDED}

    email: EmailAddress(title="Email")
    name: RequiredText(200, title="Name")
    organization: Annotated[OrganizationName, Field(title="Organization")]
    country: Annotated[Country, Field(title="Country", description="ISO 3166 code.")]
    language: Annotated[Language, Field(title="Language of the invitation")]


class StakeholderAcceptIn(SetPasswordIn):
    """An invitation accepted by a person without an account: the password of the account
    it creates (typed twice), and the privacy notice accepted as at sign-up."""

    required_messages = {"privacy": PRIVACY_NEEDED}

    privacy: Accepted(PRIVACY_NEEDED,
                      description="The privacy notice is accepted (must be true).")
