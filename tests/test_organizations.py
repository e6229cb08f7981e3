"""Organizations: the profile page and its edits, logos, join requests, review and merge."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.confirming import confirm
from tests.conftest import csrf_token
from webapp import unit
from webapp.extensions import db as _db
from webapp.models import (
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    AgreementType,
    AuditEntry,
    MembershipRequest,
    MembershipStatus,
    Organization,
    OrganizationSize,
    OutboxMessage,
    Registration,
    Role,
    User,
)
from webapp.models import RegistrationStatus as S
from webapp.services import notifications, organizations
from webapp.services.fields import Refused
from webapp.services.organizations import AlreadyDecided, MergeRefused, OwnRequest

# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def cluster(make):
    return make.partner(name="Danish Smart Cities", short_name="DSC")


@pytest.fixture
def other_cluster(make):
    return make.partner(name="Flanders Smart Hub", short_name="FSH")


@pytest.fixture
def company(make, cluster):
    return make.organization(cluster, name="Aalborg Sensorik ApS", city="Aalborg")


@pytest.fixture
def member(make, company):
    return make.user(company, name="Søren Østergaard", email="soren@sensorik.example")


@pytest.fixture
def manager(make, cluster):
    return make.manager(cluster, name="Mette Manager", email="mette@dsc.example")


@pytest.fixture
def uploads(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    return tmp_path


def audit_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def image_bytes(fmt: str = "PNG", size=(900, 600), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "teal").save(out, format=fmt, **save)
    return out.getvalue()


def camera_exif(**tags) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Industries"  # Make
    exif[0x0131] = "SecretEditor 9"  # Software
    for tag, value in tags.items():
        exif[int(tag.removeprefix("tag_"), 16)] = value
    return exif


def upload(client, organization, data: bytes, filename: str):
    page = f"/organizations/{organization.id}/edit"
    return client.post(
        f"/organizations/{organization.id}/logo",
        data={"logo": (io.BytesIO(data), filename), "csrf_token": csrf_token(client, page)},
        content_type="multipart/form-data",
    )


def ask_to_join(app, user, organization, message=""):
    """A join request as sign-up makes it: the service, then the caller's commit."""
    with app.test_request_context():
        request = organizations.request_membership(user, organization, message)
        _db.session.commit()
    notifications.send_due()
    return request


ORG_FORM = dict(name="Aalborg Sensorik ApS", country="DK", city="Aalborg", sector="IoT",
                size="small", helix="industry", website="https://sensorik.example",
                profile="Air-quality sensors for cities.")


def edit(client, organization, **changes):
    page = f"/organizations/{organization.id}/edit"
    return client.post(page, data={**ORG_FORM, **changes, "csrf_token": csrf_token(client, page)})


# ---------------------------------------------------------------- the page and its edits


def test_page_shows_members_and_home_cluster_to_a_member(client, login_as, member, company, make):
    make.user(company, name="Karen Kollega")
    make.user(make.organization(None), name="Stranger Danger")
    page = login_as(member).get(f"/organizations/{company.id}").get_data(as_text=True)
    assert "Aalborg Sensorik ApS" in page and "Danish Smart Cities" in page
    assert "Søren Østergaard" in page and "Karen Kollega" in page
    assert "Stranger Danger" not in page


def test_other_clusters_manager_and_other_companies_get_404(client, login_as, company, make,
                                                            other_cluster):
    for outsider in (make.manager(other_cluster), make.user(make.organization(None))):
        assert login_as(outsider).get(f"/organizations/{company.id}").status_code == 404


def test_an_organization_without_a_size_is_asked_for_one_not_given_the_first(
    client, login_as, member, company, db
):
    company.size = None  # registered quickly for a webinar
    db.session.commit()
    login_as(member)
    page = client.get(f"/organizations/{company.id}/edit").get_data(as_text=True)
    size = re.search(r'<select[^>]*name="size".*?</select>', page, re.S).group(0)
    # The placeholder comes first and no size is selected, so the browser shows it.
    assert re.search(r'<select[^>]*>\s*<option value="">Choose a size</option>', size)
    assert "selected" not in size

    response = edit(client, company, size="")
    assert response.status_code == 400
    assert "Choose the size." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Organization, company.id).size is None
    assert edit(client, company, size="medium").status_code == 302
    db.session.expire_all()
    assert db.session.get(Organization, company.id).size == OrganizationSize.MEDIUM


