"""The delegation list: who sees it, which rows, whose contact details, and how many
queries it takes."""

from __future__ import annotations

from html.parser import HTMLParser
from types import SimpleNamespace

import pytest

from tests.conftest import count_queries
from webapp.extensions import db as _db
from webapp.models import Answer, EventRole, EventStatus, Question, QuestionKind, utcnow
from webapp.models import RegistrationStatus as S


def build_delegation(make) -> SimpleNamespace:
    """An event organized by one partner and hosted by a beachhead, with approved
    delegates of clusters A and B (one of each consented to share contact details), one
    of a company without a cluster, and applicants who are not (or no longer) approved."""
    cluster_a = make.partner(name="Alpha Smart Cities")
    cluster_b = make.partner(name="Bravo Mobility")
    organizing = make.partner(name="Organizing Cluster")
    beachhead = make.beachhead(name="IPI Singapore")
    event = make.event(organizers=[organizing], hosts=[beachhead])
    dietary = Question(event=event, position=1, kind=QuestionKind.SHORT_TEXT,
                       label="Dietary needs or allergies")
    _db.session.add(dietary)
    people = SimpleNamespace(
        cluster_a=cluster_a, cluster_b=cluster_b, organizing=organizing, beachhead=beachhead,
        event=event, dietary=dietary,
        organizer=make.manager(organizing), manager_a=make.manager(cluster_a),
        manager_b=make.manager(cluster_b), manager_c=make.manager(make.partner()),
        host=make.host(beachhead), other_host=make.host(make.beachhead()),
        admin=make.admin(),
    )
    people.ana = _delegate(make, event, cluster_a, "Ana Alpha", "Alpha Sensors", consent=True,
                           dietary=(dietary, "Vegetarian"), phone="+32 9 123 45 67")
    people.arno = _delegate(make, event, cluster_a, "Arno Alpha", "Alpha Grid",
                            role=EventRole.SPEAKER)
    people.bo = _delegate(make, event, cluster_b, "Bo Bravo", "Bravo Bikes", consent=True)
    people.nina = _delegate(make, event, None, "Nina Nocluster", "Independent Labs")
    pending = make.user(make.organization(cluster_a, name="Pending Co"), name="Paul Pending")
    make.registration(event, pending, S.SUBMITTED)
    rejected = make.user(make.organization(cluster_b, name="Rejected Co"), name="Rita Rejected")
    make.registration(event, rejected, S.SUBMITTED, S.REJECTED, actor=people.manager_b)
    member = make.user(make.organization(cluster_a), name="Mia Member")
    people.member_reg = make.registration(event, member, S.SUBMITTED)
    people.member = member
    return people


def add_delegates(make, w: SimpleNamespace, per_cluster: int) -> None:
    """More approved delegates in every group, half of them consenting, all answering."""
    for n in range(per_cluster):
        for cluster in (w.cluster_a, w.cluster_b, None):
            _delegate(make, w.event, cluster, f"Extra {n} {cluster.id if cluster else 0}",
                      f"Extra Co {n}", consent=n % 2 == 0, dietary=(w.dietary, "Vegan"))


def _delegate(make, event, cluster, name, company, *, consent=False, dietary=None,
              role=EventRole.DELEGATE, phone="+45 20 12 34 56"):
    org = make.organization(cluster, name=company, sector="Mobility", country="DK")
    user = make.user(org, name=name, phone=phone)
    reg = make.registration(event, user, S.SUBMITTED, S.APPROVED)
    reg.role = role
    if consent:
        reg.contact_consent_at, reg.contact_consent_version = utcnow(), "1"
    if dietary:
        question, value = dietary
        reg.answers.append(Answer(question_id=question.id, value=value))
    _db.session.flush()
    return reg


