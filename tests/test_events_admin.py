"""Running events (webapp/services/events.py, the event pages of webapp/views/admin.py):
local times and their zones, who may organize what, the agenda, quotas, status changes,
cancelling with its registrations, copies."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.confirming import confirm
from tests.conftest import csrf_token
from tests.factories import at
from tests.inputs_table import refusals
from webapp import unit
from webapp.inputs import ValidationError
from webapp.inputs.events import EventIn, SessionIn
from webapp.models import (
    AuditEntry,
    Event,
    EventKind,
    EventQuota,
    EventSession,
    EventStatus,
    Registration,
    SessionKind,
)
from webapp.models import RegistrationStatus as S
from webapp.services import events, registrations
from webapp.services.errors import RegistrationClosed
from webapp.services.fields import Refused

BRUSSELS = ZoneInfo("Europe/Brussels")


@pytest.fixture
def cluster_a(make):
    return make.partner(name="Smart City Nord", short_name="SCN")


@pytest.fixture
def cluster_b(make):
    return make.partner(name="Ciutat Digital", short_name="CD")


@pytest.fixture
def admin(make):
    return make.admin(name="Annelies Admin")


@pytest.fixture
def manager_a(make, cluster_a):
    return make.manager(cluster_a)


def post(client, path: str, data: dict, prefix: str | None = None):
    """A form post as the browser sends it, with the session's CSRF token."""
    token = csrf_token(client, "/")
    return client.post(path, data={**data, f"{prefix}-csrf_token" if prefix else "csrf_token":
                                   token})


def event_form(*organizers, **overrides) -> dict:
    data = dict(
        kind="outbound_mission", title="Smart mobility mission to Boston", slug="",
        summary="Meet Boston's mobility scene.", description="", target_country="US",
        target_city="Boston", venue="", online_url="", timezone="America/New_York",
        starts_local="2027-10-12T09:00", ends_local="2027-10-15T18:00",
        registration_opens_local="", registration_closes_local="", capacity="20",
        requires_approval="y", organizer_ids=[str(p.id) for p in organizers], host_ids=[],
    )
    data.update(overrides)
    return data


def details(*organizers, **overrides) -> EventIn:
    values = dict(
        kind=EventKind.OUTBOUND_MISSION, title="Mission to Singapore", timezone="Asia/Singapore",
        starts_local=datetime(2027, 7, 8, 9, 0), ends_local=datetime(2027, 7, 12, 18, 0),
        target_country="SG", target_city="Singapore", organizer_ids=[p.id for p in organizers],
        capacity=20,
    )
    values.update(overrides)
    return EventIn.from_values(**values)


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------- local time


@pytest.mark.parametrize(("local", "utc", "label"), [
    ("2027-10-12T09:00", at(2027, 10, 12, 13, 0), "UTC-4"),  # daylight time
    ("2027-12-07T09:00", at(2027, 12, 7, 14, 0), "UTC-5"),  # standard time
])
def test_boston_event_at_nine_local_is_stored_in_utc_and_shown_in_its_zone(
    db, login_as, admin, cluster_a, local, utc, label
):
    client = login_as(admin)
    ends = local.replace("T09:00", "T18:00")
    response = post(client, "/admin/events/new",
                    event_form(cluster_a, starts_local=local, ends_local=ends))
    assert response.status_code == 302
    event = db.session.scalar(select(Event).where(Event.title.startswith("Smart mobility")))
    assert event.starts_at == utc
    assert event.timezone == "America/New_York"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"09:00 – 18:00 (New York, {label})" in page
    assert 'value="' + local + '"' in page  # the form shows local time back


