"""The token's owner: who they are, and their own registrations."""

from __future__ import annotations

from flask import g
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from ...models import Event, Registration
from . import keyset, present, schemas
from .registry import operation


@operation("GET", "/me", tag="me", summary="You, your roles and this token",
           response=schemas.Me)
def me():
    user = current_user._get_current_object()
    organization = user.organization
    token = g.api_token
    return schemas.Me(
        id=user.id, name=user.name, email=user.email, timezone=user.timezone,
        organization=schemas.OrganizationRef(
            id=organization.id, name=organization.name, country=organization.country)
        if organization is not None else None,
        roles=[schemas.RoleGrantOut(role=grant.role, partner=present.partner(grant.partner))
               for grant in user.grants],
        token=schemas.TokenInfo(name=token.name, read_only=token.read_only,
                                expires_on=token.expires_on),
    )


@operation("GET", "/me/registrations", tag="me", summary="Your registrations",
           response=schemas.OwnRegistrationPage, kept=True)
def my_registrations(query: schemas.PageQuery):
    """Your own registrations, latest event first."""
    found = keyset.page(
        select(Registration).join(Registration.event)
        .where(Registration.user_id == current_user.id)
        .options(contains_eager(Registration.event)),
        (keyset.Key(Event.starts_at, descending=True), keyset.Key(Registration.id)),
        cursor=query.cursor, per_page=query.per_page, page_number=query.page,
        count=query.count)
    return schemas.OwnRegistrationPage.model_validate(
        {"items": [present.own_registration_fields(r) for r in found.rows], **found.fields()})
