"""Applying (webapp/views/apply.py, webapp/services/applications.py) and the member's own
registrations (webapp/views/account.py): the form, its outcomes, every bad input of the
issue ("changes nothing"), the company profile in the same step, consents, answers
until a decision, withdrawing until the event starts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from tests.confirming import confirm
from tests.conftest import csrf_token
from webapp import access
from webapp.inputs.events import QuestionIn
from webapp.models import (
    Answer,
    AuditEntry,
    EventKind,
    EventStatus,
    Organization,
    OutboxMessage,
    QuestionKind,
    Registration,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import questions

K = QuestionKind
LONG = "x" * 4001


@pytest.fixture
def cluster(make):
    return make.partner(short_name="SCN")


@pytest.fixture
def organizing(make):
    return make.partner(short_name="ORG")


@pytest.fixture
def company(make, cluster):
    return make.organization(cluster, name="Sensorium", sector="IoT",
                             website="https://sensorium.example")


@pytest.fixture
def member(make, company):
    return make.user(company, name="Anna Member")


@pytest.fixture
def mission(db, make, organizing):
    event = make.event(organizers=[organizing], title="Mission to Singapore")
    questions.add_mission_defaults(None, event)
    return event


@pytest.fixture
def webinar(make, organizing):
    return make.event(organizers=[organizing], kind=EventKind.WEBINAR, requires_approval=False,
                      capacity=1, starts_in=timedelta(days=20), duration=timedelta(hours=1))


def good_answers(event) -> dict[str, str]:
    return {f"q_{q.id}": f"Answer to {q.label}" for q in event.questions if q.required}


def apply(client, event, data=None, *, consent=True):
    form = dict(data if data is not None else good_answers(event))
    if consent:
        form.setdefault("profile_consent", "y")
    form["csrf_token"] = csrf_token(client, "/")
    return client.post(f"/events/{event.slug}/apply", data=form)


def follow(client, response) -> str:
    assert response.status_code == 302, response.status_code
    return client.get(response.headers["Location"]).get_data(as_text=True)


def own(db, user, event) -> Registration | None:
    db.session.expire_all()
    return db.session.scalar(select(Registration).where(
        Registration.user_id == user.id, Registration.event_id == event.id))


def snapshot(db) -> dict:
    """What an application could change: counts of the rows it writes, and every
    organization's profile."""
    db.session.expire_all()

    def count(model):
        return db.session.scalar(select(func.count()).select_from(model))

    profiles = db.session.execute(select(
        Organization.id, Organization.name, Organization.sector, Organization.website,
        Organization.profile)).all()
    statuses = db.session.execute(select(Registration.id, Registration.status,
                                         Registration.responsible_partner_id)).all()
    return dict(registrations=count(Registration), answers=count(Answer),
                audit=count(AuditEntry), outbox=count(OutboxMessage),
                profiles=sorted(profiles), statuses=sorted(statuses))


# --------------------------------------------------------------------------- the form


def test_the_form_shows_each_kind_of_question_the_profile_and_both_consents(
        db, make, login_as, member, organizing):
    event = make.event(organizers=[organizing])
    asked = {kind: questions.add(None, event, QuestionIn.from_values(
        kind=kind, label=f"About {kind.value}", help_text=f"Help for {kind.value}",
        choices=["Alpha", "Beta"])) for kind in K}
    html = login_as(member).get(f"/events/{event.slug}/apply").get_data(as_text=True)

    def tag(kind):
        return re.search(rf'<(\w+)[^>]*name="q_{asked[kind].id}"[^>]*>', html)

    assert tag(K.SHORT_TEXT).group(1) == "input"
    assert tag(K.LONG_TEXT).group(1) == "textarea"
    assert tag(K.COUNTRY).group(1) == "select"
    assert 'value="SG">Singapore</option>' in html
    assert 'type="radio"' in tag(K.SINGLE_CHOICE).group(0)
    assert 'type="checkbox"' in tag(K.MULTIPLE_CHOICE).group(0)
    yes_no = re.findall(rf'name="q_{asked[K.YES_NO].id}"[^>]*value="(\w+)"', html)
    assert yes_no == ["yes", "no"]
    for kind in K:
        assert f"Help for {kind.value}" in html
    assert 'data-testid="company-profile"' in html and "Sensorium" in html
    assert 'name="org_sector"' in html  # a member may correct the profile
    assert 'name="profile_consent"' in html and 'name="contact_consent"' in html
    assert "Consent texts version 2026-11" in html
    assert "The hosts of this event" in html


