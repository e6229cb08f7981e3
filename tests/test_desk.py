"""The partner desk (webapp/views/desk.py): the list with its filters and seat counts,
deciding one application or many, roles on the event, direct registrations and applying
on behalf; every refusal changes nothing."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from tests.confirming import confirm, confirmation_form
from tests.conftest import IsolatedClient, count_queries, csrf_token, login
from tests.factories import Factory
from tests.live import committed_app
from webapp import access, unit
from webapp.extensions import db as _db
from webapp.models import (
    Answer,
    AuditEntry,
    EventQuota,
    EventRole,
    EventStatus,
    Question,
    QuestionKind,
    Registration,
    RoleGrant,
)
from webapp.models import RegistrationStatus as S
from webapp.services import registrations
from webapp.services.errors import BulkRefused, RegistrationRefused


@pytest.fixture
def desk(make):
    """Cluster A's manager, cluster B's manager, an organizer, and a mission organized by
    a third partner with applicants from A and B."""
    a, b, organizing = (make.partner(short_name="Alpha"), make.partner(short_name="Bravo"),
                        make.partner(short_name="Org"))
    mission = make.event(organizers=[organizing], capacity=10, title="Boston mission")
    mission.quotas.append(EventQuota(partner_id=a.id, seats=2))
    anna = make.user(make.organization(a, name="Anna Sensors", country="NL"), name="Anna Ahlers")
    bert = make.user(make.organization(b, name="Bert Mobility", country="ES"), name="Bert Brown")
    return dict(
        a=a, b=b, mission=mission,
        manager_a=make.manager(a, name="Maria Alpha"), manager_b=make.manager(b, name="Mark Bravo"),
        organizer=make.manager(organizing, name="Olga Organizer"),
        anna=make.registration(mission, anna), bert=make.registration(mission, bert),
    )


def _status(db, reg) -> S:
    return db.session.scalar(select(Registration.status).where(Registration.id == reg.id))


def _post(client, path, data, page="/desk/"):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def _decide(client, reg, decision, expected="submitted", reason=""):
    """The decision's button pressed; a rejection is then confirmed on its page."""
    response = _post(client, f"/desk/registrations/{reg.id}/decide",
                     {"decision": decision, "expected_status": expected, "reason": reason})
    if decision == "reject" and response.status_code == 200:
        response = confirm(client, response)
    return response


# --------------------------------------------------------------------------- the list


def test_manager_lists_only_their_clusters_applicants(login_as, desk):
    html = login_as(desk["manager_a"]).get("/desk/").get_data(as_text=True)
    assert "Anna Ahlers" in html and "Bert Brown" not in html


def test_filters_search_and_sorting_narrow_the_list(login_as, make, desk):
    client = login_as(desk["organizer"])
    both = client.get("/desk/").get_data(as_text=True)
    assert "Anna Ahlers" in both and "Bert Brown" in both
    by_country = client.get("/desk/?country=ES").get_data(as_text=True)
    assert "Bert Brown" in by_country and "Anna Ahlers" not in by_country
    by_company = client.get("/desk/?q=sensors").get_data(as_text=True)
    assert "Anna Ahlers" in by_company and "Bert Brown" not in by_company
    assert "Anna Ahlers" not in client.get("/desk/?status=approved").get_data(as_text=True)
    other = make.event(organizers=[desk["mission"].organizers[0]], title="Webinar X")
    make.registration(other, make.user(make.organization(desk["b"]), name="Carl Webinar"))
    only_mission = client.get(f"/desk/?event={desk['mission'].id}").get_data(as_text=True)
    assert "Carl Webinar" not in only_mission and "Bert Brown" in only_mission
    by_name = client.get("/desk/?sort=name").get_data(as_text=True)
    assert by_name.index("Anna Ahlers") < by_name.index("Bert Brown") < by_name.index("Carl")
    by_company = client.get("/desk/?sort=company").get_data(as_text=True)
    assert by_company.index("Anna Ahlers") < by_company.index("Bert Brown")


