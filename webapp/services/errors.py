"""Errors the services raise: a stable `code` and its `params`, never a sentence.

Every code is listed once, below, with its English message template: a msgid with
%(name)s placeholders, marked for translation (`N_`, one of pybabel's default keywords).
`message` renders it in the locale current when it is read: a page in the reader's
language, the API in Accept-Language's, a job inside `force_locale` in the recipient's.
Params are JSON-safe primitives, so the API can send them with the code; a param that is
itself a word (a status) is rendered through its translated label.

Codes are part of the API's contract (a client acts on them): never rename one; add a
new one for a new meaning.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

from flask_babel import gettext, ngettext, pgettext

from ..localtime import long_day

Param = str | int | float | bool | None
PLACEHOLDER = re.compile(r"%\((\w+)\)")


def N_(msgid: str) -> str:  # noqa: N802 - pybabel's default keyword
    """Marks `msgid` for extraction; it is translated when a message is rendered."""
    return msgid


# --------------------------------------------------------------------------- the words

def _registration_status(value: str) -> str:
    return {
        "submitted": pgettext("registration status", "submitted"),
        "approved": pgettext("registration status", "approved"),
        "rejected": pgettext("registration status", "rejected"),
        "waitlisted": pgettext("registration status", "waitlisted"),
        "withdrawn": pgettext("registration status", "withdrawn"),
        "cancelled": pgettext("registration status", "cancelled"),
    }.get(value, value)


def _event_status(value: str) -> str:
    return {
        "draft": pgettext("event status", "draft"),
        "published": pgettext("event status", "published"),
        "closed": pgettext("event status", "closed"),
        "cancelled": pgettext("event status", "cancelled"),
    }.get(value, value)


def _membership_status(value: str) -> str:
    return {
        "pending": pgettext("membership request status", "pending"),
        "accepted": pgettext("membership request status", "accepted"),
        "refused": pgettext("membership request status", "refused"),
    }.get(value, value)


def _meeting_request_status(value: str) -> str:
    return {
        "requested": pgettext("meeting request status", "requested"),
        "accepted": pgettext("meeting request status", "accepted"),
        "declined": pgettext("meeting request status", "declined"),
        "expired": pgettext("meeting request status", "expired"),
        "cancelled": pgettext("meeting request status", "cancelled"),
    }.get(value, value)


# Which vocabulary a param's value is a word of.
WORDS: dict[str, Callable[[str], str]] = {
    "registration_status": _registration_status,
    "event_status": _event_status,
    "membership_status": _membership_status,
    "meeting_request_status": _meeting_request_status,
    # A form field's label, given as its English msgid (or already translated).
    "label": lambda value: gettext(value),
    # A day, given as ISO 8601: "27 October 2024" in the reader's language.
    "day": lambda value: long_day(date.fromisoformat(value)),
}


# --------------------------------------------------------------------------- the codes

@dataclass(frozen=True)
class Code:
    code: str
    template: str  # the English msgid
    words: Mapping[str, str] = field(default_factory=dict)  # param -> vocabulary (WORDS)
    # Templates with a count (ngettext): the literal call, so that pybabel extracts both.
    plural: Callable[[Mapping[str, Any]], str] | None = None

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(PLACEHOLDER.findall(self.template))


CODES: dict[str, Code] = {}


def _define(code: str, template: str, *, words: Mapping[str, str] | None = None,
            plural: Callable[[Mapping[str, Any]], str] | None = None) -> None:
    if code in CODES:
        raise ValueError(f"the error code {code!r} is defined twice")
    CODES[code] = Code(code, template, dict(words or {}), plural)


def render(code: str, params: Mapping[str, Param]) -> str:
    """The message of `code` with `params`, in the current locale."""
    entry = CODES[code]
    values = {name: WORDS[entry.words[name]](value) if name in entry.words and
              isinstance(value, str) else value for name, value in params.items()}
    if entry.plural is not None:
        return entry.plural(values)
    # gettext formats only when given variables; a template without any has no "%%".
    return gettext(entry.template, **values) if values else gettext(entry.template)


def _plain(value: Any) -> Param:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class DomainError(Exception):
    """A request the domain refuses: `code` (stable, in CODES) and `params` (JSON-safe);
    `message` is safe to show to the user, in the current locale."""

    default_code: ClassVar[str | None] = None

    def __init__(self, code: str | None = None, /, **params: Any) -> None:
        code = code or self.default_code
        if code not in CODES:
            raise ValueError(f"unknown error code {code!r}: define it in services/errors.py")
        missing = CODES[code].placeholders - set(params)
        if missing:
            raise ValueError(f"the error {code!r} needs {sorted(missing)}")
        self.code = code
        self.params: dict[str, Param] = {name: _plain(v) for name, v in params.items()}
        super().__init__(code)

    @property
    def message(self) -> str:
        return render(self.code, self.params)

    def __str__(self) -> str:
        try:
            return self.message
        except Exception:  # outside an app (a traceback): the code says what it was
            return self.code


class InvalidTransition(DomainError):
    def __init__(self, from_status: str | None, to_status: str) -> None:
        self.from_status = from_status
        self.to_status = to_status
        if from_status is None:
            super().__init__("registration.invalid_start", to_status=to_status)
        else:
            super().__init__("registration.invalid_transition", from_status=from_status,
                             to_status=to_status)


class RegistrationClosed(DomainError):
    pass


class AlreadyRegistered(DomainError):
    pass


class StaleDecision(DomainError):
    """The registration changed since the user looked at it (someone else decided):
    its `status` now, who moved it there (`by`, None for the system) and `at` when."""

    def __init__(self, code: str, *, status: str | None = None, by: str | None = None,
                 at: datetime | None = None, **params: Any) -> None:
        super().__init__(code, status=status, **params)
        self.status, self.by, self.at = status, by, at


class RegistrationRefused(DomainError):
    pass


class NoSeat(DomainError):
    """Approving would exceed the capacity, a partner's quota or a company's cap."""


class AnswerRefused(DomainError):
    """What is wrong with one answer (AnswersRefused collects them by question)."""


class AnswersRefused(DomainError):
    """Answers that do not satisfy the event's questions: `reasons` by question id
    (`problems`: their messages)."""

    def __init__(self, reasons: Mapping[int, DomainError],
                 code: str = "answers.need_attention", **params: Any) -> None:
        self.reasons = dict(reasons)
        super().__init__(code, **params)

    @property
    def problems(self) -> dict[int, str]:
        return {qid: reason.message for qid, reason in self.reasons.items()}


class BulkRefused(DomainError):
    """A bulk decision refused as a whole: `reasons` says why, by registration id
    (`problems`: their messages)."""

    def __init__(self, reasons: Mapping[int, DomainError],
                 code: str = "bulk.refused", **params: Any) -> None:
        self.reasons = dict(reasons)
        super().__init__(code, **params)

    @property
    def problems(self) -> dict[int, str]:
        return {reg_id: reason.message for reg_id, reason in self.reasons.items()}


class BulkItemRefused(DomainError):
    """Why one application of a bulk decision cannot be decided that way."""


class MatchmakingRefused(DomainError):
    """A matchmaking setting, a participant's profile or a meeting request refused."""