def test_the_event_page_offers_to_apply_while_registration_is_open(client, login_as, mission,
                                                                   member):
    html = client.get(f"/events/{mission.slug}").get_data(as_text=True)
    assert f'href="/events/{mission.slug}/apply"' in html
    assert "You will be asked to sign in" in html
    assert client.get(f"/events/{mission.slug}/apply").status_code == 302  # to sign in


# --------------------------------------------------------------------------- outcomes


def test_a_member_applies_to_a_mission_and_it_is_submitted(db, login_as, member, mission,
                                                          cluster):
    client = login_as(member)
    answers = good_answers(mission)
    dietary = next(q for q in mission.questions if q.label == "Dietary needs")
    answers[f"q_{dietary.id}"] = "Vegetarian"
    before = utcnow()
    response = apply(client, mission, answers)
    reg = own(db, member, mission)
    assert response.headers["Location"] == f"/account/registrations/{reg.id}"
    page = follow(client, response)
    assert "Your application is submitted" in page
    assert reg.status == S.SUBMITTED
    assert reg.responsible_partner_id == cluster.id
    stored = {a.question.label: a.value for a in reg.answers}
    assert stored["Dietary needs"] == "Vegetarian"
    assert stored["What does your company offer?"] == "Answer to What does your company offer?"
    assert len(stored) == 5
    # The profile consent is stored with its version and time; the contact one was not given.
    assert reg.profile_consent_version == "2026-11"
    assert before <= reg.profile_consent_at <= utcnow()
    assert (reg.contact_consent_version, reg.contact_consent_at) == (None, None)
    assert [(e.action, e.to_status, e.actor_id) for e in reg.history] == [
        ("registration.applied", "submitted", member.id)]
    # The registration page shows the answers, the consents and the history.
    assert "Vegetarian" in page and "Edit my answers" in page
    assert "Company profile shared with the hosts: agreed" in page
    assert "Your contact details shared with the hosts: not agreed." in page
    assert 'data-status="submitted"' in page


def test_the_contact_consent_is_optional_and_stored_with_its_time_when_given(
        db, login_as, member, mission):
    apply(login_as(member), mission, {**good_answers(mission), "contact_consent": "y"})
    reg = own(db, member, mission)
    assert reg.contact_consent_version == "2026-11" and reg.contact_consent_at is not None


def test_an_instant_event_approves_while_seats_last_then_waitlists(db, make, login_as,
                                                                  webinar, cluster):
    first, second = make.user(make.organization(cluster)), make.user(make.organization(cluster))
    page = follow(login_as(first), apply(login_as(first), webinar, {}, consent=False))
    assert "You are registered: your seat is confirmed." in page
    page = follow(login_as(second), apply(login_as(second), webinar, {}, consent=False))
    assert "you are on the waiting list" in page
    assert (own(db, first, webinar).status, own(db, second, webinar).status) == (
        S.APPROVED, S.WAITLISTED)
    # Webinars ask for no profile consent.
    assert own(db, first, webinar).profile_consent_at is None


def test_missions_need_the_profile_consent(db, login_as, member, mission):
    before = snapshot(db)
    response = apply(login_as(member), mission, consent=False)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="profile_consent-error"' in html
    assert "Missions share your company profile with their hosts" in html
    assert snapshot(db) == before


def test_withdrawn_applies_again_on_the_same_row_with_its_history(db, login_as, member,
                                                                  mission):
    client = login_as(member)
    apply(client, mission)
    reg = own(db, member, mission)
    confirm(client, f"/account/registrations/{reg.id}/withdraw")
    assert own(db, member, mission).status == S.WITHDRAWN
    page = client.get(f"/account/registrations/{reg.id}").get_data(as_text=True)
    assert "Apply again" in page
    listed = client.get("/account/registrations").get_data(as_text=True)
    assert f'href="/events/{mission.slug}/apply"' in listed
    # The form starts from the earlier answers.
    form = client.get(f"/events/{mission.slug}/apply").get_data(as_text=True)
    assert "Answer to What are you looking for?" in form
    apply(client, mission)
    again = own(db, member, mission)
    assert again.id == reg.id and again.status == S.SUBMITTED
    assert [e.action for e in again.history] == [
        "registration.applied", "registration.withdrawn", "registration.reapplied"]


