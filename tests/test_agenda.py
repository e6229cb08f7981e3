"""Agendas where people look (webapp/services/agenda.py, webapp/views/agenda.py): a
participant's meetings on a page and as PDF, with their time and place only once the
schedule is published or the meeting locked, the other side's organization and contact
person; the organizers' schedule to print and a sign per table; each read in as many
statements however many meetings they hold."""

from __future__ import annotations

import re
from datetime import timedelta

from markupsafe import escape
from sqlalchemy import select

from tests import test_meeting_requests
from tests.conftest import count_queries, download_pdf, login
from tests.test_badges import pages_text
from tests.test_meeting_requests import ask, build_market
from webapp import access
from webapp.extensions import db as _db
from webapp.inputs.matchmaking import MeetingPointIn
from webapp.localtime import format_span
from webapp.models import Matchmaking, Meeting, Participant, ScheduleState
from webapp.services import agenda, matchmaking, meeting_requests, meeting_schedule

NOW = test_meeting_requests.NOW  # the frozen clock's time
SECONDS = 5
# Names that HTML, PDF text and iCalendar each have to escape.
AWKWARD_ORG = 'Ørsted & <Søn> "Q"'
AWKWARD_NAME = "Zoë O'Brien; Ltd"


def build(make, people: int, pairs):
    """`people` participants, two tables, three slots, the `pairs` accepted; participant
    1's organization and name need escaping."""
    market = build_market(make, people=people)
    for name in ("Table 1", "Table 2"):
        matchmaking.add_point(market.event_id, MeetingPointIn.from_values(name=name),
                              actor=market.organizer)
    accept(market, pairs)
    market.user(1).organization.name = AWKWARD_ORG
    market.user(1).name = AWKWARD_NAME
    _db.session.flush()
    return market


def accept(market, pairs) -> None:
    for frm, to in pairs:
        meeting_requests.accept(ask(market, frm, to).id, actor=market.user(to))


def settings_of(market) -> Matchmaking:
    return _db.session.scalar(select(Matchmaking).where(Matchmaking.event_id == market.event_id))


def publish(market, state=ScheduleState.PRELIMINARY) -> None:
    meeting_schedule.publish(market.event_id, state, actor=market.organizer)


def schedule(market) -> list[Meeting]:
    meeting_schedule.schedule_all(market.event_id, actor=market.organizer, seconds=SECONDS)
    return list(_db.session.scalars(select(Meeting).where(Meeting.event_id == market.event_id)
                                    .order_by(Meeting.request_id)))


def agenda_url(market, n: int, suffix: str = "agenda") -> str:
    return (f"/events/{market.event_id}/marketplace/participants/"
            f"{market.people[n].id}/{suffix}")


def shown_meetings(html: str) -> list[int]:
    return [int(m) for m in re.findall(r'data-testid="meeting" data-meeting="(\d+)"', html)]


def test_a_participant_sees_time_and_place_once_published_or_locked(client, make, frozen):
    market = build(make, 4, ((0, 1), (0, 2), (1, 3)))
    with_1, with_2, _other = schedule(market)
    login(client, market.user(0))

    html = client.get(agenda_url(market, 0)).get_data(as_text=True)
    # A draft schedule: agreed meetings, their time and place not yet shown.
    assert 'data-state="draft"' in html and shown_meetings(html) == []
    assert html.count('data-testid="waiting-meeting"') == 2
    assert "Table 1" not in html and "Table 2" not in html

    with_2.locked = True  # fixed: its time and place are settled
    _db.session.flush()
    html = client.get(agenda_url(market, 0)).get_data(as_text=True)
    assert shown_meetings(html) == [with_2.id]
    assert html.count('data-testid="waiting-meeting"') == 1

    publish(market)
    html = client.get(agenda_url(market, 0)).get_data(as_text=True)
    assert 'data-state="preliminary"' in html and "preliminary" in html
    in_order = sorted((with_1, with_2), key=lambda m: m.starts_at)
    assert shown_meetings(html) == [m.id for m in in_order]
    event = market.people[0].event
    length = settings_of(market).meeting_minutes
    for meeting in in_order:
        assert format_span(meeting.starts_at, meeting.starts_at + timedelta(minutes=length),
                           event.timezone) in html
        assert meeting.point.name in html
        assert f"/marketplace/meetings/{meeting.id}.ics" in html
    # The other sides, named by their organization, with their contact person's details.
    assert str(escape(AWKWARD_ORG)) in html and str(escape(AWKWARD_NAME)) in html
    for n in (1, 2):
        assert market.user(n).email in html
    assert 'data-testid="waiting"' not in html
    # The participant finds it from the marketplace and from an accepted request.
    for page in (f"/events/{market.event_id}/marketplace/",
                 f"/events/{market.event_id}/marketplace/requests/{with_1.request_id}"):
        assert f'href="{agenda_url(market, 0)}"' in client.get(page).get_data(as_text=True)


