"""Follow-up surveys of missions (webapp/services/surveys.py, views/surveys.py): who is
invited (approved delegates who attended), when (a day and 182 days after the end),
exactly once (two ticks at once included, on SQLite and PostgreSQL), the one reminder,
the late rule, the signed link (GET shows, POST answers once, expires, refuses tampering),
the mail through a real SMTP server, who sees the answers, and bad input.

The clock is always explicit: `queue_due(now)`, `tick --now`, or freezegun."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from tests.backends import BACKENDS
from tests.conftest import csrf_token, login
from tests.factories import Factory, at
from tests.live import in_threads
from tests.test_reminders import _empty_outbox  # noqa: F401 - autouse: each test starts with none
from webapp import inputs, unit
from webapp.extensions import db as _db
from webapp.inputs.surveys import SurveyAnswerIn
from webapp.models import (
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    AgreementType,
    Attendance,
    AuditEntry,
    EventKind,
    EventStatus,
    Organization,
    OutboxMessage,
    OutcomeConfirmation,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
)
from webapp.models import RegistrationStatus as S
from webapp.services import notifications, registrations, surveys

STARTS = at(2027, 3, 1, 1, 0)
ENDS = at(2027, 3, 4, 10, 0)
FIRST_DUE = ENDS + timedelta(days=1)
SIX_MONTHS_DUE = ENDS + timedelta(days=182)
LINK = re.compile(r"http://127\.0\.0\.1:5000(/survey/[\w.-]+)")


def attended(make, event, user, organizer, *path):
    reg = make.registration(event, user, S.SUBMITTED, S.APPROVED, *path, actor=organizer)
    _db.session.add(Attendance(registration=reg))
    _db.session.flush()
    return reg


@pytest.fixture
def mission(make, organizing):
    return make.event(organizers=[organizing], title="Singapore Smart City Summit",
                      slug="sg-summit", starts_at=STARTS, ends_at=ENDS)


@pytest.fixture
def delegate(make, mission, member, organizer):
    reg = attended(make, mission, member, organizer)
    _db.session.commit()
    return reg


def invitations(reg=None) -> list[SurveyInvitation]:
    query = select(SurveyInvitation).order_by(SurveyInvitation.id)
    if reg is not None:
        query = query.where(SurveyInvitation.registration_id == reg.id)
    return _db.session.scalars(query).all()


def survey_mails() -> list[OutboxMessage]:
    return _db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def token_of(invitation: SurveyInvitation) -> str:
    return surveys.link_token(invitation)


def responses() -> int:
    return _db.session.scalar(select(func.count()).select_from(SurveyResponse))


# --------------------------------------------------------------------------- who and when


def test_the_first_round_is_due_a_day_after_the_end(db, delegate):
    assert surveys.queue_due(FIRST_DUE - timedelta(minutes=1)) == surveys.Tally()
    assert surveys.queue_due(FIRST_DUE) == surveys.Tally(invited=1)
    [invitation] = invitations(delegate)
    assert (invitation.round, invitation.due_at, invitation.sent_at) == (
        SurveyRound.FIRST, FIRST_DUE, FIRST_DUE)
    assert [m.subject for m in survey_mails()] == [
        "How was Singapore Smart City Summit? A few questions"]


def test_each_invitation_is_queued_once_across_repeated_ticks(db, delegate):
    surveys.queue_due(FIRST_DUE)
    assert surveys.queue_due(FIRST_DUE + timedelta(hours=1)) == surveys.Tally()
    assert surveys.due_events(FIRST_DUE + timedelta(hours=2)) == []
    assert len(invitations(delegate)) == 1 and len(survey_mails()) == 1


def test_the_second_round_asks_six_months_later_what_came_of_it(db, delegate):
    surveys.queue_due(FIRST_DUE)
    # The first round's reminder, never sent (no tick that week), is recorded as late.
    assert surveys.queue_due(SIX_MONTHS_DUE) == surveys.Tally(invited=1, skipped=1)
    assert [i.round for i in invitations(delegate)] == [SurveyRound.FIRST,
                                                         SurveyRound.SIX_MONTHS]
    assert survey_mails()[-1].subject == (
        "Six months after Singapore Smart City Summit: what came of it?")


def test_only_approved_delegates_who_attended_a_mission_are_invited(
    db, make, cluster, organizing, organizer, mission, delegate
):
    def person():
        return make.user(make.organization(cluster))

    absent = make.registration(mission, person(), S.SUBMITTED, S.APPROVED, actor=organizer)
    withdrawn = attended(make, mission, person(), organizer)
    registrations.withdraw(withdrawn.id, actor=withdrawn.user)
    erased = attended(make, mission, person(), organizer)
    erased.user.active = False
    pending = make.registration(mission, person(), S.SUBMITTED)
    _db.session.add(Attendance(registration=pending))
    webinar = make.event(kind=EventKind.WEBINAR, organizers=[organizing], starts_at=STARTS,
                         ends_at=ENDS, title="Webinar", online_url="https://meet.example.com/x")
    on_webinar = attended(make, webinar, person(), organizer)
    cancelled = make.event(organizers=[organizing], starts_at=STARTS, ends_at=ENDS,
                           status=EventStatus.CANCELLED)
    on_cancelled = attended(make, cancelled, person(), organizer)
    inbound = make.event(kind=EventKind.INBOUND_MISSION, organizers=[organizing],
                         starts_at=STARTS, ends_at=ENDS, title="Barcelona inbound")
    fact_finding = make.event(kind=EventKind.FACT_FINDING_MISSION, organizers=[organizing],
                              starts_at=STARTS, ends_at=ENDS, title="Boston fact-finding")
    on_inbound = attended(make, inbound, person(), organizer)
    on_fact_finding = attended(make, fact_finding, person(), organizer)
    db.session.commit()

    assert surveys.queue_due(FIRST_DUE) == surveys.Tally(invited=3)
    invited = {i.registration_id for i in invitations()}
    assert invited == {delegate.id, on_inbound.id, on_fact_finding.id}
    for reg in (absent, withdrawn, erased, pending, on_webinar, on_cancelled):
        assert reg.id not in invited


def test_an_invitation_found_more_than_14_days_late_is_not_sent(db, delegate):
    assert surveys.queue_due(FIRST_DUE + timedelta(days=14, minutes=1)) == surveys.Tally()
    assert invitations() == [] and survey_mails() == []


def test_an_invitation_found_13_days_late_is_still_sent(db, delegate):
    assert surveys.queue_due(FIRST_DUE + timedelta(days=13)) == surveys.Tally(invited=1)


# --------------------------------------------------------------------------- the reminder


def test_an_unanswered_invitation_is_reminded_once_a_week_later(db, delegate):
    surveys.queue_due(FIRST_DUE)
    assert surveys.queue_due(FIRST_DUE + timedelta(days=6)) == surveys.Tally()
    assert surveys.queue_due(FIRST_DUE + timedelta(days=7)) == surveys.Tally(reminded=1)
    assert surveys.queue_due(FIRST_DUE + timedelta(days=8)) == surveys.Tally()
    assert [m.subject for m in survey_mails()][-1] == (
        "Reminder: a few questions about Singapore Smart City Summit")
    assert len(survey_mails()) == 2
    assert invitations(delegate)[0].reminded_at == FIRST_DUE + timedelta(days=7)


def test_an_answered_invitation_is_not_reminded(db, delegate):
    surveys.queue_due(FIRST_DUE)
    surveys.answer(token_of(invitations(delegate)[0]), SurveyAnswerIn.from_values(satisfaction=4),
                   now=FIRST_DUE + timedelta(days=1))
    assert surveys.queue_due(FIRST_DUE + timedelta(days=7)) == surveys.Tally()
    assert len(survey_mails()) == 1


def test_a_reminder_found_too_late_is_skipped_for_good(db, delegate):
    surveys.queue_due(FIRST_DUE)
    late = FIRST_DUE + timedelta(days=7 + 7, minutes=1)
    assert surveys.queue_due(late) == surveys.Tally(skipped=1)
    assert surveys.queue_due(late + timedelta(days=1)) == surveys.Tally()
    [invitation] = invitations(delegate)
    assert invitation.reminder_skipped and len(survey_mails()) == 1


# --------------------------------------------------------------------------- the mail


def _tick(app, *args: str):
    return app.test_cli_runner().invoke(args=["tick", *args])


def test_tick_now_mails_the_survey_and_its_link_answers_it_once(app, db, client, delegate,
                                                                 mailbox):
    result = _tick(app, "--now", "2027-03-05T18:00:00+08:00")
    assert result.exit_code == 0, result.output
    assert "1 survey invitation(s) and 0 survey reminder(s) queued" in result.output
    [message] = mailbox.to("sme@example.org")
    assert message["Subject"] == "How was Singapore Smart City Summit? A few questions"
    text = mailbox.text(message)
    assert "The link works until Tue 4 May 2027, 18:00 (Singapore, UTC+8)" in text
    path = LINK.search(text).group(1)

    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "How was Singapore Smart City Summit?" in html and "What came of" not in html
    assert "This link works until Tue 4 May 2027, 18:00 (Singapore, UTC+8)" in html
    assert invitations(delegate)[0].answered_at is None  # opening it changes nothing
    answers = dict(csrf_token=csrf_token(client, path), satisfaction="5", b2b_meetings="6",
                   leads="3", agreements_in_negotiation="2", agreements_signed="1",
                   agreement_parties="Smart Nation Ventures", comment="Great meetings.")
    done = client.post(path, data=answers)
    assert done.status_code == 200 and "Your answers" in done.get_data(as_text=True)
    [response] = db.session.scalars(select(SurveyResponse)).all()
    assert (response.satisfaction, response.b2b_meetings, response.leads,
            response.agreements_in_negotiation, response.agreements_signed,
            response.agreement_parties, response.comment) == (
        5, 6, 3, 2, 1, "Smart Nation Ventures", "Great meetings.")
    assert invitations(delegate)[0].answered_at is not None
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "survey.answered", AuditEntry.event_id == delegate.event_id)) == 1

    again = client.post(path, data={**answers, "satisfaction": "1"})
    assert again.status_code == 409
    assert "already been answered" in again.get_data(as_text=True)
    assert responses() == 1 and db.session.get(SurveyResponse, response.id).satisfaction == 5
    assert client.get(path).status_code == 200  # the page says so, too

    later = _tick(app, "--now", "2027-03-12T18:00:00+08:00")
    assert "0 survey invitation(s) and 0 survey reminder(s) queued" in later.output


def test_the_second_round_form_asks_what_came_of_it(db, client, delegate):
    surveys.queue_due(SIX_MONTHS_DUE)
    [invitation] = invitations(delegate)
    html = client.get(f"/survey/{token_of(invitation)}").get_data(as_text=True)
    assert "Six months after Singapore Smart City Summit" in html
    assert "What came of the mission?" in html


# --------------------------------------------------------------------------- the link


def test_an_expired_link_is_refused_with_410_and_writes_nothing(db, client, delegate):
    surveys.queue_due(FIRST_DUE)
    path = f"/survey/{token_of(invitations(delegate)[0])}"
    with freeze_time(FIRST_DUE + timedelta(days=60, minutes=-1)):
        assert client.get(path).status_code == 200
    with freeze_time(FIRST_DUE + timedelta(days=60, minutes=1)):
        page = client.get(path)
        assert page.status_code == 410
        assert "This survey has closed" in page.get_data(as_text=True)
        sent = client.post(path, data={"csrf_token": csrf_token(client), "satisfaction": "4"})
        assert sent.status_code == 410
    assert responses() == 0


@pytest.mark.parametrize("token", ["not-a-token", None])
def test_a_tampered_link_is_refused_with_400(db, client, delegate, token):
    surveys.queue_due(FIRST_DUE)
    real = token_of(invitations(delegate)[0])
    token = token or real[:-2] + ("AA" if not real.endswith("AA") else "BB")
    page = client.get(f"/survey/{token}")
    assert page.status_code == 400
    assert "This link is not valid" in page.get_data(as_text=True)
    sent = client.post(f"/survey/{token}",
                       data={"csrf_token": csrf_token(client), "satisfaction": "4"})
    assert sent.status_code == 400
    assert responses() == 0


def test_a_link_signed_for_another_purpose_is_refused(db, client, delegate):
    from webapp.services import tokens

    surveys.queue_due(FIRST_DUE)
    forged = tokens.make("quick-registration", {"invitation": invitations(delegate)[0].id})
    assert client.get(f"/survey/{forged}").status_code == 400


def test_a_post_without_the_csrf_token_is_refused(db, client, delegate):
    surveys.queue_due(FIRST_DUE)
    path = f"/survey/{token_of(invitations(delegate)[0])}"
    assert client.post(path, data={"satisfaction": "4"}).status_code == 400
    assert responses() == 0


@pytest.mark.parametrize(("field", "value", "message"), [
    ("satisfaction", "7", "Choose your satisfaction from 1 (poor) to 5 (excellent)."),
    ("satisfaction", "", "Choose your satisfaction from 1 (poor) to 5 (excellent)."),
    ("b2b_meetings", "-1", "Give a whole number from 0 to 500."),
    ("leads", "99999999999999999999999", "Give a whole number from 0 to 1000."),
    ("leads", "many", "Not a valid integer value."),
    ("comment", "x" * 2001, "Enter at most 2000 characters."),
    ("agreement_parties", "y" * 501, "Enter at most 500 characters."),
])
def test_bad_input_gets_a_message_beside_its_field_and_writes_nothing(
    db, client, delegate, field, value, message
):
    surveys.queue_due(FIRST_DUE)
    path = f"/survey/{token_of(invitations(delegate)[0])}"
    data = {"csrf_token": csrf_token(client, path), "satisfaction": "4", field: value}
    page = client.post(path, data=data)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    assert responses() == 0 and invitations(delegate)[0].answered_at is None


@pytest.mark.parametrize(("answers", "field"), [
    (dict(satisfaction=7), "satisfaction"),
    (dict(satisfaction=0), "satisfaction"),
    (dict(satisfaction=3, leads=-2), "leads"),
    (dict(satisfaction=3, agreements_signed=10**9), "agreements_signed"),
    (dict(satisfaction=3, outcome="z" * 2001), "outcome"),
])
def test_answers_out_of_range_never_reach_the_service(db, delegate, answers, field):
    """The service takes only answers their model accepted; the model refuses these."""
    with pytest.raises(inputs.ValidationError) as refused:
        SurveyAnswerIn.from_values(**answers)
    assert field in {where[0] for where, _ in inputs.messages(refused.value, SurveyAnswerIn)}
    assert responses() == 0


def test_a_second_answer_through_the_service_is_refused(db, delegate):
    surveys.queue_due(FIRST_DUE)
    token = token_of(invitations(delegate)[0])
    surveys.answer(token, SurveyAnswerIn.from_values(satisfaction=4))
    db.session.commit()  # the caller's commit (a request's unit)
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.answer(token, SurveyAnswerIn.from_values(satisfaction=2))
    assert responses() == 1


# --------------------------------------------------------------------------- who sees them


@pytest.fixture
def answered(db, make, mission, organizer, delegate):
    """Two answers: the member's (cluster "Smart City Cluster Gent") and one of another
    cluster's delegate."""
    other_cluster = make.partner(name="Other Cluster")
    other = attended(make, mission, make.user(make.organization(other_cluster),
                                              name="Otto Other"), organizer)
    db.session.commit()
    surveys.queue_due(FIRST_DUE)
    for reg, score in ((delegate, 5), (other, 2)):
        surveys.answer(token_of(invitations(reg)[0]),
                       SurveyAnswerIn.from_values(satisfaction=score, b2b_meetings=4, leads=score))
    by_reg = {r.invitation.registration_id: r for r in db.session.scalars(
        select(SurveyResponse))}
    return SimpleNamespace(own=by_reg[delegate.id], other=by_reg[other.id],
                           other_cluster=other_cluster)