def test_member_edits_the_profile_and_the_audit_says_what_changed(
    client, login_as, member, company, db
):
    login_as(member)
    response = edit(client, company, sector="Air quality", website="http://sensorik.example")
    assert response.status_code == 302
    db.session.refresh(company)
    assert company.sector == "Air quality" and company.country == "DK"
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "organization.updated")).one()
    assert (entry.actor_id, entry.subject_type, entry.subject_id) == (
        member.id, "organization", company.id)
    assert entry.details["changes"]["sector"] == ["", "Air quality"]
    assert entry.details["changes"]["country"] == ["BE", "DK"]
    assert "name" not in entry.details["changes"]


@pytest.mark.parametrize("website", ["javascript:alert(1)", "ftp://sensorik.example",
                                     "sensorik.example", "https://", "data:text/html,hi"])
def test_website_must_be_an_http_address_and_nothing_is_written_otherwise(
    client, login_as, member, company, db, website
):
    login_as(member)
    before = audit_count(db)
    response = edit(client, company, website=website, sector="Changed")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="website-error"' in page and "http:// or https://" in page
    db.session.refresh(company)
    assert company.sector == "" and company.website == ""
    assert audit_count(db) == before


def test_empty_name_is_refused_beside_the_field(client, login_as, member, company, db):
    login_as(member)
    response = edit(client, company, name="  ")
    assert response.status_code == 400
    assert 'id="name-error"' in response.get_data(as_text=True)
    db.session.refresh(company)
    assert company.name == "Aalborg Sensorik ApS"


def test_a_member_cannot_move_the_organization_to_another_cluster(
    client, login_as, member, company, other_cluster, cluster, db
):
    login_as(member)
    assert "home_cluster_id" not in client.get(
        f"/organizations/{company.id}/edit").get_data(as_text=True)
    response = edit(client, company, home_cluster_id=str(other_cluster.id))
    assert response.status_code == 302
    db.session.refresh(company)
    assert company.home_cluster_id == cluster.id


def test_the_home_clusters_manager_moves_it_and_the_move_is_audited(
    client, login_as, manager, company, other_cluster, cluster, db
):
    login_as(manager)
    response = edit(client, company, home_cluster_id=str(other_cluster.id))
    # The manager no longer reviews it, so they land back in their inbox.
    assert response.status_code == 302 and response.headers["Location"] == "/desk/inbox"
    db.session.refresh(company)
    assert company.home_cluster_id == other_cluster.id
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "organization.updated")).one()
    assert entry.details["changes"]["home_cluster_id"] == [cluster.id, other_cluster.id]


def test_the_service_moves_an_organization_only_to_a_cluster(db, make, company, cluster):
    """The form offers clusters only; the service holds any other caller to the same."""
    beachhead = make.beachhead()
    db.session.commit()
    for partner_id in (beachhead.id, 999_999):
        with pytest.raises(Refused) as refused:
            organizations.update_profile(make.admin(), company,
                                         {"home_cluster_id": partner_id})
        assert refused.value.errors == {"home_cluster_id": "Choose a cluster from the list."}
        db.session.rollback()
    db.session.refresh(company)
    assert company.home_cluster_id == cluster.id


def test_saving_without_changes_writes_no_audit_entry(client, login_as, member, company, db):
    login_as(member)
    edit(client, company)
    before = audit_count(db)
    edit(client, company)
    assert audit_count(db) == before


# ---------------------------------------------------------------- logos


def test_logo_with_exif_comes_back_re_encoded_small_and_without_metadata(
    client, login_as, member, company, uploads, db
):
    original = image_bytes("PNG", size=(1600, 1000), exif=camera_exif())
    assert b"SpyCam" in original  # the test image really carries the metadata
    login_as(member)
    response = upload(client, company, original, "logo.png")
    assert response.status_code == 302
    db.session.refresh(company)
    stored = uploads / company.logo_filename
    assert stored.is_file() and company.logo_filename != "logo.png"
    assert b"SpyCam" not in stored.read_bytes() and b"SecretEditor" not in stored.read_bytes()

    served = client.get(f"/organizations/{company.id}/logo")
    assert served.status_code == 200
    assert served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(served.data))
    assert image.format == "PNG" and max(image.size) == 512 and image.size == (512, 320)
    assert dict(image.getexif()) == {} and "exif" not in image.info
    assert db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "organization.logo_replaced")) is not None


