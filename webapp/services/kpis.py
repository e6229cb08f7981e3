"""The partnership's KPIs, counted in the database from what happened on the platform.

Definitions (for a period of event start dates, and agreement signing dates):
- **SMEs served**: distinct SMEs (industry, micro to medium size) of a cluster (the
  registration has a responsible partner: the SME's home cluster when it applied) with an
  approved registration to a mission that has an attendance (checked in inside the
  event's check-in window, `checkin.counted`; one outside it counts nowhere). The sources of
  served SMEs are listed in `served_sme_sources`; survey outcomes join them there.
- **Regional clusters involved**: partners of kind cluster (members or not) that
  co-organized an event of the period or are responsible for a delegate who attended one.
- **Partnership / collaboration agreements signed**: agreements of that kind signed in the
  period and signed or ended since (one in negotiation is not signed).
- **Delegates**: approved, attended registrations to missions, hosts and staff aside.
- **Webinar attendance**: approved registrations to webinars that joined (an attendance
  that counts: a join link opened, or a badge checked in inside the window).

Every count is a GROUP BY in SQL; the number of queries does not depend on the data.
Titles, headers and words in cells ("yes", an agreement's kind) are written in the
language being rendered: the reader's page, or the file's requester's (services.downloads).
`clusters` narrows a figure to registrations (and agreements) some clusters are
responsible for; None means the whole partnership.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    distinct,
    extract,
    func,
    literal,
    null,
    or_,
    select,
    union,
    union_all,
)

from ..extensions import db
from ..models import (
    DIRECT_ROLES,
    MISSION_KINDS,
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    AgreementType,
    Attendance,
    Event,
    EventKind,
    Helix,
    MeetingFollowUp,
    Organization,
    OrganizationSize,
    Partner,
    PartnerKind,
    Registration,
    RegistrationStatus,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
    User,
    event_organizers,
)
from . import checkin, surveys
from .agreements import EU_COUNTRIES
from .fields import Refused

SME_SIZES = (OrganizationSize.MICRO, OrganizationSize.SMALL, OrganizationSize.MEDIUM)
SIGNED = (AgreementStatus.SIGNED, AgreementStatus.ENDED)

FIGURES = ("smes", "clusters", "partnership_agreements", "collaboration_agreements",
           "delegates", "webinar_attendance", "satisfaction")
FIGURE_LABELS = {
    "smes": _l("SMEs served"),
    "clusters": _l("Regional clusters involved"),
    "partnership_agreements": _l("Partnership agreements signed"),
    "collaboration_agreements": _l("Collaboration agreements signed"),
    "delegates": _l("Mission delegates (attended)"),
    "webinar_attendance": _l("Webinar attendance"),
    "satisfaction": _l("Satisfaction (1-5, first follow-up survey)"),
}
# The same words as the agreement pages'.
AGREEMENT_KIND_LABELS = {AgreementKind.PARTNERSHIP: _l("Partnership agreement"),
                         AgreementKind.COLLABORATION: _l("Collaboration agreement")}
AGREEMENT_TYPE_LABELS = {
    AgreementType.MEMORANDUM: _l("Memorandum of understanding"),
    AgreementType.BUSINESS_PARTNERSHIP: _l("Business partnership"),
    AgreementType.RESEARCH_COLLABORATION: _l("Research collaboration"),
    AgreementType.JOINT_PROJECT_PROPOSAL: _l("Joint project proposal"),
    AgreementType.OTHER: _l("Other"),
}


def _label(labels: Mapping, value: Any) -> str:
    """A stored value's words (the value itself, spaced, for one without a label)."""
    found = labels.get(value)
    return str(found) if found is not None else str(value).replace("_", " ")


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")
AGREEMENT_FIGURES = {"partnership_agreements": AgreementKind.PARTNERSHIP,
                     "collaboration_agreements": AgreementKind.COLLABORATION}


# --------------------------------------------------------------------------- the period


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included (UTC days); None: open on that side."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise Refused("period.end_before_start", "end")

    def instants(self, column) -> list:
        clauses = []
        if self.start:
            clauses.append(column >= datetime.combine(self.start, time(), tzinfo=UTC))
        if self.end:
            clauses.append(column <= datetime.combine(self.end, time.max, tzinfo=UTC))
        return clauses

    def days(self, column) -> list:
        clauses = []
        if self.start:
            clauses.append(column >= self.start)
        if self.end:
            clauses.append(column <= self.end)
        return clauses

    def label(self) -> str:
        if not (self.start or self.end):
            return _("all time")
        return f"{self.start or '…'} – {self.end or '…'}"


@dataclass(frozen=True)
class Filters:
    """What a figure's detail rows are narrowed to (each None: not narrowed)."""

    year: int | None = None
    event_id: int | None = None
    country: str | None = None  # the event's target country
    cluster_id: int | None = None

    def params(self) -> dict[str, Any]:
        return {k: v for k, v in (("year", self.year), ("event", self.event_id),
                                  ("country", self.country), ("cluster", self.cluster_id))
                if v is not None}


# --------------------------------------------------------------------------- the sources


def _attended():
    """An attendance of the registration that counts (a query with its Event joined)."""
    return select(Attendance.id).where(Attendance.registration_id == Registration.id,
                                       checkin.counted()).exists()