def test_the_responsible_partner_sees_only_its_delegates_answers(
    db, make, client, cluster, mission, answered
):
    login(client, make.manager(cluster))
    event_page = client.get(f"/events/{mission.slug}").get_data(as_text=True)
    assert f'href="/events/{mission.id}/surveys"' in event_page
    page = client.get(f"/events/{mission.id}/surveys")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Sofie Sme" in html and "Otto Other" not in html
    assert 'data-count="satisfaction">5.0<' in html and 'data-count="responses">1 / 1<' in html
    assert client.get(f"/surveys/responses/{answered.own.id}").status_code == 200
    assert client.get(f"/surveys/responses/{answered.other.id}").status_code == 404


def test_the_answers_csv_holds_only_the_readers_answers_with_the_formula_guard(
    db, make, client, cluster, mission, answered
):
    answered.own.comment = "=HYPERLINK(\"http://x\")"
    db.session.commit()
    login(client, make.manager(cluster))
    response = client.get(f"/events/{mission.id}/surveys.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:6] == ["Round", "Name", "Organization", "Cluster", "Answered at",
                           "Satisfaction (1-5)"]
    assert [row[1] for row in rows[1:]] == ["Sofie Sme"]  # not the other cluster's Otto
    assert rows[1][0] == "first (after the mission)" and rows[1][5] == "5"
    assert rows[1][-1] == "'=HYPERLINK(\"http://x\")"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC[+-]\d+(:\d\d)?", rows[1][4])


