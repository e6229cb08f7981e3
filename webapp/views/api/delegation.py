"""An event's approved delegation, as its page and its CSV show it to the same user."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from ... import access
from ...models import utcnow
from ...problems import ApiProblem
from ...services import delegation, exports
from .. import private_download
from . import present, schemas
from .registry import operation

CSV = "text/csv"
JSON = "application/json"


@operation("GET", "/events/{event_id}/delegation", tag="delegation",
           summary="The event's approved delegation (JSON, or CSV with Accept: text/csv)",
           response=schemas.Delegation, alternatives=(CSV,), problems=(403, 404, 406))
def event_delegation(path: schemas.EventPath):
    """Grouped by responsible cluster. Organizers and partner managers see it, and the
    event's beachhead hosts; email and phone are filled only for the delegates you may
    contact (your own clusters', or those who agreed to share them with the hosts)."""
    event = access.authorized_event(path.event_id, "event.delegation")
    wanted = request.accept_mimetypes.best_match([JSON, CSV]) if request.accept_mimetypes \
        else JSON
    if wanted is None:
        raise ApiProblem(406, "This list is served as application/json or text/csv.")
    if wanted == CSV:
        filename = f"delegation-{event.slug}-{utcnow().date().isoformat()}.csv"
        return private_download(delegation.delegation_csv(current_user, event),
                                exports.CSV_MIMETYPE, filename)
    listed = delegation.delegation_for(current_user, event)
    return schemas.Delegation(event=present.event_ref(event), groups=[
        schemas.DelegationGroup(
            partner=present.partner(group.partner), label=group.label,
            delegates=[schemas.Delegate(
                registration_id=d.registration_id, name=d.name, organization=d.organization,
                country=d.country, sector=d.sector, role=d.role, dietary=d.dietary,
                email=d.email or None, phone=d.phone or None) for d in group.delegates])
        for group in listed.groups])
