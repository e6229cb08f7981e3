"""Mail in its recipient's language, not the sender's (webapp/services/notifications.py,
registration_mail.py, messages.py, reminders.py): a manager reading French approves, the
applicant reads Greek; someone whose language is not known reads the event's main
language; the invitations they carry are written for the same reader.

Mail is received by a real SMTP server on loopback; expected texts come from the
catalogues (and must differ from the English, so a missing translation fails).
"""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
from flask_babel import force_locale, get_locale, gettext, ngettext

from tests.conftest import csrf_token
from tests.webinars import STARTS
from webapp import localtime
from webapp.models import EventKind
from webapp.models import RegistrationStatus as S
from webapp.services import event_texts, messages, notifications, registrations, reminders

SME = "sme@example.org"
APPROVED = "Your application is approved: %(event)s"
GOOD_NEWS = "Good news: your application for %(event)s is approved. You have a seat."


def translated(language: str, msgid: str, **params) -> str:
    with force_locale(language):
        return gettext(msgid, **params)


def in_language(language: str, msgid: str, **params) -> str:
    """`msgid` as the catalogue of `language` has it, checked to be translated."""
    text = translated(language, msgid, **params)
    assert text != translated("en", msgid, **params), f"no {language} translation: {msgid!r}"
    return text


def title_in(event, language: str) -> str:
    return event_texts.shown(event, language).title


@pytest.fixture
def cluster(make):
    return make.partner(name="Smart City Cluster Gent")


@pytest.fixture
def mission(make, cluster):
    event = make.event(organizers=[cluster], registration_opens_at=None,
                       title="Singapore 2027", venue="Marina Bay")
    make.session(event, title="Company visit")
    return event


def _span(event, language: str) -> str:
    """The event's dates and times as a reader of `language` reads them."""
    with force_locale(language):
        return localtime.format_span(event.starts_at, event.ends_at, event.timezone)


def _received(mailbox, address: str, subject: str):
    notifications.send_due()
    found = [m for m in mailbox.to(address) if m["Subject"] == subject]
    assert len(found) == 1, [m["Subject"] for m in mailbox.to(address)]
    return found[0]