def test_admins_see_every_answer_and_the_summary(db, make, client, mission, answered):
    login(client, make.admin())
    html = client.get(f"/events/{mission.id}/surveys").get_data(as_text=True)
    assert "Sofie Sme" in html and "Otto Other" in html
    assert 'data-count="satisfaction">3.5<' in html and 'data-count="meetings">8<' in html
    assert client.get(f"/surveys/responses/{answered.other.id}").status_code == 200


def test_members_and_hosts_do_not_see_answers(db, make, client, member, mission, answered):
    login(client, member)
    assert "/surveys" not in client.get(f"/events/{mission.slug}").get_data(as_text=True)
    assert client.get(f"/events/{mission.id}/surveys").status_code == 403
    assert client.get(f"/surveys/responses/{answered.own.id}").status_code == 404
    login(client, make.host(make.beachhead()))
    assert client.get(f"/events/{mission.id}/surveys").status_code == 403


def _agreement_with(db, organization, responsible, status=AgreementStatus.SIGNED,
                    title="Sensors for Marina Bay"):
    guest = Organization(name=f"Guest of {title}", country="SG")
    agreement = Agreement(
        kind=AgreementKind.COLLABORATION, type=AgreementType.BUSINESS_PARTNERSHIP,
        status=status, title=title, responsible_partner=responsible,
        signed_on=ENDS.date() if status == AgreementStatus.SIGNED else None,
        parties=[AgreementParty(position=0, organization=organization),
                 AgreementParty(position=1, organization=guest)])
    db.session.add(agreement)
    db.session.flush()
    return agreement