# --------------------------------------------------------------------------- the registry
# Every code, once, with its English template. The README's "Error codes" lists them.
RS = {"status": "registration_status"}

# Applying and registrations
_define("registration.invalid_start",
        N_("A new registration cannot start as %(to_status)s."),
        words={"to_status": "registration_status"})
_define("registration.invalid_transition",
        N_("This registration is %(from_status)s and cannot become %(to_status)s."),
        words={"from_status": "registration_status", "to_status": "registration_status"})
_define("registration.email_unconfirmed",
        N_("Please confirm your email address before you apply."))
_define("registration.quick_not_offered",
        N_("This event reviews its applications: please sign up and apply."))
_define("registration.members_only",
        N_("This event takes applications from members: please sign in or create an "
           "account to apply."))
_define("registration.not_open", N_("Registration for this event is not open."))
_define("registration.not_open_yet", N_("Registration for this event has not opened yet."))
_define("registration.closed", N_("Registration for this event has closed."))
_define("registration.consent_needed",
        N_("Missions share your company profile with their hosts: please agree to it."))
_define("registration.already_applied", N_("You have already applied to this event."))
_define("registration.already_applied_status",
        N_("You have already applied to this event; your application is %(status)s."),
        words=RS)
_define("registration.already_registered",
        N_("%(name)s is already registered for this event."))