def test_a_local_time_the_clocks_skip_is_refused_beside_the_field(
    db, login_as, admin, cluster_a
):
    client = login_as(admin)
    response = post(client, "/admin/events/new", event_form(
        cluster_a, starts_local="2027-03-14T02:30", ends_local="2027-03-14T18:00"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="starts_local-error"' in html
    assert "does not exist in America/New_York" in html
    assert count(db, Event) == 0


def test_a_repeated_local_hour_needs_its_offset_chosen(db, admin, cluster_a):
    """Never a guess: refused without the offset, that instant with it (more in
    tests/test_input_dates.py)."""
    repeated = dict(timezone="America/New_York", target_country="US",
                    ends_local=datetime(2027, 11, 7, 9, 0))
    with pytest.raises(ValidationError) as refusal:
        details(cluster_a, starts_local=datetime(2027, 11, 7, 1, 30), **repeated)
    assert "first at UTC-4, then at UTC-5" in refusals(refusal.value)["starts_local"]
    est = datetime(2027, 11, 7, 1, 30, tzinfo=timezone(timedelta(hours=-5)))
    event = events.create(admin, details(cluster_a, starts_local=est, **repeated))
    assert event.starts_at == at(2027, 11, 7, 6, 30)  # 01:30 EST, as chosen


@pytest.mark.parametrize(("field", "value", "message"), [
    ("timezone", "Mars/Olympus_Mons", "IANA timezone"),
    ("timezone", "../../etc/passwd", "IANA timezone"),
    ("ends_local", "2027-10-11T09:00", "must end after it starts"),
    ("online_url", "javascript:alert(1)", "http:// or https://"),
    ("registration_closes_local", "2027-10-20T09:00", "by the end of the event"),
    ("target_country", "XX", "Choose a country from the list."),
    ("capacity", "-1", "Enter a number of at least 0."),
])
def test_bad_event_input_is_refused_beside_its_field_and_nothing_is_written(
    db, login_as, admin, cluster_a, field, value, message
):
    client = login_as(admin)
    response = post(client, "/admin/events/new", event_form(cluster_a, **{field: value}))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in html
    assert count(db, Event) == 0
    assert count(db, AuditEntry) == 0


# --------------------------------------------------------------------------- organizers


def test_manager_cannot_create_an_event_without_their_partner_among_organizers(
    db, login_as, manager_a, cluster_a, cluster_b
):
    client = login_as(manager_a)
    response = post(client, "/admin/events/new", event_form(cluster_b))
    assert response.status_code == 400
    assert "Keep one of your own partners among the organizers" in response.get_data(
        as_text=True)
    assert count(db, Event) == 0

    response = post(client, "/admin/events/new", event_form(cluster_a, cluster_b))
    assert response.status_code == 302
    event = db.session.scalar(select(Event))
    assert {p.id for p in event.organizers} == {cluster_a.id, cluster_b.id}
    assert event.status == EventStatus.DRAFT


def test_the_new_event_form_proposes_the_managers_own_partner(login_as, manager_a, cluster_a):
    html = login_as(manager_a).get("/admin/events/new").get_data(as_text=True)
    # A box per partner, the manager's own ticked.
    assert re.search(rf'<input checked[^>]*name="organizer_ids" type="checkbox" '
                     rf'value="{cluster_a.id}">', html)


def test_manager_cannot_drop_their_own_partner_from_an_events_organizers(
    db, login_as, manager_a, cluster_a, cluster_b
):
    event = events.create(manager_a, details(cluster_a))
    client = login_as(manager_a)
    response = post(client, f"/admin/events/{event.id}", event_form(cluster_b))
    assert response.status_code == 400
    db.session.expire_all()
    assert [p.id for p in event.organizers] == [cluster_a.id]


def test_an_admin_may_choose_any_organizers(db, admin, cluster_b):
    event = events.create(admin, details(cluster_b))
    assert [p.short_name for p in event.organizers] == ["CD"]


def test_hosts_must_be_beachheads(db, admin, cluster_a, cluster_b):
    with pytest.raises(Refused) as refusal:
        events.create(admin, details(cluster_a, host_ids=[cluster_b.id]))
    assert "host_ids" in refusal.value.errors


def test_manager_of_cluster_b_finds_no_event_of_cluster_a(
    db, make, login_as, cluster_a, cluster_b
):
    event = make.event(organizers=[cluster_a], title="Cluster A mission")
    client = login_as(make.manager(cluster_b))
    assert client.get(f"/admin/events/{event.id}").status_code == 404
    response = post(client, f"/admin/events/{event.id}", event_form(cluster_b, title="Mine"))
    assert response.status_code == 404
    assert "Cluster A mission" not in client.get("/admin/events").get_data(as_text=True)
    db.session.expire_all()
    assert event.title == "Cluster A mission"


def test_a_manager_lists_the_events_their_partners_organize_and_an_admin_all(
    make, login_as, manager_a, cluster_a, cluster_b, admin
):
    make.event(organizers=[cluster_a], title="Ours")
    make.event(organizers=[cluster_b], title="Theirs")
    html = login_as(manager_a).get("/admin/events").get_data(as_text=True)
    assert "Ours" in html and "Theirs" not in html
    html = login_as(admin).get("/admin/events").get_data(as_text=True)
    assert "Ours" in html and "Theirs" in html


def test_members_and_hosts_may_not_open_the_event_pages(make, login_as):
    assert login_as(make.user()).get("/admin/events").status_code == 403
    assert login_as(make.host(make.beachhead())).get("/admin/events/new").status_code == 403


# --------------------------------------------------------------------------- details


def test_slugs_come_from_the_title_and_stay_unique(db, admin, cluster_a):
    first = events.create(admin, details(cluster_a, title="Smart Mobility: Singapore"))
    second = events.create(admin, details(cluster_a, title="Smart Mobility: Singapore"))
    assert (first.slug, second.slug) == ("smart-mobility-singapore", "smart-mobility-singapore-2")
    with pytest.raises(Refused) as refusal:
        events.create(admin, details(cluster_a, slug=first.slug))
    assert refusal.value.errors == {"slug": "This address is already used; choose another."}


def test_an_update_is_audited_with_what_changed(db, login_as, admin, cluster_a):
    event = events.create(admin, details(cluster_a, title="Mission to Singapore"))
    client = login_as(admin)
    response = post(client, f"/admin/events/{event.id}", event_form(
        cluster_a, title="Mission to Singapore 2027", slug=event.slug, target_country="SG",
        target_city="Singapore", timezone="Asia/Singapore", starts_local="2027-07-08T09:00",
        ends_local="2027-07-12T18:00", capacity="25", summary=""))
    assert response.status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.updated"))
    assert entry.actor_id == admin.id
    assert entry.event_id == event.id
    assert entry.details["changes"] == {
        "title": ["Mission to Singapore", "Mission to Singapore 2027"],
        "capacity": [20, 25],
    }


def test_a_cancelled_event_cannot_be_edited(db, make, login_as, admin, cluster_a):
    event = make.event(organizers=[cluster_a], title="Called off",
                       status=EventStatus.CANCELLED)
    client = login_as(admin)
    response = post(client, f"/admin/events/{event.id}", event_form(cluster_a, title="Revived"))
    assert response.status_code == 400
    assert "This event has been cancelled and can no longer be changed." in (
        response.get_data(as_text=True))
    db.session.expire_all()
    assert event.title == "Called off"
    assert count(db, AuditEntry) == 0
    with pytest.raises(events.EventCancelled):
        events.add_session(admin, event, SessionIn.from_values(
            title="Visit", starts_local=datetime(2030, 1, 1, 9),
            ends_local=datetime(2030, 1, 1, 10)))


# --------------------------------------------------------------------------- status


def test_publish_close_and_publish_again_each_asks_first_and_is_audited(
    db, login_as, admin, cluster_a
):
    event = events.create(admin, details(cluster_a))
    client = login_as(admin)
    confirm = client.get(f"/admin/events/{event.id}/publish")
    assert confirm.status_code == 200
    assert "Publish this event?" in confirm.get_data(as_text=True)
    db.session.expire_all()
    assert event.status == EventStatus.DRAFT  # asking changes nothing

    for action, status in (("publish", "published"), ("close", "closed"),
                           ("publish", "published")):
        assert post(client, f"/admin/events/{event.id}/{action}", {}).status_code == 302
        db.session.expire_all()
        assert event.status == status
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.event_id == event.id).order_by(AuditEntry.id)).all()
    assert actions == ["event.created", "event.default_questions_added", "event.published",
                       "event.closed", "event.published"]


