"""Invitations of the host region's stakeholders: the hosting beachhead invites, the mail
carries a one-time link, and the link makes the account, an approved host registration
outside capacity with its badge, and a matchmaking participant of the stakeholder type.
A link that cannot be used changes nothing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from tests.conftest import count_queries, csrf_token
from tests.factories import PASSWORD
from webapp.access import HOST_STAKEHOLDER
from webapp.inputs.matchmaking import MatchmakingIn
from webapp.inputs.stakeholders import StakeholderInvitationIn
from webapp.models import (
    AuditEntry,
    Event,
    EventRole,
    EventStatus,
    OutboxMessage,
    Participant,
    Registration,
    StakeholderInvitation,
    UsedToken,
    User,
)
from webapp.models import RegistrationStatus as S
from webapp.services import matchmaking, privacy, stakeholder_invitations, tokens

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "harbour lights at dusk"
INVITEE = "ong.meixuan@kallang.example.sg"
PROFILE = "/account/profile"  # a page with a form for any signed-in user


@dataclass
class Hosted:
    event: Event
    host: User
    organizer: User
    other_host: User


@pytest.fixture
def hosted(make) -> Hosted:
    """A full event (capacity 1, taken) hosted by a beachhead, its matchmaking on."""
    organizing, beachhead, other_beachhead = make.partner(), make.beachhead(), make.beachhead()
    organizer = make.manager(organizing)
    event = make.event(organizers=[organizing], hosts=[beachhead], capacity=1)
    delegate = make.user(make.organization(make.partner()))
    make.registration(event, delegate, S.SUBMITTED, S.APPROVED)
    matchmaking.switch_on(event.id, MatchmakingIn.from_values(), actor=organizer)
    return Hosted(event, make.host(beachhead), organizer, make.host(other_beachhead))


def _form(**values) -> dict:
    data = dict(email=INVITEE, name="Ong Mei Xuan", organization="Kallang Smart Estates",
                country="SG", language="en")
    data.update(values)
    return data


def _invite(client, event: Event, **values):
    path = f"/events/{event.id}/stakeholders/"
    return client.post(f"{path}invite",
                       data={**_form(**values), "csrf_token": csrf_token(client, path)})


def _invited(hosted: Hosted, **values) -> StakeholderInvitation:
    return stakeholder_invitations.invite(
        hosted.event.id, StakeholderInvitationIn.from_values(**_form(**values)),
        actor=hosted.host)


def _token_of(db, invitation: StakeholderInvitation) -> str:
    """The link's token as the last mail to the invitee carries it."""
    message = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == invitation.email).order_by(OutboxMessage.id.desc())).first()
    return re.search(r"/stakeholders/invitation/(\S+)", message.body_text).group(1)


def _accept(client, path: str, **values):
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "privacy": "y", **values}
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/login")})


def _press(client, event: Event, invitation: StakeholderInvitation, action: str):
    """A host's button on the event's list: send again, or revoke."""
    index = f"/events/{event.id}/stakeholders/"
    return client.post(f"{index}{invitation.id}/{action}",
                       data={"csrf_token": csrf_token(client, PROFILE)})


def _written(db) -> tuple[int, ...]:
    """What a refused link must leave as it was."""
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in (
        User, Registration, Participant, AuditEntry, UsedToken, OutboxMessage))


def _accepted_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(StakeholderInvitation).where(
        StakeholderInvitation.accepted_at.is_not(None)))


def _refused_without_change(app, db, path: str, message: str) -> None:
    """The link's page and its button both say why it cannot be used, changing nothing."""
    before = _written(db)
    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 400 and message in page.get_data(as_text=True)
    assert _accept(visitor, path).status_code == 400
    db.session.expire_all()
    assert _written(db) == before and _accepted_count(db) == 0


# --------------------------------------------------------------------------- the whole way