_define("registration.answers_decided",
        N_("Answers can no longer change: the application is decided."))
_define("registration.started_no_withdrawal",
        N_("The event has started: applications can no longer be withdrawn. Please write "
           "to the organizers."))
_define("registration.started_no_reopening",
        N_("The event has started: its decisions can no longer be reopened."))
_define("registration.started_no_cancelling",
        N_("The event has started: its registrations can no longer be cancelled one by "
           "one."))
_define("registration.no_longer_yours_to_decide",
        N_("You may no longer decide this application: it is not one of those your "
           "clusters or events are responsible for."))
_define("registration.no_longer_yours_to_reopen",
        N_("You may no longer reopen this decision: it is not one of those your clusters "
           "or events are responsible for."))
_define("registration.no_longer_yours_to_cancel",
        N_("You may no longer cancel this registration: you do not organize its event."))
_define("registration.reopen_not_decided",
        N_("Only a decision can be reopened: this application is %(status)s."), words=RS)
_define("registration.nothing_to_cancel",
        N_("This registration is %(status)s: there is nothing left to cancel."), words=RS)
_define("registration.direct_roles_only",
        N_("Only hosts and staff are registered directly."))
_define("registration.no_active_account",
        N_("No active account uses %(email)s: they need to sign up first."))
_define("organization.name_needed", N_("Your organization needs a name."))

# The event's state
_define("event.not_published", N_("This event is not published yet."))
_define("event.cancelled", N_("This event has been cancelled."))
_define("event.taken_place", N_("This event has taken place."))
_define("event.cancelled_nothing_decided",
        N_("This event has been cancelled: nothing more is decided."))

# Seats
_define("seat.capacity_reached", N_("The event is full: all %(capacity)d seats are taken."),
        plural=lambda p: ngettext(
            "The event is full: its %(capacity)d seat is taken.",
            "The event is full: all %(capacity)d seats are taken.",
            p["capacity"], capacity=p["capacity"]))
_define("quota.exceeded",
        N_("The quota of %(partner)s for this event, %(seats)d seats, is used up."),
        plural=lambda p: ngettext(
            "The quota of %(partner)s for this event, %(seats)d seat, is used up.",
            "The quota of %(partner)s for this event, %(seats)d seats, is used up.",
            p["seats"], partner=p["partner"], seats=p["seats"]))
_define("seat.company_cap_reached",
        N_("%(organization)s already has %(cap)d approved delegates, the most per company."),
        plural=lambda p: ngettext(
            "%(organization)s already has %(cap)d approved delegate, the most per company.",
            "%(organization)s already has %(cap)d approved delegates, the most per company.",
            p["cap"], organization=p["organization"], cap=p["cap"]))

# Decisions
_define("decision.taken_meanwhile", N_("Already %(status)s by %(who)s at %(when)s."),
        words=RS)
_define("decision.taken_by_system", N_("Already %(status)s by the system at %(when)s."),
        words=RS)
_define("decision.withdrawn_meanwhile",
        N_("The applicant withdrew this application at %(when)s: nothing to decide."))
_define("bulk.refused",
        N_("Nothing was applied: some applications cannot be decided this way."))
_define("bulk.nothing_chosen", N_("Choose at least one application."))
_define("bulk.too_many", N_("At most %(limit)d applications can be decided at once."))
_define("bulk.not_yours", N_("Not one of the applications you can decide."))
_define("bulk.event_cancelled", N_("The event has been cancelled."))
_define("bulk.already", N_("Already %(status)s."), words=RS)

# Answers to the event's questions
_define("answers.need_attention", N_("Some answers need your attention."))
_define("answers.unknown_questions",
        N_("Some answers are for questions this event does not ask."))
