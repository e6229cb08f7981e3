"""Follow-up surveys after missions (outbound, inbound and fact-finding).

Who: the approved delegates (role delegate) of a mission that was not a draft or
cancelled, who attended (an Attendance row, for the event or any of its sessions), and
whose account is active and not erased. When: the first round is due FIRST_AFTER the
mission's end, the second ("what came of it") SIX_MONTHS_AFTER it. An unanswered
invitation is reminded once, REMIND_AFTER it was sent.

The late rule: an invitation is never sent more than LATE_LIMIT after it was due (a
mission found that long after its end is left alone: the platform was down, or the
delegate's attendance was recorded late), and a reminder is skipped when found more than
REMINDER_LATE_LIMIT after its moment (recorded as skipped, so it is never sent later).

Exactly once, like the reminders of online events: an invitation is claimed by inserting
its SurveyInvitation row (unique per registration and round, ON CONFLICT DO NOTHING) in
the transaction that queues its mail; a reminder is claimed by the UPDATE that sets
`reminded_at` where it is still empty. Each event's round is one write transaction
(SQLite: BEGIN IMMEDIATE), taken in the same order by every sender.

The link: a signed token naming the invitation (services.tokens, purpose "survey"); no
sign-in. Opening it shows the form and changes nothing; submitting it stores the answer
(unique per invitation) and marks the invitation answered, audited, in one transaction.
It expires LINK_VALID_FOR after the invitation was sent.

For the KPI dashboard: `confirmed_outcomes()` (its satisfaction figure reads the answers
in services.kpis).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import access, unit
from ..extensions import db
from ..inputs.surveys import SurveyAnswerIn
from ..localtime import format_stamp
from ..models import (
    MISSION_KINDS,
    Agreement,
    AgreementParty,
    AgreementStatus,
    Attendance,
    Event,
    EventRole,
    EventStatus,
    OutcomeConfirmation,
    Registration,
    RegistrationStatus,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
    User,
    utcnow,
)
from . import audit, exports, names, notifications, registration_mail, tokens
from .errors import DomainError
from .fields import Refused

PURPOSE = "survey"
FIRST_AFTER = timedelta(days=1)
SIX_MONTHS_AFTER = timedelta(days=182)
LATE_LIMIT = timedelta(days=14)
REMIND_AFTER = timedelta(days=7)
REMINDER_LATE_LIMIT = timedelta(days=7)
LINK_VALID_FOR = timedelta(days=60)

OFFSETS = {SurveyRound.FIRST: FIRST_AFTER, SurveyRound.SIX_MONTHS: SIX_MONTHS_AFTER}


class SurveyClosed(DomainError):
    """The link has expired."""


class AlreadyAnswered(DomainError):
    """The invitation has its answer."""


@dataclass(frozen=True)
class Tally:
    """What one run did: invitations and reminders queued, reminders skipped as late."""

    invited: int = 0
    reminded: int = 0
    skipped: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.invited + other.invited, self.reminded + other.reminded,
                     self.skipped + other.skipped)


# --------------------------------------------------------------------------- due surveys


def queue_due(now: datetime) -> Tally:
    """Claim and queue every survey invitation and reminder due at `now`. Each mission's
    claims and their mail are written aside (`unit.aside("claim")`), one transaction per
    event, so it runs before the unit writes anything; safe to run in several processes
    at once."""
    total = Tally()
    for event_id in due_events(now):
        total += _queue_event(event_id, now)
    return total


def due_events(now: datetime) -> list[int]:
    """The ids of the missions with a survey invitation or reminder due at `now`."""
    in_window = or_(*(and_(Event.ends_at <= now - offset,
                           Event.ends_at > now - offset - LATE_LIMIT)
                      for offset in OFFSETS.values()))
    inviting = db.session.scalars(
        select(Event.id).where(*_surveyed_event(), in_window)
        .where(exists(select(Registration.id).join(Registration.user)
                      .where(Registration.event_id == Event.id, *_invitable(now))))
    ).all()
    reminding = db.session.scalars(
        select(Registration.event_id).join(SurveyInvitation,
                                           SurveyInvitation.registration_id == Registration.id)
        .where(*_reminder_due(now)).distinct()
    ).all()
    # The claims that follow end this read transaction first (unit.aside): SQLite could
    # not upgrade it to a write.
    return sorted(set(inviting) | set(reminding))


@unit.job
def survey(event_id: int, now: str) -> Tally:
    """The job: claim and queue one mission's survey mail due at `now` (ISO 8601)."""
    return _queue_event(event_id, datetime.fromisoformat(now))


def _surveyed_event() -> tuple:
    return (Event.kind.in_(MISSION_KINDS),
            Event.status.in_((EventStatus.PUBLISHED, EventStatus.CLOSED)))


