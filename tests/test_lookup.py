"""Look-up fields: the typeahead's endpoints answer at most 20 matches, only among what the
signed-in user may choose there, and a query too short, too long or with control
characters answers a clear empty result; without JavaScript the same fields take typed
text (the desk's event filter, the audit log's, applying on behalf)."""

from __future__ import annotations

import pytest

from tests.conftest import login
from webapp.models import EventStatus
from webapp.models import RegistrationStatus as S


@pytest.fixture
def scope(make):
    a, b = make.partner(name="Cluster Alpha"), make.partner(name="Cluster Beta")
    beachhead = make.beachhead()
    own = make.event(organizers=[a], hosts=[beachhead], title="Ørestad Smart Harbour Mission")
    foreign = make.event(organizers=[b], title="Øresund Foreign Mission")
    draft_b = make.event(organizers=[b], title="Øresund Draft Mission",
                         status=EventStatus.DRAFT)
    acme = make.organization(a, name="Acmé Sensors")
    other = make.organization(b, name="Acme Beta Works")
    anna = make.user(acme, name="Anna Ærø", email_verified_at=own.starts_at)
    bert = make.user(other, name="Anna Beta", email_verified_at=own.starts_at)
    make.registration(own, anna)
    make.registration(foreign, bert)
    return dict(a=a, b=b, own=own, foreign=foreign, draft=draft_b, acme=acme, other=other,
                anna=anna, bert=bert, manager=make.manager(a), host=make.host(beachhead),
                admin=make.admin(), member=make.user(acme))