def test_the_partner_manager_confirms_a_reported_agreement_as_its_record(
    db, make, client, cluster, mission, answered, delegate
):
    manager = make.manager(cluster)
    signed = _agreement_with(db, delegate.user.organization, cluster)
    _agreement_with(db, make.organization(cluster), cluster, title="Someone else's")
    db.session.commit()
    login(client, manager)
    page = client.get(f"/surveys/responses/{answered.own.id}").get_data(as_text=True)
    assert "Sensors for Marina Bay" in page and "Someone else&#39;s" not in page

    path = f"/surveys/responses/{answered.own.id}/agreements"
    response = client.post(path, data={"agreement_id": str(signed.id),
                                       "csrf_token": csrf_token(client, path[:-11])})
    assert response.status_code == 303
    db.session.expire_all()
    [confirmation] = db.session.scalars(select(OutcomeConfirmation)).all()
    assert (confirmation.agreement_id, confirmation.confirmed_by_id) == (signed.id, manager.id)
    assert db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "survey.outcome_confirmed")) is not None
    page = client.get(f"/surveys/responses/{answered.own.id}").get_data(as_text=True)
    assert 'data-testid="confirmed-agreements"' in page and "Sensors for Marina Bay" in page
    # Its SME is served by the confirmed outcome too.
    outcomes = db.session.execute(surveys.confirmed_outcomes()).all()
    assert [tuple(row) for row in outcomes] == [(delegate.id, signed.id)]