def _html(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def _invitation(message) -> icalendar.Event:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    [vevent] = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
    return vevent


def test_a_french_manager_approves_and_the_greek_applicant_reads_greek(
        client, db, mailbox, make, cluster, mission, login_as):
    sme = make.user(make.organization(cluster), email=SME, name="Sofia Papadaki", locale="el")
    manager = make.manager(cluster, name="Manon Manager", locale="fr")
    reg = make.registration(mission, sme)
    db.session.commit()
    login_as(manager)
    desk = client.get("/desk/").get_data(as_text=True)
    assert '<html lang="fr">' in desk  # the approver works in French

    response = client.post(f"/desk/registrations/{reg.id}/decide", data={
        "decision": "approve", "expected_status": "submitted", "reason": "",
        "csrf_token": csrf_token(client, "/desk/")})
    assert response.status_code == 302

    title = title_in(mission, "el")
    message = _received(mailbox, SME, in_language("el", APPROVED, event=title))
    text = mailbox.text(message)
    assert in_language("el", "Hello %(name)s,", name=sme.name) in text
    assert in_language("el", GOOD_NEWS, event=title) in text
    assert translated("fr", GOOD_NEWS, event=title) not in text
    assert translated("en", GOOD_NEWS, event=title) not in text
    assert in_language("el", "When") in text
    assert _span(mission, "el") in text and _span(mission, "el") != _span(mission, "en")
    html = _html(message)
    assert '<html lang="el">' in html
    assert in_language("el", GOOD_NEWS, event=title) in html
    # The event's title says the language it is in (its main one where Greek is not given).
    assert f'lang="{event_texts.shown(mission, "el").lang}">{title}</td>' in html

    # The invitation it carries is written for the same reader.
    vevent = _invitation(message)
    assert str(vevent["SUMMARY"]) == title
    description = str(vevent["DESCRIPTION"])
    assert f"{in_language('el', 'Agenda')}:" in description
    assert f"{translated('fr', 'Agenda')}:" not in description
    assert "Agenda:" not in description


@pytest.mark.parametrize(("own", "browser", "expected"), [
    (None, None, "fr"),  # nothing known of the reader: the event's main language
    (None, "el", "el"),  # their browser's, recorded as they signed in
    ("el", "fr", "el"),  # their own choice first
])
def test_a_reader_whose_language_is_not_chosen_reads_their_browsers_or_the_events(
        db, mailbox, make, cluster, own, browser, expected):
    event = make.event(organizers=[cluster], registration_opens_at=None, title="Boston 2027",
                       language="fr")
    sme = make.user(make.organization(cluster), email=SME, locale=own, browser_locale=browser)
    manager = make.manager(cluster, locale="en")
    reg = make.registration(event, sme)
    db.session.commit()

    registrations.decide(reg.id, "approve", actor=manager)

    title = title_in(event, expected)
    message = _received(mailbox, SME, in_language(expected, APPROVED, event=title))
    assert in_language(expected, GOOD_NEWS, event=title) in mailbox.text(message)
    assert f'<html lang="{expected}">' in _html(message)


def test_a_mail_written_in_a_french_request_reaches_each_delegate_in_their_language(
        app, db, mailbox, make, cluster):
    webinar = make.event(organizers=[cluster], registration_opens_at=None, title="Lighting",
                         kind=EventKind.WEBINAR)
    organizer = make.manager(cluster, name="Odile Organisatrice", locale="fr")
    greek = make.user(make.organization(cluster), email="greek@example.org", locale="el")
    english = make.user(make.organization(cluster), email="english@example.org", locale="en")
    for user in (greek, english):
        make.registration(webinar, user, S.SUBMITTED, S.APPROVED)
    db.session.commit()

    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert str(get_locale()) == "fr"
        messages.send(organizer, webinar, partner_id=None, subject="Le lien",
                      body="À demain.")
    notifications.send_due()

    wrote = "%(sender)s wrote to the delegation of %(event)s:"
    for user, language in ((greek, "el"), (english, "en")):
        [message] = mailbox.to(user.email)
        title = title_in(webinar, language)
        assert message["Subject"] == f"[{title}] Le lien"  # the sender's words as written
        text = mailbox.text(message)
        assert translated(language, wrote, sender=organizer.name, event=title) in text
        assert translated(language, "Hello %(name)s,", name=user.name) in text
        assert "À demain." in text
    assert in_language("el", wrote, sender=organizer.name, event=title_in(webinar, "el")) \
        in mailbox.text(mailbox.to(greek.email)[0])
    assert translated("fr", wrote, sender=organizer.name, event="Lighting") not in \
        mailbox.text(mailbox.to(english.email)[0])


def test_a_reminder_and_its_calendar_entry_are_in_the_registrants_language(
        db, mailbox, member, seat, webinar):
    member.locale = "el"
    db.session.commit()

    reminders.queue_due(STARTS - timedelta(hours=24))

    title = title_in(webinar, "el")
    with force_locale("el"):
        subject = ngettext("Starts in %(num)d hour: %(event)s",
                           "Starts in %(num)d hours: %(event)s", 24, event=title)
    with force_locale("en"):
        assert subject != ngettext("Starts in %(num)d hour: %(event)s",
                                   "Starts in %(num)d hours: %(event)s", 24, event=title)
    message = _received(mailbox, member.email, subject)
    assert '<html lang="el">' in _html(message)
    vevent = _invitation(message)
    assert str(vevent["SUMMARY"]) == title
    assert str(vevent["LOCATION"]) == in_language("el", "Online")
    assert f"{in_language('el', 'Join online')}: " in str(vevent["DESCRIPTION"])


def test_a_reset_asked_for_in_french_reaches_a_greek_account_in_greek(client, db, make,
                                                                      mailbox):
    """Someone else's request (a reset, a sign-up with a taken address) is read by the
    account's owner: the subject and the text in their language, not the asker's."""
    owner = make.user(email="eleni@example.org")
    owner.locale = "el"
    db.session.commit()
    response = client.post("/reset", headers={"Accept-Language": "fr"}, data={
        "email": owner.email, "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    notifications.send_due()
    [message] = mailbox.to(owner.email)
    assert message["Subject"] == in_language("el", "Reset your password")