def _attended() -> tuple:
    """The conditions on a registration (joined with its user) to be surveyed."""
    return (Registration.status == RegistrationStatus.APPROVED,
            Registration.role == EventRole.DELEGATE,
            User.erased_at.is_(None), User.active.is_(True),
            exists(select(Attendance.id).where(Attendance.registration_id == Registration.id)))


def _invitable(now: datetime) -> tuple:
    """An attended registration missing the invitation of a round due (and not late)."""
    missing = [and_(Event.ends_at <= now - offset, Event.ends_at > now - offset - LATE_LIMIT,
                    ~exists(select(SurveyInvitation.id).where(
                        SurveyInvitation.registration_id == Registration.id,
                        SurveyInvitation.round == round_)))
               for round_, offset in OFFSETS.items()]
    return (*_attended(), or_(*missing))


def _reminder_due(now: datetime) -> tuple:
    return (SurveyInvitation.remind_at <= now, SurveyInvitation.reminded_at.is_(None),
            SurveyInvitation.answered_at.is_(None))


def _queue_event(event_id: int, now: datetime) -> Tally:
    """One mission's claims and mail, in a write transaction of their own: an invitation
    or reminder is claimed exactly when its mail is in the outbox."""
    with unit.aside("claim") as session:
        event = session.get(Event, event_id, populate_existing=True)
        if (event is None or event.kind not in MISSION_KINDS
                or event.status not in (EventStatus.PUBLISHED, EventStatus.CLOSED)):
            return Tally()
        return _invite(event, now) + _remind(event, now)


def surveyed_delegates(event_id: int):
    """The registrations of `event_id` whose delegates are surveyed (approved delegates
    who attended, with an active account), in id order: a select of Registration."""
    return (select(Registration).join(Registration.user)
            .where(Registration.event_id == event_id, *_attended())
            .options(joinedload(Registration.user)).order_by(Registration.id))


def _invite(event: Event, now: datetime) -> Tally:
    rounds = [(r, event.ends_at + offset) for r, offset in OFFSETS.items()
              if event.ends_at + offset <= now < event.ends_at + offset + LATE_LIMIT]
    if not rounds:
        return Tally()
    delegates = db.session.scalars(surveyed_delegates(event.id)).all()
    handled = {tuple(row) for row in db.session.execute(
        select(SurveyInvitation.registration_id, SurveyInvitation.round)
        .join(Registration, Registration.id == SurveyInvitation.registration_id)
        .where(Registration.event_id == event.id))}
    invited = 0
    # Always the same order (registration, then round), so two senders on PostgreSQL
    # wait for each other's rows without deadlocking.
    for reg in delegates:
        for round_, due_at in rounds:
            if (reg.id, round_) in handled:
                continue
            invitation_id = _claim(reg.id, round_, due_at, now)
            if invitation_id is None:
                continue  # another sender has it
            invitation = db.session.get(SurveyInvitation, invitation_id)
            message = _queue_mail(invitation, reminder=False)
            db.session.flush()
            invitation.outbox_message_id = message.id
            invited += 1
    return Tally(invited=invited)


