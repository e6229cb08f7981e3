"""Dates and local times at their edges (webapp/localtime.py, webapp/forms/dates.py): each
kind of date that is stored lives in its window and is refused outside it with a
message, never a 5xx (a year 9999 or 1 included), and a period to search takes any day;
a local time the clocks skip is refused, and one they pass twice is refused, naming both
offsets, until the organizer chooses one, which is then stored as that instant. Through
the event, session, agreement, token, KPI and audit forms, and `tick --now`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.factories import at
from tests.inputs_table import refusals
from webapp.inputs import ValidationError
from webapp.inputs.events import EventIn
from webapp.models import Agreement, ApiToken, AuditEntry, Event, EventSession
from webapp.services import events
from webapp.services.fields import Refused

EVENT_WINDOW = "(2000-01-01 to 2100-12-31)"


@pytest.fixture
def cluster(make):
    return make.partner(name="Copenhagen Cleantech", short_name="CCC")


@pytest.fixture
def admin(make):
    return make.admin(name="Annelies Admin")


def post(client, path: str, data: dict, prefix: str | None = None):
    token = csrf_token(client, "/")
    return client.post(path, data={**data, f"{prefix}-csrf_token" if prefix else "csrf_token":
                                   token})


def event_form(organizer, **overrides) -> dict:
    data = dict(
        kind="outbound_mission", title="Green energy mission", slug="", summary="",
        description="", target_country="DK", target_city="Copenhagen", venue="",
        online_url="", timezone="Europe/Copenhagen", starts_local="2027-10-12T09:00",
        ends_local="2027-10-15T18:00", registration_opens_local="",
        registration_closes_local="", capacity="20", requires_approval="y",
        organizer_ids=[str(organizer.id)], host_ids=[],
    )
    data.update(overrides)
    return data


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def the_event(db) -> Event:
    return db.session.scalar(select(Event).where(Event.title == "Green energy mission"))


def error_of(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error" class="invalid-feedback">([^<]*)<', html)
    assert match, f"no error beside {field}"
    return match.group(1)


# --------------------------------------------------------------------------- event windows


# The zones farthest from UTC: the edges' instants cross into the next or previous UTC
# year (and a year 1 or 9999 would overflow there if it were converted).
@pytest.mark.parametrize(("day", "zone", "accepted"), [
    ("1999-12-31", "Pacific/Kiritimati", False),
    ("2000-01-01", "Pacific/Kiritimati", True),
    ("2100-12-31", "Pacific/Pago_Pago", True),
    ("2101-01-01", "Pacific/Pago_Pago", False),
    ("9999-12-31", "Pacific/Pago_Pago", False),
    ("0001-01-01", "Pacific/Kiritimati", False),
])
def test_event_dates_live_from_2000_to_2100(db, login_as, admin, cluster, day, zone, accepted):
    client = login_as(admin)
    response = post(client, "/admin/events/new", event_form(
        cluster, timezone=zone, starts_local=f"{day}T00:00", ends_local=f"{day}T23:59"))
    if accepted:
        assert response.status_code == 302
        event = the_event(db)
        assert event.starts_at.astimezone(event.zone).date().isoformat() == day
        return
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert EVENT_WINDOW in error_of(html, "starts_local")
    assert EVENT_WINDOW in error_of(html, "ends_local")
    assert count(db, Event) == 0 and count(db, AuditEntry) == 0


@pytest.mark.parametrize(("field", "value", "accepted"), [
    ("registration_opens_local", "1999-12-31T12:00", False),
    ("registration_opens_local", "2000-01-01T00:00", True),
    ("registration_opens_local", "0001-01-01T00:00", False),
    ("registration_closes_local", "2100-12-31T23:59", True),
    ("registration_closes_local", "2101-01-01T00:00", False),
    ("registration_closes_local", "9999-12-31T23:59", False),
])
def test_a_registration_window_lives_from_2000_to_2100(
    db, login_as, admin, cluster, field, value, accepted
):
    """The event spans the whole window, so only the window itself can refuse."""
    client = login_as(admin)
    response = post(client, "/admin/events/new", event_form(
        cluster, starts_local="2000-01-01T00:00", ends_local="2100-12-31T23:59",
        **{field: value}))
    if accepted:
        assert response.status_code == 302
        event = the_event(db)
        column = field.replace("_local", "_at")
        assert getattr(event, column).astimezone(event.zone).replace(
            tzinfo=None).isoformat(timespec="minutes") == value
        return
    assert response.status_code == 400
    assert EVENT_WINDOW in error_of(response.get_data(as_text=True), field)
    assert count(db, Event) == 0


def test_a_copy_cannot_be_moved_out_of_the_window(db, admin, cluster):
    event = events.create(admin, EventIn.from_values(
        kind="workshop", title="Green energy mission", timezone="Europe/Copenhagen",
        starts_local=datetime(2100, 6, 1, 9), ends_local=datetime(2100, 6, 1, 17),
        target_country="DK", organizer_ids=[cluster.id]))
    with pytest.raises(Refused) as refusal:
        events.clone(admin, event, 365)
    assert EVENT_WINDOW in refusal.value.errors["days"]
    assert events.clone(admin, event, 200).starts_at == at(2100, 12, 18, 8, 0)


# --------------------------------------------------------------------------- sessions


@pytest.fixture
def last_days(make, cluster):
    """An event on the window's last two days, in Copenhagen."""
    return make.event(organizers=[cluster], timezone="Europe/Copenhagen",
                      starts_at=at(2100, 12, 29, 23, 0), duration=timedelta(hours=48))