def test_a_draft_cannot_be_closed(db, admin, cluster_a):
    event = events.create(admin, details(cluster_a))
    db.session.commit()
    with pytest.raises(Refused, match="draft event cannot become closed"):
        events.close(admin, event.id)


def test_cancelling_an_event_cancels_its_open_registrations_and_leaves_the_others(
    db, make, login_as, admin, cluster_a
):
    event = make.event(organizers=[cluster_a], registration_opens_at=None)
    paths = {
        "submitted": (S.SUBMITTED,),
        "waitlisted": (S.SUBMITTED, S.WAITLISTED),
        "approved": (S.SUBMITTED, S.APPROVED),
        "rejected": (S.SUBMITTED, S.REJECTED),
        "withdrawn": (S.SUBMITTED, S.WITHDRAWN),
    }
    regs = {name: make.registration(event, make.user(), *path).id for name, path in paths.items()}
    client = login_as(admin)
    page = client.get(f"/admin/events/{event.id}/cancel")
    assert "3 open registrations" in page.get_data(as_text=True)

    response = confirm(client, page, reason="Venue closed.")
    assert response.status_code == 302
    db.session.expire_all()
    assert event.status == EventStatus.CANCELLED
    status = {name: db.session.get(Registration, rid).status for name, rid in regs.items()}
    assert status == {"submitted": S.CANCELLED, "waitlisted": S.CANCELLED,
                      "approved": S.CANCELLED, "rejected": S.REJECTED, "withdrawn": S.WITHDRAWN}
    cancelled = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "registration.cancelled")).all()
    assert {e.registration_id for e in cancelled} == {
        regs["submitted"], regs["waitlisted"], regs["approved"]}
    assert all(e.actor_id == admin.id and e.reason == "Venue closed." for e in cancelled)
    event_entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "event.cancelled"))
    assert event_entry.details["changes"] == {"status": ["published", "cancelled"]}

    # Cancelling again writes nothing (the page is not offered, its token is spent), and
    # nobody applies to a cancelled event (last: the refusal rolls the test's own session
    # back).
    entries = count(db, AuditEntry)
    assert client.get(f"/admin/events/{event.id}/cancel").status_code == 302
    assert confirm(client, page, reason="Venue closed.").status_code == 400
    assert count(db, AuditEntry) == entries
    with pytest.raises(RegistrationClosed):
        registrations.apply(make.user(), event.id)