_define("answer.required", N_("This question needs an answer."))
_define("answer.not_text", N_("Write your answer as text."))
_define("answer.too_long", N_("At most %(max)d characters (this answer has %(count)d)."))
_define("answer.choose_one", N_("Choose one of the options."))
_define("answer.choose_among", N_("Choose among the options only."))
_define("answer.yes_or_no", N_("Answer yes or no."))
_define("answer.impossible", N_("This question cannot be answered."))

# Questions (the organizers')
_define("question.kind_answered",
        N_("%(count)d applicants have answered this question: its kind can no longer "
           "change. Add a new question instead."),
        plural=lambda p: ngettext(
            "%(count)d applicant has answered this question: its kind can no longer "
            "change. Add a new question instead.",
            "%(count)d applicants have answered this question: its kind can no longer "
            "change. Add a new question instead.", p["count"], count=p["count"]))
_define("question.choices_chosen",
        N_("Applicants chose these, so they must stay: %(choices)s."))
_define("question.answered_not_deleted",
        N_("%(count)d applicants have answered this question, so it cannot be deleted. "
           "You can make it optional or reword it instead."),
        plural=lambda p: ngettext(
            "%(count)d applicant has answered this question, so it cannot be deleted. "
            "You can make it optional or reword it instead.",
            "%(count)d applicants have answered this question, so it cannot be deleted. "
            "You can make it optional or reword it instead.", p["count"], count=p["count"]))
_define("question.defaults_for_missions", N_("The default questions are for missions."))
_define("question.defaults_all_asked",
        N_("This mission already asks all the default questions."))

# Values of administrative forms
_define("input.refused", "%(reason)s")  # a refusal the input rules worded (and translated)
_define("field.country_unknown", N_("Choose a country from the list."))
_define("field.cluster_unknown", N_("Choose a cluster from the list."))
_define("field.web_address", N_("Enter an address starting with http:// or https://."))
_define("field.slug_taken", N_("This address is already used; choose another."))
_define("text.one_line", N_("%(field)s must be on one line (no line breaks or tabs)."),
        words={"field": "label"})
_define("text.control_character",
        N_("%(field)s contains the control character %(char)s, which is not allowed."),
        words={"field": "label"})
_define("text.half_character",
        N_("%(field)s contains %(char)s, half of a character that is not complete."),
        words={"field": "label"})
_define("text.not_a_character", N_("%(field)s contains %(char)s, which is not a character."),
        words={"field": "label"})
_define("text.too_long",
        N_("%(field)s is too long: at most %(max)d characters (this has %(count)d)."),
        words={"field": "label"})

# Events and their agenda
_define("event.cancelled_unchangeable",
        N_("This event has been cancelled and can no longer be changed."))
_define("event.unchangeable", N_("A %(status)s event cannot be changed that way."),
        words={"status": "event_status"})
_define("event.invalid_status_change", N_("A %(status)s event cannot become %(to)s."),
        words={"status": "event_status", "to": "event_status"})
_define("event.organizer_needed", N_("Choose at least one organizing partner."))
_define("event.keep_own_organizer",
        N_("Keep one of your own partners among the organizers: otherwise you could no "
           "longer manage this event."))
_define("event.hosts_are_beachheads", N_("Only beachhead organizations host events."))
_define("event.capacity_below_approved",
        N_("%(approved)d registrations are already approved; the capacity cannot be lower."),
        plural=lambda p: ngettext(
            "%(approved)d registration is already approved; the capacity cannot be lower.",
            "%(approved)d registrations are already approved; the capacity cannot be lower.",
            p["approved"], approved=p["approved"]))
_define("event.sessions_outside",
        N_("These agenda sessions would fall outside the event: %(titles)s. Move them "
           "first."))
_define("session.day_outside_event",
        N_("Choose a day within the event (%(first)s to %(last)s)."),
        words={"first": "day", "last": "day"})
_define("session.starts_before_event", N_("The session starts before the event does."))
_define("session.ends_after_event", N_("The session ends after the event does."))
_define("session.not_on_agenda", N_("This session is not on the event's agenda."))
_define("quota.sum_over_capacity",
        N_("The quotas add up to %(total)d seats, more than the capacity of %(capacity)d."))