@pytest.mark.parametrize(("starts", "accepted"), [
    ("2100-12-31T10:00", True),
    ("2101-01-01T10:00", False),
    ("9999-12-31T10:00", False),
    ("0001-01-01T00:00", False),
])
def test_session_times_live_in_the_window(db, login_as, admin, last_days, starts, accepted):
    client = login_as(admin)
    response = post(client, f"/admin/events/{last_days.id}/sessions", {
        "session-title": "Harbour visit", "session-kind": "visit",
        "session-starts_local": starts, "session-ends_local": starts.replace("T10:", "T11:"),
    }, prefix="session")
    if accepted:
        assert response.status_code == 302
        assert db.session.scalar(select(EventSession.starts_at)) == at(2100, 12, 31, 9, 0)
        return
    assert response.status_code == 400
    assert EVENT_WINDOW in error_of(response.get_data(as_text=True), "session-starts_local")
    assert count(db, EventSession) == 0


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2101-01-01"])
def test_all_day_session_dates_live_in_the_window(db, login_as, admin, last_days, day):
    client = login_as(admin)
    response = post(client, f"/admin/events/{last_days.id}/sessions", {
        "session-title": "Conference day", "session-kind": "conference",
        "session-all_day": "y", "session-start_date": day, "session-end_date": day,
    }, prefix="session")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert EVENT_WINDOW in error_of(html, "session-start_date")
    assert count(db, EventSession) == 0


# --------------------------------------------------------------------------- other dates


# A period to look at only bounds a search: any day of the calendar, its first and last
# included ("all time"), and nothing computed from it can overflow.
@pytest.mark.parametrize("query", [
    "start=0001-01-01&end=9999-12-31", "start=9999-12-31", "end=0001-01-01",
])
def test_a_kpi_period_at_the_calendars_edges_is_shown(login_as, admin, query):
    client = login_as(admin)
    for path in ("/kpis/", "/kpis/rows/smes", "/kpis/tables/kpis.csv"):
        assert client.get(f"{path}?{query}").status_code == 200, path