def _claim(registration_id: int, round_: SurveyRound, due_at: datetime,
           now: datetime) -> int | None:
    """Insert the invitation's row unless it exists; its id, or None when it did."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (insert(SurveyInvitation)
                 .values(registration_id=registration_id, round=round_, due_at=due_at,
                         sent_at=now, remind_at=now + REMIND_AFTER, reminder_skipped=False)
                 .on_conflict_do_nothing(index_elements=["registration_id", "round"])
                 .returning(SurveyInvitation.id))
    return db.session.execute(statement).scalar_one_or_none()


def record_sent(registration_id: int, round_: SurveyRound, due_at: datetime, *,
                at: datetime, reminded: bool = False) -> SurveyInvitation:
    """An invitation sent at `at` (and reminded when its reminder fell due), as the
    sender recorded it then: history imported (the demo data), so nobody is mailed now."""
    invitation_id = _claim(registration_id, round_, due_at, at)
    if invitation_id is None:
        invitation_id = db.session.scalar(select(SurveyInvitation.id).where(
            SurveyInvitation.registration_id == registration_id,
            SurveyInvitation.round == round_))
    if reminded:
        db.session.execute(
            update(SurveyInvitation)
            .where(SurveyInvitation.id == invitation_id, SurveyInvitation.reminded_at.is_(None))
            .values(reminded_at=SurveyInvitation.remind_at))
    # Read from the row, not from an object the session may still hold under this id (a
    # row deleted by a statement earlier in the unit, whose id the database reused).
    return db.session.get(SurveyInvitation, invitation_id, populate_existing=True)


def _remind(event: Event, now: datetime) -> Tally:
    due = db.session.scalars(
        select(SurveyInvitation).join(SurveyInvitation.registration).join(Registration.user)
        .where(Registration.event_id == event.id, *_reminder_due(now),
               User.erased_at.is_(None), User.active.is_(True))
        .order_by(SurveyInvitation.id)
    ).all()
    reminded = skipped = 0
    for invitation in due:
        late = now - invitation.remind_at > REMINDER_LATE_LIMIT
        claimed = db.session.execute(
            update(SurveyInvitation)
            .where(SurveyInvitation.id == invitation.id, *_reminder_due(now))
            .values(reminded_at=now, reminder_skipped=late)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            continue  # another sender has it, or it was answered meanwhile
        if late:
            skipped += 1
            continue
        _queue_mail(invitation, reminder=True)
        reminded += 1
    return Tally(reminded=reminded, skipped=skipped)


# --------------------------------------------------------------------------- the mail


def link_token(invitation: SurveyInvitation) -> str:
    return tokens.make(PURPOSE, {"invitation": invitation.id})


def _queue_mail(invitation: SurveyInvitation, *, reminder: bool):
    reg = invitation.registration
    user, event = reg.user, reg.event

    def subject() -> str:  # in the recipient's language
        title = notifications.event_title(event)
        if reminder:
            return _("Reminder: a few questions about %(event)s", event=title)
        if invitation.round == SurveyRound.SIX_MONTHS:
            return _("Six months after %(event)s: what came of it?", event=title)
        return _("How was %(event)s? A few questions", event=title)

    link = notifications.absolute_url("surveys.answer", token=link_token(invitation))
    return notifications.queue(
        user, subject, "survey_invitation", event=event, invitation=invitation,
        reminder=reminder, link=link, closes_at=closes_at(invitation),
        recipient_zone=registration_mail.recipient_zone(user, event))


# --------------------------------------------------------------------------- the link


def open_invitation(token: str, now: datetime | None = None) -> SurveyInvitation:
    """The invitation a link names, for its page: raises TokenInvalid (tampered, or for
    an invitation that no longer exists) or SurveyClosed (expired). Changes nothing."""
    payload = tokens.verify(PURPOSE, token)
    invitation_id = payload.get("invitation") if isinstance(payload, dict) else None
    invitation = (db.session.get(SurveyInvitation, invitation_id, populate_existing=True)
                  if isinstance(invitation_id, int) else None)
    if invitation is None:
        raise tokens.TokenInvalid("link.invalid")
    if invitation.answered_at is None and (now or utcnow()) > closes_at(invitation):
        raise SurveyClosed("survey.closed")
    return invitation


def closes_at(invitation: SurveyInvitation) -> datetime:
    return invitation.sent_at + LINK_VALID_FOR


def answer(token: str, answers: SurveyAnswerIn,
           now: datetime | None = None) -> SurveyResponse:
    """Store the answers of the invitation `token` names, mark it answered and audit it;
    the caller commits. The answers' ranges and lengths are their model's. A second answer
    raises AlreadyAnswered, also when it races the first (the unique invitation of the
    answer decides: the caller then rolls back)."""
    now = now or utcnow()
    unit.write_step()
    invitation = open_invitation(token, now)
    if invitation.answered_at is not None:
        raise AlreadyAnswered("survey.already_answered")
    reg = invitation.registration  # loaded before the insert, which only the flush below runs
    response = SurveyResponse(
        invitation=invitation, satisfaction=answers.satisfaction,
        b2b_meetings=answers.b2b_meetings, leads=answers.leads,
        agreements_in_negotiation=answers.agreements_in_negotiation,
        agreements_signed=answers.agreements_signed,
        agreement_parties=answers.agreement_parties, outcome=answers.outcome,
        comment=answers.comment, answered_at=now)
    db.session.add(response)
    invitation.answered_at = now
    try:
        db.session.flush()  # a concurrent second answer fails here, on the unique invitation
    except IntegrityError:
        raise AlreadyAnswered("survey.already_answered") from None
    audit.record(reg.user, "survey.answered", response, event_id=reg.event_id,
                 changes={"round": [None, invitation.round.value],
                          "satisfaction": [None, answers.satisfaction]})
    return response


def answers_of(registration: Registration) -> list[SurveyResponse]:
    """The survey answers a delegate gave about one registration, first round first."""
    return db.session.scalars(
        select(SurveyResponse).join(SurveyResponse.invitation)
        .where(SurveyInvitation.registration_id == registration.id)
        .order_by(SurveyInvitation.due_at)).all()


def forget_free_text(user: User) -> None:
    """Erasure: blank what `user` wrote in their answers (comments, outcomes, with whom);
    the scores and counts stay, anonymous, for the partnership's statistics."""
    answered = (select(SurveyInvitation.id).join(SurveyInvitation.registration)
                .where(Registration.user_id == user.id))
    db.session.execute(update(SurveyResponse)
                       .where(SurveyResponse.invitation_id.in_(answered))
                       .values(comment="", outcome="", agreement_parties="")
                       .execution_options(synchronize_session=False))