def attended_registrations(period: Period, clusters: Iterable[int] | None) -> Select:
    """Approved, attended registrations of the period's events (hosts and staff aside),
    with what the breakdowns group by."""
    query = (
        select(Registration.id.label("registration_id"),
               Registration.event_id.label("event_id"),
               Registration.responsible_partner_id.label("cluster_id"),
               Registration.user_id.label("user_id"))
        .join(Event, Event.id == Registration.event_id)
        .where(Registration.status == RegistrationStatus.APPROVED,
               Registration.role.not_in(DIRECT_ROLES), _attended(),
               *period.instants(Event.starts_at))
    )
    if clusters is not None:
        query = query.where(Registration.responsible_partner_id.in_(list(clusters)))
    return query


def _smes_that_attended(period: Period, clusters: Iterable[int] | None) -> Select:
    rows = attended_registrations(period, clusters).subquery()
    return (
        select(Organization.id.label("organization_id"), rows.c.event_id, rows.c.cluster_id)
        .select_from(rows)
        .join(Event, Event.id == rows.c.event_id)
        .join(User, User.id == rows.c.user_id)
        .join(Organization, Organization.id == User.organization_id)
        .where(Event.kind.in_(MISSION_KINDS), rows.c.cluster_id.is_not(None),
               Organization.helix == Helix.INDUSTRY, Organization.size.in_(SME_SIZES))
    )


def _smes_with_confirmed_outcome(period: Period, clusters: Iterable[int] | None) -> Select:
    """SMEs whose delegate reported an agreement from a mission of the period that their
    partner manager confirmed as a signed agreement record (services.surveys)."""
    outcomes = surveys.confirmed_outcomes().subquery()
    query = (
        select(Organization.id.label("organization_id"),
               Registration.event_id.label("event_id"),
               Registration.responsible_partner_id.label("cluster_id"))
        .select_from(outcomes)
        .join(Registration, Registration.id == outcomes.c.registration_id)
        .join(Event, Event.id == Registration.event_id)
        .join(User, User.id == Registration.user_id)
        .join(Organization, Organization.id == User.organization_id)
        .where(Event.kind.in_(MISSION_KINDS), Registration.responsible_partner_id.is_not(None),
               Organization.helix == Helix.INDUSTRY, Organization.size.in_(SME_SIZES),
               *period.instants(Event.starts_at))
    )
    if clusters is not None:
        query = query.where(Registration.responsible_partner_id.in_(list(clusters)))
    return query


def served_sme_sources(period: Period, clusters: Iterable[int] | None) -> list[Select]:
    """Each source of served SMEs, as (organization_id, event_id, cluster_id) rows: the
    SMEs that attended a mission, and those with an outcome their partner manager
    confirmed from a follow-up survey. Every SME figure, breakdown and detail list counts
    their union, distinct by organization."""
    return [_smes_that_attended(period, clusters),
            _smes_with_confirmed_outcome(period, clusters)]


def served_smes(period: Period, clusters: Iterable[int] | None):
    sources = served_sme_sources(period, clusters)
    return (union(*sources) if len(sources) > 1 else sources[0]).subquery()


def _involved_cluster_ids(period: Period, clusters: Iterable[int] | None):
    organizing = (select(event_organizers.c.partner_id.label("partner_id"))
                  .join(Event, Event.id == event_organizers.c.event_id)
                  .where(*period.instants(Event.starts_at)))
    delegating = (select(Registration.responsible_partner_id.label("partner_id"))
                  .where(Registration.id.in_(
                      select(attended_registrations(period, None).subquery().c.registration_id)))
                  .where(Registration.responsible_partner_id.is_not(None)))
    query = select(Partner.id).where(
        Partner.kind == PartnerKind.CLUSTER,
        or_(Partner.id.in_(organizing), Partner.id.in_(delegating)))
    if clusters is not None:
        query = query.where(Partner.id.in_(list(clusters)))
    return query


def signed_agreements(period: Period, clusters: Iterable[int] | None) -> Select:
    query = select(Agreement).where(Agreement.status.in_(SIGNED),
                                    *period.days(Agreement.signed_on))
    if clusters is not None:
        query = query.where(Agreement.responsible_partner_id.in_(list(clusters)))
    return query


def _party_country():
    return func.coalesce(Partner.country, Organization.country)


def _target_region_parties():
    """(agreement_id, country) of every party outside the EU: the agreement's target region."""
    country = _party_country()
    return (select(AgreementParty.agreement_id, country.label("country"))
            .outerjoin(Partner, Partner.id == AgreementParty.partner_id)
            .outerjoin(Organization, Organization.id == AgreementParty.organization_id)
            .where(country.not_in(sorted(EU_COUNTRIES))).subquery())


# --------------------------------------------------------------------------- the counts


@dataclass(frozen=True)
class _EventRow:
    id: int
    title: str
    starts_at: datetime
    kind: EventKind
    country: str

    @property
    def mission(self) -> bool:
        return self.kind in MISSION_KINDS


@dataclass(frozen=True)
class _Signed:
    """A signed agreement, with what its breakdowns group by."""

    id: int
    kind: str  # AgreementKind's value
    year: int
    origin_event_id: int | None
    responsible_partner_id: int
    countries: frozenset[str]  # its target region: its parties' countries outside the EU