def test_jpeg_photo_is_turned_upright_and_stored_as_jpeg(
    client, login_as, member, company, uploads, db
):
    # Orientation 6: the camera was held sideways; the picture is 90° clockwise from upright.
    photo = image_bytes("JPEG", size=(300, 100), exif=camera_exif(tag_0112=6))
    login_as(member)
    assert upload(client, company, photo, "photo.jpeg").status_code == 302
    db.session.refresh(company)
    served = client.get(f"/organizations/{company.id}/logo")
    assert served.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(served.data))
    assert image.size == (100, 300)
    assert dict(image.getexif()) == {}


def test_transparent_logo_keeps_its_transparency(client, login_as, member, company, uploads, db):
    login_as(member)
    upload(client, company, image_bytes("PNG", size=(40, 40), mode="RGBA"), "logo.png")
    db.session.refresh(company)
    assert Image.open(uploads / company.logo_filename).mode == "RGBA"


def test_content_decides_not_the_name_a_png_called_jpg_is_stored_as_png(
    client, login_as, member, company, uploads, db
):
    login_as(member)
    assert upload(client, company, image_bytes("PNG"), "logo.jpg").status_code == 302
    db.session.refresh(company)
    assert company.logo_filename.endswith(".png")


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>')


@pytest.mark.parametrize(("data", "filename", "message"), [
    (SVG, "logo.svg", "must be a PNG or JPEG"),
    (SVG, "logo.png", "must be a PNG or JPEG"),
    (image_bytes("GIF"), "logo.gif", "must be a PNG or JPEG"),
    (b"this is not an image at all", "logo.jpg", "must be a PNG or JPEG"),
    (image_bytes("PNG")[:60], "truncated.png", "must be a PNG or JPEG"),
    (image_bytes("PNG", size=(4, 4)) + b"\0" * int(2.1 * 1024 * 1024), "huge.png",
     "larger than 2 MB"),
])
def test_refused_uploads_say_why_and_change_nothing(
    client, login_as, member, company, uploads, db, data, filename, message
):
    login_as(member)
    upload(client, company, image_bytes("PNG"), "first.png")
    db.session.refresh(company)
    first = company.logo_filename
    before = audit_count(db)
    response = upload(client, company, data, filename)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="logo-error"' in page and message in page
    db.session.refresh(company)
    assert company.logo_filename == first
    assert sorted(p.name for p in uploads.iterdir()) == [first]
    assert audit_count(db) == before


def test_replacing_the_logo_deletes_the_old_file(client, login_as, member, company, uploads, db):
    login_as(member)
    upload(client, company, image_bytes("PNG"), "one.png")
    db.session.refresh(company)
    first = company.logo_filename
    upload(client, company, image_bytes("JPEG"), "two.jpg")
    db.session.refresh(company)
    assert company.logo_filename != first
    assert [p.name for p in uploads.iterdir()] == [company.logo_filename]


def test_logo_is_not_served_to_people_who_cannot_see_the_organization(
    client, login_as, member, company, uploads, db, make
):
    login_as(member)
    upload(client, company, image_bytes("PNG"), "logo.png")
    stranger = make.user(make.organization(None))
    assert login_as(stranger).get(f"/organizations/{company.id}/logo").status_code == 404


# ---------------------------------------------------------------- join requests


@pytest.fixture
def newcomer(make):
    return make.user(None, name="Nina Newcomer", email="nina@newcomer.example")


def test_a_join_request_mails_the_verified_members_but_not_the_requester(
    app, db, company, member, newcomer, make, mailbox
):
    make.user(company, email="unverified@sensorik.example", email_verified_at=None)
    ask_to_join(app, newcomer, company, "I run the Aarhus office.")
    [mail] = mailbox.to("soren@sensorik.example")
    text = mailbox.text(mail)
    assert "asked to join Aalborg Sensorik ApS" in text
    assert f"/organizations/{company.id}" in text
    # The mail names nobody; who asks is on the page behind sign-in.
    assert "Nina" not in text and "nina@newcomer.example" not in text
    assert mailbox.to("unverified@sensorik.example") == []
    assert mailbox.to("nina@newcomer.example") == []