# --------------------------------------------------------------------------- bad input


def test_a_second_application_gets_a_clear_message_and_changes_nothing(db, login_as, member,
                                                                      mission):
    client = login_as(member)
    apply(client, mission)
    before = snapshot(db)
    response = apply(client, mission)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "You have already applied to this event; your application is submitted." in html
    assert "View your application" in html
    assert snapshot(db) == before
    assert "already applied" in client.get(f"/events/{mission.slug}/apply").get_data(
        as_text=True)


@pytest.mark.parametrize("change, message", [
    (dict(status=EventStatus.CLOSED), "Registration for this event has closed."),
    (dict(status=EventStatus.CANCELLED), "This event has been cancelled."),
    (dict(registration_closes_at=-1), "Registration for this event has closed."),
    (dict(registration_opens_at=+1), "Registration for this event has not opened yet."),
    (dict(starts_at=-30, ends_at=-29), "This event has taken place."),
])
def test_applying_outside_the_registration_window_changes_nothing(
        db, make, login_as, member, organizing, change, message):
    now = utcnow()
    values = {k: (now + timedelta(days=v) if isinstance(v, int) else v)
              for k, v in change.items()}
    event = make.event(organizers=[organizing], **values)
    client = login_as(member)
    get = client.get(f"/events/{event.slug}/apply")
    assert get.status_code == 200 and message in get.get_data(as_text=True)
    before = snapshot(db)
    response = apply(client, event, {})
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    assert snapshot(db) == before
    # The event's page says why there is no button.
    page = client.get(f"/events/{event.slug}").get_data(as_text=True)
    assert 'data-testid="apply"' not in page
    assert 'data-testid="registration-state"' in page


def test_a_draft_event_is_unknown_to_members_and_refused_to_its_organizers(
        db, make, login_as, member, organizing):
    draft = make.event(organizers=[organizing], status=EventStatus.DRAFT)
    before = snapshot(db)
    assert apply(login_as(member), draft).status_code == 404
    organizer = make.manager(organizing, organization=member.organization)
    before = snapshot(db)
    response = apply(login_as(organizer), draft)
    assert response.status_code == 409
    assert "This event is not published yet." in response.get_data(as_text=True)
    assert snapshot(db) == before


def test_an_unknown_event_is_not_found(login_as, member):
    client = login_as(member)
    assert client.get("/events/no-such-event/apply").status_code == 404


def test_an_unverified_account_is_told_to_confirm_and_changes_nothing(db, make, login_as,
                                                                     company, mission):
    unverified = make.user(company, email_verified_at=None)
    client = login_as(unverified)
    html = client.get(f"/events/{mission.slug}/apply").get_data(as_text=True)
    assert "Please confirm your email address before you apply." in html
    assert "Send me a new confirmation link" in html
    assert 'action="/resend-verification"' in html
    before = snapshot(db)
    response = apply(client, mission)
    assert response.status_code == 403
    assert snapshot(db) == before
    page = client.get(f"/events/{mission.slug}").get_data(as_text=True)
    assert 'data-testid="apply-unverified"' in page