def test_a_cancellation_that_fails_midway_leaves_the_event_and_its_registrations_open(
    db, make, admin, cluster_a, monkeypatch
):
    event = make.event(organizers=[cluster_a], registration_opens_at=None)
    ids = [make.registration(event, make.user(), S.SUBMITTED).id for _ in range(2)]
    db.session.commit()
    audited = count(db, AuditEntry)
    cancel = registrations.cancel

    def fails_on_the_second(registration_id, **kwargs):
        if registration_id == ids[1]:
            raise RuntimeError("the mail template is broken")
        return cancel(registration_id, **kwargs)

    monkeypatch.setattr(registrations, "cancel", fails_on_the_second)
    with pytest.raises(RuntimeError, match="template"), unit.of_work("cancel"):
        events.cancel(admin, event.id, "Venue closed.")
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == EventStatus.PUBLISHED
    assert [db.session.get(Registration, i).status for i in ids] == [S.SUBMITTED, S.SUBMITTED]
    assert count(db, AuditEntry) == audited

def test_a_cancelled_event_cannot_be_published_again(db, make, admin, cluster_a):
    event = make.event(organizers=[cluster_a], status=EventStatus.CANCELLED)
    with pytest.raises(events.EventCancelled):
        events.publish(admin, event.id)


# --------------------------------------------------------------------------- agenda