_define("quota.partner_not_eligible",
        N_("Quotas go to the organizers and the member clusters only."))
_define("quota.over_capacity", N_("More seats than the event's capacity of %(capacity)d."))

# Partners, organizations, agreements
_define("partner.name_taken", N_("Another partner already has this name."))
_define("partner.beachhead_in_use",
        N_("This beachhead hosts events or has hosts; it stays a beachhead until those are "
           "moved."))
_define("organization.not_found_to_join",
        N_("No organization registered here has exactly this name or web domain. Check "
           "its full name, or register your organization."))
_define("organization.several_to_join",
        N_("Several organizations are registered under this name: type its web domain "
           "instead."))
_define("membership.already_requested",
        N_("You have already asked to join this organization."))
_define("membership.own_request", N_("You cannot decide your own request."))
_define("membership.already_decided",
        N_("This request was already %(status)s by %(who)s on %(when)s."),
        words={"status": "membership_status"})
_define("membership.already_decided_by_someone",
        N_("This request was already %(status)s by someone else on %(when)s."),
        words={"status": "membership_status"})
_define("merge.only_parties",
        N_("These two organizations are the only parties of the agreement \"%(title)s\": "
           "change its parties first."))
_define("merge.into_itself", N_("An organization cannot be merged into itself."))
_define("merge.admin_only",
        N_("Only an admin can merge organizations of different home clusters."))
_define("agreement.responsible_cluster_needed",
        N_("Choose the member cluster responsible for it."))
_define("agreement.event_unknown", N_("Choose the event from the list."))
_define("agreement.party_unknown", N_("Choose the parties from the list."))
_define("agreement.party_twice",
        N_("This organization is already a party: an agreement binds different "
           "organizations."))
_define("agreement.collaboration_parties",
        N_("A collaboration agreement is between an EU organization and an organization "
           "of a target region (outside the EU)."))
_define("agreement.partnership_parties",
        N_("A partnership agreement is between a member cluster of the partnership and a "
           "fellow cluster, partnership or beachhead (a partner outside the partnership)."))
_define("period.end_before_start", N_("The end of the period is before its start."))
_define("kpi.no_such_figure", N_("There is no such figure."))

# Accounts, roles, passwords, links
_define("account.email_taken", N_("An account with this email already exists."))
_define("account.email_now_taken", N_("This address is now used by another account."))
_define("account.same_email", N_("This is already your address."))
_define("account.already_verified", N_("Your email address is already confirmed."))
_define("account.exists_sign_in",
        N_("You already have an account with this address: please sign in to register."))
_define("account.own_deactivation", N_("You cannot deactivate your own account."))
_define("role.partner_needed", N_("Choose the partner this role is held for."))
_define("role.hosts_of_beachheads", N_("Only a beachhead organization has hosts."))
_define("role.already_held", N_("This account already holds that role."))
_define("role.own_admin", N_("You cannot remove your own admin role; ask another admin."))
_define("password.wrong", N_("Your password is not right."))
_define("password.current_wrong", N_("Your current password is not right."))
_define("password.not_right", N_("The password is not right."))
_define("password.too_short", N_("The password needs at least %(min_length)s characters."))
_define("password.common",
        N_("This password is one of the most common ones, so it is guessed first. Please "
           "choose another."))
_define("password.already_set",
        N_("Your account has a password already: change it instead."))
_define("link.invalid", N_("This link is not valid."))
_define("link.incomplete", N_("This link is not valid. Please check that you copied it whole."))
_define("link.expired", N_("This link has expired. Please ask for a new one."))
_define("link.used", N_("This link has already been used."))
_define("link.no_account", N_("This link is no longer valid for any account."))
_define("link.password_changed",
        N_("This link is no longer valid: the password has changed since it was sent."))
_define("link.event_gone", N_("This link is for an event that no longer exists."))
_define("join.link_invalid", N_("This join link is not valid."))
_define("confirmation.expired",
        N_("This confirmation has expired or was already used; start again."))
_define("confirmation.not_this",
        N_("This confirmation is not valid for this action; start again."))
