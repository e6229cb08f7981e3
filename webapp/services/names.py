"""How people and their roles are named and put in order on lists and in print."""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l

from ..models import EventRole, Participant, Registration

ROLE_LABELS = {
    EventRole.DELEGATE: _l("Delegate"),
    EventRole.SPEAKER: _l("Speaker"),
    EventRole.ORGANIZER: _l("Organizer"),
    EventRole.HOST: _l("Host"),
    EventRole.STAFF: _l("Staff"),
}


def role_label(role: EventRole | str) -> str:
    return str(ROLE_LABELS.get(role, role))


def alphabetical(text: str) -> str:
    """Alphabetical for a reader: "Écrins" among the E's, not after the Z's."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def surname_first(name: str) -> tuple[str, str]:
    """A sort key by surname: the last word of a name written with spaces ("José Núñez"
    under N); a name written without them, as Chinese, Japanese and Korean names are,
    starts with the family name and sorts as written."""
    words = name.split()
    if len(words) < 2:
        return alphabetical(name), ""
    return alphabetical(words[-1]), alphabetical(" ".join(words[:-1]))


def cluster_name(registration: Registration) -> str:
    """The home cluster of the registrant's organization, "" when it has none."""
    organization = registration.user.organization
    cluster = organization.home_cluster if organization else None
    return cluster.name if cluster else ""


def by_cluster_then_surname(registration: Registration) -> tuple:
    """The order a desk hands out badges and reads a delegation: by cluster (those
    without one last), then surname."""
    cluster = cluster_name(registration)
    return (cluster == "", alphabetical(cluster), surname_first(registration.user.name),
            registration.id)


def participant_label(participant: Participant, *, known: bool = False) -> str:
    """A matchmaking participant as others see them: their organization; without one,
    their own name where they are `known` (to the other side of an agreed meeting, to the
    event's organizers), else a label that names nobody (before a meeting is agreed)."""
    user = participant.registration.user
    if user.organization is not None:
        return user.organization.name
    return user.name if known else str(_l("A participant without an organization"))