@pytest.mark.parametrize("question, value, message", [
    ("What are your objectives for this mission?", LONG, "Enter at most 4000 characters."),
    ("What does your company offer?", "", "This question needs an answer."),
    ("What does your company offer?", "   ", "This question needs an answer."),
    ("Dietary needs", LONG, "Enter at most 4000 characters."),
])
def test_bad_answers_are_refused_beside_their_question_and_change_nothing(
        db, login_as, member, mission, question, value, message):
    target = next(q for q in mission.questions if q.label == question)
    data = {**good_answers(mission), f"q_{target.id}": value,
            "org_sector": "Changed sector"}  # the profile must not change either
    before = snapshot(db)
    response = apply(login_as(member), mission, data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    error = re.search(rf'id="q_{target.id}-error"[^>]*>([^<]*)<', html)
    assert error and message in error.group(1)
    assert "Please correct the following" in html  # and in the summary
    assert snapshot(db) == before


@pytest.mark.parametrize("kind, choices, value, message", [
    (K.SINGLE_CHOICE, ["Mobility", "Energy"], "Space", "Choose one of the options."),
    (K.MULTIPLE_CHOICE, ["Mobility", "Energy"], "Space", "Choose among the options only."),
    (K.YES_NO, [], "perhaps", "Answer yes or no."),
    (K.COUNTRY, [], "XX", "Choose a country from the list."),
])
def test_answers_outside_the_choices_are_refused_and_change_nothing(
        db, make, login_as, member, organizing, kind, choices, value, message):
    event = make.event(organizers=[organizing], kind=EventKind.WORKSHOP)
    question = questions.add(None, event, QuestionIn.from_values(
        kind=kind, label="Pick", choices=choices))
    before = snapshot(db)
    response = apply(login_as(member), event, {f"q_{question.id}": value})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert snapshot(db) == before


def test_tampered_hidden_fields_are_never_read(db, make, login_as, member, mission, cluster):
    other_cluster = make.partner()
    someone = make.user(make.organization(other_cluster))
    theirs = make.registration(mission, someone, S.SUBMITTED)
    other_event = make.event()
    foreign = questions.add(None, other_event, QuestionIn.from_values(
        kind=K.SHORT_TEXT, label="Elsewhere"))
    data = {
        **good_answers(mission), "user_id": str(someone.id),
        "responsible_partner_id": str(other_cluster.id), "partner_id": str(other_cluster.id),
        "status": "approved", "registration_id": str(theirs.id), "event_id": str(other_event.id),
        f"q_{foreign.id}": "smuggled", "org_home_cluster_id": str(other_cluster.id),
        "home_cluster_id": str(other_cluster.id),
    }
    response = apply(login_as(member), mission, data)
    assert response.status_code == 302
    reg = own(db, member, mission)
    assert (reg.status, reg.responsible_partner_id, reg.user_id) == (
        S.SUBMITTED, cluster.id, member.id)
    assert foreign.id not in {a.question_id for a in reg.answers}
    db.session.expire_all()
    assert (theirs.status, theirs.user_id) == (S.SUBMITTED, someone.id)
    assert own(db, someone, other_event) is None
    assert member.organization.home_cluster_id == cluster.id


def test_someone_elses_registration_is_unknown(db, make, login_as, member, mission):
    theirs = make.registration(mission, make.user(make.organization()), S.SUBMITTED)
    client = login_as(member)
    before = snapshot(db)
    for path in (f"/account/registrations/{theirs.id}/answers",
                 f"/account/registrations/{theirs.id}/withdraw"):
        assert client.post(path, data={**good_answers(mission),
                                       "csrf_token": csrf_token(client, "/")}).status_code == 404
    assert client.get(f"/account/registrations/{theirs.id}/answers").status_code == 404
    assert snapshot(db) == before


# --------------------------------------------------------------------------- the profile


def test_a_member_corrects_the_company_profile_in_the_same_step(db, login_as, member, mission,
                                                               company):
    data = {**good_answers(mission), "org_name": "Sensorium BV", "org_sector": "Mobility",
            "org_website": "https://sensorium.example/en", "org_profile": "Traffic sensors."}
    assert apply(login_as(member), mission, data).status_code == 302
    db.session.expire_all()
    assert (company.name, company.sector, company.website, company.profile) == (
        "Sensorium BV", "Mobility", "https://sensorium.example/en", "Traffic sensors.")
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "organization.updated")).one()
    assert entry.actor_id == member.id
    assert entry.details["changes"]["sector"] == ["IoT", "Mobility"]
    assert own(db, member, mission).status == S.SUBMITTED