def test_a_member_accepts_a_join_request_and_the_requester_is_told(
    app, client, login_as, db, company, member, newcomer, mailbox
):
    request = ask_to_join(app, newcomer, company, "I run the Aarhus office.")
    login_as(member)
    page = client.get(f"/organizations/{company.id}").get_data(as_text=True)
    assert "Nina Newcomer" in page and "I run the Aarhus office." in page
    response = client.post(f"/organizations/requests/{request.id}", data={
        "decision": "accept", "csrf_token": csrf_token(client, f"/organizations/{company.id}")})
    assert response.status_code == 302
    db.session.refresh(request)
    db.session.refresh(newcomer)
    assert request.status == MembershipStatus.ACCEPTED and request.decided_by_id == member.id
    assert newcomer.organization_id == company.id
    [mail] = mailbox.to("nina@newcomer.example")
    assert mail["Subject"] == "Your request to join Aalborg Sensorik ApS was accepted"
    assert "has been accepted" in mailbox.text(mail)
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "membership.accepted")).one()
    assert (entry.actor_id, entry.subject_type, entry.subject_id) == (
        member.id, "membershiprequest", request.id)
    assert entry.details["changes"]["organization_id"] == [None, company.id]


def test_the_clusters_manager_refuses_a_join_request_and_the_requester_is_told(
    app, client, login_as, db, company, manager, newcomer, mailbox
):
    request = ask_to_join(app, newcomer, company)
    login_as(manager)
    client.post(f"/organizations/requests/{request.id}", data={
        "decision": "refuse", "csrf_token": csrf_token(client, "/desk/inbox")})
    db.session.refresh(request)
    db.session.refresh(newcomer)
    assert request.status == MembershipStatus.REFUSED and newcomer.organization_id is None
    [mail] = mailbox.to("nina@newcomer.example")
    assert "was refused" in mail["Subject"]
    assert "has been refused" in mailbox.text(mail)
    assert db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.action == "membership.refused")) is not None


def test_deciding_a_request_already_decided_says_who_and_when(
    app, client, login_as, db, company, member, manager, newcomer
):
    request = ask_to_join(app, newcomer, company)
    with app.test_request_context():
        organizations.decide_membership(manager, request, accept=False)
    login_as(member)
    response = client.post(f"/organizations/requests/{request.id}", data={
        "decision": "accept", "csrf_token": csrf_token(client, f"/organizations/{company.id}")},
        follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "already refused by Mette Manager on" in page and "UTC" in page
    db.session.refresh(request)
    db.session.refresh(newcomer)
    assert request.status == MembershipStatus.REFUSED and newcomer.organization_id is None
    with pytest.raises(AlreadyDecided):
        organizations.decide_membership(member, request, accept=True)


def test_nobody_decides_their_own_request(app, client, login_as, db, company, make):
    admin = make.admin(name="Ada Admin")
    request = ask_to_join(app, admin, company)
    with pytest.raises(OwnRequest):
        organizations.decide_membership(admin, request, accept=True)
    login_as(admin)
    page = client.get(f"/organizations/{company.id}").get_data(as_text=True)
    assert f'data-request="{request.id}"' not in page
    response = client.post(f"/organizations/requests/{request.id}", data={
        "decision": "accept", "csrf_token": csrf_token(client, f"/organizations/{company.id}")})
    assert response.status_code == 403
    db.session.refresh(request)
    assert request.status == MembershipStatus.PENDING


def test_asking_twice_is_refused(app, db, company, newcomer):
    ask_to_join(app, newcomer, company)
    with app.test_request_context(), pytest.raises(organizations.AlreadyRequested):
        organizations.request_membership(newcomer, company)


def test_a_decision_without_csrf_token_changes_nothing(
    app, client, login_as, db, company, member, newcomer
):
    request = ask_to_join(app, newcomer, company)
    login_as(member)
    response = client.post(f"/organizations/requests/{request.id}", data={"decision": "accept"})
    assert response.status_code == 400
    db.session.refresh(request)
    assert request.status == MembershipStatus.PENDING


def test_members_of_another_organization_cannot_decide(
    app, client, login_as, db, company, newcomer, make, cluster
):
    request = ask_to_join(app, newcomer, company)
    neighbour = make.user(make.organization(cluster))
    login_as(neighbour)
    response = client.post(f"/organizations/requests/{request.id}", data={
        "decision": "accept", "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 404


# ---------------------------------------------------------------- review and merge


def test_marking_reviewed_is_audited_and_happens_once(client, login_as, manager, company, db):
    login_as(manager)
    token = csrf_token(client, f"/organizations/{company.id}")
    client.post(f"/organizations/{company.id}/reviewed", data={"csrf_token": token})
    db.session.refresh(company)
    assert company.reviewed_at is not None
    client.post(f"/organizations/{company.id}/reviewed", data={"csrf_token": token})
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "organization.reviewed")) == 1


@pytest.fixture
def duplicate(make, cluster):
    return make.organization(cluster, name="Aalborg Sensorik", city="", sector="Sensors",
                             website="https://dup.example")


def test_merge_moves_people_and_requests_keeps_registrations_and_deletes_the_duplicate(
    app, client, login_as, db, make, cluster, company, member, duplicate, manager, newcomer
):
    event = make.event(organizers=[cluster])
    # Both records' people applied to the same event: after the merge the organization
    # has two delegates there, each keeping their own registration.
    colleague = make.user(duplicate, name="Dorte Duplicate")
    mine = make.registration(event, member, S.SUBMITTED)
    theirs = make.registration(event, colleague, S.SUBMITTED, S.APPROVED)
    request = ask_to_join(app, newcomer, duplicate)
    duplicate_id = duplicate.id

    login_as(manager)
    page = f"/organizations/{duplicate_id}/merge"
    assert "Aalborg Sensorik ApS" in client.get(page).get_data(as_text=True)
    chosen = client.post(page, data={"into": str(company.id), "confirm": "y",
                                     "csrf_token": csrf_token(client, page)})
    response = confirm(client, chosen)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/organizations/{company.id}"

    db.session.expire_all()
    assert db.session.get(Organization, duplicate_id) is None
    assert db.session.get(User, colleague.id).organization_id == company.id
    assert db.session.get(MembershipRequest, request.id).organization_id == company.id
    assert {r.user_id: r.status for r in db.session.scalars(select(Registration))} == {
        member.id: S.SUBMITTED, colleague.id: S.APPROVED}
    assert db.session.get(Registration, theirs.id).user_id == colleague.id
    assert db.session.get(Registration, mine.id) is not None
    merged = db.session.get(Organization, company.id)
    # The survivor keeps its own values and takes the duplicate's only where it had none.
    assert merged.city == "Aalborg" and merged.sector == "Sensors"
    assert merged.website == "https://dup.example"
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "organization.merged")).one()
    assert entry.actor_id == manager.id and entry.subject_id == company.id
    assert entry.details["duplicate_id"] == duplicate_id
    assert entry.details["into_id"] == company.id
    assert entry.details["moved_user_ids"] == [colleague.id]