@pytest.fixture
def mission(db, admin, cluster_a):
    """Monday 8 to Friday 12 March 2027 in Brussels, 09:00 to 18:00 local."""
    return events.create(admin, details(
        cluster_a, timezone="Europe/Brussels", target_country="BE", target_city="Brussels",
        starts_local=datetime(2027, 3, 8, 9), ends_local=datetime(2027, 3, 12, 18)))


def session_form(**overrides) -> dict:
    data = {"session-title": "Visit to the traffic control centre", "session-kind": "visit",
            "session-starts_local": "2027-03-09T10:00", "session-ends_local": "2027-03-09T12:00",
            "session-venue": "", "session-description": "", "session-online_url": ""}
    data.update({f"session-{k}": v for k, v in overrides.items()})
    return data


def test_sessions_are_added_in_local_time(db, login_as, admin, mission):
    client = login_as(admin)
    response = post(client, f"/admin/events/{mission.id}/sessions", session_form(),
                    prefix="session")
    assert response.status_code == 302
    item = db.session.scalar(select(EventSession))
    assert (item.starts_at, item.ends_at) == (at(2027, 3, 9, 9), at(2027, 3, 9, 11))
    assert item.kind == SessionKind.VISIT
    page = client.get(f"/admin/events/{mission.id}").get_data(as_text=True)
    assert "Tue 9 Mar 2027, 10:00 – 12:00 (Brussels, UTC+1)" in page
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "event.session_added"))
    assert entry.event_id == mission.id


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"starts_local": "2027-03-08T08:00"}, "starts_local", "starts before the event"),
    ({"ends_local": "2027-03-12T19:00"}, "ends_local", "ends after the event"),
    ({"ends_local": "2027-03-09T09:00"}, "ends_local", "must end after it starts"),
    ({"starts_local": ""}, "starts_local", "or make the session all-day"),
    ({"all_day": "y", "start_date": "2027-03-07", "end_date": "2027-03-08"}, "start_date",
     "within the event"),
    ({"all_day": "y", "start_date": "2027-03-09", "end_date": "2027-03-13"}, "end_date",
     "within the event"),
    ({"title": ""}, "title", "Give the session a title."),
])
def test_a_session_outside_the_event_is_refused_beside_its_field(
    db, login_as, admin, mission, overrides, field, message
):
    client = login_as(admin)
    response = post(client, f"/admin/events/{mission.id}/sessions", session_form(**overrides),
                    prefix="session")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="session-{field}-error"' in html
    assert message in html
    assert count(db, EventSession) == 0


def test_all_day_sessions_keep_local_dates(db, admin, mission):
    item = events.add_session(admin, mission, SessionIn.from_values(
        title="Smart City Expo", kind=SessionKind.CONFERENCE, all_day=True,
        start_date=date(2027, 3, 10), end_date=date(2027, 3, 11)))
    assert (item.start_date, item.end_date, item.starts_at) == (
        date(2027, 3, 10), date(2027, 3, 11), None)


def test_a_session_is_edited_and_removed(db, login_as, admin, mission):
    item = events.add_session(admin, mission, SessionIn.from_values(
        title="Visit", starts_local=datetime(2027, 3, 9, 10), ends_local=datetime(2027, 3, 9, 11)))
    db.session.commit()
    client = login_as(admin)
    path = f"/admin/events/{mission.id}/sessions/{item.id}"
    assert 'value="2027-03-09T10:00"' in client.get(path).get_data(as_text=True)
    response = post(client, path, session_form(title="Visit to the port",
                                               starts_local="2027-03-10T14:00",
                                               ends_local="2027-03-10T16:00"), prefix="session")
    assert response.status_code == 302
    db.session.expire_all()
    assert (item.title, item.starts_at) == ("Visit to the port", at(2027, 3, 10, 13))
    response = post(client, path, session_form(starts_local="2027-03-20T14:00"),
                    prefix="session")
    assert response.status_code == 400
    assert confirm(client, f"{path}/delete").status_code == 302
    assert count(db, EventSession) == 0
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.action.startswith("event.session"))).all()
    assert actions == ["event.session_added", "event.session_updated", "event.session_deleted"]