def test_a_confirmation_that_cannot_be_is_refused_and_writes_nothing(
    db, make, client, cluster, mission, answered, delegate
):
    signed = _agreement_with(db, delegate.user.organization, cluster)
    foreign = _agreement_with(db, delegate.user.organization, answered.other_cluster,
                              title="Another cluster's record")
    surveys.confirm_outcome(make.admin(), answered.own, signed.id)
    db.session.commit()
    login(client, make.manager(cluster))
    path = f"/surveys/responses/{answered.own.id}/agreements"
    token = csrf_token(client, path[:-11])
    for agreement_id in (signed.id, foreign.id, 999999, "x", ""):
        response = client.post(path, data={"agreement_id": str(agreement_id),
                                           "csrf_token": token})
        assert response.status_code == 400, agreement_id
    assert db.session.scalar(select(func.count()).select_from(OutcomeConfirmation)) == 1
    # Another cluster's delegate's answer is not even there to confirm.
    other = f"/surveys/responses/{answered.other.id}/agreements"
    assert client.post(other, data={"agreement_id": str(foreign.id),
                                    "csrf_token": token}).status_code == 404
    assert client.post(path, data={"agreement_id": str(signed.id)}).status_code == 400



# --------------------------------------------------------------------------- two at once


def committed_mission(delegates: int) -> SimpleNamespace:
    make = Factory()
    organizing, cluster = make.partner(), make.partner()
    organizer = make.manager(organizing)
    event = make.event(organizers=[organizing], starts_at=STARTS, ends_at=ENDS)
    regs = [attended(make, event, make.user(make.organization(cluster)), organizer)
            for _ in range(delegates)]
    _db.session.commit()
    return SimpleNamespace(event_id=event.id, reg_ids=[r.id for r in regs])


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_ticks_at_once_queue_each_invitation_and_reminder_once(open_app, backend):
    app = open_app(backend)
    built = committed_mission(5)
    results = in_threads(app, [lambda: surveys.queue_due(FIRST_DUE)] * 2)
    assert not any(isinstance(r, Exception) for r in results), results
    assert sum(r.invited for r in results) == 5
    reminded = in_threads(app, [lambda: surveys.queue_due(FIRST_DUE + timedelta(days=7))] * 2)
    assert not any(isinstance(r, Exception) for r in reminded), reminded
    assert sum(r.reminded for r in reminded) == 5
    with app.app_context():
        rows = _db.session.scalars(select(SurveyInvitation).where(
            SurveyInvitation.registration_id.in_(built.reg_ids))).all()
        assert len(rows) == 5
        assert _db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 10


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_answers_at_once_store_one(open_app, backend):
    app = open_app(backend)
    built = committed_mission(1)
    surveys.queue_due(FIRST_DUE)
    token = token_of(_db.session.scalars(select(SurveyInvitation)).one())
    _db.session.remove()

    def answering(satisfaction: int) -> int:
        with unit.of_work("POST /survey/<token>"):
            return surveys.answer(token, SurveyAnswerIn.from_values(satisfaction=satisfaction)).id

    results = in_threads(app, [lambda: answering(5), lambda: answering(1)])
    assert sorted(type(r).__name__ for r in results) == ["AlreadyAnswered", "int"]
    with app.app_context():
        [stored] = _db.session.scalars(select(SurveyResponse).join(SurveyResponse.invitation)
                                       .where(SurveyInvitation.registration_id
                                              == built.reg_ids[0])).all()
        assert stored.id in results