def test_the_summary_counts_approved_seats_against_capacity_and_own_quota(
        login_as, db, make, desk):
    make.registration(desk["mission"], make.user(make.organization(desk["a"])), S.SUBMITTED,
                      S.APPROVED)
    make.registration(desk["mission"], make.user(make.organization(desk["b"])), S.SUBMITTED,
                      S.APPROVED)
    html = login_as(desk["manager_a"]).get("/desk/").get_data(as_text=True)
    assert "2 / 10 approved" in html
    assert "Alpha: 1 / 2 of its quota" in html
    organizer_view = login_as(desk["organizer"]).get("/desk/").get_data(as_text=True)
    assert "2 / 10 approved" in organizer_view and "of its quota" not in organizer_view


def test_page_size_is_chosen_from_25_50_100(login_as, make, desk):
    for _ in range(30):
        make.registration(desk["mission"], make.user(make.organization(desk["a"])))
    client = login_as(desk["manager_a"])
    rows = re.compile(r'<tr data-registration="')
    assert len(rows.findall(client.get("/desk/").get_data(as_text=True))) == 25
    assert len(rows.findall(client.get("/desk/?per_page=50").get_data(as_text=True))) == 31
    assert len(rows.findall(client.get("/desk/?per_page=7").get_data(as_text=True))) == 25


def test_desk_query_count_depends_neither_on_rows_nor_on_page_size(rendering, login_as, make, desk):
    client = login_as(desk["organizer"])
    # Each measured page follows a visit, so none has new applications to mark and
    # record (tests/test_desk_news.py counts that page's queries).
    client.get("/desk/")
    with count_queries() as few:
        client.get("/desk/?per_page=25")
    organizing = desk["mission"].organizers[0]
    for _n in range(12):  # more events, clusters, organizations and rows
        cluster = make.partner()
        event = make.event(organizers=[organizing], capacity=5)
        event.quotas.append(EventQuota(partner_id=cluster.id, seats=1))
        for _ in range(8):
            make.registration(event, make.user(make.organization(cluster)))
    for size in (25, 100):
        client.get("/desk/")
        with count_queries() as many:
            response = client.get(f"/desk/?per_page={size}")
        assert response.status_code == 200
        assert len(many) == len(few), size
    # A manager's view also counts their quotas: same rule.
    manager = login_as(desk["manager_a"])
    manager.get("/desk/")
    with count_queries() as before:
        manager.get("/desk/")
    for _ in range(40):
        make.registration(make.event(organizers=[organizing]),
                          make.user(make.organization(desk["a"])))
    manager.get("/desk/")
    with count_queries() as after:
        manager.get("/desk/?per_page=100")
    assert len(after) == len(before)


# --------------------------------------------------------------------------- one application


def test_page_shows_profile_answers_consents_and_history(login_as, db, make, desk):
    question = Question(event=desk["mission"], kind=QuestionKind.SHORT_TEXT,
                        label="What do you seek in Boston?")
    db.session.add(question)
    db.session.flush()
    desk["anna"].answers.append(
        Answer(question_id=question.id, value="Utilities as pilot customers"))
    db.session.flush()
    html = login_as(desk["manager_a"]).get(
        f"/desk/registrations/{desk['anna'].id}").get_data(as_text=True)
    for text in ("Anna Sensors", "We build smart-city sensors.", "What do you seek in Boston?",
                 "Utilities as pilot customers", "Company profile shared with the hosts",
                 'data-status="submitted"', 'name="expected_status" value="submitted"'):
        assert text in html, text


def test_manager_approves_and_the_audit_log_says_who(login_as, db, desk):
    client = login_as(desk["manager_a"])
    response = _decide(client, desk["anna"], "approve")
    assert response.status_code == 302
    assert _status(db, desk["anna"]) == S.APPROVED
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.registration_id == desk["anna"].id).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.actor_id) == ("registration.approved", desk["manager_a"].id)
    page = client.get(f"/desk/registrations/{desk['anna'].id}").get_data(as_text=True)
    assert "Maria Alpha" in page


