"""Factories that build exactly the objects a test needs, with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from webapp.extensions import db
from webapp.models import (
    Event,
    EventKind,
    EventSession,
    EventStatus,
    Helix,
    Organization,
    OrganizationSize,
    Partner,
    PartnerKind,
    Registration,
    Role,
    User,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import accounts, registrations

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


class Factory:
    """`make.partner()`, `make.user(...)`, ... add to the current session and flush."""

    def _n(self) -> int:
        return next(_seq)

    def partner(self, kind: PartnerKind = PartnerKind.CLUSTER, *, is_member=True, **kw) -> Partner:
        n = self._n()
        values = dict(
            name=f"Cluster {n}", short_name=f"C{n}", slug=f"cluster-{n}", kind=kind,
            is_member=is_member if kind == PartnerKind.CLUSTER else False,
            country="BE", city="Gent",
        )
        values.update(kw)
        partner = Partner(**values)
        db.session.add(partner)
        db.session.flush()
        return partner

    def beachhead(self, **kw) -> Partner:
        kw.setdefault("country", "SG")
        kw.setdefault("city", "Singapore")
        return self.partner(PartnerKind.BEACHHEAD, **kw)

    def organization(self, cluster: Partner | None = None, **kw) -> Organization:
        n = self._n()
        values = dict(
            name=f"Company {n}", country="BE", size=OrganizationSize.SMALL,
            helix=Helix.INDUSTRY, home_cluster=cluster, profile="We build smart-city sensors.",
        )
        values.update(kw)
        org = Organization(**values)
        db.session.add(org)
        db.session.flush()
        return org

    def user(
        self,
        organization: Organization | None = None,
        *,
        roles: list[tuple[Role, Partner | None]] = (),
        password: str | None = PASSWORD,
        **kw,
    ) -> User:
        n = self._n()
        user = accounts.create_user(
            kw.pop("email", f"user{n}@example.org"), kw.pop("name", f"User {n}"), password,
            organization=organization,
        )
        for key, value in kw.items():
            setattr(user, key, value)
        for role, partner in roles:
            accounts.grant(user, role, partner)
        db.session.flush()
        return user

    def admin(self, **kw) -> User:
        return self.user(roles=[(Role.ADMIN, None)], **kw)

    def manager(self, partner: Partner, **kw) -> User:
        return self.user(roles=[(Role.PARTNER_MANAGER, partner)], **kw)

    def host(self, beachhead: Partner, **kw) -> User:
        return self.user(roles=[(Role.BEACHHEAD_HOST, beachhead)], **kw)

    def event(
        self,
        *,
        organizers: list[Partner] = (),
        hosts: list[Partner] = (),
        starts_in: timedelta = timedelta(days=60),
        duration: timedelta = timedelta(days=3),
        **kw,
    ) -> Event:
        n = self._n()
        start = kw.pop("starts_at", None) or (utcnow() + starts_in).replace(microsecond=0)
        values = dict(
            kind=EventKind.OUTBOUND_MISSION, title=f"Mission {n}", slug=f"mission-{n}",
            target_country="SG", target_city="Singapore", timezone="Asia/Singapore",
            starts_at=start, ends_at=start + duration, status=EventStatus.PUBLISHED,
            requires_approval=True,
        )
        values.update(kw)
        event = Event(**values)
        event.organizers = list(organizers)
        event.hosts = list(hosts)
        db.session.add(event)
        db.session.flush()
        return event

    def session(self, event: Event, **kw) -> EventSession:
        values = dict(
            title="Company visit",
            starts_at=event.starts_at,
            ends_at=event.starts_at + timedelta(hours=2),
        )
        values.update(kw)
        item = EventSession(event=event, **values)
        db.session.add(item)
        db.session.flush()
        return item

    def registration(
        self, event: Event, user: User, *path: S, actor: User | None = None
    ) -> Registration:
        """A registration that went through `path` (default: just submitted)."""
        steps = [(status, utcnow(), actor or user, "") for status in (path or (S.SUBMITTED,))]
        org = user.organization
        reg = registrations.record_history(
            user, event, steps, responsible_partner_id=org.home_cluster_id if org else None
        )
        db.session.flush()
        return reg


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