def test_delivering_survey_mail_twice_sends_it_once(db, delegate, mailbox):
    surveys.queue_due(FIRST_DUE)
    assert notifications.send_due() == 1
    assert notifications.send_due() == 0
    assert len(mailbox.to("sme@example.org")) == 1


def test_with_redis_tick_queues_one_survey_job_per_mission(app, db, delegate, monkeypatch):
    from webapp.services import jobs

    queued = []
    monkeypatch.setattr(jobs, "in_background", lambda: True)
    monkeypatch.setattr(jobs, "enqueue", lambda func, *args: queued.append((func, args)))
    monkeypatch.setattr(notifications, "enqueue_due", lambda **kw: 0)
    result = _tick(app, "--now", "2027-03-05T10:00:00Z")
    assert result.exit_code == 0, result.output
    assert "surveys of 1 mission(s) for the workers" in result.output
    assert (surveys.survey, (delegate.event_id, "2027-03-05T10:00:00+00:00")) in queued
    # The job, as a worker runs it (twice: a retry finds its invitation claimed).
    assert surveys.survey(delegate.event_id, "2027-03-05T10:00:00+00:00").invited == 1
    assert surveys.survey(delegate.event_id, "2027-03-05T10:00:00+00:00").invited == 0


# --------------------------------------------------------------------------- privacy


def test_the_answers_are_in_the_data_export_and_erasure_blanks_their_text(db, delegate):
    from webapp.services import privacy

    surveys.queue_due(FIRST_DUE)
    surveys.answer(token_of(invitations(delegate)[0]), SurveyAnswerIn.from_values(
        satisfaction=4, leads=2, agreement_parties="Acme Pte", comment="Call me on +65 1234"))
    [exported] = privacy.export(delegate.user)["registrations"]
    assert exported["survey_answers"][0] | {"answered_at": None} == {
        "round": "first", "answered_at": None, "satisfaction": 4, "b2b_meetings": 0,
        "leads": 2, "agreements_in_negotiation": 0, "agreements_signed": 0,
        "agreement_parties": "Acme Pte", "outcome": "", "comment": "Call me on +65 1234"}
    privacy.erase(delegate.user)
    [kept] = db.session.scalars(select(SurveyResponse).execution_options(
        populate_existing=True)).all()
    assert (kept.satisfaction, kept.leads, kept.comment, kept.agreement_parties) == (
        4, 2, "", "")
