"""Fixtures for online events, shared by the join-link, reminder and attendance tests:
an organizing cluster and its manager, a webinar on New York time (10:00, an hour and a
half, in winter), a member of another cluster living on Singapore time, and her seat.
Registered for the whole suite in conftest (`pytest_plugins`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import at
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
