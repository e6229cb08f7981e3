"""Reminders before online events (webapp/services/reminders.py): due a day and an hour
before the start, sent once however many ticks run (two at once included, on SQLite and
PostgreSQL), caught up after an outage (sent late with the time actually left, only the
latest of a registration's reminders due at once, skipped with their reason once the
event has started, and listed for the admins), following the event when it moves, only
to approved registrants of published online events; the mail itself through a real SMTP
server; `flask tick --now`; and the offsets in the event form.

The clock is always explicit: `queue_due(now)`, `tick --now`, or freezegun."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from freezegun import freeze_time
from sqlalchemy import delete, func, select

from tests.backends import BACKENDS
from tests.conftest import csrf_token, login
from tests.factories import Factory, at
from tests.live import in_threads
from tests.webinars import ENDS, MEETING, STARTS, event_details, event_form, field_error
from webapp.extensions import db as _db
from webapp.inputs.events import EventIn
from webapp.models import (
    Event,
    EventKind,
    OutboxMessage,
    ReminderDelivery,
    ReminderSkip,
    ReminderStatus,
)
from webapp.models import RegistrationStatus as S
from webapp.services import events, join, notifications, registrations, reminders
from webapp.services.fields import Refused

BASE = "http://127.0.0.1:5000"
DAY_BEFORE = STARTS - timedelta(hours=24)
HOUR_BEFORE = STARTS - timedelta(hours=1)


@pytest.fixture(autouse=True)
def _empty_outbox(request):
    if "open_app" in request.fixturenames:
        return  # committed data of its own, outside the rolled-back session
    db = request.getfixturevalue("db")
    db.session.execute(delete(OutboxMessage))
    db.session.commit()


def reminder_mails(db) -> list[OutboxMessage]:
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.subject.like("Starts in %"))
        .order_by(OutboxMessage.id)).all()


def deliveries(db, reg) -> list[ReminderDelivery]:
    return db.session.scalars(select(ReminderDelivery).where(
        ReminderDelivery.registration_id == reg.id).order_by(ReminderDelivery.id)).all()


# --------------------------------------------------------------------------- when


def test_reminders_are_due_a_day_and_an_hour_before_the_start(db, seat):
    assert reminders.queue_due(DAY_BEFORE - timedelta(minutes=1)) == reminders.Tally(0, 0)
    assert reminders.queue_due(DAY_BEFORE) == reminders.Tally(1, 0)
    assert [m.subject for m in reminder_mails(db)] == ["Starts in 24 hours: Meet Boston"]
    assert reminders.queue_due(HOUR_BEFORE - timedelta(minutes=1)) == reminders.Tally(0, 0)
    assert reminders.queue_due(HOUR_BEFORE + timedelta(minutes=3)) == reminders.Tally(1, 0)
    assert [m.subject for m in reminder_mails(db)] == [
        "Starts in 24 hours: Meet Boston", "Starts in 1 hour: Meet Boston"]
    rows = deliveries(db, seat)
    assert [(r.offset_minutes, r.due_at, r.status) for r in rows] == [
        (1440, DAY_BEFORE, ReminderStatus.SENT), (60, HOUR_BEFORE, ReminderStatus.SENT)]
    assert [r.outbox_message_id for r in rows] == [m.id for m in reminder_mails(db)]


def test_each_reminder_is_queued_once_across_repeated_ticks(db, seat):
    for minutes in (0, 0, 1, 5, 14):
        reminders.queue_due(DAY_BEFORE + timedelta(minutes=minutes))
    assert len(reminder_mails(db)) == 1
    assert len(deliveries(db, seat)) == 1


def test_a_tick_with_nothing_new_to_remind_takes_no_write_transaction(db, webinar, seat):
    assert reminders._events_with_due_reminders(DAY_BEFORE) == [webinar.id]
    reminders.queue_due(DAY_BEFORE)
    assert reminders._events_with_due_reminders(DAY_BEFORE + timedelta(minutes=1)) == []
    assert reminders._events_with_due_reminders(HOUR_BEFORE) == [webinar.id]


def test_a_reminder_found_14_minutes_late_is_on_time_and_says_its_own_offset(db, seat):
    assert reminders.queue_due(DAY_BEFORE + timedelta(minutes=14)) == reminders.Tally(1, 0)
    assert [m.subject for m in reminder_mails(db)] == ["Starts in 24 hours: Meet Boston"]


def test_a_reminder_found_16_minutes_late_is_sent_with_the_time_left(db, seat):
    assert reminders.queue_due(DAY_BEFORE + timedelta(minutes=16)) == reminders.Tally(
        1, 0, late=1)
    [mail] = reminder_mails(db)
    # 23 h 44 min left: rounded down, never promising more time than there is.
    assert mail.subject == "Starts in 23 hours: Meet Boston"
    assert "A reminder: Meet Boston starts in 23 hours." in mail.body_text
    [row] = deliveries(db, seat)
    assert (row.offset_minutes, row.status, row.skip_reason, row.outbox_message_id) == (
        1440, ReminderStatus.SENT, None, mail.id)
    # Recorded: a later tick does not send it again.
    assert reminders.queue_due(DAY_BEFORE + timedelta(minutes=17)) == reminders.Tally(0, 0)
    assert len(reminder_mails(db)) == 1


def test_after_a_long_outage_a_24_hour_reminder_found_3_hours_before_says_3_hours(db, seat):
    """Down from two days before the start until three hours before it."""
    three_hours_before = STARTS - timedelta(hours=3)
    assert reminders.queue_due(three_hours_before) == reminders.Tally(1, 0, late=1)
    [mail] = reminder_mails(db)
    assert mail.subject == "Starts in 3 hours: Meet Boston"
    assert "A reminder: Meet Boston starts in 3 hours." in mail.body_text
    assert "starts in 3 hours." in mail.body_html
    assert "24 hours" not in mail.body_text + mail.body_html
    # The hour mark is still ahead: that reminder comes on time, as planned.
    assert reminders.queue_due(HOUR_BEFORE) == reminders.Tally(1, 0)
    assert [m.subject for m in reminder_mails(db)] == [
        "Starts in 3 hours: Meet Boston", "Starts in 1 hour: Meet Boston"]


@pytest.mark.parametrize("offsets, before_start, subject", [
    ([1440], timedelta(hours=3, minutes=40), "Starts in 3 hours: Meet Boston"),
    ([1440], timedelta(hours=23, minutes=20), "Starts in 23 hours: Meet Boston"),
    ([1440], timedelta(minutes=59, seconds=59), "Starts in 59 minutes: Meet Boston"),
    ([1440], timedelta(seconds=30), "Starts in 1 minute: Meet Boston"),
    ([14 * 1440], timedelta(days=5, hours=23), "Starts in 5 days: Meet Boston"),
    ([14 * 1440], timedelta(days=1, hours=23), "Starts in 47 hours: Meet Boston"),
    ([2 * 1440], timedelta(days=2), "Starts in 2 days: Meet Boston"),  # on time
    ([90], timedelta(minutes=90), "Starts in 90 minutes: Meet Boston"),  # on time
])
def test_the_subject_says_the_time_left_in_days_hours_or_minutes(
    db, webinar, seat, offsets, before_start, subject
):
    webinar.reminder_offsets = offsets
    db.session.commit()
    assert reminders.queue_due(STARTS - before_start).queued == 1
    assert [m.subject for m in reminder_mails(db)] == [subject]


def test_when_two_reminders_are_due_at_once_only_the_latest_is_sent(db, seat):
    # Down from the day before until just after the hour mark.
    assert reminders.queue_due(HOUR_BEFORE + timedelta(minutes=2)) == reminders.Tally(1, 1)
    assert [m.subject for m in reminder_mails(db)] == ["Starts in 1 hour: Meet Boston"]
    assert [(r.offset_minutes, r.status, r.skip_reason) for r in deliveries(db, seat)] == [
        (1440, ReminderStatus.SKIPPED, ReminderSkip.SUPERSEDED),
        (60, ReminderStatus.SENT, None)]


def test_a_7_day_and_a_24_hour_reminder_due_at_once_send_only_the_24_hour_one(
    db, webinar, seat
):
    webinar.reminder_offsets = [1440, 60, 7 * 1440]  # as stored, in any order
    db.session.commit()
    now = DAY_BEFORE + timedelta(hours=2)  # down from 8 days before
    assert reminders.queue_due(now) == reminders.Tally(1, 1, late=1)
    assert [m.subject for m in reminder_mails(db)] == ["Starts in 22 hours: Meet Boston"]
    assert [(r.offset_minutes, r.status, r.skip_reason) for r in deliveries(db, seat)] == [
        (7 * 1440, ReminderStatus.SKIPPED, ReminderSkip.SUPERSEDED),
        (1440, ReminderStatus.SENT, None)]
    assert reminders.queue_due(HOUR_BEFORE) == reminders.Tally(1, 0)
    assert len(reminder_mails(db)) == 2


def test_a_longer_reminder_found_after_a_shorter_one_went_out_is_superseded(
    db, webinar, seat
):
    """An organizer adds a 24 h reminder after the 1 h one was sent: sending it now would
    repeat, later and worse, what the registrant was told."""
    webinar.reminder_offsets = [60]
    db.session.commit()
    assert reminders.queue_due(HOUR_BEFORE) == reminders.Tally(1, 0)
    webinar.reminder_offsets = [1440, 60]
    db.session.commit()
    assert reminders.queue_due(HOUR_BEFORE + timedelta(minutes=5)) == reminders.Tally(0, 1)
    assert len(reminder_mails(db)) == 1
    assert [(r.offset_minutes, r.skip_reason) for r in deliveries(db, seat)] == [
        (60, None), (1440, ReminderSkip.SUPERSEDED)]


@pytest.mark.parametrize("found", [STARTS, STARTS + timedelta(minutes=10),
                                   ENDS + timedelta(days=3)])
def test_reminders_found_once_the_event_has_started_are_skipped_as_started(db, seat, found):
    assert reminders.queue_due(found) == reminders.Tally(0, 2)
    assert reminder_mails(db) == []
    assert [(r.offset_minutes, r.status, r.skip_reason) for r in deliveries(db, seat)] == [
        (1440, ReminderStatus.SKIPPED, ReminderSkip.STARTED),
        (60, ReminderStatus.SKIPPED, ReminderSkip.STARTED)]
    assert reminders.queue_due(found + timedelta(minutes=1)) == reminders.Tally(0, 0)


def test_an_event_over_longer_than_the_record_window_is_left_alone(db, seat):
    now = ENDS + reminders.RECORD_WINDOW + timedelta(minutes=1)
    assert reminders.due_events(now) == []
    assert reminders.queue_due(now) == reminders.Tally(0, 0)
    assert deliveries(db, seat) == []


def test_when_the_event_moves_its_reminders_follow(db, webinar, seat, organizer):
    assert reminders.queue_due(DAY_BEFORE) == reminders.Tally(1, 0)
    later = timedelta(days=2)
    with freeze_time(DAY_BEFORE + timedelta(minutes=5)):
        events.update(organizer, webinar, event_details(
            webinar, starts_local=event_details(webinar).starts_local + later,
            ends_local=event_details(webinar).ends_local + later))
    db.session.delete(db.session.get(OutboxMessage, reminder_mails(db)[0].id))
    db.session.commit()
    # The old hour mark means nothing any more; the new day mark sends anew.
    assert reminders.queue_due(HOUR_BEFORE) == reminders.Tally(0, 0)
    assert reminders.queue_due(DAY_BEFORE + later) == reminders.Tally(1, 0)
    [mail] = reminder_mails(db)
    assert mail.subject == "Starts in 24 hours: Meet Boston"
    assert "Fri 12 Feb 2027, 10:00 (New York, UTC-5)" in mail.body_text
    assert [(r.due_at, r.status) for r in deliveries(db, seat)] == [
        (DAY_BEFORE, ReminderStatus.SENT), (DAY_BEFORE + later, ReminderStatus.SENT)]


def test_moving_the_event_earlier_past_a_mark_sends_that_reminder_with_the_time_left(
    db, webinar, seat, organizer
):
    with freeze_time(DAY_BEFORE - timedelta(hours=3)):
        events.update(organizer, webinar, event_details(
            webinar, starts_local=event_details(webinar).starts_local - timedelta(hours=4),
            ends_local=event_details(webinar).ends_local - timedelta(hours=4)))
    # Its new day mark passed an hour ago, before anyone could send it: 23 hours are left.
    now = DAY_BEFORE - timedelta(hours=3)
    assert reminders.queue_due(now) == reminders.Tally(1, 0, late=1)
    assert [m.subject for m in reminder_mails(db)] == ["Starts in 23 hours: Meet Boston"]


def test_admins_see_the_skipped_reminders_with_their_reason(
    client, db, make, organizing, cluster, organizer, webinar, seat
):
    already_on = make.event(kind=EventKind.WEBINAR, organizers=[organizing],
                            title="Meet Singapore", starts_at=HOUR_BEFORE,
                            ends_at=HOUR_BEFORE + timedelta(hours=1), online_url=MEETING,
                            timezone="Asia/Singapore")
    late_comer = make.registration(already_on, make.user(make.organization(cluster),
                                                         email="late@example.org"),
                                   S.SUBMITTED, S.APPROVED, actor=organizer)
    admin = make.admin(timezone="Europe/Berlin")
    db.session.commit()
    login(client, admin)
    assert 'data-testid="nothing-skipped"' in client.get("/admin/reminders").get_data(
        as_text=True)

    # Back after an outage, two minutes past the Boston webinar's hour mark.
    assert reminders.queue_due(HOUR_BEFORE + timedelta(minutes=2)) == reminders.Tally(1, 3)
    page = client.get("/admin/reminders").get_data(as_text=True)
    rows = page.split('data-testid="skipped-reminder"')[1:]
    assert len(rows) == 3
    [superseded] = [r for r in rows if 'data-reason="superseded"' in r]
    assert "Meet Boston" in superseded and seat.user.email in superseded
    assert "24h before" in superseded
    assert "was due at the same time and was sent instead" in superseded
    assert "Tue 9 Feb 2027, 16:00 (CET)" in superseded  # admin's zone
    started = [r for r in rows if 'data-reason="started"' in r]
    assert len(started) == 2
    assert all("Meet Singapore" in r and late_comer.user.email in r
               and "The event had started" in r for r in started)
    assert {"24h before" in r for r in started} == {True, False}

    login(client, organizer)
    assert client.get("/admin/reminders").status_code in (403, 404)


# --------------------------------------------------------------------------- who


def test_no_reminders_when_the_event_switches_them_off(db, webinar, seat):
    webinar.reminder_offsets = []
    db.session.commit()
    for now in (DAY_BEFORE, HOUR_BEFORE):
        assert reminders.queue_due(now) == reminders.Tally(0, 0)
    assert reminder_mails(db) == [] and deliveries(db, seat) == []


def test_custom_offsets_are_followed(db, webinar, seat):
    webinar.reminder_offsets = [90]
    db.session.commit()
    assert reminders.queue_due(DAY_BEFORE) == reminders.Tally(0, 0)
    assert reminders.queue_due(STARTS - timedelta(minutes=90)) == reminders.Tally(1, 0)
    assert [m.subject for m in reminder_mails(db)] == ["Starts in 90 minutes: Meet Boston"]


def test_only_approved_registrants_of_published_online_events_are_reminded(
    db, make, cluster, organizing, organizer, webinar, seat
):
    pending = make.registration(webinar, make.user(make.organization(cluster)), S.SUBMITTED)
    gone = make.registration(webinar, make.user(make.organization(cluster)), S.SUBMITTED,
                             S.APPROVED, actor=organizer)
    registrations.withdraw(gone.id, actor=gone.user)
    on_site = make.event(organizers=[organizing], starts_at=STARTS, ends_at=ENDS + timedelta(
        days=1), title="Boston mission")
    visitor = make.registration(on_site, make.user(make.organization(cluster)), S.SUBMITTED,
                                S.APPROVED, actor=organizer)
    draft = make.event(kind=EventKind.WEBINAR, organizers=[organizing], starts_at=STARTS,
                       ends_at=ENDS, status="draft", title="Draft webinar")
    drafted = make.registration(draft, make.user(make.organization(cluster)), S.SUBMITTED,
                                S.APPROVED, actor=organizer)
    db.session.execute(delete(OutboxMessage))
    db.session.commit()

    reminders.queue_due(DAY_BEFORE)
    assert [m.to_address for m in reminder_mails(db)] == [seat.user.email]
    for reg in (pending, gone, visitor, drafted):
        assert deliveries(db, reg) == []


def test_a_mission_with_a_meeting_address_is_reminded(db, make, organizing, cluster, organizer):
    mission = make.event(organizers=[organizing], starts_at=STARTS, ends_at=ENDS,
                         online_url=MEETING, title="Hybrid mission")
    make.registration(mission, make.user(make.organization(cluster)), S.SUBMITTED,
                      S.APPROVED, actor=organizer)
    db.session.commit()
    assert reminders.queue_due(DAY_BEFORE) == reminders.Tally(1, 0)


# --------------------------------------------------------------------------- the mail


def test_the_reminder_mail_shows_both_times_the_join_link_and_the_calendar_entry(
    app, db, seat, mailbox
):
    reminders.queue_due(DAY_BEFORE)
    assert notifications.send_due() == 1
    [message] = mailbox.to("sme@example.org")
    assert message["Subject"] == "Starts in 24 hours: Meet Boston"
    text = mailbox.text(message)
    assert "Starts in your time: Wed 10 Feb 2027, 23:00 (Singapore, UTC+8)" in text
    assert "Starts in the event's time: Wed 10 Feb 2027, 10:00 (New York, UTC-5)" in text
    assert f"{BASE}/join/{seat.join_token}" in text
    assert join.link(seat) in text
    assert MEETING not in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "(Singapore, UTC+8)" in html and "(New York, UTC-5)" in html
    assert f"{BASE}/join/{seat.join_token}" in html
    [ics] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert ics.get_param("method") == "REQUEST"
    body = ics.get_content()
    assert "METHOD:REQUEST" in body and "SUMMARY:Meet Boston" in body
    assert f"UID:registration-{seat.id}@" in body
    assert "TZID=America/New_York:20270210T100000" in body
    assert MEETING not in body


def test_the_reminder_repeats_the_invitation_the_registrant_holds(db, seat, organizer):
    # Approval sent invitation SEQUENCE 0; a move sent SEQUENCE 1 with the same UID.
    seat.calendar_uid = f"registration-{seat.id}@beachhead.test"
    seat.calendar_sequence = 1
    db.session.commit()
    reminders.queue_due(DAY_BEFORE)
    [mail] = reminder_mails(db)
    assert f"UID:registration-{seat.id}@beachhead.test" in mail.calendar
    assert "SEQUENCE:1\r\n" in mail.calendar
    db.session.refresh(seat)
    assert (seat.calendar_sequence, seat.calendar_uid) == (
        1, f"registration-{seat.id}@beachhead.test")


def test_a_registrant_without_an_invitation_yet_gets_the_first_one(db, seat):
    assert seat.calendar_uid is None
    reminders.queue_due(DAY_BEFORE)
    [mail] = reminder_mails(db)
    db.session.refresh(seat)
    assert seat.calendar_uid is not None and seat.calendar_sequence == 0
    assert f"UID:{seat.calendar_uid}" in mail.calendar and "SEQUENCE:0\r\n" in mail.calendar


# --------------------------------------------------------------------------- flask tick


def _tick(app, *args: str):
    return app.test_cli_runner().invoke(args=["tick", *args])


def test_tick_now_queues_and_sends_the_reminders_due_then(app, db, seat, mailbox):
    result = _tick(app, "--now", "2027-02-09T10:02:00-05:00")
    assert result.exit_code == 0, result.output
    assert "1 reminder(s) queued (0 late), 0 skipped" in result.output
    assert [m["Subject"] for m in mailbox.to("sme@example.org")] == [
        "Starts in 24 hours: Meet Boston"]
    again = _tick(app, "--now", "2027-02-09T15:05:00Z")
    assert "0 reminder(s) queued (0 late), 0 skipped" in again.output
    assert len(mailbox.to("sme@example.org")) == 1


def test_tick_now_reports_the_ones_it_skipped(app, db, seat, mailbox):
    result = _tick(app, "--now", "2027-02-10T14:05:00+00:00")
    assert result.exit_code == 0, result.output
    assert "1 reminder(s) queued (0 late), 1 skipped" in result.output
    assert [m["Subject"] for m in mailbox.to("sme@example.org")] == [
        "Starts in 1 hour: Meet Boston"]


def test_tick_now_after_a_long_outage_sends_the_late_reminder_through_smtp(
    app, db, seat, mailbox
):
    # The platform was down from 2 days before the start until 3 hours before (10:00 in
    # New York is 15:00 UTC).
    result = _tick(app, "--now", "2027-02-10T07:00:00-05:00")
    assert result.exit_code == 0, result.output
    assert "1 reminder(s) queued (1 late), 0 skipped" in result.output
    [message] = mailbox.to("sme@example.org")
    assert message["Subject"] == "Starts in 3 hours: Meet Boston"
    assert "A reminder: Meet Boston starts in 3 hours." in mailbox.text(message)
    assert f"{BASE}/join/{seat.join_token}" in mailbox.text(message)


@pytest.mark.parametrize("value", ["2027-02-09T15:00:00", "tomorrow", "2027-13-01T00:00Z"])
def test_tick_now_needs_a_time_with_its_offset(app, db, value):
    result = _tick(app, "--now", value)
    assert result.exit_code == 2
    assert "--now" in result.output


# --------------------------------------------------------------------------- two at once


def committed_webinar(registrants: int) -> SimpleNamespace:
    make = Factory()
    organizing, cluster = make.partner(), make.partner()
    organizer = make.manager(organizing)
    event = make.event(kind=EventKind.WEBINAR, organizers=[organizing], starts_at=STARTS,
                       ends_at=ENDS, online_url=MEETING, timezone="America/New_York")
    regs = [make.registration(event, make.user(make.organization(cluster)), S.SUBMITTED,
                              S.APPROVED, actor=organizer) for _ in range(registrants)]
    _db.session.commit()
    return SimpleNamespace(event_id=event.id, reg_ids=[r.id for r in regs])



@pytest.mark.parametrize("backend", BACKENDS)
def test_two_ticks_at_once_queue_each_reminder_once(open_app, backend):
    app = open_app(backend)
    w = committed_webinar(registrants=5)
    results = in_threads(app, [lambda: reminders.queue_due(DAY_BEFORE)] * 2)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.queued for r in results) == 5
    _db.session.commit()  # a fresh read
    rows = _db.session.scalars(select(ReminderDelivery).where(
        ReminderDelivery.registration_id.in_(w.reg_ids))).all()
    assert sorted(r.registration_id for r in rows) == sorted(w.reg_ids)
    assert {r.status for r in rows} == {ReminderStatus.SENT}
    messages = _db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.id.in_([r.outbox_message_id for r in rows]))).all()
    assert len(messages) == 5
    reminded = _db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.subject.like("Starts in 24 hours%")))
    assert reminded == 5


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_ticks_that_both_found_nothing_sent_still_queue_each_reminder_once(
    open_app, backend, monkeypatch
):
    """Both ticks hold their reading (no reminder sent yet) when they claim: the database's
    key decides, not what they read. On SQLite the second tick cannot read before the
    first has committed (it waits for the write transaction), so the pause gives up."""
    app = open_app(backend)
    w = committed_webinar(registrants=3)
    both_read = threading.Barrier(2)
    claim = reminders._claim
    met: list[bool] = []

    def claim_once_both_have_read(*args):
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait(timeout=1)
            met.append(True)
        return claim(*args)

    monkeypatch.setattr(reminders, "_claim", claim_once_both_have_read)
    results = in_threads(app, [lambda: reminders.queue_due(DAY_BEFORE)] * 2)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.queued for r in results) == 3
    # PostgreSQL: both really claimed the first reminder at the same moment.
    assert bool(met) == (backend == "postgres")
    _db.session.commit()
    rows = _db.session.scalars(select(ReminderDelivery).where(
        ReminderDelivery.registration_id.in_(w.reg_ids))).all()
    assert len(rows) == 3
    reminded = _db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.subject.like("Starts in 24 hours%")))
    assert reminded == 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_ticks_at_once_after_an_outage_send_only_the_latest_reminder_once(
    open_app, backend
):
    app = open_app(backend)
    w = committed_webinar(registrants=4)
    results = in_threads(app, [lambda: reminders.queue_due(HOUR_BEFORE + timedelta(
        minutes=20))] * 2)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert (sum(r.queued for r in results), sum(r.skipped for r in results),
            sum(r.late for r in results)) == (4, 4, 4)
    _db.session.commit()  # a fresh read
    rows = _db.session.scalars(select(ReminderDelivery).where(
        ReminderDelivery.registration_id.in_(w.reg_ids))).all()
    assert sorted((r.registration_id, r.offset_minutes, r.skip_reason) for r in rows) == sorted(
        [(reg, 1440, ReminderSkip.SUPERSEDED) for reg in w.reg_ids]
        + [(reg, 60, None) for reg in w.reg_ids])
    subjects = _db.session.scalars(select(OutboxMessage.subject).where(
        OutboxMessage.subject.like("Starts in %"))).all()
    assert len(subjects) == 4
    assert all(s.startswith("Starts in 40 minutes: ") for s in subjects), subjects


# --------------------------------------------------------------------------- the offsets


@pytest.mark.parametrize("text, minutes", [
    ("24h, 1h", [1440, 60]), ("1440, 60", [1440, 60]), ("60; 1440", [1440, 60]),
    ("90m", [90]), ("2d, 30 min", [2880, 30]), ("", []), ("  ", []),
])
def test_offsets_are_read_in_hours_or_minutes(text, minutes):
    assert reminders.parse_offsets(text) == minutes
    assert reminders.parse_offsets(reminders.format_offsets(minutes)) == minutes


@pytest.mark.parametrize("text, message", [
    ("0", "zero or less is not allowed"),
    ("24h, -1h", "zero or less is not allowed"),
    ("-5", "zero or less is not allowed"),
    ("1.5h", "is not a reminder time"),
    ("soon", "is not a reminder time"),
    ("1h, 60", "only once"),
    ("1h, 2h, 3h, 4h, 5h, 6h", "At most 5"),
    ("15d", "at most 14 days"),
])
def test_offsets_are_refused_with_a_clear_message(text, message):
    with pytest.raises(Refused) as refused:
        reminders.parse_offsets(text)
    assert message in refused.value.errors["reminder_offsets"]






def test_the_event_form_refuses_an_offset_of_zero_or_less_beside_its_field(
    client, db, webinar, organizer
):
    db.session.commit()
    login(client, organizer)
    page = client.get(f"/admin/events/{webinar.id}").get_data(as_text=True)
    assert 'value="24h, 1h"' in page
    for bad in ("24h, 0", "-30m"):
        form = event_form(webinar, reminder_offsets=bad, csrf_token=csrf_token(client, "/"))
        response = client.post(f"/admin/events/{webinar.id}", data=form)
        assert response.status_code == 400
        assert "zero or less is not allowed" in field_error(response, "reminder_offsets")
    db.session.expire_all()
    assert db.session.get(Event, webinar.id).reminder_offsets == [1440, 60]

    form = event_form(webinar, reminder_offsets="2h, 15m", csrf_token=csrf_token(client, "/"))
    assert client.post(f"/admin/events/{webinar.id}", data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, webinar.id).reminder_offsets == [120, 15]

    form = event_form(webinar, reminder_offsets="", csrf_token=csrf_token(client, "/"))
    assert client.post(f"/admin/events/{webinar.id}", data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, webinar.id).reminder_offsets == []


def test_a_new_event_gets_the_default_reminders(db, organizer, organizing):
    event = events.create(organizer, EventIn.from_values(
        kind=EventKind.WEBINAR, title="Doing business in Singapore", timezone="Asia/Singapore",
        starts_local=at(2027, 3, 1, 9, 0).replace(tzinfo=None),
        ends_local=at(2027, 3, 1, 10, 0).replace(tzinfo=None),
        target_country="SG", organizer_ids=[organizing.id]))
    assert event.reminder_offsets == [1440, 60]