_define("throttle.wait", "Too many attempts. Please wait %(num)d minute and try again.",
        plural=lambda p: ngettext(
            "Too many attempts. Please wait %(num)d minute and try again.",
            "Too many attempts. Please wait %(num)d minutes and try again.", p["num"]))
_define("api_token.too_many",
        N_("You have %(limit)d tokens already: revoke one you no longer use first."))
_define("api_token.unknown", N_("No such token."))
_define("api_token.not_ours", N_("The token is not a Beachhead API token."))
_define("api_token.not_known", N_("The token is not known."))
_define("api_token.revoked", N_("The token has been revoked."))
_define("api_token.expired", N_("The token expired after %(last_day)s."))
_define("api_token.account_closed", N_("The token's account is closed."))
_define("erasure.already_deleted", N_("This account has already been deleted."))
_define("erasure.last_admin",
        N_("You are the only administrator; grant the admin role to someone else first."))

# Surveys, logos, messages
_define("survey.closed", N_("This survey has closed: its link was valid for 60 days."))
_define("survey.already_answered", N_("This survey has already been answered: thank you."))
_define("survey.agreement_not_listed",
        N_("Choose one of the agreements listed: those you record with this delegate's "
           "organization among the parties, not confirmed yet."))
_define("logo.too_large", N_("The logo is larger than %(limit)d MB; please send a smaller file."))
_define("logo.too_many_pixels",
        N_("The logo has too many pixels (at most %(limit)d million); please send a smaller "
           "image."))
_define("logo.unreadable",
        N_("The logo must be a PNG or JPEG image, and this file cannot be read as one."))
_define("message.organizers_only",
        N_("Only the event's organizers write to the whole delegation."))
_define("message.no_recipients",
        N_("There are no approved delegates you may write to there."))

# Badges and check-in
_define("badge.code_missing", N_("Scan a badge or type the code printed under its QR code."))
_define("badge.not_a_code",
        N_("This is not a badge code: a badge code has %(length)d letters and digits."))
_define("badge.code_typo", N_("This code has a typo: please check it against the badge."))
_define("badge.unknown_code",
        N_("No badge has this code. It may be a badge of another system, or it was "
           "mistyped."))
_define("badge.other_event", N_("This badge is for another event."))
_define("badge.not_approved", N_("This badge is not valid: the registration is %(status)s."),
        words=RS)
_define("badge.none_to_print",
        N_("There are no approved delegates whose badges you may print."))
_define("badge.none_left_to_print",
        N_("There are no approved delegates left whose badges you may print."))
_define("checkin.not_open_yet", N_("Check-in for this event opens at %(at)s."))
_define("checkin.closed", N_("Check-in for this event closed at %(at)s, when it ended."))

# Backups and restores (the operator's, on the command line)
_define("backup.database_kind", N_("Backups support SQLite and PostgreSQL, not %(kind)s."))
_define("backup.pg_dump_too_old",
        N_("pg_dump %(tool)s cannot dump PostgreSQL %(server)s: install the PostgreSQL "
           "client tools of version %(major)s or newer (Debian: postgresql-client)."))
_define("backup.no_schema_revision",
        N_("The database has no schema revision (alembic_version): run `flask --app wsgi "
           "db upgrade` first; there is nothing of the app's to back up."))
_define("backup.tool_missing",
        N_("%(tool)s is not installed: install the PostgreSQL client tools matching the "
           "server (Debian: apt-get install postgresql-client)."))
_define("backup.pg_dump_failed",
        N_("pg_dump failed (%(returncode)s); no archive was written: %(output)s"))
_define("restore.pg_restore_failed",
        N_("pg_restore failed (%(returncode)s); its one transaction was rolled back, "
           "nothing was restored: %(output)s"))
_define("restore.no_archive", N_("There is no archive at %(archive)s; nothing was restored."))
_define("restore.archive_damaged",
        N_("%(archive)s is truncated or damaged (%(error)s); nothing was restored. Use "
           "another archive."))
_define("restore.foreign_member",
        N_("%(archive)s holds %(name)s, which no backup writes; it is not a Beachhead "
           "backup. Nothing was restored."))
