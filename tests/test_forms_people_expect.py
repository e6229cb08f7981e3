"""Forms as people expect them: a time zone picked from a list grouped by region, several
choices ticked without holding a key, countries in the order people read them, and a
sign-up that finds one's organization by its whole name or web domain without ever
showing the directory to a visitor."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token
from webapp import collation
from webapp.models import MembershipRequest, User
from webapp.services import organizations

NEW_PASSWORD = "tram lines over the harbour"


class _Controls(HTMLParser):
    """A page's form controls: each select's options (with their group), each input."""

    def __init__(self) -> None:
        super().__init__()
        self.selects: dict[str, list[tuple[str | None, str, str, bool]]] = {}
        self.multiple: list[str] = []
        self.inputs: list[dict] = []
        self.legends: list[str] = []
        self._select = self._group = self._option = None
        self._in_legend = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "select":
            self._select = attrs.get("name")
            self.selects[self._select] = []
            if "multiple" in attrs:
                self.multiple.append(self._select)
        elif tag == "optgroup":
            self._group = attrs.get("label")
        elif tag == "option" and self._select:
            self._option = [self._group, attrs.get("value"), "", "selected" in attrs]
        elif tag == "input":
            self.inputs.append(attrs)
        elif tag == "legend":
            self._in_legend = True
            self.legends.append("")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "optgroup":
            self._group = None
        elif tag == "option" and self._option is not None:
            self.selects[self._select].append(tuple(self._option))
            self._option = None
        elif tag == "legend":
            self._in_legend = False

    def handle_data(self, data):
        if self._option is not None:
            self._option[2] += data
        if self._in_legend:
            self.legends[-1] += data.strip()

    def options(self, name: str) -> list[tuple[str | None, str, str, bool]]:
        return self.selects[name]

    def labels(self, name: str) -> list[str]:
        return [label for _, _, label, _ in self.selects[name]]

    def boxes(self, name: str) -> list[dict]:
        return [i for i in self.inputs if i.get("name") == name and i.get("type") == "checkbox"]


def controls(page: str) -> _Controls:
    parsed = _Controls()
    parsed.feed(page)
    return parsed


# --------------------------------------------------------------------------- time zones


@pytest.fixture
def cluster(make):
    return make.partner(name="Smart City Nord")


@pytest.fixture
def member(make, cluster):
    return make.user(make.organization(cluster, name="Limfjord Sensing ApS"),
                     name="Astrid Sønderby", timezone=None)


def test_the_profile_offers_the_zones_by_region_and_place(client, login_as, member):
    page = controls(login_as(member).get("/account/profile").get_data(as_text=True))
    zones = page.options("timezone")

    assert zones[0][1:3] == ("", "As my browser says")
    assert (None, "UTC", "UTC", False) in zones
    assert ("Europe", "Europe/Copenhagen", "Copenhagen", False) in zones
    assert ("Americas", "America/Argentina/Buenos_Aires", "Buenos Aires (Argentina)",
            False) in zones
    # One option per place: no other name of the same clock, nothing without a place.
    values = [value for _, value, _, _ in zones]
    assert values.count("Asia/Kolkata") == 1 and "Asia/Calcutta" not in values
    assert "Australia/ACT" not in values and "US/Eastern" not in values
    assert not any(value.startswith("Etc/") for value in values)
    groups = list(dict.fromkeys(group for group, *_ in zones if group))
    assert groups[:2] == ["Africa", "Americas"] and "Europe" in groups
    europe = [label for group, _, label, _ in zones if group == "Europe"]
    assert europe == collation.sorted_by(europe, lambda name: name)
    assert europe[:2] == ["Amsterdam", "Andorra"] and europe[-2:] == ["Zagreb", "Zurich"]


def test_a_zone_the_list_names_otherwise_stays_chosen_and_saves(client, login_as, member,
                                                                 db):
    member.timezone = "Asia/Calcutta"  # as an older browser reports it
    db.session.commit()
    login_as(member)

    zones = controls(client.get("/account/profile").get_data(as_text=True)).options("timezone")
    assert [value for _, value, _, chosen in zones if chosen] == ["Asia/Calcutta"]
    response = client.post("/account/profile", data={
        "name": member.name, "phone": "", "timezone": "America/Argentina/Buenos_Aires",
        "locale": "en", "csrf_token": csrf_token(client, "/account/profile")})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, member.id).timezone == "America/Argentina/Buenos_Aires"


def test_the_event_form_picks_its_zone_from_the_same_list(client, login_as, make, cluster):
    event = make.event(organizers=[cluster], timezone="Asia/Singapore")
    login_as(make.manager(cluster))

    new = client.get("/admin/events/new").get_data(as_text=True)
    edit = controls(client.get(f"/admin/events/{event.id}").get_data(as_text=True))

    assert 'list="timezone-options"' not in new and "<datalist" not in new
    assert controls(new).options("timezone")[0][1:3] == ("", "Choose a time zone")
    assert [(g, v) for g, v, _, chosen in edit.options("timezone") if chosen] == [
        ("Asia", "Asia/Singapore")]


# --------------------------------------------------------------------------- several choices


def test_organizers_and_hosts_are_ticked_not_ctrl_clicked(client, login_as, make, cluster, db):
    other = make.partner(name="Clúster Ciutat Digital")
    make.partner(name="Cluster Ville Durable")
    beachhead = make.beachhead(name="IPI Singapore")
    event = make.event(organizers=[cluster, other], hosts=[beachhead])
    login_as(make.manager(cluster))

    html = client.get(f"/admin/events/{event.id}").get_data(as_text=True)
    page = controls(html)

    assert page.multiple == [] and "Ctrl" not in html
    assert {"Organizing partners", "Hosting beachheads"} <= set(page.legends)
    organizers = page.boxes("organizer_ids")
    assert {b["value"] for b in organizers if "checked" in b} == {str(cluster.id), str(other.id)}
    assert {b["value"] for b in page.boxes("host_ids")} == {str(beachhead.id)}
    for box in organizers:  # each box has its own label
        assert re.search(rf'<label class="form-check-label" for="{box["id"]}">', html)
    # In the order people read the names: "Clúster C..." before "Cluster V...".
    labels = re.findall(r'for="organizer_ids-\d+">([^<]+)</label>', html)
    assert labels == ["Clúster Ciutat Digital", "Cluster Ville Durable", "IPI Singapore",
                      "Smart City Nord"]


def test_an_agreements_parties_are_ticked(client, login_as, make, cluster):
    make.organization(cluster, name="Limfjord Sensing ApS")
    login_as(make.manager(cluster))

    html = client.get("/agreements/new").get_data(as_text=True)
    page = controls(html)

    assert page.multiple == [] and "Ctrl" not in html
    assert "Parties" in page.legends
    assert len(page.boxes("parties")) >= 2


# --------------------------------------------------------------------------- countries


def test_countries_are_listed_as_people_read_them(client, login_as, make, cluster):
    signup = controls(client.get("/signup").get_data(as_text=True)).labels("country")
    login_as(make.manager(cluster))
    event_form = controls(client.get("/admin/events/new").get_data(as_text=True))

    for names in (signup, event_form.labels("target_country")):
        # Åland under A, between Afghanistan and Albania, not after Zimbabwe.
        at = names.index("Åland Islands")
        assert names[at - 1:at + 2] == ["Afghanistan", "Åland Islands", "Albania"]
        assert names.index("Côte d’Ivoire") < names.index("Croatia")
        assert names[-1] in ("Zimbabwe", "Zambia") or names[-1].startswith("Z")


def test_the_desk_lists_its_countries_by_name(client, login_as, make, cluster):
    event = make.event(organizers=[cluster])
    for country in ("SE", "AX", "AT"):  # Sweden, Åland, Austria: codes sort otherwise
        applicant = make.user(make.organization(cluster, country=country))
        make.registration(event, applicant)
    login_as(make.manager(cluster))

    names = controls(client.get("/desk/").get_data(as_text=True)).labels("country")

    assert names == ["All countries", "Åland Islands", "Austria", "Sweden"]


# --------------------------------------------------------------------------- sign-up


@pytest.fixture
def company(make, db):
    company = make.organization(name="Trams of Tomorrow Åbo",
                                website="https://www.trams-of-tomorrow.example/en")
    db.session.commit()
    return company


def _sign_up(client, n: int, join: str):
    return client.post("/signup", data={
        "name": "Lena Kowalska", "email": f"lena{n}@kowalska.example",
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "timezone": "Europe/Warsaw",
        "organization_mode": "join", "join_organization": join, "privacy": "y",
        "csrf_token": csrf_token(client, "/signup")})


def _asked_to_join(db, n: int):
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == f"lena{n}@kowalska.example"))
    if user is None:
        return None
    request = db.session.scalar(select(MembershipRequest).where(
        MembershipRequest.user_id == user.id))
    return request.organization_id if request else None


def test_the_sign_up_page_lists_no_organization(client, company):
    page = client.get("/signup").get_data(as_text=True)

    assert company.name not in page and "Trams" not in page
    assert "join_organization" not in controls(page).selects
    assert any(i.get("name") == "join_organization" and i.get("type") == "text"
               for i in controls(page).inputs)


@pytest.mark.parametrize("typed", [
    "Trams of Tomorrow Åbo", "trams of tomorrow abo", "  TRAMS OF TOMORROW ÅBO ",
    "trams-of-tomorrow.example", "@trams-of-tomorrow.example",
    "lena@Trams-Of-Tomorrow.example", "www.trams-of-tomorrow.example",
])
def test_a_whole_name_or_the_web_domain_finds_the_organization_to_join(
    client, db, company, mailbox, typed
):
    response = _sign_up(client, 1, typed)

    assert response.status_code == 302, response.get_data(as_text=True)
    assert _asked_to_join(db, 1) == company.id


@pytest.mark.parametrize("typed", [
    "Trams", "Trams of Tomorrow", "Tomorrow Åbo", "trams-of-tomorrow", "example",
    "of-tomorrow.example", "trams-of-tomorrow.example.org", "%", "T_ams of Tomorrow Åbo",
])
def test_part_of_a_name_or_domain_finds_nothing_and_names_nothing(client, db, company,
                                                                  mailbox, typed):
    response = _sign_up(client, 1, typed)
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert organizations.NOT_FOUND_TO_JOIN in page
    assert company.name not in page
    assert _asked_to_join(db, 1) is None


def test_looking_organizations_up_is_throttled_per_visitor(app, client, db, company, mailbox):
    for n in range(app.config["THROTTLE_LIMIT"]):
        assert _sign_up(client, n, f"Guess {n}").status_code == 200

    response = _sign_up(client, 99, company.name)  # even the right name, from a new address

    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert _asked_to_join(db, 99) is None
