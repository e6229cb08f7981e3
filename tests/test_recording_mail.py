"""After the webinar (webapp/services/registration_mail.recording_published): once the
recording is set, approved registrants who came are thanked, those who did not are told
what they missed; nobody else hears of it, and nobody twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import delete, select

from tests.conftest import csrf_token, login
from tests.webinars import ENDS, STARTS, approved, event_details, event_form
from webapp.inputs import ValidationError
from webapp.models import Attendance, AttendanceSource, Event, OutboxMessage
from webapp.models import RegistrationStatus as S
from webapp.services import events, notifications, registration_mail

RECORDING = "https://video.example.com/recordings/meet-boston"
AFTER = ENDS + timedelta(hours=2)
THANKS = "Thank you for joining: the recording of Meet Boston"
SORRY = "Sorry we missed you: the recording of Meet Boston"


@pytest.fixture(autouse=True)
def _empty_outbox(db):
    db.session.execute(delete(OutboxMessage))
    db.session.commit()


@pytest.fixture
def audience(db, make, webinar, organizer, cluster, seat):
    """Sofie (`seat`) opened her join link; Jan was checked in at a door; Piet never
    came; Wim withdrew; Els is still to be decided."""
    org = make.organization(cluster)
    people = {"sofie": seat}
    for name in ("Jan", "Piet"):
        people[name.lower()] = approved(make, webinar, make.user(
            org, name=f"{name} Peeters", email=f"{name.lower()}@example.org"), organizer)
    people["wim"] = make.registration(webinar, make.user(org, email="wim@example.org"),
                                      S.SUBMITTED, S.APPROVED, S.WITHDRAWN, actor=organizer)
    people["els"] = make.registration(webinar, make.user(org, email="els@example.org"))
    db.session.add_all([
        Attendance(registration_id=seat.id, recorded_at=STARTS,
                   source=AttendanceSource.JOIN_LINK),
        Attendance(registration_id=people["jan"].id, recorded_at=STARTS,
                   recorded_by_id=organizer.id, source=AttendanceSource.CHECK_IN),
    ])
    db.session.commit()
    return people


def subjects_by_address(db) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for message in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
        found.setdefault(message.to_address, []).append(message.subject)
    return found


def test_setting_the_recording_thanks_who_came_and_tells_the_others(db, mailbox, webinar,
                                                                    organizer, audience):
    with freeze_time(AFTER):
        events.update(organizer, webinar, event_details(webinar, recording_url=RECORDING))
        assert notifications.send_due() == 3

    assert subjects_by_address(db) == {
        "sme@example.org": [THANKS], "jan@example.org": [THANKS], "piet@example.org": [SORRY]}
    thanks = mailbox.text(mailbox.to("sme@example.org")[0])
    assert "Hello Sofie Sme," in thanks and "Thank you for joining Meet Boston" in thanks
    assert RECORDING in thanks
    assert f"/join/{audience['sofie'].join_token}" in thanks
    sorry = mailbox.to("piet@example.org")[0]
    assert "Sorry we missed you at Meet Boston" in mailbox.text(sorry)
    assert RECORDING in sorry.get_body(preferencelist=("html",)).get_content()
    assert db.session.get(Event, webinar.id).recording_mailed_at is not None


def test_a_corrected_recording_link_is_not_mailed_again(db, webinar, organizer, audience):
    with freeze_time(AFTER):
        events.update(organizer, webinar, event_details(webinar, recording_url=RECORDING))
    with freeze_time(AFTER + timedelta(hours=1)):
        events.update(organizer, webinar, event_details(webinar, recording_url=RECORDING + "-v2"))
        assert registration_mail.recording_published(webinar) == 0
    assert sum(len(s) for s in subjects_by_address(db).values()) == 3
    assert db.session.get(Event, webinar.id).recording_url == RECORDING + "-v2"


def test_other_changes_to_an_event_with_a_recording_send_nothing(db, webinar, organizer,
                                                                 audience):
    with freeze_time(AFTER):
        events.update(organizer, webinar, event_details(webinar, recording_url=RECORDING))
        db.session.execute(delete(OutboxMessage))
        db.session.commit()
        events.update(organizer, webinar, event_details(webinar, recording_url=RECORDING,
                                                   title="Meet the Boston beachhead"))
    assert subjects_by_address(db) == {}


def test_a_refused_recording_link_mails_nobody(db, webinar, organizer, audience):
    with freeze_time(ENDS - timedelta(minutes=5)), pytest.raises(ValidationError):
        events.update(organizer, webinar, event_details(webinar, recording_url=RECORDING))
    db.session.rollback()
    assert subjects_by_address(db) == {}
    assert db.session.get(Event, webinar.id).recording_mailed_at is None


def test_the_recording_set_in_the_event_form_reaches_the_registrants(client, db, mailbox,
                                                                    webinar, organizer,
                                                                    audience):
    with freeze_time(AFTER):
        login(client, organizer)
        form = event_form(webinar, recording_url=RECORDING, csrf_token=csrf_token(client, "/"))
        assert client.post(f"/admin/events/{webinar.id}", data=form).status_code == 302
    # Sent after the request's commit, through the SMTP server.
    assert sorted(m["To"] for m in mailbox.messages) == [
        "jan@example.org", "piet@example.org", "sme@example.org"]
    assert {m["Subject"] for m in mailbox.to("piet@example.org")} == {SORRY}
