"""Every list a user pages through reads a page, not the whole table: the same number of
SQL statements with 3 rows behind it as with 25 (and the page sizes cut the rows shown),
pages in a stable order, and a page past the end that says so instead of failing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from tests.conftest import count_queries, login
from webapp.extensions import db as _db
from webapp.models import (
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    AgreementType,
    ReminderDelivery,
    ReminderSkip,
    ReminderStatus,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.views import account as account_views

SMALL, LARGE = 3, 25


@dataclass
class World:
    """A cluster with its manager, a beachhead with its host, an admin, a member; one big
    mission organized by the cluster and hosted by the beachhead. `grow(n)` adds n of every
    kind of row that a list shows."""

    make: object
    cluster: object = None
    beachhead: object = None
    manager: object = None
    host: object = None
    admin: object = None
    member: object = None
    mission: object = None
    grown: int = 0
    events: list = field(default_factory=list)

    def grow(self, n: int) -> None:
        make = self.make
        for _ in range(n):
            self.grown += 1
            i = self.grown
            organization = make.organization(self.cluster, name=f"Grown Company {i:03d}")
            applicant = make.user(organization, name=f"Grown Person {i:03d}")
            event = make.event(organizers=[self.cluster], hosts=[self.beachhead],
                               title=f"Grown Mission {i:03d}",
                               starts_in=timedelta(days=30 + i))
            self.events.append(event)
            make.registration(self.mission, applicant, S.SUBMITTED, S.APPROVED)
            make.registration(event, applicant)
            reg = make.registration(event, self.member)
            make.partner(name=f"Grown Cluster {i:03d}")
            _db.session.add(ReminderDelivery(
                registration=reg, offset_minutes=60, due_at=utcnow(),
                status=ReminderStatus.SKIPPED, skip_reason=ReminderSkip.STARTED))
            agreement = Agreement(
                kind=AgreementKind.COLLABORATION, type=AgreementType.MEMORANDUM,
                status=AgreementStatus.SIGNED, title=f"Grown Agreement {i:03d}",
                signed_on=utcnow().date(), responsible_partner=self.cluster,
                origin_event=event)
            agreement.parties = [AgreementParty(position=0, organization=organization),
                                 AgreementParty(position=1, partner=self.beachhead)]
            _db.session.add(agreement)
        _db.session.flush()


@pytest.fixture
def world(make):
    cluster = make.partner(name="Smart Cities Cluster")
    beachhead = make.beachhead(name="Singapore Beachhead")
    w = World(make, cluster=cluster, beachhead=beachhead,
              manager=make.manager(cluster, name="Mia Manager"),
              host=make.host(beachhead, name="Hal Host"),
              admin=make.admin(name="Ada Admin"),
              member=make.user(make.organization(cluster), name="Mo Member"))
    w.mission = make.event(organizers=[cluster], hosts=[beachhead], title="Big Mission")
    w.grow(SMALL)
    return w


def _pages(w: World) -> list[tuple[str, object, str]]:
    """(label, who, path): every list page, as the user who reads it."""
    return [
        ("my registrations", w.member, "/account/registrations"),
        ("desk, manager", w.manager, "/desk/"),
        ("desk, manager, event typed", w.manager, "/desk/?event_q=grown+mission"),
        ("desk, host", w.host, "/desk/"),
        ("desk, admin", w.admin, "/desk/?per_page=100"),
        ("delegation, manager", w.manager, f"/events/{w.mission.id}/delegation"),
        ("delegation, host", w.host, f"/events/{w.mission.id}/delegation"),
        ("admin events", w.admin, "/admin/events"),
        ("admin users", w.admin, "/admin/users"),
        ("admin partners", w.admin, "/admin/partners"),
        ("admin audit", w.admin, "/admin/audit"),
        ("admin audit, event typed", w.admin, "/admin/audit?event_id_q=grown"),
        ("admin reminders", w.admin, "/admin/reminders"),
        ("organizations, manager", w.manager, "/organizations"),
        ("organizations, admin", w.admin, "/organizations"),
        ("agreements, manager", w.manager, "/agreements/"),
        ("apply on behalf", w.manager, "/desk/apply-on-behalf?member_q=grown&event_q=grown"),
    ]


def _statements(client, user, path: str) -> int:
    login(client, user)
    assert client.get(path).status_code == 200, path  # warm: a first visit may record it
    with count_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(statements)


def test_every_list_page_runs_as_many_queries_with_more_rows(app, client, world):
    small = {label: _statements(client, who, path) for label, who, path in _pages(world)}
    world.grow(LARGE - SMALL)
    large = {label: _statements(client, who, path) for label, who, path in _pages(world)}
    assert large == small


def test_my_registrations_are_paged_in_a_stable_order(client, world, monkeypatch):
    monkeypatch.setattr(account_views, "REGISTRATIONS_PER_PAGE", 2)
    login(client, world.member)
    seen = []
    for page in (1, 2):
        html = client.get(f"/account/registrations?page={page}").get_data(as_text=True)
        seen += sorted((e.title for e in world.events if e.title in html), key=html.index)
        assert ('rel="next"' in html) is (page == 1)
    assert len(seen) == SMALL and len(set(seen)) == SMALL
    # Latest event first: the ones added last start last.
    assert seen == [e.title for e in sorted(world.events, key=lambda e: e.starts_at,
                                            reverse=True)]
    past = client.get("/account/registrations?page=9999")
    assert past.status_code == 200
    assert "There is nothing more on this page." in past.get_data(as_text=True)


def test_the_desk_shows_one_page_and_says_whether_more_follow(client, world):
    world.grow(LARGE - SMALL)
    login(client, world.admin)
    first = client.get("/desk/?per_page=25&sort=name").get_data(as_text=True)
    assert first.count('<tr data-registration="') == 25
    assert 'rel="next"' in first and "Page 1<" in first
    second = client.get("/desk/?per_page=25&sort=name&page=2").get_data(as_text=True)
    rows = second.count('<tr data-registration="')
    assert 0 < rows <= 25 and 'rel="prev"' in second
    beyond = client.get("/desk/?page=10000")
    assert beyond.status_code == 200
    assert "There is nothing more on this page." in beyond.get_data(as_text=True)


def test_the_delegation_is_paged_with_its_whole_size_and_each_clusters(client, world,
                                                                         monkeypatch):
    from webapp.views import delegation as delegation_views
    monkeypatch.setattr(delegation_views, "PER_PAGE", 2)
    login(client, world.manager)
    html = client.get(f"/events/{world.mission.id}/delegation").get_data(as_text=True)
    assert html.count('data-testid="delegate"') == 2
    assert f"{SMALL} delegates" in html and 'rel="next"' in html
    assert f"Page 1 of {-(-SMALL // 2)}" in html
    last = client.get(f"/events/{world.mission.id}/delegation?page=2").get_data(as_text=True)
    assert last.count('data-testid="delegate"') == SMALL - 2