def test_an_audit_filter_at_the_calendars_edges_finds_what_lies_between(
    db, login_as, admin, cluster
):
    events.create(admin, EventIn.from_values(
        kind="workshop", title="Green energy mission", timezone="Europe/Copenhagen",
        starts_local=datetime(2027, 6, 1, 9), ends_local=datetime(2027, 6, 1, 17),
        target_country="DK", organizer_ids=[cluster.id]))
    db.session.flush()
    client = login_as(admin)
    everything = client.get("/admin/audit?since=0001-01-01&until=9999-12-31")
    assert everything.status_code == 200
    assert 'data-action="event.created"' in everything.get_data(as_text=True)
    before = client.get("/admin/audit?until=2000-01-01")
    assert before.status_code == 200
    assert 'data-action="event.created"' not in before.get_data(as_text=True)
    after = client.get("/admin/audit?since=9999-12-31")
    assert after.status_code == 200
    assert 'data-action="event.created"' not in after.get_data(as_text=True)


@pytest.mark.parametrize(("day", "accepted"), [
    ("1949-12-31", False), ("1950-01-01", True), ("2100-12-31", False),
    ("2101-01-01", False), ("9999-12-31", False), ("0001-01-01", False),
])
def test_agreement_dates_live_from_1950_to_2100(db, client, login_as, make, day, accepted):
    """Started on `day` and signed on 2100-12-31: the signing date's edge is the window's,
    the start date's is the one tested."""
    cluster = make.partner(name="Cluster Alpha")
    sme = make.organization(cluster, name="Aarhus Sensors", country="DK")
    guest = make.organization(None, name="Marina Bay Data", country="SG")
    login_as(make.manager(cluster))
    signed = "2100-12-31" if day != "2100-12-31" else "2101-01-01"
    response = client.post("/agreements/new", data=dict(
        kind="collaboration", type="business_partnership", status="signed",
        title="Pilot in Singapore", responsible_partner_id=str(cluster.id),
        parties=[f"organization:{sme.id}", f"organization:{guest.id}"], started_on=day,
        signed_on=signed, new_organization_helix="industry",
        csrf_token=csrf_token(client, "/agreements/new")))
    html = response.get_data(as_text=True)
    window = "(1950-01-01 to 2100-12-31)"
    if accepted:
        assert response.status_code == 302, html
        assert count(db, Agreement) == 1
        return
    assert response.status_code == 400
    assert window in html
    assert count(db, Agreement) == 0


@pytest.mark.parametrize("day", ["9999-12-31", "2101-01-01"])
def test_a_tokens_last_day_lives_in_its_window(db, client, login_as, make, day):
    login_as(make.user(make.organization(make.partner())))
    response = client.post("/account/api-tokens", data={
        "token-name": "Our CRM", "token-access": "read_only", "token-expires_on": day,
        "csrf_token": csrf_token(client, "/account/profile")})
    assert response.status_code == 400
    assert EVENT_WINDOW in response.get_data(as_text=True)
    assert count(db, ApiToken) == 0


@pytest.mark.parametrize("now", [
    "9999-12-31T23:59:59+00:00", "9999-12-31T20:00:00-05:00", "0001-01-01T00:00:00+01:00",
    "0001-01-01", "2101-01-01T00:00:00Z",
])
def test_tick_now_outside_the_window_is_a_usage_error_not_a_crash(app, db, now):
    result = app.test_cli_runner().invoke(args=["tick", "--now", now])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "2000-01-01 to 2100-12-31" in result.output


def test_tick_now_takes_the_windows_last_instant(app, db):
    result = app.test_cli_runner().invoke(args=["tick", "--now", "2100-12-31T23:59:59Z"])
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------- DST


GAPS = [  # (zone, the skipped local time, the offsets either side)
    ("Europe/Copenhagen", "2024-03-31T02:30", "UTC+1 to UTC+2"),
    ("America/New_York", "2024-03-10T02:30", "UTC-5 to UTC-4"),
]
REPEATS = [  # (zone, the repeated local time, the message's day, first, then)
    ("Europe/Copenhagen", "2024-10-27T02:30", "27 October 2024", "+02:00", "+01:00"),
    ("America/New_York", "2024-11-03T01:30", "3 November 2024", "-04:00", "-05:00"),
]


def label(code: str) -> str:
    """"+02:00" as the messages say it: "UTC+2"."""
    hours = int(code[1:3])
    return f"UTC{code[0]}{hours}"