def test_invitation_mail_link_makes_an_approved_host_outside_capacity_with_a_badge(
        app, db, client, login_as, hosted, mailbox):
    login_as(hosted.host)
    page = client.get(f"/events/{hosted.event.id}/stakeholders/")
    assert page.status_code == 200
    response = _invite(client, hosted.event)
    assert response.status_code == 302
    [mail] = mailbox.to(INVITEE)
    assert mail["Subject"].startswith("Invitation to meet the delegation at")
    text = mailbox.text(mail)
    [url] = [u for u in re.findall(r"https?://\S+", text) if "/stakeholders/invitation/" in u]
    path = urlsplit(url).path

    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200
    assert "Choose a password for your account" in page.get_data(as_text=True)
    response = _accept(visitor, path)
    assert response.status_code == 302, response.get_data(as_text=True)

    user = db.session.scalar(select(User).where(User.email == INVITEE))
    assert user.name == "Ong Mei Xuan" and user.is_verified
    assert check_password_hash(user.password_hash, NEW_PASSWORD)
    assert user.organization.name == "Kallang Smart Estates"
    assert (user.organization.country, user.organization.home_cluster_id) == ("SG", None)
    reg = db.session.scalar(select(Registration).where(Registration.user_id == user.id))
    assert (reg.event_id, reg.status, reg.role) == (hosted.event.id, S.APPROVED, EventRole.HOST)
    assert response.headers["Location"] == f"/account/registrations/{reg.id}"
    approved = db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.event_id == hosted.event.id, Registration.status == S.APPROVED))
    assert approved == 2 > hosted.event.capacity  # a full event still takes them
    participant = matchmaking.participant_of(reg.id)
    assert participant.participant_type.key == HOST_STAKEHOLDER
    assert not participant.consents  # given on the marketplace's join page
    invitation = db.session.scalar(select(StakeholderInvitation))
    assert invitation.accepted_at is not None and invitation.registration_id == reg.id

    # Signed in as the new account: its badge is there.
    badge = visitor.get(f"/registrations/{reg.id}/badge.pdf")
    assert badge.status_code == 200 and badge.mimetype == "application/pdf"

    before = _written(db)
    again = _accept(app.test_client(), path, password="another long password",
                    confirm="another long password")
    assert again.status_code == 400
    assert "This invitation link has already been used" in again.get_data(as_text=True)
    db.session.expire_all()
    assert _written(db) == before
    assert check_password_hash(user.password_hash, NEW_PASSWORD)


def test_an_existing_account_with_the_address_is_signed_in_and_registered(
        app, db, make, hosted):
    anna = make.user(make.organization(None, country="SG"), email=INVITEE, name="Anna")
    invitation = _invited(hosted)
    path = f"/stakeholders/invitation/{_token_of(db, invitation)}"
    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200 and 'data-testid="existing-account"' in page.get_data(
        as_text=True)
    users = db.session.scalar(select(func.count()).select_from(User))
    response = visitor.post(path, data={"csrf_token": csrf_token(visitor, "/login")})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    reg = db.session.scalar(select(Registration).where(Registration.user_id == anna.id))
    assert (reg.status, reg.role) == (S.APPROVED, EventRole.HOST)
    assert matchmaking.participant_of(reg.id).participant_type.key == HOST_STAKEHOLDER
    assert check_password_hash(anna.password_hash, PASSWORD)  # their password stays
    assert visitor.get("/account/registrations").status_code == 200  # signed in


def test_erasing_the_account_leaves_nothing_of_the_invitee(app, db, hosted):
    invitation = _invited(hosted)
    path = f"/stakeholders/invitation/{_token_of(db, invitation)}"
    assert _accept(app.test_client(), path).status_code == 302
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == INVITEE))
    privacy.erase(user)
    db.session.flush()
    kept = [json.dumps([entry.reason, entry.details]) for entry in db.session.scalars(
        select(AuditEntry))]
    kept += [f"{row.name} {row.email}" for row in db.session.scalars(
        select(StakeholderInvitation))]
    assert not [text for text in kept if "Ong Mei Xuan" in text or INVITEE in text]


# --------------------------------------------------------------------------- bad links


def test_a_forged_link_is_refused_and_changes_nothing(app, db, hosted):
    _invited(hosted)
    forged = tokens.make("reset-password", {"invitation": 1, "nonce": "x"})
    for token in ("garbage", forged, "a" * 300):
        _refused_without_change(app, db, f"/stakeholders/invitation/{token}",
                                "This invitation link is not valid")


def test_an_expired_link_is_refused_and_changes_nothing(app, db, hosted, frozen):
    invitation = _invited(hosted)
    path = f"/stakeholders/invitation/{_token_of(db, invitation)}"
    frozen.tick(timedelta(days=14, seconds=1))
    _refused_without_change(app, db, path, "This invitation link has expired")


def test_a_revoked_link_is_refused(app, db, client, login_as, hosted):
    invitation = _invited(hosted)
    path = f"/stakeholders/invitation/{_token_of(db, invitation)}"
    login_as(hosted.host)
    assert _press(client, hosted.event, invitation, "revoke").status_code == 302
    db.session.refresh(invitation)
    assert invitation.revoked_at is not None
    _refused_without_change(app, db, path, "withdrawn by the event")


def test_a_link_to_a_cancelled_event_is_refused(app, db, hosted):
    invitation = _invited(hosted)
    path = f"/stakeholders/invitation/{_token_of(db, invitation)}"
    hosted.event.status = EventStatus.CANCELLED
    db.session.flush()
    _refused_without_change(app, db, path, "for an event that has been cancelled")


