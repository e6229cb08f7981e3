"""The API's lists page by cursor (webapp/views/api/keyset.py): every row once and in
order while rows arrive, the same statements at any size, the desk's scope, the policy's
answers per row, cursors refused when they are not the list's, counts only when asked."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.api import token_for
from tests.conftest import count_queries
from webapp import access
from webapp.models import EventKind, Registration, utcnow
from webapp.models import RegistrationStatus as S

PROBLEM = "application/problem+json"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _walk(call, token, first: str, *, between=None) -> list[dict]:
    """Every item of a list, following `next`; `between(n)` runs after page n."""
    items, url, n = [], first, 0
    while url:
        response = call("GET", url, token)
        assert response.status_code == 200, response.data[:300]
        body = response.json
        items += body["items"]
        url = _path(body["next"]) if body["next"] else None
        assert (body["next_cursor"] is None) == (url is None)
        n += 1
        if between is not None and url:
            between(n)
    return items


@pytest.fixture
def desk(make, db):
    """Two clusters with applicants on two events, their managers, a host."""
    cluster_a, cluster_b, organizing = make.partner(), make.partner(), make.partner()
    beachhead = make.beachhead()
    events = [make.event(organizers=[organizing], hosts=[beachhead]) for _ in range(2)]
    for n in range(14):
        cluster = (cluster_a, cluster_b)[n % 2]
        path = (S.SUBMITTED, S.APPROVED) if n % 3 else (S.SUBMITTED,)
        reg = make.registration(events[n % 2], make.user(make.organization(cluster)), *path)
        if n % 4 == 0:
            reg.contact_consent_at = utcnow()
    people = dict(manager_a=make.manager(cluster_a), manager_b=make.manager(cluster_b),
                  organizer=make.manager(organizing), host=make.host(beachhead),
                  admin=make.admin())
    db.session.commit()
    return dict(cluster_a=cluster_a, cluster_b=cluster_b, events=events, people=people,
                tokens={role: token_for(user) for role, user in people.items()})


# --------------------------------------------------------------------------- walking


def test_walking_the_registrations_gives_each_once_newest_first_while_more_arrive(
        call, make, db, desk):
    token = desk["tokens"]["organizer"]
    before = set(db.session.scalars(select(Registration.id)))
    arrived = []

    def apply_more(_page: int) -> None:
        reg = make.registration(desk["events"][0], make.user(make.organization(
            desk["cluster_a"])))
        db.session.commit()
        arrived.append(reg.id)

    items = _walk(call, token, "/api/v1/registrations?per_page=3", between=apply_more)
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids))  # nothing twice
    assert before <= set(ids)  # nothing that was there is missed
    assert not set(ids) & set(arrived)  # newer than the walk's start: on a next walk
    assert ids == sorted(ids, reverse=True)


def test_walking_the_events_gives_each_once_in_order_while_more_are_published(call, make, db):
    for n in range(7):
        make.event(kind=EventKind.WEBINAR, starts_in=timedelta(days=3 + n % 3))
    token = token_for(make.user())
    listed_before = {e["id"] for e in _walk(call, token, "/api/v1/events?per_page=50")}

    def publish_more(page: int) -> None:
        make.event(kind=EventKind.WEBINAR, starts_in=timedelta(days=30 + page))
        db.session.commit()

    items = _walk(call, token, "/api/v1/events?per_page=2&kind=webinar", between=publish_more)
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)) and listed_before <= set(ids)
    keys = [(item["starts_at"], item["id"]) for item in items]
    assert keys == sorted(keys)  # soonest first, ties by id
    past = _walk(call, token, "/api/v1/events?per_page=1&when=past")
    assert past == []


def test_walking_my_registrations_gives_each_once_latest_event_first(call, make, db):
    member = make.user()
    for n in range(5):
        # Two events at the same time: the id breaks the tie.
        make.registration(make.event(starts_in=timedelta(days=10 + n // 2)), member)
    db.session.commit()
    items = _walk(call, token_for(member), "/api/v1/me/registrations?per_page=2")
    assert len(items) == 5 and len({i["id"] for i in items}) == 5
    keys = [(i["event"]["starts_at"], -i["id"]) for i in items]
    assert keys == sorted(keys, reverse=True)


def test_the_first_pages_of_older_clients_still_work_and_go_on_by_cursor(call, desk):
    token = desk["tokens"]["admin"]
    everything = _walk(call, token, "/api/v1/registrations?per_page=100")
    second = call("GET", "/api/v1/registrations?per_page=4&page=2", token).json
    assert [i["id"] for i in second["items"]] == [i["id"] for i in everything[4:8]]
    assert {"page", "per_page", "cursor"} & set(parse_qs(urlsplit(second["next"]).query)) \
        == {"per_page", "cursor"}
    third = call("GET", _path(second["next"]), token).json
    assert [i["id"] for i in third["items"]] == [i["id"] for i in everything[8:12]]


# --------------------------------------------------------------------------- scope


def test_a_manager_walks_only_their_clusters_applicants_and_the_answers_are_the_policys(
        call, db, desk):
    for role, user in desk["people"].items():
        items = _walk(call, desk["tokens"][role], "/api/v1/registrations?per_page=4")
        visible = set(db.session.scalars(access.desk_registrations(user)
                                         .with_only_columns(Registration.id)))
        assert {i["id"] for i in items} == visible and visible, role
        for item in items:
            reg = db.session.get(Registration, item["id"])
            assert item["can_decide"] == access.can(user, "registration.decide", reg), role
            contact = reg.status == S.APPROVED and access.can(user, "registration.contact",
                                                              reg)
            assert (item["applicant"]["email"] is not None) == contact, (role, reg.id)
    mine = _walk(call, desk["tokens"]["manager_a"], "/api/v1/registrations?per_page=2")
    assert {i["responsible_partner"]["id"] for i in mine} == {desk["cluster_a"].id}


# --------------------------------------------------------------------------- statements


def _statements(call, token, path: str) -> int:
    call("GET", path, token)  # the token's use noted (once a minute)
    with count_queries() as statements:
        response = call("GET", path, token)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("path", ["/api/v1/registrations", "/api/v1/events",
                                  "/api/v1/me/registrations"])
def test_statements_per_page_do_not_grow_with_the_data(call, make, db, path):
    cluster = make.partner()
    manager = make.manager(cluster)
    token = token_for(manager)
    sizes = []
    for rows in (6, 40):
        while len(db.session.scalars(select(Registration.id)).all()) < rows:
            event = make.event(organizers=[make.partner()], hosts=[make.beachhead()])
            make.registration(event, make.user(make.organization(cluster)))
            make.registration(event, manager)
        db.session.commit()
        first = _statements(call, token, f"{path}?per_page=2")
        following = call("GET", f"{path}?per_page=2", token).json["next"]
        assert following, "a second page"
        sizes.append((first, _statements(call, token, _path(following))))
    assert sizes[0] == sizes[1]
    assert sizes[0][0] == sizes[0][1]  # the first page and a following cost the same


# --------------------------------------------------------------------------- counting


def test_the_whole_list_is_counted_only_when_asked(call, desk, db):
    token = desk["tokens"]["manager_a"]
    plain = call("GET", "/api/v1/registrations?per_page=2", token).json
    assert plain["total"] is None
    counted = call("GET", "/api/v1/registrations?per_page=2&count=true", token).json
    assert counted["total"] == 7 and "count=true" in counted["next"]
    assert counted["items"] == plain["items"]
    uncounted = _statements(call, token, "/api/v1/registrations?per_page=2")
    assert _statements(call, token, "/api/v1/registrations?per_page=2&count=true") \
        == uncounted + 1
    later = call("GET", _path(counted["next"]), token).json
    assert later["total"] == 7


# --------------------------------------------------------------------------- bad cursors


def _refused(response) -> str:
    assert response.status_code == 400, response.data[:300]
    assert response.mimetype == PROBLEM
    body = response.json
    assert [e["pointer"] for e in body["errors"]] in (["query/cursor"], ["query/page"])
    return body["detail"]


def test_a_cursor_not_given_by_this_list_is_refused_clearly(call, desk):
    token = desk["tokens"]["admin"]
    page = call("GET", "/api/v1/registrations?per_page=2&status=approved", token).json
    cursor = page["next_cursor"]
    events_cursor = call("GET", "/api/v1/events?per_page=1", token)
    assert events_cursor.status_code == 200
    other = call("GET", "/api/v1/me/registrations?per_page=1", token).json["next_cursor"]
    forged = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    cases = {
        "garbage": "not-a-cursor",
        "forged": forged,
        "cut short": cursor[: len(cursor) // 2],
    }
    for name, bad in cases.items():
        detail = _refused(call("GET", f"/api/v1/registrations?per_page=2&status=approved"
                                      f"&cursor={bad}", token))
        assert "cursor" in detail, name
    # Other filters than the page that gave it.
    detail = _refused(call("GET", f"/api/v1/registrations?per_page=2&status=submitted"
                                  f"&cursor={cursor}", token))
    assert "other filters" in detail
    # Another list's cursor.
    if other:
        _refused(call("GET", f"/api/v1/registrations?cursor={other}", token))
    _refused(call("GET", f"/api/v1/events?cursor={cursor}", token))
    # A cursor and a page at once.
    assert "not both" in _refused(call(
        "GET", f"/api/v1/registrations?per_page=2&status=approved&page=2&cursor={cursor}",
        token))
    # Still the list's own cursor: it goes on.
    assert call("GET", f"/api/v1/registrations?per_page=2&status=approved&cursor={cursor}",
                token).status_code == 200


def test_a_cursor_of_another_shape_is_a_query_problem(call, desk):
    token = desk["tokens"]["admin"]
    for bad in ("", "x" * 501, "a b", "%C3%BA"):
        response = call("GET", f"/api/v1/registrations?cursor={bad}", token)
        assert response.status_code == 400 and response.mimetype == PROBLEM, bad