@pytest.mark.parametrize(("zone", "local", "offsets"), GAPS)
def test_a_local_time_the_clocks_skip_is_refused(db, login_as, admin, cluster, zone, local,
                                                 offsets):
    client = login_as(admin)
    day = local.split("T")[0]
    response = post(client, "/admin/events/new", event_form(
        cluster, timezone=zone, starts_local=local, ends_local=f"{day}T18:00"))
    assert response.status_code == 400
    message = error_of(response.get_data(as_text=True), "starts_local")
    assert f"does not exist in {zone}" in message and offsets in message
    assert count(db, Event) == 0


@pytest.mark.parametrize(("zone", "local", "day", "first", "then"), REPEATS)
def test_a_repeated_local_time_is_refused_naming_both_offsets_until_one_is_chosen(
    db, login_as, admin, cluster, zone, local, day, first, then
):
    client = login_as(admin)
    form = event_form(cluster, timezone=zone, starts_local=local,
                      ends_local=local.replace("T0", "T1"))
    refused = post(client, "/admin/events/new", form)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    clock = local.split("T")[1]
    assert error_of(html, "starts_local") == (
        f"{clock} happens twice on {day} in {zone}: first at {label(first)}, then at "
        f"{label(then)}. Choose which.")
    assert count(db, Event) == 0
    # The page now asks which one, and guesses neither.
    choices = re.findall(r'name="starts_local_offset" id="[^"]+" value="([^"]+)"( checked)?',
                         html)
    assert choices == [(first, ""), (then, "")]

    accepted = post(client, "/admin/events/new", {**form, "starts_local_offset": then})
    assert accepted.status_code == 302
    wall = datetime.fromisoformat(local)
    offset = timedelta(hours=int(then[:3]))
    assert the_event(db).starts_at == (wall - offset).replace(tzinfo=UTC)

    # Shown again, the stored choice is the one checked; saved unchanged, it stays.
    edit_page = client.get(accepted.headers["Location"]).get_data(as_text=True)
    assert re.findall(r'name="starts_local_offset" id="[^"]+" value="([^"]+)" checked',
                      edit_page) == [then]
    event = the_event(db)
    resaved = post(client, f"/admin/events/{event.id}", {**form, "starts_local_offset": then,
                                                        "title": "Green energy mission"})
    assert resaved.status_code == 302
    db.session.expire_all()
    assert the_event(db).starts_at == (wall - offset).replace(tzinfo=UTC)


def test_the_first_occurrence_is_stored_as_its_own_instant(db, login_as, admin, cluster):
    client = login_as(admin)
    response = post(client, "/admin/events/new", {**event_form(
        cluster, starts_local="2024-10-27T02:30", ends_local="2024-10-27T12:30"),
        "starts_local_offset": "+02:00"})
    assert response.status_code == 302
    assert the_event(db).starts_at == at(2024, 10, 27, 0, 30)


def test_a_leftover_choice_does_not_bend_a_time_that_occurs_once(db, login_as, admin, cluster):
    """The organizer changed the time after choosing: the page no longer offers the
    choice, and the time means what it says."""
    client = login_as(admin)
    response = post(client, "/admin/events/new", {**event_form(
        cluster, starts_local="2024-10-27T10:00", ends_local="2024-10-27T12:30"),
        "starts_local_offset": "+02:00"})
    assert response.status_code == 302
    assert the_event(db).starts_at == at(2024, 10, 27, 9, 0)


@pytest.mark.parametrize("offset", ["+05:00", "banana", "+99:99", "\x00"])
def test_an_offset_the_zone_does_not_have_then_is_no_choice(db, login_as, admin, cluster,
                                                            offset):
    client = login_as(admin)
    response = post(client, "/admin/events/new", {**event_form(
        cluster, starts_local="2024-10-27T02:30", ends_local="2024-10-27T12:30"),
        "starts_local_offset": offset})
    assert response.status_code == 400
    assert "Choose which." in error_of(response.get_data(as_text=True), "starts_local")
    assert count(db, Event) == 0


