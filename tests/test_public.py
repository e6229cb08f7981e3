"""Public pages: home, event list with filters and pages, event detail in local time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from freezegun import freeze_time

from tests.conftest import count_queries
from tests.factories import at
from webapp.models import EventKind, EventStatus, SessionKind
from webapp.models import RegistrationStatus as S

NOW = "2026-11-25 12:00:00"


@pytest.fixture
def frozen():
    with freeze_time(NOW):
        yield



def test_home_lists_upcoming_missions_and_webinars_not_past_or_draft(client, make, frozen):
    make.event(title="Smart City Summit mission", starts_at=at(2027, 3, 1))
    make.event(title="Doing business in Singapore", kind=EventKind.WEBINAR,
               starts_at=at(2027, 2, 1), duration=timedelta(hours=1))
    make.event(title="Innovfest 2019", starts_at=at(2019, 6, 24))
    make.event(title="Secret draft", status=EventStatus.DRAFT, starts_at=at(2027, 4, 1))
    page = client.get("/").get_data(as_text=True)
    assert "Smart City Summit mission" in page and "Doing business in Singapore" in page
    assert "Innovfest 2019" not in page and "Secret draft" not in page


def test_event_page_shows_agenda_in_the_events_timezone(client, make, frozen):
    event = make.event(slug="singapore-2027", starts_at=at(2027, 7, 5, 1),
                       timezone="Asia/Singapore", duration=timedelta(days=3),
                       venue="Marina Bay Sands")
    make.session(event, title="Visit to the Urban Redevelopment Authority",
                 kind=SessionKind.VISIT, starts_at=at(2027, 7, 6, 2), ends_at=at(2027, 7, 6, 4))
    make.session(event, title="Summit expo day", all_day=True, starts_at=None, ends_at=None,
                 start_date=date(2027, 7, 5), end_date=date(2027, 7, 5))
    page = client.get("/events/singapore-2027").get_data(as_text=True)
    assert "Mon 5 Jul 2027, 09:00 – Thu 8 Jul 2027, 09:00 (Singapore, UTC+8)" in page
    assert "Tue 6 Jul 2027, 10:00 – 12:00 (Singapore, UTC+8)" in page
    assert "Mon 5 Jul 2027" in page and "all day" in page
    # In the order of the day: the all-day expo day (5 July) before the visit (6 July).
    assert page.index("Summit expo day") < page.index("Visit to the Urban Redevelopment")
    assert "Marina Bay Sands" in page


def test_event_page_never_shows_the_meeting_url(client, make, frozen):
    make.event(slug="webinar-x", kind=EventKind.WEBINAR, online_url="https://zoom.example/j/123")
    assert "zoom.example" not in client.get("/events/webinar-x").get_data(as_text=True)


def test_event_list_filters_by_time_kind_and_region(client, make, frozen):
    make.event(title="Boston mission", target_country="US", starts_at=at(2027, 5, 1),
               timezone="America/New_York")
    make.event(title="Singapore webinar", kind=EventKind.WEBINAR, starts_at=at(2027, 2, 1),
               duration=timedelta(hours=1))
    make.event(title="USA mission 2019", target_country="US", starts_at=at(2019, 10, 14),
               timezone="America/New_York")

    def titles(query):
        page = client.get(f"/events{query}").get_data(as_text=True)
        return {t for t in ("Boston mission", "Singapore webinar", "USA mission 2019") if t in page}

    assert titles("") == {"Boston mission", "Singapore webinar"}
    assert titles("?when=past") == {"USA mission 2019"}
    assert titles("?kind=webinar") == {"Singapore webinar"}
    assert titles("?country=US") == {"Boston mission"}
    assert titles("?when=past&country=US&kind=outbound_mission") == {"USA mission 2019"}


def test_event_list_ignores_bad_filters_with_a_message(client, make, frozen):
    make.event(title="Boston mission", starts_at=at(2027, 5, 1))
    response = client.get("/events?kind=party&page=abc&when=later")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Some filters were not valid and were ignored" in page
    assert "Boston mission" in page


def test_event_list_is_paginated(client, make, frozen, app):
    per_page = app.config["EVENTS_PER_PAGE"]
    for n in range(per_page + 3):
        make.event(title=f"Webinar number {n:02d}", starts_at=at(2027, 1, 1) + timedelta(days=n))
    first = client.get("/events").get_data(as_text=True)
    second = client.get("/events?page=2").get_data(as_text=True)
    assert "Webinar number 00" in first and f"Webinar number {per_page:02d}" not in first
    assert f"Webinar number {per_page:02d}" in second and "Webinar number 00" not in second
    assert f"{per_page + 3} events" in first
    assert client.get("/events?page=999").status_code == 200


def test_draft_is_listed_for_its_organizer_only(client, make, frozen, login_as):
    organizing, other = make.partner(), make.partner()
    make.event(title="Draft mission", status=EventStatus.DRAFT, organizers=[organizing],
               starts_at=at(2027, 5, 1))
    assert "Draft mission" not in client.get("/events").get_data(as_text=True)
    login_as(make.manager(other))
    assert "Draft mission" not in client.get("/events").get_data(as_text=True)
    login_as(make.manager(organizing))
    assert "Draft mission" in client.get("/events").get_data(as_text=True)


def test_event_page_shows_the_visitors_own_application(client, make, frozen, login_as):
    cluster = make.partner()
    event = make.event(slug="with-application", organizers=[cluster], starts_at=at(2027, 5, 1))
    member = make.user(make.organization(cluster))
    make.registration(event, member, S.SUBMITTED, S.WAITLISTED)
    login_as(member)
    page = client.get("/events/with-application").get_data(as_text=True)
    assert 'data-status="waitlisted"' in page


# ---------------------------------------------------------------- queries per page


def _events(make, count, **kw):
    cluster, beachhead = make.partner(), make.beachhead()
    return [make.event(organizers=[cluster], hosts=[beachhead], starts_at=at(2027, 1, 1)
                       + timedelta(days=n), **kw) for n in range(count)]


@pytest.mark.parametrize("path", ["/", "/events", "/events?when=past"])
def test_list_pages_query_count_does_not_grow_with_rows(client, make, frozen, path, app):
    # Rendered each time: the page kept for visitors would answer in one query.
    _events(make, 2)
    client.get(path)
    app.extensions["public_pages"].clear()
    with count_queries() as few:
        client.get(path)
    _events(make, 10)
    client.get(path)  # reads the new data's version
    app.extensions["public_pages"].clear()
    with count_queries() as many:
        client.get(path)
    assert len(many) == len(few)


def test_event_page_query_count_does_not_grow_with_sessions(client, make, frozen):
    event = make.event(slug="q", starts_at=at(2027, 1, 1))
    make.session(event)
    with count_queries() as few:
        client.get("/events/q")
    for _ in range(15):
        make.session(event)
    with count_queries() as many:
        client.get("/events/q")
    assert len(many) == len(few)


@pytest.mark.parametrize("path", ["/desk/", "/account/registrations"])
def test_registration_lists_query_count_does_not_grow(rendering, client, make, frozen, login_as,
                                                      path):
    cluster = make.partner()
    admin = make.admin()
    member = make.user(make.organization(cluster))

    def add(n):
        for event in _events(make, n):
            make.registration(event, member)
            make.registration(event, make.user(make.organization(cluster)))

    add(2)
    login_as(admin if path.startswith("/desk") else member)
    client.get(path)
    with count_queries() as few:
        client.get(path)
    add(12)
    with count_queries() as many:
        client.get(path)
    assert len(many) == len(few)
