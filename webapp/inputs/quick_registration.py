"""A quick registration to a public webinar: who registers, their organization and
country, and their consent to the privacy notice (registering creates a light account).
Whether the event offers it and whether the address has an account already, the service
decides."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ..services.errors import N_
from . import Accepted, Input, RequiredText
from .accounts import EmailAddress, PersonalZone
from .organizations import COUNTRY_NEEDED, Country, OrganizationName

PRIVACY_NEEDED = N_("Please accept the privacy notice: registering creates an account for you.")


class QuickRegistrationIn(Input):
    name: RequiredText(200, title="Your name")
    email: EmailAddress(title="Email")
    organization: Annotated[OrganizationName, Field(title="Organization")]
    country: Annotated[Country, Field(title="Country")]
    timezone: PersonalZone = None
    privacy: Accepted(PRIVACY_NEEDED,
                      description="The privacy notice is accepted (must be true).")

    required_messages = {"privacy": PRIVACY_NEEDED, "country": COUNTRY_NEEDED}
