"""Agreements: partner managers list and record their own clusters' agreements, admins
everyone's; another cluster's agreement is an unknown id (404). Members and hosts may not
(403). The POSTs send empty forms, refused, so the world stays as it was."""

from __future__ import annotations

from tests.matrix import LOGIN, Case, statuses
from webapp.extensions import db
from webapp.models import (
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    AgreementType,
)


def managers(status, **by_role):
    return statuses(403, **{"anonymous": LOGIN, "manager_a": status, "manager_b": status,
                            "organizer": status, "admin": status, **by_role})


def cluster_a(status):
    """Cluster A's agreement: its managers and admins; other managers find none."""
    return managers(404, manager_a=status, admin=status)


def build(make, users, base):
    agreement = Agreement(
        kind=AgreementKind.PARTNERSHIP, type=AgreementType.MEMORANDUM,
        status=AgreementStatus.IN_NEGOTIATION, title="Cluster A with its beachhead",
        responsible_partner=base["cluster_a"],
        parties=[AgreementParty(position=0, partner=base["cluster_a"]),
                 AgreementParty(position=1, partner=base["beachhead"])])
    db.session.add(agreement)
    db.session.flush()
    return dict(agreement=agreement.id)


def _agreement(w):
    return f"/agreements/{w.extra['agreement']}"


CASES = [
    Case("agreements.index", "list", "GET", lambda w: "/agreements/", managers(200)),
    Case("agreements.index", "bad page", "GET", lambda w: "/agreements/?page=-2",
         managers(200)),
    Case("agreements.agreement_new", "form", "GET", lambda w: "/agreements/new", managers(200)),
    Case("agreements.agreement_new", "empty", "POST", lambda w: "/agreements/new",
         managers(400)),
    Case("agreements.agreement_edit", "cluster A's", "GET", _agreement, cluster_a(200)),
    Case("agreements.agreement_edit", "cluster A's, empty", "POST", _agreement,
         cluster_a(400)),
    Case("agreements.agreement_edit", "unknown", "GET", lambda w: "/agreements/999999",
         managers(404)),
]
