"""Fixtures for online events, shared by the join-link, reminder and attendance tests,
and the event as its edit form sends it back:
an organizing cluster and its manager, a webinar on New York time (10:00, an hour and a
half, in winter), a member of another cluster living on Singapore time, and her seat.
Registered for the whole suite in conftest (`pytest_plugins`)."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from tests.factories import at
from webapp.inputs.events import EventIn
from webapp.models import EventKind, Registration
from webapp.models import RegistrationStatus as S

MEETING = "https://meet.example.com/j/secret-room-4242"
STARTS = at(2027, 2, 10, 15, 0)
ENDS = STARTS + timedelta(minutes=90)


@pytest.fixture
def organizing(make):
    return make.partner(name="Organizing Cluster")


@pytest.fixture
def cluster(make):
    return make.partner(name="Smart City Cluster Gent")


@pytest.fixture
def organizer(make, organizing):
    return make.manager(organizing, email="organizer@example.org")


@pytest.fixture
def webinar(make, organizing):
    return make.event(kind=EventKind.WEBINAR, organizers=[organizing], title="Meet Boston",
                      slug="meet-boston", timezone="America/New_York", target_country="US",
                      target_city="Boston", starts_at=STARTS, ends_at=ENDS,
                      online_url=MEETING, registration_opens_at=None)


@pytest.fixture
def member(make, cluster):
    return make.user(make.organization(cluster), email="sme@example.org", name="Sofie Sme",
                     timezone="Asia/Singapore")


def approved(make, event, user, organizer) -> Registration:
    return make.registration(event, user, S.SUBMITTED, S.APPROVED, actor=organizer)


@pytest.fixture
def seat(make, webinar, member, organizer) -> Registration:
    return approved(make, webinar, member, organizer)


# --------------------------------------------------------------------------- the event form


def event_details(event, **overrides) -> EventIn:
    """The event as its edit form would send it back to the service, with `overrides`."""
    zone = event.zone
    local = {name: getattr(event, column) and getattr(event, column).astimezone(zone).replace(
        tzinfo=None) for name, column in (
            ("starts_local", "starts_at"), ("ends_local", "ends_at"),
            ("registration_opens_local", "registration_opens_at"),
            ("registration_closes_local", "registration_closes_at"))}
    values = dict(
        kind=event.kind, title=event.title, timezone=event.timezone,
        target_country=event.target_country, target_city=event.target_city,
        venue=event.venue, slug=event.slug, summary=event.summary,
        description=event.description, online_url=event.online_url,
        recording_url=event.recording_url, capacity=event.capacity,
        max_per_organization=event.max_per_organization,
        requires_approval=event.requires_approval,
        organizer_ids=[p.id for p in event.organizers], host_ids=[p.id for p in event.hosts],
        **local,
    )
    return EventIn.from_values(**{**values, **overrides})


def event_form(event, **overrides) -> dict:
    """The event's edit form as a browser posts it (no recording link), with `overrides`."""
    zone = event.zone
    data = dict(
        kind=event.kind.value, title=event.title, slug=event.slug, summary="", description="",
        target_country=event.target_country, target_city=event.target_city, venue="",
        online_url=event.online_url, recording_url="", timezone=event.timezone,
        starts_local=event.starts_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        ends_local=event.ends_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        registration_opens_local="", registration_closes_local="", capacity="",
        organizer_ids=[str(p.id) for p in event.organizers], host_ids=[],
    )
    data.update(overrides)
    return data


def field_error(response, name) -> str:
    """The error the form page shows under the field `name`."""
    match = re.search(rf'id="{name}-error"[^>]*>(.*?)</', response.get_data(as_text=True), re.S)
    assert match, f"no error shown for {name}"
    return unescape(match.group(1)).strip()