_define("restore.no_manifest",
        N_("%(archive)s has no manifest; it is not a Beachhead backup. Nothing was "
           "restored."))
_define("restore.unreadable_manifest",
        N_("%(archive)s has no readable Beachhead manifest. Nothing was restored."))
_define("restore.other_format",
        N_("%(archive)s is in backup format %(theirs)s; this version of Beachhead reads "
           "format %(ours)s. Restore it with the version that made it."))
_define("restore.members_damaged",
        N_("%(archive)s is damaged: %(problems)s. Nothing was restored. Use another "
           "archive."))
_define("restore.other_database_kind",
        N_("This archive holds a %(theirs)s database and this installation runs on "
           "%(kind)s; a backup restores only into the same kind of database. Nothing was "
           "restored."))
_define("restore.newer_schema",
        N_("This archive's schema (revision %(revision)s) is newer than this version of "
           "Beachhead knows (its latest is %(heads)s). Install the version that made the "
           "archive, or a newer one, then restore. Nothing was restored."))
_define("restore.other_installation",
        N_("This archive was made by the installation at %(installation)s (database "
           "%(database)s); this one is %(here)s. Restoring it here would bring that "
           "installation's accounts, events and mail links. If you are moving it here on "
           "purpose, run restore again with --from-another-installation. Nothing was "
           "restored."))
_define("restore.database_has_tables",
        N_("The database is not empty (tables: %(tables)s): a restore goes only into an "
           "empty database, so nothing here is overwritten. Create a new database (or move "
           "the SQLite file away), point DATABASE_URL at it and restore again. Nothing was "
           "restored."))
_define("restore.database_has_revision",
        N_("The database is not empty (it has a schema revision): a restore goes only into "
           "an empty database, so nothing here is overwritten. Create a new database (or "
           "move the SQLite file away), point DATABASE_URL at it and restore again. Nothing "
           "was restored."))
_define("restore.rows_differ",
        N_("The restored database does not match the archive's manifest (%(differences)s). "
           "Do not use it; restore again into a new database."))

# Matchmaking and meeting requests
MS = {"status": "meeting_request_status"}
_define("matchmaking.not_enabled", N_("This event has no matchmaking."))
_define("matchmaking.not_approved",
        N_("Only the event's approved participants take part in its matchmaking."))
_define("matchmaking.consent_needed",
        N_("Agree to be shown in the event's marketplace to take part in it."))
_define("matchmaking.already_joined",
        N_("You already take part in this event's matchmaking."))
_define("matchmaking.type_unknown", N_("Choose a participant type from the list."))
_define("matchmaking.opportunity_type_unknown",
        N_("Choose an opportunity type from the list."))
_define("matchmaking.type_taken", N_("This event already has a type with this key."))
_define("matchmaking.point_taken",
        N_("This event already has a meeting point with this name."))
_define("matchmaking.not_a_slot", N_("Choose among the event's meeting slots."))
_define("matchmaking.block_outside_event",
        N_("A meeting block must lie within the event's dates."))
_define("meeting_request.to_oneself", N_("You cannot ask yourself for a meeting."))
_define("meeting_request.type_not_allowed",
        N_("At this event, participants of your type cannot ask participants of this type "
           "for a meeting."))
_define("meeting_request.not_in_marketplace",
        N_("This participant is not in the event's marketplace."))
_define("meeting_request.own_consent_needed",
        N_("Join the event's marketplace before you ask for meetings."))
_define("meeting_request.window_closed", N_("Meeting requests are not open now."))
_define("meeting_request.slot_blocked",
        N_("The participant is not available in one of the slots you chose."))
_define("meeting_request.already_open",
        N_("There is already an open meeting request between you two."))
_define("meeting_request.other_event",
        N_("This participant takes part in another event."))
_define("meeting_request.no_longer_open", N_("This meeting request is %(status)s already."),
        words=MS)
_define("meeting_request.receiver_only",
        N_("Only the participant who was asked can answer this request."))
_define("meeting_request.sides_only",
        N_("Only the two participants can cancel this meeting."))