def test_merge_drops_a_second_pending_request_of_the_same_person(
    app, db, company, duplicate, manager, newcomer
):
    ask_to_join(app, newcomer, company)
    ask_to_join(app, newcomer, duplicate)
    organizations.merge(manager, duplicate, company)
    pending = db.session.scalars(select(MembershipRequest).where(
        MembershipRequest.user_id == newcomer.id)).all()
    assert [(r.organization_id, r.status) for r in pending] == [
        (company.id, MembershipStatus.PENDING)]


def _agreement(db, cluster, *organizations, title="Sensors for Marina Bay"):
    agreement = Agreement(
        kind=AgreementKind.COLLABORATION, type=AgreementType.BUSINESS_PARTNERSHIP,
        status=AgreementStatus.SIGNED, title=title, responsible_partner=cluster,
        signed_on=date(2019, 9, 1),
        parties=[AgreementParty(position=n, organization=o)
                 for n, o in enumerate(organizations)])
    db.session.add(agreement)
    db.session.flush()
    return agreement


def test_merge_moves_the_duplicates_agreements_and_lists_a_shared_party_once(
    db, make, cluster, company, duplicate, manager
):
    guest = make.organization(None, country="SG", name="Tanjong Analytics")
    moved = _agreement(db, cluster, duplicate, guest, title="Moved")
    shared = _agreement(db, cluster, company, duplicate, guest, title="Shared")
    organizations.merge(manager, duplicate, company)
    db.session.expire_all()
    assert [p.organization_id for p in db.session.get(Agreement, moved.id).parties] == [
        company.id, guest.id]
    assert sorted(p.organization_id for p in db.session.get(Agreement, shared.id).parties) \
        == sorted([company.id, guest.id])
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "organization.merged")).one()
    assert entry.details["moved_agreement_ids"] == sorted([moved.id, shared.id])


def test_merge_is_refused_when_the_two_are_an_agreements_only_parties(
    db, make, cluster, company, duplicate, manager
):
    _agreement(db, cluster, company, duplicate, title="Between the two")
    db.session.commit()
    with pytest.raises(MergeRefused, match="only parties"):
        organizations.merge(manager, duplicate, company)
    assert db.session.get(Organization, duplicate.id) is not None