@dataclass
class Counts:
    """What every figure and breakdown of a period within some clusters counts.

    The attended registrations are found once, in one statement whose common table
    expressions the database computes once (materialized, being used more than once): it
    returns them grouped by event and by cluster, and the distinct served SMEs in all and
    by event, year, target country and cluster (distinct counts do not add up, so each is
    its own GROUP BY over the same rows). The events of the period, the clusters that
    organized them, the signed agreements and the partners involved are small reads. The
    breakdowns are sums of these rows in Python, over events and clusters, never over
    registrations; so the statements do not depend on the data, and nor does the work in
    Python beyond one step per event."""

    events: dict[int, _EventRow]
    attended: dict[int, int]  # event id: its attended registrations
    cluster_delegates: dict[int | None, int]  # cluster: its attended mission delegates
    delegating: set[int]  # clusters responsible for an attended registration
    smes: int
    smes_by: dict[str, dict[Any, int]]  # "event", "year", "country", "cluster": {key: SMEs}
    organized: dict[int, int]  # partner: events of the period it co-organized
    involved: list[tuple[int, str, bool]]  # (id, short name, member), members first
    signed: list[_Signed]

    def delegates(self) -> int:
        return sum(n for event_id, n in self.attended.items() if self.events[event_id].mission)

    def webinar_attendance(self) -> int:
        return sum(n for event_id, n in self.attended.items()
                   if self.events[event_id].kind == EventKind.WEBINAR)

    def signed_by(self, key) -> dict[tuple, int]:
        """Signed agreements counted by `key(agreement)` and kind: {(key, kind): count}."""
        counted: dict[tuple, int] = {}
        for agreement in self.signed:
            for value in key(agreement):
                counted[(value, agreement.kind)] = counted.get((value, agreement.kind), 0) + 1
        return counted


def _event_year():
    return cast(_year(Event.starts_at), Integer)


def _attended_cte(period: Period, clusters: list[int] | None):
    """The attended registrations with their event's kind, year and target country, and
    their delegate's organization when it is an SME (else None): joined here, once, so
    the planner joins the whole set at a time rather than row by row further on."""
    sme = and_(Organization.id == User.organization_id, Organization.helix == Helix.INDUSTRY,
               Organization.size.in_(SME_SIZES))
    return (attended_registrations(period, clusters)
            .add_columns(Event.kind.label("kind"), _event_year().label("year"),
                         Event.target_country.label("country"),
                         Organization.id.label("sme_id"))
            .join(User, User.id == Registration.user_id)
            .outerjoin(Organization, sme)
            .cte("attended"))


def _served(attended, period: Period, clusters: list[int] | None):
    """The served SMEs as (organization_id, event_id, cluster_id, year, country) rows:
    those of the `attended` rows (as `_smes_that_attended` finds them) and those with a
    confirmed outcome. Not made distinct: every count of them counts distinct
    organizations."""
    from_attended = (
        select(attended.c.sme_id.label("organization_id"), attended.c.event_id,
               attended.c.cluster_id, attended.c.year, attended.c.country)
        .where(attended.c.kind.in_(MISSION_KINDS), attended.c.cluster_id.is_not(None),
               attended.c.sme_id.is_not(None)))
    confirmed = _smes_with_confirmed_outcome(period, clusters).add_columns(
        _event_year().label("year"), Event.target_country.label("country"))
    return union_all(from_attended, confirmed).cte("served")


def _grouped(period: Period, clusters: list[int] | None) -> list[tuple]:
    """One statement: (what, key, text key, count, count) rows, `what` naming the grouping."""
    attended = _attended_cte(period, clusters)
    served = _served(attended, period, clusters)
    no_key, no_text = cast(null(), Integer), cast(null(), String)
    mission = attended.c.kind.in_(MISSION_KINDS)
    smes = func.count(distinct(served.c.organization_id))
    parts = [
        select(literal("event"), attended.c.event_id, no_text, func.count(), literal(0))
        .group_by(attended.c.event_id),
        select(literal("cluster"), attended.c.cluster_id, no_text,
               func.count(case((mission, 1))), func.count()).group_by(attended.c.cluster_id),
        select(literal("smes"), no_key, no_text, smes, literal(0)),
        *(select(literal(f"sme_{name}"), column if name != "country" else no_key,
                 column if name == "country" else no_text, smes, literal(0)).group_by(column)
          for name, column in (("event", served.c.event_id), ("cluster", served.c.cluster_id),
                               ("year", served.c.year), ("country", served.c.country))),
    ]
    return db.session.execute(union_all(*parts)).all()


def _signed_rows(period: Period, clusters: list[int] | None) -> list[_Signed]:
    """The signed agreements of the period with their target countries (two statements)."""
    agreements = signed_agreements(period, clusters).subquery()
    parties = _target_region_parties()
    countries: dict[int, set[str]] = {}
    for agreement_id, country in db.session.execute(
            select(parties.c.agreement_id, parties.c.country)
            .join(agreements, agreements.c.id == parties.c.agreement_id)):
        countries.setdefault(agreement_id, set()).add(country)
    return [_Signed(id_, AgreementKind(kind).value, signed_on.year, origin, responsible,
                    frozenset(countries.get(id_, ())))
            for id_, kind, signed_on, origin, responsible in db.session.execute(
                select(agreements.c.id, agreements.c.kind, agreements.c.signed_on,
                       agreements.c.origin_event_id, agreements.c.responsible_partner_id))]


