"""Messages to the delegation: who may write to whom, what recipients get (by real SMTP
and on their registration page), the log, and refusals that send nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.test_delegation import build_delegation
from webapp.extensions import db as _db
from webapp.models import AuditEntry, DelegationMessage, OutboxMessage
from webapp.services import messages


def _path(w) -> str:
    return f"/events/{w.event.id}/delegation/messages"


def _post(client, w, audience, subject="Briefing on Monday", body="Meet at 08:30 in the lobby."):
    data = {"audience": str(audience), "subject": subject, "body": body,
            "csrf_token": csrf_token(client, _path(w))}
    return client.post(_path(w), data=data)


def _delegates(w):
    return {"ana": w.ana, "arno": w.arno, "bo": w.bo, "nina": w.nina}


def _received(mailbox, w) -> set[str]:
    return {name for name, reg in _delegates(w).items() if mailbox.to(reg.user.email)}


def _nothing_sent(mailbox):
    assert _db.session.scalar(select(func.count()).select_from(DelegationMessage)) == 0
    assert _db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert mailbox.messages == []


# --------------------------------------------------------------------------- sending


def test_organizer_writes_to_the_whole_approved_delegation(make, login_as, mailbox):
    w = build_delegation(make)
    client = login_as(w.organizer)
    response = _post(client, w, "all")
    assert response.status_code == 302
    assert _received(mailbox, w) == {"ana", "arno", "bo", "nina"}
    assert mailbox.to(w.member.email) == []  # submitted, not approved
    [mail] = mailbox.to(w.ana.user.email)
    assert mail["Subject"] == f"[{w.event.title}] Briefing on Monday"
    text = mailbox.text(mail)
    assert "Meet at 08:30 in the lobby." in text
    assert f"/account/registrations/{w.ana.id}" in text
    assert len(mailbox.messages) == 4


def test_organizer_writes_to_one_partners_delegates(make, login_as, mailbox):
    w = build_delegation(make)
    assert _post(login_as(w.organizer), w, w.cluster_b.id).status_code == 302
    assert _received(mailbox, w) == {"bo"}


def test_partner_manager_writes_to_own_clusters_delegates_only(make, login_as, mailbox):
    w = build_delegation(make)
    assert _post(login_as(w.manager_a), w, w.cluster_a.id).status_code == 302
    assert _received(mailbox, w) == {"ana", "arno"}


def test_manager_cannot_target_another_clusters_delegates(make, login_as, mailbox):
    w = build_delegation(make)
    response = _post(login_as(w.manager_a), w, w.cluster_b.id)
    assert response.status_code == 400
    _nothing_sent(mailbox)


def test_manager_cannot_write_to_the_whole_delegation(make, login_as, mailbox):
    w = build_delegation(make)
    assert _post(login_as(w.manager_a), w, "all").status_code == 400
    _nothing_sent(mailbox)


def test_the_service_refuses_an_out_of_scope_partner_too(make, mailbox):
    w = build_delegation(make)
    with pytest.raises(messages.MessageRefused):
        messages.send(w.manager_a, w.event, partner_id=w.cluster_b.id, subject="Hi", body="x")
    with pytest.raises(messages.MessageRefused):
        messages.send(w.manager_a, w.event, partner_id=None, subject="Hi", body="x")
    _db.session.rollback()
    _nothing_sent(mailbox)


@pytest.mark.parametrize(("subject", "body"), [
    ("", "Some text"), ("S" * 201, "Some text"), ("Subject", ""), ("Subject", "b" * 10_001),
])
def test_subject_and_body_are_validated(make, login_as, mailbox, subject, body):
    w = build_delegation(make)
    response = _post(login_as(w.organizer), w, "all", subject=subject, body=body)
    assert response.status_code == 400
    _nothing_sent(mailbox)


def test_longest_allowed_subject_and_body_go_out(make, login_as, mailbox):
    w = build_delegation(make)
    assert _post(login_as(w.organizer), w, w.cluster_b.id, subject="S" * 200,
                 body="b" * 10_000).status_code == 302
    assert _received(mailbox, w) == {"bo"}


def test_members_and_hosts_may_not_write(make, login_as, mailbox):
    w = build_delegation(make)
    for user in (w.member, w.ana.user, w.host):
        client = login_as(user)
        assert client.get(_path(w)).status_code == 403
    _nothing_sent(mailbox)


def test_a_message_is_recorded_with_its_recipients_and_audited(make, login_as, mailbox):
    w = build_delegation(make)
    _post(login_as(w.manager_a), w, w.cluster_a.id)
    [message] = _db.session.scalars(select(DelegationMessage)).all()
    assert message.sender_id == w.manager_a.id and message.partner_id == w.cluster_a.id
    assert {r.registration_id for r in message.recipients} == {w.ana.id, w.arno.id}
    [entry] = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == messages.SENT)).all()
    assert entry.actor_id == w.manager_a.id and entry.event_id == w.event.id
    assert entry.subject_id == message.id and entry.details["recipients"] == 2


# --------------------------------------------------------------------------- the log and the inbox


def test_log_lists_sender_audience_and_recipient_count(make, login_as, mailbox):
    w = build_delegation(make)
    client = login_as(w.organizer)
    _post(client, w, "all", subject="To everyone")
    _post(client, w, w.cluster_b.id, subject="To Bravo")
    html = client.get(_path(w)).get_data(as_text=True)
    assert html.index("To Bravo") < html.index("To everyone")  # newest first
    assert w.organizer.name in html and "The whole delegation" in html
    assert "Bravo Mobility" in html
    assert "<td>4</td>" in html and "<td>1</td>" in html


def test_managers_do_not_read_messages_to_other_clusters(make, login_as, mailbox):
    w = build_delegation(make)
    _post(login_as(w.organizer), w, "all", subject="To everyone")
    _post(login_as(w.manager_a), w, w.cluster_a.id, subject="Alpha only")
    html = login_as(w.manager_b).get(_path(w)).get_data(as_text=True)
    assert "To everyone" in html and "Alpha only" not in html
    assert "Alpha only" in login_as(w.organizer).get(_path(w)).get_data(as_text=True)


def test_recipients_find_the_message_on_their_registration_page(make, login_as, mailbox):
    w = build_delegation(make)
    _post(login_as(w.manager_a), w, w.cluster_a.id, subject="Alpha briefing")
    ana_page = login_as(w.ana.user).get(f"/account/registrations/{w.ana.id}")
    assert "Alpha briefing" in ana_page.get_data(as_text=True)
    bo_page = login_as(w.bo.user).get(f"/account/registrations/{w.bo.id}")
    assert "Alpha briefing" not in bo_page.get_data(as_text=True)


def test_a_delegate_approved_later_does_not_see_earlier_messages(make, login_as, mailbox):
    w = build_delegation(make)
    _post(login_as(w.organizer), w, "all", subject="Before you joined")
    page = login_as(w.member).get(f"/account/registrations/{w.member_reg.id}")
    assert "Before you joined" not in page.get_data(as_text=True)