_define("meeting_request.placed_already",
        N_("This meeting has its time and place already: the organizers move it."))
_define("meeting_request.sides_place",
        N_("Only the two participants choose a time for their meeting."))

# Invitations of the host region's stakeholders
_define("stakeholder_invitation.invalid",
        N_("This invitation link is not valid. Please check that you copied it whole."))
_define("stakeholder_invitation.expired",
        N_("This invitation link has expired. Please ask the event's host to send it again."))
_define("stakeholder_invitation.used",
        N_("This invitation link has already been used. Sign in with your account."))
_define("stakeholder_invitation.replaced",
        N_("This invitation link has been replaced by a newer one. Please use the link in "
           "the latest invitation."))
_define("stakeholder_invitation.revoked",
        N_("This invitation link has been withdrawn by the event's host."))
_define("stakeholder_invitation.event_cancelled",
        N_("This invitation link is for an event that has been cancelled."))
_define("stakeholder_invitation.account_closed",
        N_("This invitation link is for an account that has been closed."))
_define("stakeholder_invitation.pending",
        N_("%(email)s already has an invitation to this event waiting for an answer: send "
           "it again instead."))
_define("stakeholder_invitation.closed",
        N_("This invitation has been accepted or withdrawn already."))

# The schedule of meetings
_define("schedule.locked_conflict",
        N_("Some locked meetings cannot all keep their places: unlock one of them first."))
_define("schedule.final",
        N_("The schedule is final: unlock it before scheduling again."))
_define("schedule.changed_meanwhile",
        N_("Meetings, slots or availability changed while the schedule was being worked "
           "out, so nothing was changed. Please schedule again."))

# What meetings led to: held, ratings, follow-ups
_define("meeting.not_placed", N_("This meeting has no slot and table in the schedule."))
_define("meeting.sides_only", N_("Only the two participants of this meeting can do this."))
_define("meeting.not_started",
        N_("The meeting starts at %(at)s: tap “we met” once it has started."))
_define("meeting.marking_closed",
        N_("Meetings are marked as held only while check-in is open (it closed at %(at)s)."))
_define("meeting.point_unknown", N_("Choose one of the event's meeting points."))
_define("meeting.not_participant",
        N_("%(name)s takes no part in this event's matchmaking."))
_define("meeting.none_at_point",
        N_("%(name)s has no meeting at %(point)s during the event."))
_define("meeting.rating_too_early",
        N_("You can rate the meeting once its slot has ended, at %(at)s."))
_define("meeting.rating_closed",
        N_("Your rating can no longer be changed: the follow-up question has been sent."))
_define("meeting_follow_up.closed", N_("This follow-up link has expired."))
_define("meeting_follow_up.already_answered",
        N_("This follow-up question has been answered already."))
_define("meeting_follow_up.no_agreement_reached",
        N_("Only an answer “cooperation agreement reached” leads to recording an agreement."))
_define("meeting_follow_up.agreement_recorded",
        N_("The agreement this meeting led to has been recorded already."))
_define("meeting_follow_up.no_member_cluster",
        N_("Neither side of the meeting belongs to a member cluster that could follow the "
           "agreement up: please ask the event's organizers to record it."))
_define("schedule.not_accepted", N_("Only an accepted meeting request has a place in the "
                                    "schedule."))
_define("schedule.not_a_point", N_("Choose among the event's meeting points."))
_define("schedule.slot_blocked", N_("One of the two sides is not available in that slot."))
_define("schedule.side_busy", N_("One of the two sides has another meeting in that slot."))
_define("schedule.no_free_point", N_("Every meeting point is taken in that slot."))
_define("schedule.point_taken", N_("That meeting point is taken in that slot."))
_define("schedule.no_answer", N_("No schedule was found within the time limit: allow the "
                                 "solver more time."))
_define("schedule.slot_past", N_("That slot has begun already: choose a later one."))
_define("schedule.not_placed", N_("Only a meeting with a slot and a meeting point can be "
                                   "locked there."))

# Codes whose template is not a msgid of their own (rendered by the input rules, which
# word and translate the reason themselves).
PASSTHROUGH = frozenset({"input.refused"})