def counts(period: Period, clusters: Iterable[int] | None) -> Counts:
    """The counts behind every figure and breakdown (six statements, whatever the data)."""
    clusters = None if clusters is None else list(clusters)
    attended: dict[int, int] = {}
    cluster_delegates: dict[int | None, int] = {}
    delegating: set[int] = set()
    smes = 0
    smes_by: dict[str, dict[Any, int]] = {"event": {}, "year": {}, "country": {},
                                          "cluster": {}}
    for what, key, text_key, first, second in _grouped(period, clusters):
        if what == "event":
            attended[key] = first
        elif what == "cluster":
            cluster_delegates[key] = first
            if key is not None and second:
                delegating.add(key)
        elif what == "smes":
            smes = first
        else:
            smes_by[what.removeprefix("sme_")][text_key if what == "sme_country" else key] = first
    events = {row[0]: _EventRow(*row) for row in db.session.execute(
        select(Event.id, Event.title, Event.starts_at, Event.kind, Event.target_country)
        .where(*period.instants(Event.starts_at)))}
    organized = dict(db.session.execute(
        select(event_organizers.c.partner_id, func.count())
        .join(Event, Event.id == event_organizers.c.event_id)
        .where(*period.instants(Event.starts_at))
        .group_by(event_organizers.c.partner_id)).all())
    candidates = set(organized) | delegating
    if clusters is not None:
        candidates &= set(clusters)
    involved = [tuple(row) for row in db.session.execute(
        select(Partner.id, Partner.short_name, Partner.is_member)
        .where(Partner.kind == PartnerKind.CLUSTER, Partner.id.in_(sorted(candidates)))
        .order_by(Partner.is_member.desc(), Partner.short_name))]
    return Counts(events=events, attended=attended, cluster_delegates=cluster_delegates,
                  delegating=delegating, smes=smes, smes_by=smes_by, organized=organized,
                  involved=involved, signed=_signed_rows(period, clusters))


def _agreement_columns() -> list[str]:
    return [_("Partnership agreements signed"), _("Collaboration agreements signed")]


AGREEMENT_COLUMN_FIGURES = ["partnership_agreements", "collaboration_agreements"]


def _agreement_cells(signed: dict, key) -> list[int]:
    return [signed.get((key, "partnership"), 0), signed.get((key, "collaboration"), 0)]


# --------------------------------------------------------------------------- the headline


@dataclass
class Headline:
    smes: int = 0
    clusters: int = 0
    partnership_agreements: int = 0
    collaboration_agreements: int = 0
    delegates: int = 0
    webinar_attendance: int = 0
    satisfaction: float | None = None  # the mean of the first survey round's answers
    satisfaction_answers: int = 0

    def value(self, figure: str) -> int | str:
        if figure == "satisfaction":
            if self.satisfaction is None:
                return "-"
            return ngettext("%(mean).1f (%(num)d answer)", "%(mean).1f (%(num)d answers)",
                            self.satisfaction_answers, mean=self.satisfaction)
        return getattr(self, figure)


def headline(period: Period, clusters: Iterable[int] | None = None, *,
             counted: Counts | None = None) -> Headline:
    """The seven figures: the counts (`counts`, unless given) and the survey's mean."""
    clusters = None if clusters is None else list(clusters)
    counted = counted or counts(period, clusters)
    result = Headline(smes=counted.smes, clusters=len(counted.involved),
                      delegates=counted.delegates(),
                      webinar_attendance=counted.webinar_attendance())
    for (_all, kind), number in counted.signed_by(lambda a: [None]).items():
        setattr(result, f"{kind}_agreements", number)
    answers = first_survey_answers(period, clusters).subquery()
    mean, count = db.session.execute(
        select(func.avg(answers.c.satisfaction), func.count())).one()
    result.satisfaction = None if mean is None else float(mean)
    result.satisfaction_answers = count
    return result


def first_survey_answers(period: Period, clusters: Iterable[int] | None) -> Select:
    """The first follow-up survey's answers about the period's missions, as (satisfaction,
    registration_id, event_id, cluster_id, answered_at) rows (services.surveys asks only
    the delegates who attended)."""
    query = (select(SurveyResponse.satisfaction, Registration.id.label("registration_id"),
                    Registration.event_id.label("event_id"),
                    Registration.responsible_partner_id.label("cluster_id"),
                    SurveyResponse.answered_at)
             .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
             .join(Registration, Registration.id == SurveyInvitation.registration_id)
             .join(Event, Event.id == Registration.event_id)
             .where(SurveyInvitation.round == SurveyRound.FIRST,
                    *period.instants(Event.starts_at)))
    if clusters is not None:
        query = query.where(Registration.responsible_partner_id.in_(list(clusters)))
    return query


# --------------------------------------------------------------------------- breakdowns