def test_the_service_refuses_an_offset_the_zone_does_not_have(db, admin, cluster):
    """Whoever calls the service with an explicit offset (a future API, the CLI) gets the
    same rule as the form."""
    with pytest.raises(ValidationError) as refusal:
        EventIn.from_values(
            kind="workshop", title="Green energy mission", timezone="Europe/Copenhagen",
            starts_local=datetime(2024, 10, 27, 10, 0, tzinfo=timezone(timedelta(hours=2))),
            ends_local=datetime(2024, 10, 27, 12, 0), target_country="DK",
            organizer_ids=[cluster.id])
    assert refusals(refusal.value)["starts_local"] == (
        "10:00 on 27 October 2024 in Europe/Copenhagen is at UTC+1, not UTC+2.")


@pytest.mark.parametrize(("zone", "local", "day", "first", "then"), REPEATS)
def test_a_sessions_repeated_time_is_chosen_the_same_way(
    db, login_as, admin, make, cluster, zone, local, day, first, then
):
    wall = datetime.fromisoformat(local)
    event = make.event(organizers=[cluster], timezone=zone,
                       starts_at=(wall - timedelta(days=1)).replace(tzinfo=UTC),
                       duration=timedelta(days=2))
    client = login_as(admin)
    form = {"session-title": "Night visit", "session-kind": "visit",
            "session-starts_local": local, "session-ends_local": local.replace("T0", "T1")}
    refused = post(client, f"/admin/events/{event.id}/sessions", form, prefix="session")
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert f"first at {label(first)}, then at {label(then)}. Choose which." in error_of(
        html, "session-starts_local")
    assert 'name="session-starts_local_offset"' in html
    assert count(db, EventSession) == 0

    accepted = post(client, f"/admin/events/{event.id}/sessions",
                    {**form, "session-starts_local_offset": first}, prefix="session")
    assert accepted.status_code == 302
    offset = timedelta(hours=int(first[:3]))
    assert db.session.scalar(select(EventSession.starts_at)) == (wall - offset).replace(
        tzinfo=UTC)


@pytest.mark.parametrize("zone", ["America", "Europe/", "a" * 300, "Europe/Copenhagen\x00"])
def test_a_zone_name_that_is_no_zone_is_refused_beside_its_field(db, login_as, admin, cluster,
                                                                 zone):
    """The page asks "which one?" only in a real zone; a folder of the zone files or an
    over-long name is refused, not read as a file."""
    client = login_as(admin)
    response = post(client, "/admin/events/new", event_form(
        cluster, timezone=zone, starts_local="2024-10-27T02:30",
        ends_local="2024-10-27T12:30"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "IANA timezone" in html or 'id="timezone-error"' in html
    assert "starts_local_offset" not in html
    assert count(db, Event) == 0


def test_a_sessions_chosen_time_comes_back_checked_and_stays_when_saved(
    db, login_as, admin, make, cluster
):
    """The second 02:30 in Copenhagen (01:30 UTC), stored: its edit page shows that choice
    made, and saving it unchanged keeps the instant."""
    event = make.event(organizers=[cluster], timezone="Europe/Copenhagen",
                       starts_at=at(2024, 10, 26, 8, 0), duration=timedelta(days=2))
    item = make.session(event, title="Night visit", starts_at=at(2024, 10, 27, 1, 30),
                        ends_at=at(2024, 10, 27, 3, 0))
    client = login_as(admin)
    path = f"/admin/events/{event.id}/sessions/{item.id}"
    page = client.get(path).get_data(as_text=True)
    assert 'value="2024-10-27T02:30"' in page
    assert re.findall(r'name="session-starts_local_offset" id="[^"]+" value="([^"]+)" checked',
                      page) == ["+01:00"]
    saved = post(client, path, {
        "session-title": "Night visit", "session-kind": "visit",
        "session-starts_local": "2024-10-27T02:30", "session-starts_local_offset": "+01:00",
        "session-ends_local": "2024-10-27T04:00"}, prefix="session")
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(EventSession, item.id).starts_at == at(2024, 10, 27, 1, 30)