def test_manager_of_another_cluster_gets_404_on_the_page_and_the_decision(login_as, db, desk):
    client = login_as(desk["manager_b"])
    assert client.get(f"/desk/registrations/{desk['anna'].id}").status_code == 404
    assert _decide(client, desk["anna"], "approve").status_code == 404
    assert _status(db, desk["anna"]) == S.SUBMITTED


def test_rejection_without_reason_is_refused_beside_the_field(login_as, db, desk):
    response = _decide(login_as(desk["manager_a"]), desk["anna"], "reject", reason="   ")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="reason-error"' in html and "Say why the application is rejected" in html
    assert _status(db, desk["anna"]) == S.SUBMITTED


def test_rejection_with_reason_is_recorded(login_as, db, desk):
    _decide(login_as(desk["manager_a"]), desk["anna"], "reject", reason="Not an SME.")
    assert _status(db, desk["anna"]) == S.REJECTED
    assert db.session.scalar(select(AuditEntry.reason).where(
        AuditEntry.registration_id == desk["anna"].id, AuditEntry.to_status == "rejected")
    ) == "Not an SME."


def test_a_decision_on_a_status_that_changed_is_stale(login_as, db, desk):
    client = login_as(desk["manager_a"])
    # The page showed "waitlisted" (tampered or out of date): nothing is decided.
    response = _decide(client, desk["anna"], "approve", expected="waitlisted")
    assert response.status_code == 409
    assert "Already submitted by" in response.get_data(as_text=True)
    assert _status(db, desk["anna"]) == S.SUBMITTED


def _entries(db, reg, to_status: str) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(
        AuditEntry.registration_id == reg.id, AuditEntry.to_status == to_status)).all()


def test_a_decision_posted_twice_is_recorded_once(login_as, db, desk):
    client = login_as(desk["manager_a"])
    assert _decide(client, desk["anna"], "approve").status_code == 302
    # The same form sent again (a double click, a reload): the page says who decided.
    again = _decide(client, desk["anna"], "approve")
    assert again.status_code == 409
    assert re.search(r"Already approved by Maria Alpha at \d{4}-\d\d-\d\d \d\d:\d\d UTC",
                     again.get_data(as_text=True))
    assert _status(db, desk["anna"]) == S.APPROVED
    assert [e.actor_id for e in _entries(db, desk["anna"], "approved")] == [
        desk["manager_a"].id]


def test_a_decision_after_the_member_withdrew_is_refused_clearly(login_as, db, desk):
    client = login_as(desk["manager_a"])
    assert 'value="submitted"' in client.get(
        f"/desk/registrations/{desk['anna'].id}").get_data(as_text=True)
    registrations.withdraw(desk["anna"].id, actor=desk["anna"].user)
    db.session.commit()
    response = _decide(client, desk["anna"], "approve")
    assert response.status_code == 409
    assert "The applicant withdrew this application at" in response.get_data(as_text=True)
    assert _status(db, desk["anna"]) == S.WITHDRAWN
    assert _entries(db, desk["anna"], "approved") == []
    assert len(_entries(db, desk["anna"], "withdrawn")) == 1


def _meanwhile(statement) -> None:
    """A change another transaction committed after this unit read what it changes: the
    objects already loaded here are left as they were read."""
    _db.session.execute(statement.execution_options(synchronize_session=False))


def test_a_role_revoked_after_the_page_was_read_refuses_the_decision(db, desk):
    """The manager's roles were read before the decision took the lock (as a request
    reads them when it signs the user in); a revocation committed meanwhile counts."""
    manager, anna = desk["manager_a"], desk["anna"]
    with pytest.raises(RegistrationRefused, match="no longer decide"), \
            unit.of_work("decide"):
        assert access.can(manager, "registration.decide", anna)  # the roles as read
        _meanwhile(delete(RoleGrant).where(RoleGrant.user_id == manager.id))
        registrations.decide(anna.id, "approve", actor=manager, expected_status=S.SUBMITTED)
    assert _status(db, anna) == S.SUBMITTED
    assert _entries(db, anna, "approved") == []


