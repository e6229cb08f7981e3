"""What the tests of corrected decisions share (tests/test_reopen.py, tests/test_cancel_one.py):
a mission about to start with one seat, the people who may and may not correct its
decisions, a delegate holding the seat with a live calendar invitation and two applicants
waiting for it; the mail, calendar files, badge scans and join links those tests read.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from types import SimpleNamespace

import icalendar
import pytest
from freezegun import freeze_time
from sqlalchemy import delete, func, select

from tests.conftest import csrf_token, login
from webapp.models import AuditEntry, EventKind, OutboxMessage, Registration, utcnow
from webapp.services import notifications, registrations
from webapp.services.errors import RegistrationRefused

# Starts in three hours: inside the door's check-in window (it opens a day before) and
# still before the start, when decisions can be corrected.
SOON = timedelta(hours=3)
MEETING = "https://meet.example.com/j/singapore-briefing"


def mission(make, *, kind=EventKind.OUTBOUND_MISSION, capacity=1, **event) -> SimpleNamespace:
    """One seat, held by Ana (approved by her cluster's manager, so she holds an
    invitation); Ben and then Cem wait for it. Committed to the test's savepoint."""
    alpha = make.partner(name="Alpha Smart Cities", short_name="Alpha")
    bravo = make.partner(name="Bravo Mobility", short_name="Bravo")
    organizing = make.partner(name="Organizing Cluster", short_name="Org")
    beachhead = make.beachhead(name="IPI Singapore")
    event.setdefault("online_url", MEETING if kind == EventKind.WEBINAR else "")
    w = SimpleNamespace(
        event=make.event(organizers=[organizing], hosts=[beachhead], kind=kind,
                         capacity=capacity, starts_in=SOON, title="Singapore 2027",
                         registration_opens_at=None, **event),
        alpha=alpha, bravo=bravo,
        manager=make.manager(alpha, name="Mads Manager", email="mads@example.org"),
        organizer=make.manager(organizing, name="Olga Organizer", email="olga@example.org"),
        other_manager=make.manager(bravo, name="Bert Bravo", email="bert@example.org"),
        host=make.host(beachhead, name="Hana Host"),
    )
    w.ana = apply(make, w, "Ana Alpha", "ana@example.org", "approve")
    w.ben = apply(make, w, "Ben Alpha", "ben@example.org", "waitlist")
    w.cem = apply(make, w, "Cem Alpha", "cem@example.org", "waitlist")
    return w


def apply(make, w, name: str, email: str, decision: str | None = None) -> Registration:
    """`name` of a company of cluster Alpha applies; Alpha's manager takes `decision`."""
    user = make.user(make.organization(w.alpha, name=f"{name} Ltd"), name=name, email=email)
    reg = registrations.apply(user, w.event.id, profile_consent=True)
    if decision is not None:
        registrations.decide(reg.id, decision, actor=w.manager,
                             reason="Not this time." if decision == "reject" else "")
    return reg


def forget_mail(db, mailbox) -> None:
    """Each test reads the mail of its own steps, not the set-up's."""
    notifications.send_due()
    db.session.execute(delete(OutboxMessage))
    db.session.commit()
    mailbox.messages.clear()


def mail_to(mailbox, address: str) -> list:
    notifications.send_due()
    return mailbox.to(address)


def invitation(message) -> tuple[str, icalendar.Event] | None:
    """The message's calendar part as (METHOD, its VEVENT), or None without one."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    if not parts:
        return None
    [part] = parts
    cal = icalendar.Calendar.from_ical(part.get_content())
    [vevent] = cal.walk("VEVENT")
    assert part.get_param("method") == str(cal["METHOD"])
    return str(cal["METHOD"]), vevent


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def history(db, reg) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(
        AuditEntry.registration_id == reg.id).order_by(AuditEntry.id)).all()


def snapshot(db, w) -> tuple:
    """Everything a refused correction must leave as it was: statuses, audit entries,
    mail queued, invitations' sequences."""
    db.session.expire_all()
    regs = db.session.scalars(select(Registration).where(
        Registration.event_id == w.event.id).order_by(Registration.id)).all()
    return ([(r.id, r.status, r.calendar_sequence, r.decided_at) for r in regs],
            db.session.scalar(select(func.count()).select_from(AuditEntry)),
            db.session.scalar(select(func.count()).select_from(OutboxMessage)))