def test_contact_details_on_an_agenda_follow_the_contact_rule(make, frozen):
    market = build(make, 4, ((0, 1), (0, 2)))
    # Participant 3 asked participant 0, who has not answered: no contact between them.
    ask(market, 3, 0)
    schedule(market)
    for viewer in (market.user(0), market.organizer, market.user(3)):
        shown = agenda.agenda_of(market.people[0], viewer).waiting
        assert len(shown) == 2
        for entry in shown:
            assert entry.contact.shows_details == access.can(
                viewer, "participant.contact", entry.other), viewer
    others = list(_db.session.scalars(select(Participant).where(
        Participant.event_id == market.event_id)))
    for viewer in (market.user(0), market.user(3), market.organizer):
        assert access.participants_whose_contact(viewer, others) == {
            p.id for p in others if access.can(viewer, "participant.contact", p)}


def test_pages_read_as_many_statements_however_many_meetings(client, make, frozen,
                                                             rendering):
    market = build(make, 6, ((0, 1),))
    schedule(market)
    publish(market)

    def statements(user, url: str) -> tuple[int, str]:
        login(client, user)
        with count_queries() as run:
            response = client.get(url)
        assert response.status_code == 200
        return len(run), response.get_data(as_text=True)

    print_url = f"/events/{market.event_id}/matchmaking/print/schedule"
    few_agenda, html = statements(market.user(0), agenda_url(market, 0))
    assert len(shown_meetings(html)) == 1
    few_print, _html = statements(market.organizer, print_url)

    accept(market, ((0, 2), (0, 3), (4, 5), (2, 1)))
    schedule(market)
    many_agenda, html = statements(market.user(0), agenda_url(market, 0))
    assert len(shown_meetings(html)) == 3
    many_print, html = statements(market.organizer, print_url)
    assert "5 meetings scheduled." in html

    assert (many_agenda, many_print) == (few_agenda, few_print)


def test_the_agenda_pdf_carries_the_same_in_its_text_layer(client, make, frozen, tmp_path):
    market = build(make, 4, ((0, 1), (0, 2)))
    schedule(market)
    publish(market, ScheduleState.FINAL)
    accept(market, ((3, 0),))  # agreed after the schedule: it waits

    body = download_pdf(client, market.user(0), agenda_url(market, 0, "agenda.pdf"))

    text = " ".join(" ".join(pages_text(body, tmp_path)).split())
    assert f"Agenda of {market.user(0).name}" in text
    assert "This schedule is final." in text
    for expected in (AWKWARD_ORG, AWKWARD_NAME, market.user(1).email, "Firm 2",
                     market.user(2).email, "Table 1"):
        assert expected in text, expected
    waiting = text.split("Not scheduled yet", 1)[1]
    assert "Firm 3" in waiting and market.user(3).email in waiting


def test_organizers_print_the_schedule_and_a_sign_per_table(client, make, frozen, tmp_path):
    market = build(make, 4, ((0, 1), (0, 2), (1, 3)))
    meetings = schedule(market)  # a draft: the organizers see it all the same

    login(client, market.organizer)
    html = client.get(f"/events/{market.event_id}/matchmaking/print/schedule").get_data(
        as_text=True)
    assert "3 meetings scheduled." in html
    assert html.count('data-testid="point"') == 2 and str(escape(AWKWARD_ORG)) in html
    assert html.count('data-testid="slot"') == len({m.starts_at for m in meetings})

    body = download_pdf(client, market.organizer,
                        f"/events/{market.event_id}/matchmaking/print/table-signs.pdf")
    pages = [" ".join(page.split()) for page in pages_text(body, tmp_path)]
    assert len(pages) == 2
    for page, table in zip(pages, ("Table 1", "Table 2"), strict=True):
        assert table in page
        here = [m for m in meetings if m.point.name == table]
        for meeting in here:
            for side in (meeting.request.requester, meeting.request.receiver):
                assert agenda.organization_of(side) in page
        assert page.count("Free") == 3 - len(here)


def test_a_participant_without_an_organization_is_named_only_where_they_are_known(app):
    from types import SimpleNamespace

    from webapp.services import names

    def participant(organization):
        user = SimpleNamespace(name="Zoë Solo", organization=organization)
        return SimpleNamespace(registration=SimpleNamespace(user=user))

    with app.test_request_context():
        alone = participant(None)
        assert names.participant_label(alone) == "A participant without an organization"
        assert names.participant_label(alone, known=True) == "Zoë Solo"
        firm = participant(SimpleNamespace(name="Ørsted & Søn"))
        assert names.participant_label(firm) == names.participant_label(
            firm, known=True) == "Ørsted & Søn"
        assert agenda.organization_of(alone) == "Zoë Solo"