@dataclass
class Table:
    """A breakdown: a header, rows of cells, and for each row the filters its figures'
    detail rows are narrowed to."""

    name: str
    title: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    filters: list[Filters] = field(default_factory=list)
    # For each column after the first: the figure its numbers count (None: not a count).
    figures: list[str | None] = field(default_factory=list)
    # Set on a table that shows only some rows (`top`): how many rows the whole table has.
    of: int | None = None
    ranked: bool = False  # ... and shows those with the largest numbers (else the latest)

    def chart(self, column: int = 1) -> list[tuple[str, int]]:
        return [(str(row[0]), int(row[column] or 0)) for row in self.rows]

    def top(self, limit: int, column: int | None = None) -> Table:
        """The `limit` rows with the largest numbers in `column` (among equals, in this
        table's order), or with no column the last `limit` rows; the whole table when it
        has no more rows than that."""
        if len(self.rows) <= limit:
            return self
        order = range(len(self.rows))
        if column is None:
            kept = list(order)[-limit:]
        else:
            kept = sorted(order, key=lambda n: -(self.rows[n][column] or 0))[:limit]
        return Table(self.name, self.title, self.header, [self.rows[n] for n in kept],
                     [self.filters[n] for n in kept], self.figures, of=len(self.rows),
                     ranked=column is not None)


def _year(column):
    return extract("year", column)


def by_year(period: Period, clusters: Iterable[int] | None, *,
            counted: Counts | None = None) -> Table:
    counted = counted or counts(period, clusters)
    regs: dict[int, list[int]] = {}
    for event_id, number in counted.attended.items():
        event = counted.events[event_id]
        cells = regs.setdefault(event.starts_at.year, [0, 0])
        if event.mission:
            cells[0] += number
        elif event.kind == EventKind.WEBINAR:
            cells[1] += number
    sme_years = counted.smes_by["year"]
    signed = counted.signed_by(lambda a: [a.year])
    years = sorted(set(sme_years) | set(regs) | {year for year, _kind in signed})
    table = Table("by_year", _("By year"),
                  [_("Year"), _("SMEs served"), _("Mission delegates"), _("Webinar attendance"),
                   *_agreement_columns()],
                  figures=["smes", "delegates", "webinar_attendance",
                           "partnership_agreements", "collaboration_agreements"])
    for year in years:
        delegates, webinar_attendance = regs.get(year, (0, 0))
        table.rows.append([year, sme_years.get(year, 0), delegates, webinar_attendance,
                           *_agreement_cells(signed, year)])
        table.filters.append(Filters(year=year))
    return table


def _attended_events(counted: Counts, kinds) -> list[tuple[_EventRow, int]]:
    """The events of `kinds` with attended registrations, by their start."""
    return sorted(((counted.events[event_id], number)
                   for event_id, number in counted.attended.items()
                   if counted.events[event_id].kind in kinds),
                  key=lambda pair: (pair[0].starts_at, pair[0].id))


def by_mission(period: Period, clusters: Iterable[int] | None, *,
               counted: Counts | None = None) -> Table:
    counted = counted or counts(period, clusters)
    signed = counted.signed_by(lambda a: [a.origin_event_id])
    smes = counted.smes_by["event"]
    table = Table("by_mission", _("Delegates per mission"),
                  [_("Mission"), _("Starts (UTC)"), _("Target country"), _("Delegates"),
                   _("SMEs served"),
                   *_agreement_columns()],
                  figures=[None, None, "delegates", "smes", *AGREEMENT_COLUMN_FIGURES])
    for event, number in _attended_events(counted, MISSION_KINDS):
        table.rows.append([event.title, event.starts_at.strftime("%Y-%m-%d"), event.country,
                           number, smes.get(event.id, 0), *_agreement_cells(signed, event.id)])
        table.filters.append(Filters(event_id=event.id))
    return table


def by_region(period: Period, clusters: Iterable[int] | None, *,
              counted: Counts | None = None) -> Table:
    counted = counted or counts(period, clusters)
    missions: dict[str, list[int]] = {}
    for event, number in _attended_events(counted, MISSION_KINDS):
        cells = missions.setdefault(event.country, [0, 0])
        cells[0] += 1
        cells[1] += number
    # A collaboration agreement's target region is the country of its party outside the EU.
    signed = counted.signed_by(lambda a: a.countries)
    smes = counted.smes_by["country"]
    table = Table("by_region", _("By target country"),
                  [_("Target country"), _("Missions"), _("Delegates"), _("SMEs served"),
                   *_agreement_columns()],
                  figures=[None, "delegates", "smes", *AGREEMENT_COLUMN_FIGURES])
    for country in sorted(set(missions) | {country for country, _kind in signed}):
        number, delegates = missions.get(country, (0, 0))
        table.rows.append([country, number, delegates, smes.get(country, 0),
                           *_agreement_cells(signed, country)])
        table.filters.append(Filters(country=country))
    return table


def by_cluster(period: Period, clusters: Iterable[int] | None, *,
               counted: Counts | None = None) -> Table:
    counted = counted or counts(period, clusters)
    signed = counted.signed_by(lambda a: [a.responsible_partner_id])
    smes = counted.smes_by["cluster"]
    table = Table("by_cluster", _("By regional cluster"),
                  [_("Cluster"), _("Member"), _("Events co-organized"), _("Delegates"),
                   _("SMEs served"),
                   *_agreement_columns()],
                  figures=[None, None, "delegates", "smes", *AGREEMENT_COLUMN_FIGURES])
    for partner_id, name, member in counted.involved:
        table.rows.append([name, _yes_no(member),
                           counted.organized.get(partner_id, 0),
                           counted.cluster_delegates.get(partner_id, 0),
                           smes.get(partner_id, 0), *_agreement_cells(signed, partner_id)])
        table.filters.append(Filters(cluster_id=partner_id))
    return table