def page_text(response) -> str:
    """A page's text as read, tags and runs of blanks away."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def consequences_on(response) -> list[str]:
    """The sentences a confirmation page says will happen."""
    found = re.search(r'data-testid="consequences">(.*?)</ul>', response.get_data(as_text=True),
                      re.S)
    assert found, "no consequences on the page"
    return [" ".join(unescape(item).split())
            for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]


# --------------------------------------------------------------------------- at the door


def badge_page(client, staff, reg) -> str:
    """The door's page for `reg`'s badge, as its staff open the scanned link."""
    login(client, staff)
    response = client.get(f"/checkin/{reg.badge_code}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def badge_refusal(html: str) -> str | None:
    match = re.search(r'data-testid="checkin-refused">(.*?)</div>', html, re.S)
    return unescape(match.group(1)).strip() if match else None


def scan(client, staff, event, code: str):
    """The door's form: the code as scanned, checked in for the event as a whole."""
    login(client, staff)
    token = csrf_token(client, f"/events/{event.id}/checkin")
    return client.post(f"/events/{event.id}/checkin",
                       data={"code": code, "session": "event", "csrf_token": token})


def join_at_start(client, reg):
    """Opening `reg`'s personal join link ten minutes into the event."""
    with freeze_time(reg.event.starts_at + timedelta(minutes=10)):
        return client.get(f"/join/{reg.join_token}")


# --------------------------------------------------------------------------- shared checks
#
# What reopening and cancelling have in common, each check given the correction as
# `correct(registration_id, actor)`.


def badge_refused_after(client, db, w, correct) -> None:
    """Ana's badge, admitted at the door before `correct`, is refused after it (its page
    and a scan), with the status it left her in; nobody downloads it any more."""
    assert badge_refusal(badge_page(client, w.host, w.ana)) is None
    correct(w.ana.id, w.organizer)
    db.session.commit()
    refusal = f"This badge is not valid: the registration is {w.ana.status.value}."

    assert badge_refusal(badge_page(client, w.host, w.ana)) == refusal
    response = scan(client, w.host, w.event, w.ana.badge_code)
    assert response.status_code == 400
    assert badge_refusal(response.get_data(as_text=True)) == refusal
    for person in (w.ana.user, w.organizer):
        login(client, person)
        assert client.get(f"/registrations/{w.ana.id}/badge.pdf").status_code == 404


def join_link_refused_after(client, db, make, mailbox, correct) -> SimpleNamespace:
    """On a webinar, Ana's join link opens the meeting before `correct` and is refused
    after it, which her mail says; returns the webinar's scene."""
    webinar = mission(make, kind=EventKind.WEBINAR)
    forget_mail(db, mailbox)
    assert join_at_start(client, webinar.ana).location == MEETING

    correct(webinar.ana.id, webinar.organizer)
    db.session.commit()

    response = join_at_start(client, webinar.ana)
    assert response.status_code == 403
    assert "meet.example.com" not in response.get_data(as_text=True)
    [message] = mail_to(mailbox, "ana@example.org")
    assert "Your personal join link no longer opens the meeting." in mailbox.text(message)
    return webinar


def refused_once_started(db, mailbox, w, correct, refusal) -> None:
    """`correct` a minute after the event started raises `refusal`, and nothing changes."""
    w.event.starts_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    before = snapshot(db, w)

    with pytest.raises(RegistrationRefused, match=re.escape(refusal)):
        correct(w.ana.id, w.organizer)

    db.session.rollback()  # as the request's unit does after a refusal
    assert snapshot(db, w) == before
    assert mail_to(mailbox, "ana@example.org") == []


def pages_refused(client, db, w, path: str, refusals) -> None:
    """`path` (a correction's page) answers each of `refusals` (person, status) to its
    person, asked and posted (with a reason and a token of sorts), and nothing changes."""
    before = snapshot(db, w)
    for person, status in refusals:
        login(client, person)
        assert client.get(path).status_code == status
        response = client.post(path, data={
            "csrf_token": csrf_token(client, "/account/registrations"),
            "expected_status": "approved", "reason": "Because.", "confirmation": "x"})
        assert response.status_code == status
    assert snapshot(db, w) == before
