"""The managers' inbox: join requests and new organizations of their own clusters."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token
from webapp.extensions import db as _db
from webapp.models import MembershipRequest, MembershipStatus, utcnow
from webapp.services import organizations


@pytest.fixture
def clusters(make):
    return make.partner(short_name="DSC"), make.partner(short_name="FSH")


@pytest.fixture
def scene(app, make, clusters):
    """In each cluster: a reviewed company with a pending join request, and a new company."""
    dsc, fsh = clusters
    items = {}
    for cluster, tag in ((dsc, "dsc"), (fsh, "fsh")):
        reviewed = make.organization(cluster, name=f"Settled {tag} ApS", reviewed_at=utcnow())
        new = make.organization(cluster, name=f"Brand new {tag} BV")
        asker = make.user(None, name=f"Asker {tag}")
        with app.test_request_context():
            items[f"request_{tag}"] = organizations.request_membership(asker, reviewed)
        items[f"reviewed_{tag}"], items[f"new_{tag}"] = reviewed, new
    _db.session.flush()
    return items


def shown(page: str) -> set[str]:
    return set(re.findall(r"(?:Settled|Brand new|Asker) (?:dsc|fsh)(?: ApS| BV)?", page))


def test_a_manager_sees_only_their_clusters_requests_and_new_organizations(
    client, login_as, make, clusters, scene
):
    page = login_as(make.manager(clusters[0])).get("/desk/inbox").get_data(as_text=True)
    assert shown(page) == {"Asker dsc", "Settled dsc ApS", "Brand new dsc BV"}


def test_an_admin_sees_every_clusters_items(client, login_as, make, scene):
    page = login_as(make.admin()).get("/desk/inbox").get_data(as_text=True)
    assert shown(page) == {"Asker dsc", "Settled dsc ApS", "Brand new dsc BV",
                           "Asker fsh", "Settled fsh ApS", "Brand new fsh BV"}


def test_a_manager_of_two_clusters_sees_both(client, login_as, make, clusters, scene):
    from webapp.models import Role

    both = make.user(roles=[(Role.PARTNER_MANAGER, c) for c in clusters])
    page = login_as(both).get("/desk/inbox").get_data(as_text=True)
    assert len(shown(page)) == 6


def test_the_navigation_counts_what_waits(client, login_as, make, clusters, scene):
    page = login_as(make.manager(clusters[0])).get("/").get_data(as_text=True)
    nav = re.search(r'data-testid="nav-inbox">(.*?)</a>', page, re.S).group(1)
    # One join request and one new organization in the manager's cluster.
    assert re.search(r">2<span", nav)


def test_members_and_hosts_have_no_inbox_link(client, login_as, make, scene):
    member = make.user(scene["reviewed_dsc"])
    page = login_as(member).get("/").get_data(as_text=True)
    assert 'data-testid="nav-inbox"' not in page
    assert client.get("/desk/inbox").status_code == 403


def test_marking_reviewed_from_the_inbox_clears_it_and_returns_there(
    client, login_as, make, clusters, scene
):
    login_as(make.manager(clusters[0]))
    organization = scene["new_dsc"]
    response = client.post(f"/organizations/{organization.id}/reviewed", data={
        "back": "inbox", "csrf_token": csrf_token(client, "/desk/inbox")})
    assert response.headers["Location"] == "/desk/inbox"
    page = client.get("/desk/inbox").get_data(as_text=True)
    assert "Brand new dsc BV is marked as reviewed" in page
    assert f'data-organization="{organization.id}"' not in page


def test_deciding_from_the_inbox_returns_to_the_inbox(
    client, login_as, make, clusters, scene, db
):
    login_as(make.manager(clusters[0]))
    request = scene["request_dsc"]
    response = client.post(f"/organizations/requests/{request.id}", data={
        "decision": "accept", "back": "inbox", "csrf_token": csrf_token(client, "/desk/inbox")})
    assert response.headers["Location"] == "/desk/inbox"
    db.session.refresh(request)
    assert request.status == MembershipStatus.ACCEPTED
    page = client.get("/desk/inbox").get_data(as_text=True)
    assert "Asker dsc" in page  # the flash names them ...
    assert f'data-request="{request.id}"' not in page  # ... the list no longer does


def test_a_manager_cannot_decide_another_clusters_request(
    client, login_as, make, clusters, scene, db
):
    login_as(make.manager(clusters[0]))
    request = scene["request_fsh"]
    response = client.post(f"/organizations/requests/{request.id}", data={
        "decision": "accept", "csrf_token": csrf_token(client, "/desk/inbox")})
    assert response.status_code == 404
    assert db.session.scalar(select(MembershipRequest.status).where(
        MembershipRequest.id == request.id)) == MembershipStatus.PENDING


def test_the_inbox_offers_edit_and_merge_for_each_new_organization(
    client, login_as, make, clusters, scene
):
    page = login_as(make.manager(clusters[0])).get("/desk/inbox").get_data(as_text=True)
    new = scene["new_dsc"]
    assert f'href="/organizations/{new.id}/edit"' in page
    assert f'href="/organizations/{new.id}/merge"' in page
    assert f'action="/organizations/{new.id}/reviewed"' in page