# --------------------------------------------------------------------------- the results


@dataclass(frozen=True)
class Summary:
    responses: int
    invited: int
    average_satisfaction: float | None
    b2b_meetings: int
    leads: int
    agreements_in_negotiation: int
    agreements_signed: int


def summarize(responses: Iterable[SurveyResponse], invited: int) -> Summary:
    rows = list(responses)
    scores = [r.satisfaction for r in rows]
    return Summary(
        responses=len(rows), invited=invited,
        average_satisfaction=sum(scores) / len(scores) if scores else None,
        b2b_meetings=sum(r.b2b_meetings for r in rows), leads=sum(r.leads for r in rows),
        agreements_in_negotiation=sum(r.agreements_in_negotiation for r in rows),
        agreements_signed=sum(r.agreements_signed for r in rows))


# In the language of whoever downloads the file.
RESPONSES_CSV_HEADER = (
    _l("Round"), _l("Name"), _l("Organization"), _l("Cluster"), _l("Answered at"),
    _l("Satisfaction (1-5)"), _l("B2B meetings"), _l("Leads"),
    _l("Agreements in negotiation"), _l("Agreements signed"), _l("With whom"),
    _l("What came of it"), _l("Comment"))
ROUND_LABELS = {SurveyRound.FIRST: _l("first (after the mission)"),
                SurveyRound.SIX_MONTHS: _l("six months later")}


def responses_csv(event: Event, responses: Iterable[SurveyResponse]) -> bytes:
    """The answers as a spreadsheet: times in the event's zone with their offset, every
    cell through the formula guard (the delegates typed the texts)."""
    rows = []
    for response in responses:
        registration = response.invitation.registration
        organization = registration.user.organization
        rows.append((
            str(ROUND_LABELS[response.invitation.round]), registration.user.name,
            organization.name if organization else "", names.cluster_name(registration),
            format_stamp(response.answered_at, event.timezone), response.satisfaction,
            response.b2b_meetings, response.leads, response.agreements_in_negotiation,
            response.agreements_signed, response.agreement_parties, response.outcome,
            response.comment))
    return exports.csv_bytes(RESPONSES_CSV_HEADER, rows)


# --------------------------------------------------------------------------- outcomes


def confirmable_agreements(viewer: User, response: SurveyResponse) -> list[Agreement]:
    """The agreement records `viewer` may confirm `response`'s reported outcome as: those
    they edit (`access.agreements_visible_to`) with the respondent's organization among
    the parties, not confirmed for it yet."""
    organization_id = response.invitation.registration.user.organization_id
    if organization_id is None:
        return []
    confirmed = {c.agreement_id for c in response.confirmations}
    parties = select(AgreementParty.agreement_id).where(
        AgreementParty.organization_id == organization_id)
    found = db.session.scalars(access.agreements_visible_to(viewer).where(
        Agreement.id.in_(parties)).order_by(Agreement.title)).all()
    return [a for a in found if a.id not in confirmed]


def confirm_outcome(actor: User, response: SurveyResponse, agreement_id: int | None
                    ) -> OutcomeConfirmation:
    """Confirm that the agreement the delegate reported is `agreement_id`'s record.
    Refused (nothing written) for an agreement the actor may not confirm it as, or one
    confirmed already. The caller commits."""
    choices = {a.id: a for a in confirmable_agreements(actor, response)}
    agreement = choices.get(agreement_id) if agreement_id is not None else None
    if agreement is None:
        raise Refused("survey.agreement_not_listed", "agreement_id")
    confirmation = OutcomeConfirmation(agreement=agreement, confirmed_by=actor)
    response.confirmations.append(confirmation)
    audit.record(actor, "survey.outcome_confirmed", response,
                 changes={"agreement": [None, agreement.title]},
                 event_id=response.invitation.registration.event_id)
    return confirmation


def confirmed_outcomes() -> Select:
    """The registrations whose delegate's reported outcome a partner manager confirmed
    as a signed (or since ended) agreement, with that agreement's id: for the KPIs'
    "SMEs with a confirmed outcome"."""
    return (select(SurveyInvitation.registration_id, OutcomeConfirmation.agreement_id)
            .join(SurveyResponse, SurveyResponse.invitation_id == SurveyInvitation.id)
            .join(OutcomeConfirmation, OutcomeConfirmation.response_id == SurveyResponse.id)
            .join(Agreement, Agreement.id == OutcomeConfirmation.agreement_id)
            .where(Agreement.status.in_((AgreementStatus.SIGNED, AgreementStatus.ENDED))))
