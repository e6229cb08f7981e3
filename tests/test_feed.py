"""The personal calendar feed: who sees what, cancelled entries, the secret link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.confirming import confirm
from tests.test_calendar import assert_wire_format, parse_both, vevents
from webapp.models import AuditEntry, EventStatus, utcnow
from webapp.models import RegistrationStatus as S
from webapp.services import calendar


def feed_path(user) -> str:
    return f"/calendar/{calendar.feed_token(user)}.ics"


def feed_entries(client, user) -> dict[str, str]:
    """SUMMARY -> STATUS of the user's feed, read as a subscribing client would."""
    response = client.get(feed_path(user))
    assert response.status_code == 200
    assert_wire_format(response.data)
    return {str(v["summary"]): str(v["status"]) for v in vevents(parse_both(response.data))}


@pytest.fixture
def member(make):
    return make.user()


def test_feed_lists_approved_events_and_their_sessions_without_a_cookie(client, make, member):
    mission = make.event(title="Singapore mission")
    make.session(mission, title="Visit")
    webinar = make.event(title="Webinar")
    make.registration(mission, member, S.SUBMITTED, S.APPROVED)
    make.registration(webinar, member, S.SUBMITTED)  # not decided: not in the feed
    assert feed_entries(client, member) == {"Visit · Singapore mission": "CONFIRMED"}


def test_feed_of_a_never_shows_what_only_b_is_approved_for(client, make):
    a, b = make.user(), make.user()
    shared, only_b = make.event(title="Shared"), make.event(title="Only B")
    for user in (a, b):
        make.registration(shared, user, S.SUBMITTED, S.APPROVED)
    make.registration(only_b, b, S.SUBMITTED, S.APPROVED)
    assert set(feed_entries(client, a)) == {"Shared"}
    assert set(feed_entries(client, b)) == {"Shared", "Only B"}


def test_managers_see_their_partners_events_and_admins_all_published(client, make):
    partner = make.partner()
    organized = make.event(title="Organized", organizers=[partner])
    make.event(title="Someone else's")
    make.event(title="Draft", organizers=[partner], status=EventStatus.DRAFT)
    assert organized
    assert set(feed_entries(client, make.manager(partner))) == {"Organized"}
    admin_feed = feed_entries(client, make.admin())
    assert {"Organized", "Someone else's"} <= set(admin_feed)
    assert "Draft" not in admin_feed


def test_withdrawn_registration_stays_cancelled_until_the_event_ends(client, make, member):
    upcoming, past = make.event(title="Upcoming"), make.event(
        title="Past", starts_in=timedelta(days=-10), duration=timedelta(days=2))
    never = make.event(title="Never approved")
    make.registration(upcoming, member, S.SUBMITTED, S.APPROVED, S.WITHDRAWN)
    make.registration(past, member, S.SUBMITTED, S.APPROVED, S.CANCELLED)
    make.registration(never, member, S.SUBMITTED, S.WITHDRAWN)
    assert feed_entries(client, member) == {"Upcoming": "CANCELLED"}


def test_cancelled_event_stays_cancelled_with_a_higher_sequence(client, db, make, member):
    event = make.event(title="Called off", calendar_sequence=2)
    make.registration(event, member, S.SUBMITTED, S.APPROVED)
    before = vevents(parse_both(client.get(feed_path(member)).data))[0]
    event.status = EventStatus.CANCELLED
    db.session.flush()
    after = vevents(parse_both(client.get(feed_path(member)).data))[0]
    assert after["uid"] == before["uid"]
    assert after["status"] == "CANCELLED"
    assert after["sequence"] > before["sequence"]


def test_tampered_or_foreign_token_is_not_found(client, member):
    token = calendar.feed_token(member)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/calendar/{tampered}.ics").status_code == 404
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    from webapp.services import tokens

    other_purpose = tokens.make("verify-email", [member.id, member.calendar_feed_version])
    assert client.get(f"/calendar/{other_purpose}.ics").status_code == 404
    wrong_shape = tokens.make(calendar.FEED_PURPOSE, {"user": member.id})
    assert client.get(f"/calendar/{wrong_shape}.ics").status_code == 404


def test_reset_revokes_the_old_link_and_is_audited(client, db, login_as, member):
    old = feed_path(member)
    assert client.get(old).status_code == 200
    login_as(member)
    html = client.get("/account/profile").get_data(as_text=True)
    # The profile's link is this member's (read back: it is signed with the second it
    # was made in).
    offered = re.search(r"/calendar/([A-Za-z0-9_.-]+)\.ics", html).group(1)
    assert calendar.user_for_feed_token(offered) == member
    assert "webcal://" in html and 'data-copy-from="feed-webcal"' in html
    response = confirm(client, "/account/calendar/reset")
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.calendar_feed_version == 2
    assert client.get(old).status_code == 404
    assert client.get(feed_path(member)).status_code == 200
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "calendar_feed.reset"))
    assert entry.subject_id == member.id and entry.actor_id == member.id


def test_feed_of_an_inactive_user_is_not_found(client, db, member):
    path = feed_path(member)
    member.active = False
    db.session.flush()
    assert client.get(path).status_code == 404


def test_feed_response_is_private_and_not_indexed(client, member):
    response = client.get(feed_path(member))
    assert response.mimetype == "text/calendar"
    assert "private" in response.headers["Cache-Control"]
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_feed_never_carries_the_online_url(client, make, member):
    event = make.event(online_url="https://meet.example.com/join/123")
    make.session(event, online_url="https://meet.example.com/join/456")
    make.registration(event, member, S.SUBMITTED, S.APPROVED)
    assert "meet.example.com" not in client.get(feed_path(member)).get_data(as_text=True)


def test_ended_cancelled_event_drops_out(client, make, member):
    event = make.event(title="Long gone", status=EventStatus.CANCELLED,
                       starts_at=utcnow() - timedelta(days=5))
    make.registration(event, member, S.SUBMITTED, S.APPROVED)
    assert feed_entries(client, member) == {}