def _labels(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.headers["Cache-Control"].startswith("private")
    return [r["label"] for r in response.get_json()["results"]]


def test_events_match_accent_folded_within_the_users_scope(client, scope):
    login(client, scope["manager"])
    # "orestad" finds "Ørestad"; the other cluster's event is not in the manager's desk.
    assert _labels(client, "/lookup/desk-events?q=orestad") == [scope["own"].title]
    assert _labels(client, "/lookup/desk-events?q=oresund") == []
    # Among visible events: the foreign published one, never the foreign draft.
    assert _labels(client, "/lookup/events?q=oresund") == [scope["foreign"].title]
    login(client, scope["admin"])
    assert set(_labels(client, "/lookup/events?q=oresund")) == {
        scope["foreign"].title, scope["draft"].title}
    login(client, scope["host"])
    assert _labels(client, "/lookup/desk-events?q=mission") == []  # nothing approved yet


def test_members_and_organizations_are_those_of_the_managers_clusters(client, scope):
    login(client, scope["manager"])
    members = client.get("/lookup/members?q=anna").get_json()["results"]
    assert [m["label"] for m in members] == ["Anna Ærø (Acmé Sensors)"]
    assert members[0]["id"] == scope["anna"].id
    # By their organization's name too, accents folded.
    by_company = _labels(client, "/lookup/members?q=acme")
    assert "Anna Ærø (Acmé Sensors)" in by_company
    assert not any("Beta" in label for label in by_company)
    assert _labels(client, "/lookup/organizations?q=acme") == ["Acmé Sensors"]
    assert client.get("/lookup/users?q=anna").status_code == 403
    login(client, scope["admin"])
    assert set(_labels(client, "/lookup/organizations?q=acme")) == {"Acmé Sensors",
                                                                     "Acme Beta Works"}
    assert set(_labels(client, "/lookup/users?q=anna")) == {"Anna Ærø", "Anna Beta"}


def test_members_and_visitors_are_refused(client, scope):
    assert client.get("/lookup/events?q=mission").status_code == 302  # to sign in
    login(client, scope["member"])
    for path in ("/lookup/desk-events?q=mission", "/lookup/members?q=anna",
                 "/lookup/organizations?q=acme", "/lookup/users?q=anna"):
        assert client.get(path).status_code == 403, path


def test_at_most_twenty_matches(client, make, scope):
    for n in range(25):
        make.event(organizers=[scope["a"]], title=f"Harbour Visit {n:02d}")
    login(client, scope["manager"])
    assert len(_labels(client, "/lookup/desk-events?q=harbour")) == 20


@pytest.mark.parametrize("query, message", [
    ("a", "Type at least 2 characters."),
    ("é", "Type at least 2 characters."),
    ("", "Type at least 2 characters."),
    ("x" * 10_000, "That is too long to search: type at most 200 characters."),
    ("\u200b\u200b", "Type at least 2 characters."),
    ("  a  ", "Type at least 2 characters."),
])
def test_bad_queries_answer_a_clear_empty_result(client, scope, query, message):
    login(client, scope["admin"])
    for endpoint in ("events", "members", "organizations", "users"):
        if endpoint == "members":
            login(client, scope["manager"])
        response = client.get(f"/lookup/{endpoint}", query_string={"q": query})
        assert response.status_code == 200
        assert response.get_json() == {"results": [], "message": message}
        login(client, scope["admin"])


@pytest.mark.parametrize("query", ["mi\x00ssion", "mission\n", "\x1b[2J", "mi\x85"])
def test_control_characters_answer_a_clear_refusal_without_matches(client, scope, query):
    """Every query string with a control character is refused before any view runs
    (webapp/text.py); the typeahead asks for JSON and gets the reason as JSON."""
    login(client, scope["admin"])
    response = client.get("/lookup/events", query_string={"q": query},
                          headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["detail"].startswith("The address's query contains")
    assert "results" not in response.get_json()


def test_the_lookups_own_check_refuses_control_characters():
    from webapp.services import lookup
    assert lookup.unusable("mi\x00ssion") == lookup.UNREADABLE
    assert lookup.unusable("mi\x7fssion") == lookup.UNREADABLE
    assert lookup.matches(None, None, "a") == []


def test_wildcards_are_characters(client, scope):
    login(client, scope["admin"])
    assert client.get("/lookup/users?q=%25%25").get_json()["results"] == []
    assert client.get("/lookup/events?q=__").get_json()["results"] == []


# --------------------------------------------------------------------------- without JavaScript


def test_the_desk_filters_by_a_typed_event_title(client, make, scope):
    make.registration(scope["own"], make.user(scope["acme"], name="Carla Own"))
    other = make.event(organizers=[scope["a"]], title="Lisbon Webinar")
    make.registration(other, make.user(scope["acme"], name="Dora Lisbon"))
    login(client, scope["manager"])
    html = client.get("/desk/?event_q=orestad+harbour").get_data(as_text=True)
    assert "Carla Own" in html and "Dora Lisbon" not in html
    # The only match is chosen: the field now carries its id, and its title.
    assert f'value="{scope["own"].id}"' in html and f'value="{scope["own"].title}"' in html
    # An id chosen by the typeahead (or a link) works alike, and a text typed over it wins.
    by_id = client.get(f"/desk/?event={other.id}&event_q=Lisbon+Webinar").get_data(as_text=True)
    assert "Dora Lisbon" in by_id and "Carla Own" not in by_id
    typed_over = client.get(f"/desk/?event={other.id}&event_q=orestad").get_data(as_text=True)
    assert "Carla Own" in typed_over and "Dora Lisbon" not in typed_over
    cleared = client.get(f"/desk/?event={other.id}&event_q=").get_data(as_text=True)
    assert "Carla Own" in cleared and "Dora Lisbon" in cleared
    # Nothing in the desk matches: said, and nothing listed; a foreign event is not leaked.
    none = client.get("/desk/?event_q=oresund").get_data(as_text=True)
    assert "No event in your desk matches" in none and "Anna Beta" not in none
    foreign = client.get(f"/desk/?event={scope['foreign'].id}").get_data(as_text=True)
    assert "That event is not in your desk." in foreign and "Anna Beta" not in foreign


def test_several_typed_matches_filter_by_all_of_them(client, make, scope):
    second = make.event(organizers=[scope["a"]], title="Ørestad Second Mission")
    make.registration(second, make.user(scope["acme"], name="Eva Second"))
    login(client, scope["manager"])
    html = client.get("/desk/?event_q=orestad").get_data(as_text=True)
    assert "Eva Second" in html and "Anna Ærø" in html


def test_the_audit_log_filters_by_a_typed_event(client, make, scope):
    login(client, scope["admin"])
    html = client.get("/admin/audit?event_id_q=orestad").get_data(as_text=True)
    entries = html.count('data-testid="audit-entry"')
    assert entries >= 1
    assert client.get("/admin/audit?event_id_q=zzzz+nothing").get_data(
        as_text=True).count('data-testid="audit-entry"') == 0


def test_applying_on_behalf_takes_typed_names(client, make, scope):
    login(client, scope["manager"])
    html = client.get("/desk/apply-on-behalf?member_q=anna&event_q=orestad").get_data(
        as_text=True)
    assert "Anna Ærø applies to Ørestad Smart Harbour Mission" in html
    # A member of another cluster is nobody the manager may choose.
    refused = client.get("/desk/apply-on-behalf?member_q=anna+beta&event_q=orestad")
    assert "Nothing you may choose matches" in refused.get_data(as_text=True)
    assert client.get(f"/desk/apply-on-behalf?member={scope['bert'].id}").status_code == 404
    assert S.SUBMITTED  # the statuses the factory gave stay untouched