def webinars(period: Period, clusters: Iterable[int] | None, *,
             counted: Counts | None = None) -> Table:
    counted = counted or counts(period, clusters)
    table = Table("webinars", _("Webinar attendance"),
                  [_("Webinar"), _("Starts (UTC)"), _("Attended")],
                  figures=[None, "webinar_attendance"])
    for event, number in _attended_events(counted, {EventKind.WEBINAR}):
        table.rows.append([event.title, event.starts_at.strftime("%Y-%m-%d %H:%M UTC"), number])
        table.filters.append(Filters(event_id=event.id))
    return table


def delegations_by_cluster(period: Period, clusters: Iterable[int] | None, *,
                           counted: Counts | None = None) -> Table:
    """Each mission's attended delegates, cluster by cluster (one statement of its own:
    the counts have no row per mission and cluster)."""
    rows = attended_registrations(period, clusters).subquery()
    query = (select(Event.id, Event.title, Event.starts_at,
                    func.coalesce(Partner.short_name, literal(_("(organizers)"))), func.count())
             .select_from(rows).join(Event, Event.id == rows.c.event_id)
             .outerjoin(Partner, Partner.id == rows.c.cluster_id)
             .where(Event.kind.in_(MISSION_KINDS))
             .group_by(Event.id, Event.title, Event.starts_at, Partner.short_name)
             .order_by(Event.starts_at, Partner.short_name))
    table = Table("delegations", _("Missions: delegations by cluster"),
                  [_("Mission"), _("Starts (UTC)"), _("Cluster"), _("Delegates")],
                  figures=[None, None, "delegates"])
    for event_id, title, starts_at, cluster, count in db.session.execute(query):
        table.rows.append([title, starts_at.strftime("%Y-%m-%d"), cluster, count])
        table.filters.append(Filters(event_id=event_id))
    return table


BREAKDOWNS = {"by_year": by_year, "by_mission": by_mission, "by_region": by_region,
              "by_cluster": by_cluster, "webinars": webinars,
              "delegations": delegations_by_cluster}


def headline_table(partnership: Headline, own: Headline | None) -> Table:
    header = [_("Figure"), _("Partnership")] + ([_("Your clusters")] if own else [])
    table = Table("kpis", _("Key performance indicators"), header,
                  figures=["*"] + (["*"] if own else []))
    for figure in FIGURES:
        row = [str(FIGURE_LABELS[figure]), partnership.value(figure)]
        if own:
            row.append(own.value(figure))
        table.rows.append(row)
        table.filters.append(Filters())
    return table


def breakdown(name: str, period: Period, clusters: Iterable[int] | None, *,
              counted: Counts | None = None) -> Table:
    return BREAKDOWNS[name](period, None if clusters is None else list(clusters),
                            counted=counted)


# --------------------------------------------------------------------------- detail rows


@dataclass(frozen=True)
class DetailRows:
    header: list[str]
    rows: list[list[Any]]


def _narrow(query: Select, filters: Filters, event_col, cluster_col) -> Select:
    if filters.year is not None:
        query = query.where(_year(Event.starts_at) == filters.year)
    if filters.event_id is not None:
        query = query.where(event_col == filters.event_id)
    if filters.country is not None:
        query = query.where(Event.target_country == filters.country)
    if filters.cluster_id is not None:
        query = query.where(cluster_col == filters.cluster_id)
    return query