def test_moving_the_event_away_from_its_agenda_is_refused(db, admin, cluster_a, mission):
    events.add_session(admin, mission, SessionIn.from_values(
        title="Visit", starts_local=datetime(2027, 3, 9, 10), ends_local=datetime(2027, 3, 9, 11)))
    with pytest.raises(Refused) as refusal:
        events.update(admin, mission, details(
            cluster_a, timezone="Europe/Brussels", target_country="BE", slug=mission.slug,
            starts_local=datetime(2027, 3, 10, 9), ends_local=datetime(2027, 3, 12, 18)))
    assert "Visit" in refusal.value.errors["starts_local"]
    db.session.expire_all()
    assert mission.starts_at == at(2027, 3, 8, 8)


# --------------------------------------------------------------------------- quotas


def test_quotas_are_saved_per_cluster_and_audited(db, make, login_as, admin, cluster_a, mission):
    member_cluster = make.partner(short_name="MC", is_member=True)
    client = login_as(admin)
    html = client.get(f"/admin/events/{mission.id}").get_data(as_text=True)
    assert f'name="quota-seats_{member_cluster.id}"' in html
    response = post(client, f"/admin/events/{mission.id}/quotas", {
        f"quota-seats_{cluster_a.id}": "8", f"quota-seats_{member_cluster.id}": "5"},
        prefix="quota")
    assert response.status_code == 302
    seats = dict(db.session.execute(select(EventQuota.partner_id, EventQuota.seats)).all())
    assert seats == {cluster_a.id: 8, member_cluster.id: 5}
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "event.quotas_updated"))
    assert entry.details["changes"] == {"SCN": [None, 8], "MC": [None, 5]}


def test_a_quota_larger_than_the_capacity_is_refused_beside_its_field(
    db, login_as, admin, cluster_a, mission
):
    client = login_as(admin)
    response = post(client, f"/admin/events/{mission.id}/quotas",
                    {f"quota-seats_{cluster_a.id}": "21"}, prefix="quota")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="quota-seats_{cluster_a.id}-error"' in html
    assert "More seats than the event&#39;s capacity of 20" in html
    assert count(db, EventQuota) == 0


def test_quotas_adding_up_to_more_than_the_capacity_are_refused(
    db, make, admin, cluster_a, mission
):
    other = make.partner(is_member=True)
    with pytest.raises(Refused, match="add up to 25 seats, more than the capacity of 20"):
        events.set_quotas(admin, mission, {cluster_a.id: 15, other.id: 10})
    assert count(db, EventQuota) == 0
    with unit.of_work("test"):
        events.set_quotas(admin, mission, {cluster_a.id: 15, other.id: 5})
    # Lowering the capacity under the promised seats is refused too.
    with pytest.raises(Refused) as refusal:
        events.update(admin, mission, details(
            cluster_a, timezone="Europe/Brussels", target_country="BE", slug=mission.slug,
            starts_local=datetime(2027, 3, 8, 9), ends_local=datetime(2027, 3, 12, 18),
            capacity=19))
    assert "capacity" in refusal.value.errors


def test_quotas_go_to_organizers_and_member_clusters_only(db, make, admin, mission):
    outsider = make.partner(is_member=False)
    with pytest.raises(Refused, match="organizers and the member clusters"):
        events.set_quotas(admin, mission, {outsider.id: 2})


# --------------------------------------------------------------------------- copies