def test_an_applicant_moved_to_another_cluster_meanwhile_is_not_decided(db, desk):
    manager, anna = desk["manager_a"], desk["anna"]
    # Their company moved to cluster B (a merge) after the page was read.
    moved = update(Registration).where(Registration.id == anna.id).values(
        responsible_partner_id=desk["b"].id)
    with pytest.raises(RegistrationRefused, match="no longer decide"), \
            unit.of_work("decide"):
        assert access.can(manager, "registration.decide", anna)
        _meanwhile(moved)
        registrations.decide(anna.id, "approve", actor=manager)
    # The bulk decision checks the same way, under the same lock.
    with pytest.raises(BulkRefused) as refusal, unit.of_work("bulk"):
        _db.session.refresh(anna)
        assert access.can(manager, "registration.decide", anna)
        _meanwhile(moved)
        registrations.decide_many([anna.id], "approve", actor=manager)
    assert refusal.value.problems == {anna.id: "Not one of the applications you can decide."}
    assert _status(db, anna) == S.SUBMITTED


def test_an_expected_status_that_is_no_status_is_refused(login_as, db, desk):
    response = _decide(login_as(desk["manager_a"]), desk["anna"], "approve", expected="nope")
    assert response.status_code == 400
    assert "This page is out of date" in response.get_data(as_text=True)
    assert _status(db, desk["anna"]) == S.SUBMITTED


def test_a_full_event_is_explained(login_as, db, make, desk):
    desk["mission"].capacity = 0
    db.session.flush()
    response = _decide(login_as(desk["manager_a"]), desk["anna"], "approve")
    assert response.status_code == 409
    assert "The event is full" in response.get_data(as_text=True)
    assert _status(db, desk["anna"]) == S.SUBMITTED


def test_a_decision_on_a_cancelled_event_is_refused(login_as, db, desk):
    desk["mission"].status = EventStatus.CANCELLED
    db.session.flush()
    response = _decide(login_as(desk["manager_a"]), desk["anna"], "approve")
    assert response.status_code == 409
    assert "cancelled" in response.get_data(as_text=True)
    assert _status(db, desk["anna"]) == S.SUBMITTED


def test_a_final_status_offers_no_decision(login_as, db, desk):
    _decide(login_as(desk["manager_a"]), desk["anna"], "reject", reason="No.")
    response = _decide(login_as(desk["manager_a"]), desk["anna"], "approve", expected="rejected")
    assert response.status_code == 409
    assert "cannot become approved" in response.get_data(as_text=True)


# --------------------------------------------------------------------------- bulk


def test_bulk_applies_every_decision(login_as, db, make, desk):
    more = make.registration(desk["mission"], make.user(make.organization(desk["a"])))
    response = _post(login_as(desk["manager_a"]), "/desk/bulk",
                     {"ids": [desk["anna"].id, more.id], "decision": "waitlist"})
    assert response.status_code == 302
    assert [_status(db, desk["anna"]), _status(db, more)] == [S.WAITLISTED] * 2