class _Rows(HTMLParser):
    """The delegates of the page, as [cluster, cell, cell, ...]."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("data-testid") == "delegate":
            self._row = [attrs["data-cluster"]]
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_rows(html: str) -> list[list[str]]:
    parser = _Rows()
    parser.feed(html)
    return parser.rows


def delegation_path(event, suffix: str = "") -> str:
    return f"/events/{event.id}/delegation{suffix}"


def _page(login_as, user, event) -> list[list[str]]:
    response = login_as(user).get(delegation_path(event))
    assert response.status_code == 200
    return page_rows(response.get_data(as_text=True))


def _contacts(rows) -> dict[str, tuple[str, str]]:
    """name -> (email, phone) for the rows that show any contact detail."""
    return {row[1]: (row[7], row[8]) for row in rows if row[7] or row[8]}


# --------------------------------------------------------------------------- rows


def test_lists_the_approved_delegation_grouped_by_cluster_no_cluster_last(make, login_as):
    w = build_delegation(make)
    rows = _page(login_as, w.organizer, w.event)
    assert [(row[0], row[1]) for row in rows] == [
        ("Alpha Smart Cities", "Ana Alpha"), ("Alpha Smart Cities", "Arno Alpha"),
        ("Bravo Mobility", "Bo Bravo"), ("No cluster", "Nina Nocluster"),
    ]
    ana = rows[0]
    assert ana[2:7] == ["Alpha Sensors", "Denmark", "Mobility", "Delegate", "Vegetarian"]
    assert rows[1][5] == "Speaker"


def test_pending_rejected_and_withdrawn_applicants_are_never_listed(make, login_as):
    w = build_delegation(make)
    html = login_as(w.admin).get(delegation_path(w.event)).get_data(as_text=True)
    for name in ("Paul Pending", "Rita Rejected", "Mia Member"):
        assert name not in html


def test_dietary_column_stays_empty_without_a_dietary_question(make, login_as):
    w = build_delegation(make)
    w.dietary.label = "Your objectives"
    _db.session.flush()
    rows = _page(login_as, w.organizer, w.event)
    assert {row[6] for row in rows} == {""}


# --------------------------------------------------------------------------- contact details


def test_organizers_and_admins_see_every_contact(make, login_as):
    w = build_delegation(make)
    for user in (w.organizer, w.admin):
        assert set(_contacts(_page(login_as, user, w.event))) == {
            "Ana Alpha", "Arno Alpha", "Bo Bravo", "Nina Nocluster"}


def test_partner_manager_sees_whole_delegation_but_only_own_clusters_contacts(make, login_as):
    w = build_delegation(make)
    rows = _page(login_as, w.manager_a, w.event)
    assert len(rows) == 4
    assert _contacts(rows) == {
        "Ana Alpha": (w.ana.user.email, "+32 9 123 45 67"),
        "Arno Alpha": (w.arno.user.email, "+45 20 12 34 56"),
    }


def test_manager_of_an_uninvolved_cluster_sees_no_contact(make, login_as):
    w = build_delegation(make)
    rows = _page(login_as, w.manager_c, w.event)
    assert len(rows) == 4 and _contacts(rows) == {}


def test_host_sees_contacts_only_of_delegates_who_consented(make, login_as):
    w = build_delegation(make)
    rows = _page(login_as, w.host, w.event)
    assert len(rows) == 4
    assert set(_contacts(rows)) == {"Ana Alpha", "Bo Bravo"}


def test_no_contact_detail_leaks_anywhere_on_the_page(make, login_as):
    w = build_delegation(make)
    html = login_as(w.host).get(delegation_path(w.event)).get_data(as_text=True)
    assert w.arno.user.email not in html and w.nina.user.email not in html


# --------------------------------------------------------------------------- who may open it


def test_members_and_other_hosts_are_refused(make, login_as):
    w = build_delegation(make)
    assert login_as(w.member).get(delegation_path(w.event)).status_code == 403
    assert login_as(w.other_host).get(delegation_path(w.event)).status_code == 403


def test_delegation_of_a_draft_is_unknown_to_all_but_its_organizers(make, login_as):
    w = build_delegation(make)
    w.event.status = EventStatus.DRAFT
    _db.session.flush()
    assert login_as(w.manager_a).get(delegation_path(w.event)).status_code == 404
    assert login_as(w.host).get(delegation_path(w.event)).status_code == 404
    assert login_as(w.organizer).get(delegation_path(w.event)).status_code == 200


# --------------------------------------------------------------------------- query count



@pytest.mark.parametrize("role", ["organizer", "manager_a", "host"])
@pytest.mark.parametrize("suffix", ["", ".csv", ".xlsx"])
def test_query_count_does_not_depend_on_the_size_of_the_delegation(rendering, make, login_as, role,
                                                                    suffix):
    w = build_delegation(make)
    client = login_as(getattr(w, role))
    with count_queries() as few:
        assert client.get(delegation_path(w.event, suffix)).status_code == 200
    add_delegates(make, w, 15)
    with count_queries() as many:
        assert client.get(delegation_path(w.event, suffix)).status_code == 200
    assert len(many) == len(few), "\n".join(many)


def test_the_larger_delegation_is_listed_in_full(make, login_as):
    w = build_delegation(make)
    add_delegates(make, w, 15)
    assert len(_page(login_as, w.host, w.event)) == 4 + 45