def test_a_copy_moves_by_whole_local_days_with_agenda_and_quotas_but_no_registrations(
    db, make, login_as, admin, cluster_a, mission
):
    events.add_session(admin, mission, SessionIn.from_values(
        title="Visit", starts_local=datetime(2027, 3, 9, 10), ends_local=datetime(2027, 3, 9, 11)))
    events.add_session(admin, mission, SessionIn.from_values(
        title="Expo", all_day=True, start_date=date(2027, 3, 10), end_date=date(2027, 3, 11)))
    with unit.of_work("test"):
        events.set_quotas(admin, mission, {cluster_a.id: 6})
    events.publish(admin, mission.id)
    make.registration(db.session.get(Event, mission.id), make.user())

    client = login_as(admin)
    # Three weeks later Brussels is on summer time: the same 09:00 local is 07:00 UTC.
    response = post(client, f"/admin/events/{mission.id}/clone", {"clone-days": "21"},
                    prefix="clone")
    assert response.status_code == 302
    copy = db.session.scalar(select(Event).where(Event.id != mission.id))
    assert response.headers["Location"].endswith(f"/admin/events/{copy.id}")
    assert copy.slug == f"{mission.slug}-copy"
    assert copy.status == EventStatus.DRAFT
    assert copy.starts_at == at(2027, 3, 29, 7)
    assert copy.starts_at.astimezone(BRUSSELS).hour == 9
    assert copy.title == mission.title and copy.capacity == mission.capacity
    assert [p.id for p in copy.organizers] == [cluster_a.id]
    agenda = {s.title: s for s in copy.sessions}
    assert agenda["Visit"].starts_at == at(2027, 3, 30, 8)  # 10:00 CEST
    assert (agenda["Expo"].start_date, agenda["Expo"].end_date) == (
        date(2027, 3, 31), date(2027, 4, 1))
    assert [(q.partner_id, q.seats) for q in copy.quotas] == [(cluster_a.id, 6)]
    assert db.session.scalar(select(func.count(Registration.id)).where(
        Registration.event_id == copy.id)) == 0
    assert db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "event.cloned")).event_id == copy.id

    second = events.clone(admin, db.session.get(Event, mission.id), 0)
    assert second.slug == f"{mission.slug}-copy-2"


def test_a_cancelled_event_can_still_be_copied(db, make, admin, cluster_a):
    event = make.event(organizers=[cluster_a], status=EventStatus.CANCELLED,
                       starts_at=datetime(2027, 5, 1, 1, tzinfo=UTC))
    copy = events.clone(admin, event, 7)
    assert copy.status == EventStatus.DRAFT
    assert copy.starts_at - event.starts_at == timedelta(days=7)


def test_a_new_mission_asks_the_default_questions_and_a_webinar_none(db, admin, cluster_a):
    mission = events.create(admin, details(cluster_a))
    assert mission.kind.is_mission
    labels = [q.label for q in mission.questions]
    assert len(labels) == 5 and any("dietary" in label.lower() for label in labels)
    webinar = events.create(admin, details(cluster_a, kind=EventKind.WEBINAR, title="Webinar"))
    assert webinar.questions == []


def test_a_copy_asks_the_same_questions(db, admin, cluster_a):
    mission = events.create(admin, details(cluster_a))
    copy = events.clone(admin, mission, days=365)
    assert [(q.label, q.kind, q.required) for q in copy.questions] == [
        (q.label, q.kind, q.required) for q in mission.questions]


def test_the_per_company_cap_is_set_on_the_event_form(db, login_as, admin, cluster_a):
    client = login_as(admin)
    response = post(client, "/admin/events/new",
                    event_form(cluster_a, title="Capped mission", max_per_organization="2"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    event = db.session.scalar(select(Event).where(Event.title == "Capped mission"))
    assert event.max_per_organization == 2
    refused = post(client, f"/admin/events/{event.id}",
                   event_form(cluster_a, title="Capped mission", max_per_organization="0"))
    assert refused.status_code == 400
    db.session.refresh(event)
    assert event.max_per_organization == 2