def test_merging_across_clusters_is_for_admins_only(db, make, cluster, other_cluster, company):
    foreign = make.organization(other_cluster, name="Aalborg Sensorik (Flanders)")
    both = make.user(roles=[(Role.PARTNER_MANAGER, cluster),
                            (Role.PARTNER_MANAGER, other_cluster)])
    with pytest.raises(MergeRefused, match="different home clusters"):
        organizations.merge(both, foreign, company)
    assert db.session.get(Organization, foreign.id) is not None
    organizations.merge(make.admin(), foreign, company)
    db.session.commit()
    assert db.session.get(Organization, foreign.id) is None


def test_a_manager_cannot_pick_another_clusters_organization_as_target(
    client, login_as, db, make, manager, duplicate, other_cluster
):
    foreign = make.organization(other_cluster, name="Elsewhere BV")
    login_as(manager)
    page = f"/organizations/{duplicate.id}/merge"
    assert "Elsewhere BV" not in client.get(page).get_data(as_text=True)
    response = client.post(page, data={"into": str(foreign.id), "confirm": "y",
                                       "csrf_token": csrf_token(client, page)})
    assert response.status_code == 400
    assert 'id="into-error"' in response.get_data(as_text=True)
    assert db.session.get(Organization, duplicate.id) is not None


def test_merge_needs_the_confirmation_box(client, login_as, db, manager, duplicate, company):
    login_as(manager)
    page = f"/organizations/{duplicate.id}/merge"
    response = client.post(page, data={"into": str(company.id),
                                       "csrf_token": csrf_token(client, page)})
    assert response.status_code == 400
    assert "Tick the box" in response.get_data(as_text=True)
    assert db.session.get(Organization, duplicate.id) is not None


def test_merge_keeps_one_logo_and_deletes_the_others_file(
    app, db, uploads, company, duplicate, manager
):
    organizations.replace_logo(manager, company, image_bytes("PNG"))
    organizations.replace_logo(manager, duplicate, image_bytes("PNG"))
    kept = company.logo_filename
    organizations.merge(manager, duplicate, company)
    assert len(list(uploads.iterdir())) == 2  # the merge may still fail: both are shown
    db.session.commit()
    assert [p.name for p in uploads.iterdir()] == [kept]


def test_a_failed_unit_keeps_the_old_logo_and_drops_the_new_file(db, uploads, company, member):
    organizations.replace_logo(member, company, image_bytes("PNG"))
    db.session.commit()
    first = company.logo_filename
    with pytest.raises(RuntimeError, match="later step"), unit.of_work("test"):
        organizations.replace_logo(member, company, image_bytes("JPEG"))
        assert len(list(uploads.iterdir())) == 2
        raise RuntimeError("a later step of the unit failed")
    assert [p.name for p in uploads.iterdir()] == [first]
    assert db.session.get(Organization, company.id).logo_filename == first


def test_every_reference_to_an_organization_is_handled_by_merge(db):
    """A new foreign key to organizations must be taught to `organizations.merge`."""
    referencing = {
        f"{table.name}.{fk.parent.name}"
        for table in _db.metadata.sorted_tables for fk in table.foreign_keys
        if fk.column.table.name == "organizations"
    }
    assert referencing == {"users.organization_id", "membership_requests.organization_id",
                           "agreement_parties.organization_id"}


def test_admins_list_and_search_all_organizations(client, login_as, make, company, other_cluster):
    make.organization(other_cluster, name="Brussels Mobility Lab")
    login_as(make.admin())
    page = client.get("/organizations").get_data(as_text=True)
    assert "Aalborg Sensorik ApS" in page and "Brussels Mobility Lab" in page
    page = client.get("/organizations?q=mobility").get_data(as_text=True)
    assert "Brussels Mobility Lab" in page and "Aalborg Sensorik ApS" not in page


def test_a_manager_lists_only_their_clusters_organizations(
    client, login_as, make, manager, company, other_cluster
):
    make.organization(other_cluster, name="Brussels Mobility Lab")
    page = login_as(manager).get("/organizations").get_data(as_text=True)
    assert "Aalborg Sensorik ApS" in page and "Brussels Mobility Lab" not in page


def test_outbox_rows_of_membership_mail_point_at_their_recipient(
    app, db, company, member, newcomer, manager
):
    request = ask_to_join(app, newcomer, company)
    with app.test_request_context():
        organizations.decide_membership(manager, request, accept=True)
    recipients = {m.user_id for m in db.session.scalars(select(OutboxMessage))}
    assert recipients == {member.id, newcomer.id}


def test_upload_folder_is_outside_the_static_files(app):
    assert "static" not in Path(app.config["UPLOAD_FOLDER"]).parts