def test_sending_again_replaces_the_link(app, db, client, login_as, hosted, frozen):
    invitation = _invited(hosted)
    old = f"/stakeholders/invitation/{_token_of(db, invitation)}"
    frozen.tick(timedelta(days=1))
    login_as(hosted.host)
    assert _press(client, hosted.event, invitation, "resend").status_code == 302
    new = f"/stakeholders/invitation/{_token_of(db, invitation)}"
    assert new != old
    visitor = app.test_client()
    assert "replaced by a newer one" in visitor.get(old).get_data(as_text=True)
    assert _accept(visitor, new).status_code == 302
    assert _accepted_count(db) == 1


# --------------------------------------------------------------------------- the host's side


def test_another_events_host_and_members_may_not_invite(db, client, login_as, make, hosted):
    member = make.user(make.organization(make.partner()))
    for user, status in ((hosted.other_host, 403), (member, 403)):
        login_as(user)
        assert client.get(f"/events/{hosted.event.id}/stakeholders/").status_code == status
        response = client.post(f"/events/{hosted.event.id}/stakeholders/invite",
                               data={**_form(), "csrf_token": csrf_token(client, PROFILE)})
        assert response.status_code == status
    assert db.session.scalar(select(func.count()).select_from(StakeholderInvitation)) == 0


def test_an_invitation_is_acted_on_only_through_its_own_event(
        db, client, login_as, make, hosted):
    invitation = _invited(hosted)
    other = make.event(organizers=list(hosted.event.organizers), hosts=list(hosted.event.hosts))
    login_as(hosted.host)
    for action in ("revoke", "resend"):
        assert _press(client, other, invitation, action).status_code == 404
    db.session.refresh(invitation)
    assert invitation.revoked_at is None


def test_organizers_invite_too(db, client, login_as, hosted, mailbox):
    login_as(hosted.organizer)
    assert _invite(client, hosted.event).status_code == 302
    assert len(mailbox.to(INVITEE)) == 1


@pytest.mark.parametrize(("values", "message"), [
    (dict(email="not an address"), "Invalid email address."),
    (dict(name=""), "This field is required."),
    (dict(country="XX"), "Choose a country from the list."),
    (dict(language="tlh"), "Choose one of the languages offered."),
])
def test_bad_input_is_refused_beside_its_field_and_writes_nothing(
        db, client, login_as, hosted, values, message):
    login_as(hosted.host)
    before = _written(db)
    response = _invite(client, hosted.event, **values)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert 'id="error-summary"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert _written(db) == before
    assert db.session.scalar(select(func.count()).select_from(StakeholderInvitation)) == 0


def test_no_invitation_without_matchmaking_or_twice_while_waiting(
        db, client, login_as, make, hosted):
    login_as(hosted.host)
    assert _invite(client, hosted.event).status_code == 302
    twice = _invite(client, hosted.event, email=INVITEE.upper())
    assert twice.status_code == 400
    assert "already has an invitation to this event" in twice.get_data(as_text=True)
    assert 'id="email-error"' in twice.get_data(as_text=True)
    matchmaking.switch_off(hosted.event.id, actor=hosted.organizer)
    db.session.flush()
    off = _invite(client, hosted.event, email="someone@example.sg")
    assert off.status_code == 400 and "This event has no matchmaking." in off.get_data(
        as_text=True)
    assert db.session.scalar(select(func.count()).select_from(StakeholderInvitation)) == 1


def test_the_delegation_page_links_to_the_invitations_for_hosts(client, login_as, hosted):
    login_as(hosted.host)
    page = client.get(f"/events/{hosted.event.id}/delegation").get_data(as_text=True)
    assert f'href="/events/{hosted.event.id}/stakeholders/"' in page


def test_the_list_reads_the_same_number_of_queries_however_long(
        db, client, login_as, hosted, rendering):
    login_as(hosted.host)

    def grow(start: int, end: int) -> None:
        """Invitations `start` to `end`, every other one accepted (an account to show)."""
        for n in range(start, end):
            invitation = _invited(hosted, email=f"person{n}@example.sg", name=f"Person {n}")
            if n % 2:
                stakeholder_invitations.accept(_token_of(db, invitation),
                                               password_hash="x", privacy_version="1")
        db.session.flush()

    grow(0, 2)
    path = f"/events/{hosted.event.id}/stakeholders/"
    with count_queries() as few:
        assert client.get(path).status_code == 200
    grow(2, 20)
    with count_queries() as many:
        page = client.get(path)
        assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('data-testid="invitation-row"') == 20 and "Person 19" in html
    assert len(many) == len(few), "\n".join(many)