def detail_rows(figure: str, period: Period, filters: Filters,
                clusters: Iterable[int] | None, *, limit: int = 1000) -> DetailRows:
    """The rows behind a figure, narrowed by `filters` and to `clusters` (the viewer's
    scope: None for the whole partnership). One query whatever the figure."""
    clusters = None if clusters is None else list(clusters)
    if figure == "smes":
        smes = served_smes(period, clusters)
        query = (select(Organization.name, Organization.country,
                        func.min(Partner.short_name), func.count(distinct(Event.id)),
                        func.min(Event.starts_at))
                 .select_from(smes)
                 .join(Organization, Organization.id == smes.c.organization_id)
                 .join(Event, Event.id == smes.c.event_id)
                 .outerjoin(Partner, Partner.id == smes.c.cluster_id))
        query = _narrow(query, filters, smes.c.event_id, smes.c.cluster_id)
        query = (query.group_by(Organization.id, Organization.name, Organization.country)
                 .order_by(Organization.name).limit(limit))
        return DetailRows([_("SME"), _("Country"), _("Cluster"), _("Missions attended"),
                           _("First mission (UTC)")],
                          [[n, c, p or "", e, s.strftime("%Y-%m-%d")]
                           for n, c, p, e, s in db.session.execute(query)])
    if figure in ("delegates", "webinar_attendance"):
        rows = attended_registrations(period, clusters).subquery()
        kinds = MISSION_KINDS if figure == "delegates" else {EventKind.WEBINAR}
        first_seen = (select(Attendance.registration_id, func.min(Attendance.recorded_at)
                             .label("at"))
                      .join(Registration, Registration.id == Attendance.registration_id)
                      .join(Event, Event.id == Registration.event_id)
                      .where(checkin.counted())
                      .group_by(Attendance.registration_id).subquery())
        query = (select(User.name, Organization.name, Partner.short_name, Event.title,
                        first_seen.c.at)
                 .select_from(rows)
                 .join(Event, Event.id == rows.c.event_id)
                 .join(User, User.id == rows.c.user_id)
                 .outerjoin(Organization, Organization.id == User.organization_id)
                 .outerjoin(Partner, Partner.id == rows.c.cluster_id)
                 .join(first_seen, first_seen.c.registration_id == rows.c.registration_id)
                 .where(Event.kind.in_(kinds)))
        query = _narrow(query, filters, rows.c.event_id, rows.c.cluster_id)
        query = query.order_by(Event.starts_at, User.name).limit(limit)
        return DetailRows([_("Person"), _("Organization"), _("Cluster"), _("Event"),
                           _("First seen (UTC)")],
                          [[p, o or "", c or "", t, a.strftime("%Y-%m-%d %H:%M UTC")]
                           for p, o, c, t, a in db.session.execute(query)])
    if figure == "clusters":
        involved = _involved_cluster_ids(period, clusters)
        query = (select(Partner.name, Partner.country, Partner.is_member)
                 .where(Partner.id.in_(involved)))
        if filters.cluster_id is not None:
            query = query.where(Partner.id == filters.cluster_id)
        query = query.order_by(Partner.is_member.desc(), Partner.name).limit(limit)
        return DetailRows([_("Cluster"), _("Country"), _("Member")],
                          [[n, c, _yes_no(m)] for n, c, m in db.session.execute(query)])
    if figure in AGREEMENT_FIGURES:
        agreements = signed_agreements(period, clusters).where(
            Agreement.kind == AGREEMENT_FIGURES[figure])
        if filters.year is not None:
            agreements = agreements.where(_year(Agreement.signed_on) == filters.year)
        if filters.cluster_id is not None:
            agreements = agreements.where(Agreement.responsible_partner_id == filters.cluster_id)
        if filters.event_id is not None:
            agreements = agreements.where(Agreement.origin_event_id == filters.event_id)
        if filters.country is not None:
            parties = _target_region_parties()
            agreements = agreements.where(Agreement.id.in_(
                select(parties.c.agreement_id).where(parties.c.country == filters.country)))
        agreements = agreements.subquery()
        parties = agreement_party_names(agreements)
        query = (select(agreements.c.id, agreements.c.title, agreements.c.type,
                        agreements.c.signed_on, Partner.short_name, parties.c.names)
                 .join(Partner, Partner.id == agreements.c.responsible_partner_id)
                 .outerjoin(parties, parties.c.agreement_id == agreements.c.id)
                 .order_by(agreements.c.signed_on, agreements.c.title).limit(limit))
        return DetailRows([_("Agreement"), _("Type"), _("Signed on"), _("Responsible cluster"),
                           _("Parties")],
                          [[t, _label(AGREEMENT_TYPE_LABELS, ty), s.isoformat(), p, n or ""]
                           for _i, t, ty, s, p, n in db.session.execute(query)])
    if figure == "satisfaction":
        answers = first_survey_answers(period, clusters).subquery()
        query = (select(User.name, Organization.name, Partner.short_name, Event.title,
                        answers.c.satisfaction, answers.c.answered_at)
                 .select_from(answers)
                 .join(Event, Event.id == answers.c.event_id)
                 .join(Registration, Registration.id == answers.c.registration_id)
                 .join(User, User.id == Registration.user_id)
                 .outerjoin(Organization, Organization.id == User.organization_id)
                 .outerjoin(Partner, Partner.id == answers.c.cluster_id))
        query = _narrow(query, filters, answers.c.event_id, answers.c.cluster_id)
        query = query.order_by(Event.starts_at, User.name).limit(limit)
        return DetailRows([_("Person"), _("Organization"), _("Cluster"), _("Mission"),
                           _("Satisfaction"), _("Answered (UTC)")],
                          [[p, o or "", c or "", t, score, a.strftime("%Y-%m-%d %H:%M UTC")]
                           for p, o, c, t, score, a in db.session.execute(query)])
    raise Refused("kpi.no_such_figure", "figure")


def agreement_party_names(agreements):
    """Per agreement of `agreements` (a subquery with an `id`): its parties' names joined
    by "; ", aggregated in the database."""
    name = func.coalesce(Partner.name, Organization.name)
    aggregate = (func.string_agg(name, literal("; "))
                 if db.engine.dialect.name == "postgresql" else func.group_concat(name, "; "))
    return (select(AgreementParty.agreement_id, aggregate.label("names"))
            .join(agreements, agreements.c.id == AgreementParty.agreement_id)
            .outerjoin(Partner, Partner.id == AgreementParty.partner_id)
            .outerjoin(Organization, Organization.id == AgreementParty.organization_id)
            .group_by(AgreementParty.agreement_id).subquery())


