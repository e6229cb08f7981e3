"""Agreements: the service's rules (each refusal writes nothing), the audit, and the pages
partner managers and admins record them on."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token
from webapp import inputs
from webapp.extensions import db as _db
from webapp.inputs.agreements import AgreementIn
from webapp.models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    AgreementType,
    AuditEntry,
    Helix,
    Organization,
    User,
)
from webapp.services import agreements
from webapp.services.fields import Refused


@pytest.fixture
def world(make):
    cluster_a, cluster_b = make.partner(name="Cluster Alpha"), make.partner(name="Cluster Beta")
    beachhead = make.beachhead(name="Harbour Beachhead")
    eu_sme = make.organization(cluster_a, name="Aarhus Sensors", country="DK")
    other_eu = make.organization(cluster_b, name="Gent Mobility", country="BE")
    guest = make.organization(None, name="Marina Bay Data", country="SG")
    return dict(a=cluster_a, b=cluster_b, beachhead=beachhead, eu_sme=eu_sme,
                other_eu=other_eu, guest=guest, manager_a=make.manager(cluster_a),
                admin=make.admin())


def ref(obj) -> str:
    kind = "partner" if hasattr(obj, "is_member") else "organization"
    return f"{kind}:{obj.id}"


def details(world, **kw) -> AgreementIn:
    values = dict(kind=AgreementKind.COLLABORATION, type=AgreementType.BUSINESS_PARTNERSHIP,
                  status=AgreementStatus.SIGNED, title="Pilot in Singapore",
                  responsible_partner_id=world["a"].id,
                  parties=[ref(world["eu_sme"]), ref(world["guest"])],
                  started_on=date(2019, 6, 1), signed_on=date(2019, 8, 1))
    values.update(kw)
    return AgreementIn.from_values(**values)


def counts():
    return tuple(_db.session.scalar(select(func.count()).select_from(model))
                 for model in (Agreement, AuditEntry, Organization))


def test_a_collaboration_agreement_is_recorded_and_audited(world):
    agreement = agreements.create(world["manager_a"], details(world))

    assert [p.name for p in agreement.parties] == ["Aarhus Sensors", "Marina Bay Data"]
    entry = _db.session.scalar(select(AuditEntry).where(AuditEntry.action == "agreement.created"))
    assert entry.actor_id == world["manager_a"].id and entry.subject_id == agreement.id
    assert entry.details["changes"]["parties"] == [None, ["Aarhus Sensors", "Marina Bay Data"]]


def test_a_change_is_audited_with_what_changed(world):
    agreement = agreements.create(world["admin"], details(world, status="in_negotiation",
                                                          signed_on=None))

    agreements.update(world["manager_a"], agreement, details(world))

    entry = _db.session.scalar(select(AuditEntry).where(AuditEntry.action == "agreement.updated"))
    assert entry.details["changes"]["status"] == ["in_negotiation", "signed"]
    assert entry.details["changes"]["signed_on"] == [None, "2019-08-01"]


def test_a_target_region_organization_is_recorded_without_an_account(world):
    users_before = _db.session.scalar(select(func.count(User.id)))
    agreement = agreements.create(world["manager_a"], details(
        world, parties=[ref(world["eu_sme"])], new_organization_name="Pune Smart Works",
        new_organization_country="IN", new_organization_helix=Helix.GOVERNMENT))

    india = agreement.parties[1].organization
    assert (india.name, india.country, india.home_cluster_id) == ("Pune Smart Works", "IN", None)
    assert _db.session.scalar(select(func.count(User.id))) == users_before


@pytest.mark.parametrize(("change", "field", "message"), [
    (lambda w: dict(parties=[ref(w["eu_sme"]), ref(w["eu_sme"])]), "parties", "named twice"),
    (lambda w: dict(parties=[ref(w["eu_sme"])]), "parties", "at least two parties"),
    (lambda w: dict(parties=[ref(w["eu_sme"])], new_organization_name="aarhus sensors",
                    new_organization_country="DK"), "new_organization_name", "already a party"),
    (lambda w: dict(parties=[ref(w["eu_sme"]), "organization:999999"]), "parties",
     "from the list"),
    (lambda w: dict(parties=[ref(w["eu_sme"]), "robert'); drop"]), "parties", "from the list"),
    (lambda w: dict(signed_on=None), "signed_on", "date it was signed"),
    (lambda w: dict(status="in_negotiation"), "signed_on", "no signing date yet"),
    (lambda w: dict(status="ended", ended_on=None), "ended_on", "date it ended"),
    (lambda w: dict(status="ended", ended_on=date(2019, 1, 1)), "ended_on",
     "before the start date"),
    (lambda w: dict(signed_on=date(2019, 5, 1)), "signed_on", "before the start date"),
    (lambda w: dict(parties=[ref(w["eu_sme"]), ref(w["other_eu"])]), "parties",
     "EU organization and an organization of a target region"),
    (lambda w: dict(kind="partnership", parties=[ref(w["a"]), ref(w["b"])]), "parties",
     "partner outside the partnership"),
    (lambda w: dict(kind="partnership", parties=[ref(w["eu_sme"]), ref(w["beachhead"])]),
     "parties", "member cluster"),
    (lambda w: dict(responsible_partner_id=w["beachhead"].id), "responsible_partner_id",
     "member cluster"),
    (lambda w: dict(title="  "), "title", "Enter a title"),
    (lambda w: dict(kind="treaty"), "kind", "kind of agreement"),
    (lambda w: dict(origin_event_id=999999), "origin_event_id", "from the list"),
    (lambda w: dict(parties=[ref(w["eu_sme"]), f"partner:{2**70}"]), "parties", "from the list"),
    (lambda w: dict(responsible_partner_id=2**70), "responsible_partner_id", "member cluster"),
])
def test_bad_input_is_refused_and_nothing_is_written(world, change, field, message):
    """Refused by the model (its fields and their rules) or by the service (what the
    database knows), beside the same field either way."""
    before = counts()

    try:
        agreement = details(world, **change(world))
    except inputs.ValidationError as error:
        said = {where[0]: sentence for where, sentence in inputs.messages(error, AgreementIn)}
    else:
        with pytest.raises(Refused) as refused:
            agreements.create(world["manager_a"], agreement)
        said = refused.value.errors

    assert message in said[field]
    assert counts() == before


def test_a_partnership_agreement_binds_a_member_to_a_beachhead(world):
    agreement = agreements.create(world["admin"], details(
        world, kind="partnership", type="memorandum_of_understanding",
        parties=[ref(world["a"]), ref(world["beachhead"])]))

    assert agreement.kind == AgreementKind.PARTNERSHIP


# --------------------------------------------------------------------------- the pages


def form(world, **kw):
    values = {"kind": "collaboration", "type": "business_partnership", "status": "signed",
              "title": "Pilot in Singapore", "responsible_partner_id": str(world["a"].id),
              "parties": [ref(world["eu_sme"]), ref(world["guest"])],
              "started_on": "2019-06-01", "signed_on": "2019-08-01",
              "new_organization_helix": "industry"}
    values.update(kw)
    return values


def test_a_partner_manager_records_an_agreement_for_their_cluster(client, login_as, world):
    login_as(world["manager_a"])

    response = client.post("/agreements/new", data=dict(
        form(world), csrf_token=csrf_token(client, "/agreements/new")))

    assert response.status_code == 302
    listed = client.get("/agreements/").get_data(as_text=True)
    assert "Pilot in Singapore" in listed and "Marina Bay Data" in listed


def test_a_partner_manager_cannot_record_for_another_cluster(client, login_as, world):
    login_as(world["manager_a"])
    before = counts()

    response = client.post("/agreements/new", data=dict(
        form(world, responsible_partner_id=str(world["b"].id)),
        csrf_token=csrf_token(client, "/agreements/new")))

    assert response.status_code == 400
    assert "Choose one of your own clusters" in response.get_data(as_text=True)
    assert counts() == before


def test_the_form_shows_the_services_message_and_writes_nothing(client, login_as, world):
    login_as(world["manager_a"])
    before = counts()

    response = client.post("/agreements/new", data=dict(
        form(world, signed_on="", ended_on="2019-01-01", status="ended"),
        csrf_token=csrf_token(client, "/agreements/new")))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter the date it was signed." in page
    assert "The end date is before the start date." in page
    assert counts() == before


def test_a_post_without_its_csrf_token_is_refused(client, login_as, world):
    login_as(world["manager_a"])
    before = counts()

    response = client.post("/agreements/new", data=form(world))

    assert response.status_code == 400
    assert counts() == before


def test_another_clusters_agreement_is_an_unknown_id(client, login_as, make, world):
    agreement = agreements.create(world["admin"], details(
        world, responsible_partner_id=world["b"].id,
        parties=[ref(world["other_eu"]), ref(world["guest"])]))
    login_as(world["manager_a"])

    assert client.get(f"/agreements/{agreement.id}").status_code == 404
    assert "Gent Mobility" not in client.get("/agreements/").get_data(as_text=True)


def test_editing_keeps_the_parties_and_audits_the_change(client, login_as, world):
    agreement = agreements.create(world["manager_a"], details(world))
    login_as(world["manager_a"])
    page = client.get(f"/agreements/{agreement.id}").get_data(as_text=True)
    assert 'selected value="organization:' in page or "selected" in page

    response = client.post(f"/agreements/{agreement.id}", data=dict(
        form(world, title="Pilot in Singapore, phase 2"),
        csrf_token=csrf_token(client, f"/agreements/{agreement.id}")))

    assert response.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Agreement, agreement.id).title == "Pilot in Singapore, phase 2"
    assert _db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "agreement.updated")) == 1