def test_a_bad_profile_correction_is_refused_and_changes_nothing(db, login_as, member,
                                                                 mission):
    before = snapshot(db)
    response = apply(login_as(member), mission, {
        **good_answers(mission), "org_name": "", "org_website": "javascript:alert(1)"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="org_name-error"' in html and 'id="org_website-error"' in html
    assert snapshot(db) == before


def test_someone_the_policy_does_not_let_edit_the_profile_only_sees_it(
        db, login_as, member, mission, company, monkeypatch):
    monkeypatch.setitem(access._RULES, "organization.edit", lambda user, target: False)
    client = login_as(member)
    html = client.get(f"/events/{mission.slug}/apply").get_data(as_text=True)
    assert "Sensorium" in html and 'data-testid="profile-read-only"' in html
    assert 'name="org_sector"' not in html
    data = {**good_answers(mission), "org_name": "Hijacked", "org_sector": "Hijacked"}
    assert apply(client, mission, data).status_code == 302
    db.session.expire_all()
    assert (company.name, company.sector) == ("Sensorium", "IoT")
    assert own(db, member, mission).status == S.SUBMITTED


def test_an_applicant_without_organization_applies_as_an_individual(db, make, login_as,
                                                                    mission):
    visitor = make.user(None)
    client = login_as(visitor)
    html = client.get(f"/events/{mission.slug}/apply").get_data(as_text=True)
    assert 'data-testid="no-organization"' in html and 'name="org_name"' not in html
    assert apply(client, mission, {**good_answers(mission), "org_name": "Sneaky"}
                 ).status_code == 302
    reg = own(db, visitor, mission)
    assert (reg.status, reg.responsible_partner_id) == (S.SUBMITTED, None)
    assert db.session.scalar(select(Organization).where(Organization.name == "Sneaky")) is None


# --------------------------------------------------------------------------- my registrations


def _edit(client, reg, data):
    return client.post(f"/account/registrations/{reg.id}/answers",
                       data={**data, "csrf_token": csrf_token(client, "/")})


def test_answers_can_be_edited_until_the_application_is_decided(db, make, login_as, member,
                                                               mission, organizing):
    client = login_as(member)
    apply(client, mission)
    reg = own(db, member, mission)
    dietary = next(q for q in mission.questions if q.label == "Dietary needs")
    form = client.get(f"/account/registrations/{reg.id}/answers").get_data(as_text=True)
    assert "Answer to What are you looking for?" in form
    data = {**good_answers(mission), f"q_{dietary.id}": "Halal"}
    response = _edit(client, reg, data)
    assert "Your answers have been saved." in follow(client, response)
    reg = own(db, member, mission)
    assert {a.question_id: a.value for a in reg.answers}[dietary.id] == "Halal"
    assert reg.history[-1].action == "registration.answers_updated"
    # A bad edit is refused beside its field and changes nothing.
    before = snapshot(db)
    response = _edit(client, reg, {**data, f"q_{dietary.id}": LONG})
    assert response.status_code == 400
    assert f'id="q_{dietary.id}-error"' in response.get_data(as_text=True)
    assert snapshot(db) == before
    # Clearing an optional answer clears it.
    _edit(client, reg, good_answers(mission))
    reg = own(db, member, mission)
    assert {a.question_id: a.value for a in reg.answers}.get(dietary.id) is None

    # Once decided, answers stay as they were.
    from webapp.services import registrations
    registrations.decide(reg.id, "approve", actor=make.manager(organizing))
    before = snapshot(db)
    page = follow(client, client.get(f"/account/registrations/{reg.id}/answers"))
    assert "Your answers can no longer change: the application is approved." in page
    assert "Edit my answers" not in page
    follow(client, _edit(client, reg, {**data, f"q_{dietary.id}": "Vegan"}))
    assert snapshot(db) == before


def test_withdrawing_is_refused_once_the_event_has_started(db, make, login_as, member,
                                                          organizing):
    event = make.event(organizers=[organizing], starts_in=timedelta(minutes=10),
                       duration=timedelta(days=2))
    reg = make.registration(event, member, S.SUBMITTED, S.APPROVED)
    client = login_as(member)
    # The confirmation was opened before the start and is confirmed after it.
    opened = client.get(f"/account/registrations/{reg.id}/withdraw")
    with freeze_time(utcnow() + timedelta(minutes=20)):
        page = client.get(f"/account/registrations/{reg.id}").get_data(as_text=True)
        assert "Withdraw my application" not in page
        before = snapshot(db)
        assert "This application can no longer be withdrawn." in follow(
            client, client.get(f"/account/registrations/{reg.id}/withdraw"))
        response = confirm(client, opened)
        assert "The event has started: applications can no longer be withdrawn." in follow(
            client, response)
    assert snapshot(db) == before


def test_my_registrations_link_each_application_to_its_page(db, login_as, member, mission):
    client = login_as(member)
    apply(client, mission)
    reg = own(db, member, mission)
    html = client.get("/account/registrations").get_data(as_text=True)
    assert f'href="/account/registrations/{reg.id}"' in html
    assert 'data-status="submitted"' in html