def test_bulk_is_all_or_nothing_and_says_which_and_why(login_as, db, make, desk):
    a = desk["a"]
    fits = make.registration(desk["mission"], make.user(make.organization(a), name="Fay Fits"))
    decided = make.registration(desk["mission"], make.user(make.organization(a), name="Dan Done"),
                                S.SUBMITTED, S.REJECTED)
    # Alpha's quota is 2: one approved already, so of two more only one fits.
    make.registration(desk["mission"], make.user(make.organization(a)), S.SUBMITTED, S.APPROVED)
    over = make.registration(desk["mission"], make.user(make.organization(a), name="Ole Over"))
    ids = [fits.id, decided.id, over.id, desk["bert"].id]
    response = _post(login_as(desk["manager_a"]), "/desk/bulk",
                     {"ids": ids, "decision": "approve"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    problems = html[html.index('id="bulk-problems"'):]
    problems = problems[:problems.index("</div>")]
    assert "Dan Done" in problems and "Already rejected." in problems
    assert "Ole Over" in problems and "for this event, 2 seats, is used up" in problems
    # The foreign id is named by number only: its applicant stays unknown to this manager.
    assert f"Application #{desk['bert'].id}" in problems and "Bert Brown" not in problems
    assert "Not one of the applications you can decide." in problems
    assert "Fay Fits" not in problems
    assert [_status(db, r) for r in (fits, decided, over, desk["bert"])] == [
        S.SUBMITTED, S.REJECTED, S.SUBMITTED, S.SUBMITTED]


def test_bulk_rejection_needs_a_reason(login_as, db, desk):
    response = _post(login_as(desk["manager_a"]), "/desk/bulk",
                     {"ids": [desk["anna"].id], "decision": "reject", "reason": ""})
    assert response.status_code == 400
    assert "Say why the application is rejected" in response.get_data(as_text=True)
    assert _status(db, desk["anna"]) == S.SUBMITTED


def test_bulk_with_tampered_ids_is_refused(login_as, db, desk):
    response = _post(login_as(desk["manager_a"]), "/desk/bulk",
                     {"ids": [desk["anna"].id, "1 OR 1=1"], "decision": "approve"})
    assert response.status_code == 400
    assert _status(db, desk["anna"]) == S.SUBMITTED


@pytest.mark.parametrize("how_many", [600, 10_000])
def test_a_bulk_request_too_large_is_refused_clearly(login_as, db, desk, how_many):
    ids = [desk["anna"].id, *range(10_000_000, 10_000_000 + how_many - 1)]
    response = _post(login_as(desk["manager_a"]), "/desk/bulk",
                     {"ids": ids, "decision": "approve"})
    assert response.status_code in (400, 413)
    assert "At most 500 applications can be decided at once" in response.get_data(as_text=True)
    assert _status(db, desk["anna"]) == S.SUBMITTED


# --------------------------------------------------------------------------- roles, direct


def test_organizer_sets_the_role_and_others_may_not(login_as, db, desk):
    response = _post(login_as(desk["organizer"]), f"/desk/registrations/{desk['anna'].id}/role",
                     {"role": "speaker"})
    assert response.status_code == 302
    assert db.session.scalar(select(Registration.role).where(
        Registration.id == desk["anna"].id)) == EventRole.SPEAKER
    refused = _post(login_as(desk["manager_a"]), f"/desk/registrations/{desk['anna'].id}/role",
                    {"role": "delegate"})
    assert refused.status_code == 403


def test_organizer_registers_staff_outside_capacity(login_as, db, make, desk):
    desk["mission"].capacity = 0
    staff = make.user(name="Sam Staff", email="sam@example.org")
    client = login_as(desk["organizer"])
    page = client.get(f"/desk/?event={desk['mission'].id}").get_data(as_text=True)
    assert "Register a host or staff member" in page
    response = _post(client, f"/desk/events/{desk['mission'].id}/direct",
                     {"email": "SAM@example.org", "role": "staff"})
    assert response.status_code == 302
    reg = db.session.scalar(select(Registration).where(Registration.user_id == staff.id))
    assert (reg.status, reg.role) == (S.APPROVED, EventRole.STAFF)
    assert db.session.scalar(select(AuditEntry.action).where(
        AuditEntry.registration_id == reg.id)) == "registration.registered_directly"


def test_direct_registration_needs_an_existing_account(login_as, db, desk):
    client = login_as(desk["organizer"])
    response = _post(client, f"/desk/events/{desk['mission'].id}/direct",
                     {"email": "nobody@example.org", "role": "host"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No active account uses nobody@example.org" in page


def test_only_organizers_register_directly(login_as, desk):
    response = _post(login_as(desk["manager_a"]), f"/desk/events/{desk['mission'].id}/direct",
                     {"email": "x@example.org", "role": "host"})
    assert response.status_code == 404


# --------------------------------------------------------------------------- on behalf


def test_manager_applies_on_behalf_of_a_member_audited_as_such(login_as, db, make, desk):
    member = make.user(make.organization(desk["a"], name="Quiet Co"), name="Quinn Quiet")
    client = login_as(desk["manager_a"])
    path = f"/desk/apply-on-behalf?member={member.id}&event={desk['mission'].id}"
    assert "Quinn Quiet" in client.get(path).get_data(as_text=True)
    response = _post(client, path, {"profile_consent": "y"}, page=path)
    assert response.status_code == 302
    reg = db.session.scalar(select(Registration).where(Registration.user_id == member.id))
    assert reg.status == S.SUBMITTED and reg.profile_consent_at is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.registration_id == reg.id))
    assert (entry.action, entry.actor_id) == ("registration.applied_on_behalf",
                                              desk["manager_a"].id)


def test_no_one_applies_on_behalf_of_another_clusters_member(login_as, db, make, desk):
    member = make.user(make.organization(desk["b"]))
    path = f"/desk/apply-on-behalf?member={member.id}&event={desk['mission'].id}"
    client = login_as(desk["manager_a"])
    assert client.get(path).status_code == 404
    assert _post(client, path, {"profile_consent": "y"}, page="/desk/").status_code == 404
    assert db.session.scalar(select(Registration).where(Registration.user_id == member.id)) is None


def test_applying_on_behalf_of_a_mission_needs_the_profile_consent(login_as, db, make, desk):
    member = make.user(make.organization(desk["a"]))
    path = f"/desk/apply-on-behalf?member={member.id}&event={desk['mission'].id}"
    client = login_as(desk["manager_a"])
    assert _post(client, path, {}, page=path).status_code == 400
    assert db.session.scalar(select(Registration).where(Registration.user_id == member.id)) is None


# --------------------------------------------------------------------------- the race


@pytest.mark.sqlite
def test_two_managers_deciding_at_once_one_wins_the_other_is_told(tmp_path):
    """Both opened the page while the application was submitted; they press at the same
    moment, each through their own client and connection on committed data."""
    with committed_app(f"sqlite:///{tmp_path}/race.db") as app:
        make = Factory()
        organizing, cluster = make.partner(), make.partner()
        event = make.event(organizers=[organizing], capacity=5, starts_in=timedelta(days=30))
        deciders = [make.manager(cluster, name="Ada First"), make.manager(organizing,
                                                                           name="Ben Second")]
        reg = make.registration(event, make.user(make.organization(cluster)))
        _db.session.commit()
        reg_id, page = reg.id, f"/desk/registrations/{reg.id}"
        names, ids = [d.name for d in deciders], [d.id for d in deciders]
        # Each request in its own context, as in production (`g` holds the CSRF token and
        # the signed-in user).
        app.test_client_class = IsolatedClient
        clients = []
        for decider in deciders:
            client = app.test_client()
            login(client, decider)
            assert 'value="submitted"' in client.get(page).get_data(as_text=True)
            clients.append((client, csrf_token(client, page)))
        # The second has pressed Reject and looks at its confirmation.
        rejecting, token = clients[1]
        asked = rejecting.post(f"{page}/decide", data={
            "csrf_token": token, "decision": "reject", "expected_status": "submitted",
            "reason": "Too late."})
        forms = [{"csrf_token": clients[0][1], "decision": "approve",
                  "expected_status": "submitted"},
                 dict(confirmation_form(asked.get_data(as_text=True))[1])]
        _db.session.remove()

        barrier = threading.Barrier(len(clients))
        responses: list = [None] * len(clients)

        def press(index: int) -> None:
            client = clients[index][0]
            barrier.wait(timeout=30)
            responses[index] = client.post(f"{page}/decide", data=forms[index])

        threads = [threading.Thread(target=press, args=(i,)) for i in range(len(clients))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        codes = sorted(r.status_code for r in responses)
        assert codes == [302, 409], codes
        winner = next(i for i, r in enumerate(responses) if r.status_code == 302)
        loser = responses[1 - winner]
        won_as = "approved" if winner == 0 else "rejected"
        assert re.search(rf"Already {won_as} by {names[winner]} at "
                         r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", loser.get_data(as_text=True))
        entries = _db.session.scalars(select(AuditEntry).where(
            AuditEntry.registration_id == reg_id, AuditEntry.from_status == "submitted")).all()
        assert [e.actor_id for e in entries] == [ids[winner]]