def signed_agreement_rows(period: Period, clusters: Iterable[int] | None) -> Table:
    """The agreements signed in the period, for the report (one query)."""
    agreements = signed_agreements(period, clusters).subquery()
    parties = agreement_party_names(agreements)
    # An agreement a B2B meeting's follow-up recorded names that meeting's event.
    from_meetings = (select(MeetingFollowUp.agreement_id).distinct()
                     .where(MeetingFollowUp.agreement_id.is_not(None)).subquery())
    table = Table("agreements", _("Agreements signed"),
                  [_("Agreement"), _("Kind"), _("Type"), _("Signed on"), _("Parties"),
                   _("Came from"), _("Description")])
    for title, kind, type_, signed_on, names, event, meeting, description in (
            db.session.execute(
                select(agreements.c.title, agreements.c.kind, agreements.c.type,
                       agreements.c.signed_on, parties.c.names, Event.title,
                       from_meetings.c.agreement_id, agreements.c.description)
                .outerjoin(parties, parties.c.agreement_id == agreements.c.id)
                .outerjoin(Event, Event.id == agreements.c.origin_event_id)
                .outerjoin(from_meetings, from_meetings.c.agreement_id == agreements.c.id)
                .order_by(agreements.c.signed_on, agreements.c.title))):
        origin = event or ""
        if meeting is not None:
            origin = _("A B2B meeting at %(event)s", event=event)
        table.rows.append([title, _label(AGREEMENT_KIND_LABELS, kind),
                           _label(AGREEMENT_TYPE_LABELS, type_),
                           signed_on.isoformat(), names or "", origin, description])
        table.filters.append(Filters())
    return table



# --------------------------------------------------------------------------- the report

# The rows a growing table shows on the dashboard and in the PDF report (the missions with
# the most delegates, the latest agreements...); its download holds every row.
SHOWN_ROWS = 20
# The column each table's shown rows are the largest of (None: the latest rows).
SHOWN_BY = {"by_mission": 3, "webinars": 2, "delegations": 3, "agreements": None}


class Breakdowns(Mapping[str, Table]):
    """The breakdowns by name, each made when first read, from counts made once."""

    def __init__(self, period: Period, clusters: list[int] | None, counted: Counts) -> None:
        self.period, self.clusters, self.counted = period, clusters, counted
        self.made: dict[str, Table] = {}

    def __getitem__(self, name: str) -> Table:
        if name not in self.made:
            self.made[name] = breakdown(name, self.period, self.clusters, counted=self.counted)
        return self.made[name]

    def __iter__(self):
        return iter(BREAKDOWNS)

    def __len__(self) -> int:
        return len(BREAKDOWNS)


@dataclass
class Report:
    period: Period
    scope_label: str
    kpis: Table
    tables: Mapping[str, Table]
    agreements: Table
    generated_at: datetime

    def shown(self, name: str) -> Table:
        """A table as the dashboard and the PDF show it: a growing one's top rows."""
        whole = self.agreements if name == "agreements" else self.tables[name]
        if name in SHOWN_BY:
            return whole.top(SHOWN_ROWS, SHOWN_BY[name])
        return whole


def scope_label(clusters: Iterable[int] | None) -> str:
    """Whose figures a page shows: the partnership's, or the clusters' short names."""
    if clusters is None:
        return _("the whole partnership")
    return ", ".join(db.session.scalars(select(Partner.short_name).where(
        Partner.id.in_(list(clusters))).order_by(Partner.short_name)))


def kpi_table(period: Period, own: Iterable[int] | None, *,
              counted: Counts | None = None, own_counted: Counts | None = None) -> Table:
    """The headline figures of the partnership, beside `own` clusters' for a manager."""
    own = None if own is None else list(own)
    return headline_table(headline(period, None, counted=counted),
                          headline(period, own, counted=own_counted)
                          if own is not None else None)


def table(name: str, period: Period, clusters: Iterable[int] | None) -> Table:
    """One of the dashboard's tables by its name (the KPIs, a breakdown, the agreements)
    within `clusters`, as the exports write it: every row."""
    if name == "kpis":
        return kpi_table(period, clusters)
    if name == "agreements":
        return signed_agreement_rows(period, clusters)
    return breakdown(name, period, clusters)


def report(period: Period, clusters: Iterable[int] | None) -> Report:
    """Everything the dashboard and the printable report hold: the KPI table (with the
    clusters' own column for a partner manager), the breakdowns within `clusters` (each
    made when first read), and the agreements. The counts are made once for the
    partnership and once more for a manager's clusters."""
    clusters = None if clusters is None else list(clusters)
    partnership = counts(period, None)
    own = partnership if clusters is None else counts(period, clusters)
    return Report(
        period=period, scope_label=scope_label(clusters),
        kpis=kpi_table(period, clusters, counted=partnership, own_counted=own),
        tables=Breakdowns(period, clusters, own),
        agreements=signed_agreement_rows(period, clusters),
        generated_at=datetime.now(UTC).replace(microsecond=0),
    )


def render_report_pdf(content: Report,
                      progress: Callable[[int, int], None] | None = None) -> bytes:
    """The report as a PDF. `progress(done, total)`, if given, hears of each step: the
    tables made (when not made yet), the layout, the file written."""
    from flask import render_template

    from . import pdf

    step = progress or (lambda done, total: None)
    step(0, 3)
    html = render_template("kpis/report.html", report=content)
    step(1, 3)
    renderer = pdf.Renderer()
    document = renderer.layout(html)
    step(2, 3)
    body = document.write_pdf()
    step(3, 3)
    return body
