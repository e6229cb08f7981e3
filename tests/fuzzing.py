"""The route fuzzer's machinery: a small partnership with marker strings planted in each
cluster's private data, hostile values as Hypothesis strategies, and a walker that sends
them to every endpoint and method of `app.url_map` as one role, signed in through the real
sign-in form and sending the CSRF token its pages carry.

Shared by `tests/test_route_fuzz.py` (bounded, both databases) and `bench/route_fuzz.py`
(requests per second, share that reached validation). Schemathesis covers the API's JSON
(`tests/test_api_fuzz.py`); here the API's routes get path, query and wrong-bodied input.

"Reached validation": the request got past CSRF (Flask-WTF marks `g.csrf_valid`) and the
access checks: not a 401/403/404, not the redirect to the sign-in page. A fuzzer stopped
at the door therefore shows a low share, and write endpoints never reached.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import subprocess
import time
import traceback
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import quote, urlencode, urlsplit

from flask import current_app, g, request_finished
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed, NotFound

from tests.factories import PASSWORD, Factory
from webapp.extensions import db
from webapp.inputs.matchmaking import (
    JoinIn,
    MatchmakingIn,
    MeetingBlockIn,
    MeetingPointIn,
    MeetingRequestIn,
    OpportunityIn,
)
from webapp.inputs.stakeholders import StakeholderInvitationIn
from webapp.models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    AgreementType,
    Answer,
    DelegationMessage,
    Download,
    DownloadStatus,
    Event,
    EventStatus,
    OutboxMessage,
    OutboxStatus,
    Question,
    QuestionKind,
    Registration,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
    utcnow,
)
from webapp.models import RegistrationStatus as S
from webapp.services import (
    accounts,
    api_tokens,
    calendar,
    matchmaking,
    meeting_requests,
    meeting_schedule,
    organizations,
    stakeholder_invitations,
    surveys,
    tokens,
)
from webapp.text import stored_text_problems

ROLES = ("anonymous", "member", "manager_a", "manager_b", "host", "admin")
# Never fuzzed: files on disk, and the vendored API reference page.
SKIPPED_ENDPOINTS = {"static", "api_docs.reference"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Endpoints after which a signed-in role may find itself signed out.
SESSION_ENDING = {"auth.logout", "auth.change_password", "auth.change_email",
                  "auth.confirm_email_change", "auth.reset_password", "account.delete",
                  "auth.verify_email"}
# Endpoints that end what others need (a participant leaving the marketplace ends their
# requests and their right to ask; matchmaking switched off closes the schedule): walked
# after the rest.
WALKED_LAST = {"marketplace.leave", "api.marketplace_leave", "matchmaking.switch_off"}
WARM_UP_COMBINATIONS = 8
GENERIC_QUERY_NAMES = ("page", "q", "next", "when", "kind", "status", "event", "session",
                       "sort", "partner", "organization", "from", "to")


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    emails: dict[str, str]
    # Path parameters that belong together (an event and one of its sessions, ...).
    bindings: list[dict[str, str]]
    # marker -> the roles that may legitimately see it (admin sees everything).
    markers: dict[str, frozenset[str]]
    draft_markers: dict[str, int]  # marker -> its draft event's id: private while a draft
    api_secrets: dict[str, str] = field(default_factory=dict)  # role -> bearer token


def _marker(tag: str) -> str:
    return f"LEAKMARKER-{tag}-{secrets.token_hex(4)}"


def seed(make: Factory) -> World:
    """Two clusters A and B, each with private data carrying markers (an organization's
    profile, an applicant's answer, a draft's description, a message to the cluster's
    delegates) that only its manager (and admins) may see; a member of A (another member's
    answer is private to them too), a manager of each, a beachhead host and an admin. The
    answers are to an event a third partner organizes with no host, so no fuzzed decision
    can make them visible to anyone else."""
    cluster_a, cluster_b, organizing = make.partner(), make.partner(), make.partner()
    beachhead = make.beachhead()
    member_org = make.organization(cluster_a)
    users = {
        "member": make.user(member_org, name="Mia Member"),
        "manager_a": make.manager(cluster_a),
        "manager_b": make.manager(cluster_b),
        "host": make.host(beachhead),
        "admin": make.admin(),
    }
    mission = make.event(organizers=[organizing], hosts=[beachhead])
    mission_session = make.session(mission)
    make.registration(mission, users["member"], S.SUBMITTED, S.APPROVED,
                      actor=users["manager_a"])
    market = _matchmaking(make, mission, users)
    questions = make.event(organizers=[organizing])
    question = Question(event=questions, kind=QuestionKind.SHORT_TEXT, label="Your plans?")
    db.session.add(question)
    markers: dict[str, frozenset[str]] = {}
    draft_markers: dict[str, int] = {}
    bindings: list[dict] = [
        {"event_id": mission.id, "slug": mission.slug},
        {"event_id": mission.id, "session_id": mission_session.id, "slug": mission.slug},
        {"event_id": questions.id, "slug": questions.slug},
    ]
    for tag, cluster, manager in (("A", cluster_a, "manager_a"), ("B", cluster_b, "manager_b")):
        own = frozenset({manager})
        # Organization names are public (sign-up and agreements list them); profiles not.
        hidden_org = make.organization(cluster, profile=_marker(f"{tag}-PROFILE"))
        markers[hidden_org.profile] = own
        applicant_org = make.organization(cluster)
        applicant = make.user(applicant_org)
        agreement = Agreement(kind=AgreementKind.COLLABORATION, type=AgreementType.OTHER,
                              status=AgreementStatus.IN_NEGOTIATION, title="Joint pilot",
                              responsible_partner=cluster)
        db.session.add(agreement)
        reg = make.registration(questions, applicant, S.SUBMITTED)
        answer = _marker(f"{tag}-ANSWER")
        db.session.add(Answer(registration=reg, question=question, value=answer))
        markers[answer] = own
        draft = make.event(organizers=[cluster], status=EventStatus.DRAFT,
                           description=_marker(f"{tag}-DRAFT"))
        markers[draft.description] = own
        draft_markers[draft.description] = draft.id
        message = DelegationMessage(event=mission, sender=users[manager], partner=cluster,
                                    subject="To our delegates", body=_marker(f"{tag}-MESSAGE"))
        db.session.add(message)
        markers[message.body] = own
        db.session.flush()
        bindings += [
            {"event_id": draft.id, "slug": draft.slug},
            {"organization_id": hidden_org.id}, {"organization_id": applicant_org.id},
            {"registration_id": reg.id}, {"user_id": applicant.id},
            {"partner_id": cluster.id}, {"agreement_id": agreement.id},
        ]
    db.session.flush()
    own_reg = db.session.scalars(select(Registration).where(
        Registration.user_id == users["member"].id)).one()
    unverified = make.user(None, email_verified_at=None)
    with current_app.test_request_context():  # its mail links to the organization page
        join_request = organizations.request_membership(make.user(None), member_org, "Hi")
    invitation = SurveyInvitation(registration=own_reg, round=next(iter(SurveyRound)),
                                  due_at=utcnow(), remind_at=utcnow())
    response = SurveyResponse(invitation=invitation, satisfaction=4)
    failed_mail = OutboxMessage(to_address="gone@example.org", subject="Hello", body_text="Hi",
                                status=OutboxStatus.FAILED)
    # A KPI report of cluster A that failed: its requester may build it again.
    failed_report = Download(kind="kpi_report", params={"start": None, "end": None},
                             scope={"clusters": [cluster_a.id]}, key="fuzz",
                             requested_by_id=users["manager_a"].id,
                             status=DownloadStatus.FAILED, filename="kpi-report.pdf",
                             mimetype="application/pdf", requesters=[users["manager_a"]])
    db.session.add_all([invitation, response, failed_mail, failed_report])
    # The API's routes answer bearer tokens, not the session: one token per role.
    api = {role: api_tokens.create(user, "fuzz", read_only=False)
           for role, user in users.items()}
    db.session.flush()
    bindings += [
        {"question_id": question.id, "event_id": questions.id},
        {"registration_id": own_reg.id, "code": own_reg.badge_code},
        {"token": own_reg.join_token},
        {"token": calendar.feed_token(users["member"])},
        {"token": surveys.link_token(invitation)},
        {"request_id": join_request.id}, {"response_id": response.id},
        {"message_id": failed_mail.id}, {"download_id": failed_report.id},
        # Tokens to revoke: others than those the walk uses on the API.
        *({"token_id": str(api_tokens.create(user, "spare", read_only=True).token.id)}
          for user in users.values()),
        {"token": accounts_token("verify", unverified)},
        {"token": accounts_token("reset", users["member"])},
        {"organization_id": member_org.id},
        {"partner_id": beachhead.id}, {"partner_id": organizing.id},
        *({"user_id": user.id} for user in users.values()),
        *({"user_id": user.id, "grant_id": grant.id}
          for user in users.values() for grant in user.grants),
        {"figure": "registrations"}, {"name": "registrations", "fmt": "csv"},
        *market,
    ]
    bindings = [{k: str(v) for k, v in b.items() if v is not None} for b in bindings]
    db.session.flush()
    return World(
        emails={role: user.email for role, user in users.items()},
        api_secrets={role: new.secret for role, new in api.items()},
        bindings=bindings, markers=markers, draft_markers=draft_markers,
    )


def _matchmaking(make: Factory, mission, users: dict) -> list[dict]:
    """Matchmaking on the mission: a block and a point; the member and a peer in its
    marketplace, the member with an opportunity and asked for a meeting by the peer (so
    the member both answers and cancels); a stakeholder invited by its host. The
    bindings that reach them."""
    matchmaking.switch_on(mission.id, MatchmakingIn.from_values(), actor=None)
    local = mission.starts_at.astimezone(mission.zone).replace(tzinfo=None)
    block = matchmaking.add_block(mission.id, MeetingBlockIn.from_values(
        starts_local=local, ends_local=local + timedelta(hours=2)), actor=None)
    point = matchmaking.add_point(mission.id, MeetingPointIn.from_values(name="Table 1"),
                                  actor=None)
    member = users["member"]
    peer = make.user(make.organization(make.partner()), name="Pia Peer")
    make.registration(mission, peer, S.SUBMITTED, S.APPROVED)
    regs = dict(db.session.execute(select(Registration.user_id, Registration.id).where(
        Registration.event_id == mission.id)).all())
    joined = {user.id: matchmaking.join(regs[user.id], JoinIn.from_values(
        participant_type="sme", consent=True), actor=user) for user in (member, peer)}
    mine, theirs = joined[member.id], joined[peer.id]
    offer = matchmaking.add_opportunity(mine.id, OpportunityIn.from_values(
        opportunity_type="offer", title="Street lighting pilots", tags="smart lighting"),
        actor=member)
    third = make.user(make.organization(make.partner()), name="Quinn Third")
    make.registration(mission, third, S.SUBMITTED, S.APPROVED)
    regs = dict(db.session.execute(select(Registration.user_id, Registration.id).where(
        Registration.event_id == mission.id)).all())
    other = matchmaking.join(regs[third.id], JoinIn.from_values(
        participant_type="sme", consent=True), actor=third)
    with current_app.test_request_context():  # the mails link to the marketplace
        asked = meeting_requests.request(theirs.id, MeetingRequestIn.from_values(
            receiver_id=mine.id, message="Shall we meet?"), actor=peer)
        # An accepted meeting with its place: the member moves, rates and says "we met".
        met = meeting_requests.request(other.id, MeetingRequestIn.from_values(
            receiver_id=mine.id, message="Let us meet."), actor=third)
        meeting_requests.accept(met.id, actor=member)
        meeting = meeting_schedule.place(met, mission.starts_at)
        # One between two people who walk nobody's role: still there when the admin
        # (the last to walk) locks, moves and unlocks it.
        kept = meeting_requests.request(other.id, MeetingRequestIn.from_values(
            receiver_id=theirs.id, message="Until later."), actor=third)
        meeting_requests.accept(kept.id, actor=peer)
        invitation = stakeholder_invitations.invite(
            mission.id, StakeholderInvitationIn.from_values(
                email="stakeholder@example.sg", name="Sam Stakeholder",
                organization="Lion City Lighting", country="SG", language="en"),
            actor=users["host"])
    link = tokens.make(stakeholder_invitations.PURPOSE,
                       {"invitation": invitation.id, "nonce": invitation.token_nonce})
    event = {"event_id": mission.id}
    return [
        {**event, "block_id": block.id}, {**event, "point_id": point.id},
        {**event, "participant_id": mine.id}, {**event, "participant_id": theirs.id},
        {**event, "opportunity_id": offer.id}, {**event, "request_id": asked.id},
        {**event, "request_id": met.id}, {**event, "meeting_id": meeting.id},
        {**event, "request_id": kept.id},
        {**event, "invitation_id": invitation.id}, {"token": link},
    ]


def accounts_token(purpose: str, user) -> str:
    """A verification or reset link's token, as the mail would carry it."""
    if purpose == "verify":
        return tokens.make(accounts.VERIFY_EMAIL, {"user": user.id, "email": user.email})
    return tokens.make(accounts.RESET_PASSWORD,
                       {"user": user.id, "version": user.session_version})


def forbidden_markers(world: World, role: str) -> set[str]:
    """The markers `role` must never be shown now: those of data outside its scope (a
    draft that the fuzzing itself published is no longer private)."""
    if role == "admin":
        return set()
    still_drafts = set(db.session.scalars(select(Event.id).where(
        Event.id.in_(world.draft_markers.values()), Event.status == EventStatus.DRAFT)))
    published = {marker for marker, event_id in world.draft_markers.items()
                 if event_id not in still_drafts}
    return {m for m, allowed in world.markers.items() if role not in allowed} - published


# --------------------------------------------------------------------------- hostile values

CONTROL = st.characters(categories=["Cc"]).filter(lambda c: c not in "\n\t\r")
SURROGATE = st.characters(categories=["Cs"])
COMBINING = st.characters(categories=["Mn", "Me"])
FORMULAS = st.sampled_from(["=1+1", "+SUM(A1:A9)", "-2+3", "@cmd", '=HYPERLINK("x")',
                            "=cmd|' /C calc'!A0"])
OVER_LONG = st.sampled_from([256, 4_097, 70_000]).map(lambda n: "x" * n)
HOSTILE_TEXT = st.one_of(
    st.just("\x00"),
    st.text(alphabet=st.one_of(CONTROL, SURROGATE, COMBINING), min_size=1, max_size=6)
    .map(lambda s: "Ann" + s + "a"),
    FORMULAS, OVER_LONG,
    st.just("e\u0301\u0308\u20dd"), st.just("\ufeff\u202e\u200b"),
    st.text(max_size=30),
)
EDGE_IDS = st.sampled_from(["0", "-1", "2147483647", "2147483648", "9223372036854775807",
                            "9223372036854775808", "1" + "0" * 40, "1.5", "1e3", " 1",
                            "0x10", "\u0661", "", "null"])
EDGE_DATES = st.sampled_from([
    "9999-12-31", "0001-01-01", "1999-12-31", "2000-01-01", "2100-12-31", "2101-01-01",
    "2026-02-30", "9999-12-31T23:59", "0001-01-01T00:00",
    # Spring forward and fall back in Europe/Copenhagen and America/New_York.
    "2026-03-29T02:30", "2026-10-25T02:30", "2026-03-08T02:30", "2026-11-01T01:30",
    "02:30", "25:61", "2026-13-01",
])


def id_values(world: World, name: str):
    """Ids at the edges, and every seeded object's id (other clusters' among them)."""
    seeded = sorted({b[name] for b in world.bindings if name in b})
    return st.one_of(EDGE_IDS, st.sampled_from(seeded)) if seeded else EDGE_IDS


def value_for(world: World, name: str, options: list[str]):
    """A hostile value for the form or query field `name`: its own kind's edges, a valid
    option now and then (to get past the first check), or any hostile text."""
    lowered = name.lower()
    kinds = [HOSTILE_TEXT]
    if lowered.endswith(("_id", "id")) or lowered in {"event", "audience", "organization",
                                                      "partner", "into", "session", "user"}:
        kinds.append(id_values(world, lowered if lowered.endswith("_id") else f"{lowered}_id"))
    if any(part in lowered for part in ("date", "_on", "_at", "start", "end", "time",
                                        "opens", "closes", "deadline")):
        kinds.append(EDGE_DATES)
    if options:
        kinds.append(st.sampled_from(options))
    return st.one_of(*kinds)


# --------------------------------------------------------------------------- forms seen


class _FormParser(HTMLParser):
    """The forms of a page: action, method, field names and the options they offer."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "method":
                               (a.get("method") or "get").upper(), "fields": {}})
        elif not self.forms:
            return
        elif tag in ("input", "textarea", "select") and a.get("name"):
            options = self.forms[-1]["fields"].setdefault(a["name"], [])
            if a.get("value") and a.get("type") in ("radio", "checkbox", "hidden", None):
                options.append(a["value"])
            self._select = a["name"] if tag == "select" else None
        elif tag == "option" and self._select and a.get("value") is not None:
            self.forms[-1]["fields"][self._select].append(a["value"])


# --------------------------------------------------------------------------- the walker


@dataclass
class Tally:
    sent: int = 0
    reached: int = 0
    seconds: float = 0.0


@dataclass
class Report:
    tallies: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    server_errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    # (role, endpoint, method) reached at least once; and those each role may use.
    reached: set[tuple[str, str, str]] = field(default_factory=set)
    usable: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    # The fuzzing requests to the endpoints each role may use (the share's denominator).
    on_usable: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    # Markers shown to someone allowed to see them: proof the leak check looks where they are.
    markers_seen: set[str] = field(default_factory=set)

    def share(self, role: str) -> float:
        """Of `role`'s fuzzing requests to the endpoints it may use, the share that
        reached validation."""
        tally = self.on_usable[role]
        return tally.reached / tally.sent if tally.sent else 0.0

    def lines(self) -> list[str]:
        out = []
        for role, t in self.tallies.items():
            rate = t.sent / t.seconds if t.seconds else 0.0
            out.append(f"{role:10} {t.sent:5} requests {rate:6.0f}/s "
                       f"reached validation {self.share(role):5.1%} "
                       f"({len(self.usable[role])} endpoint-methods usable)")
        return out


class Walker:
    """Fuzzes every route as one role with one Flask test client."""

    def __init__(self, app, world: World, report: Report, examples: int,
                 fresh_reads=lambda: None) -> None:
        """`fresh_reads`: ends the caller's read transaction where it would go on showing
        its old snapshot of what the requests committed (a committed SQLite file)."""
        self.app, self.world, self.report = app, world, report
        self.fresh_reads = fresh_reads
        self.client = app.test_client()
        self.examples = examples
        self.forms: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(dict)
        self.role = "anonymous"
        self._outcome: dict = {}
        self._csrf: str | None = None
        self._forbidden: set[str] = set()
        self._counted: set[tuple[str, str]] = set()  # the endpoints the share is over
        self.adapter = app.url_map.bind("localhost")
        request_finished.connect(self._finished, app)

    def close(self) -> None:
        request_finished.disconnect(self._finished, self.app)

    # -- what each request did
    def _finished(self, sender, response, **extra) -> None:
        from flask import request

        # The API is exempt from CSRF: its bearer token is its door.
        csrf = g.get("csrf_valid", False) or (request.blueprint or "").startswith("api")
        self._outcome = {"status": response.status_code, "csrf": csrf,
                         "safe": request.method in SAFE_METHODS,
                         "location": response.headers.get("Location", "")}

    def _reached(self) -> bool:
        o = self._outcome
        if not o or not (o["safe"] or o["csrf"]):
            return False
        if o["status"] in (401, 403, 404, 405):
            return False
        return not (o["status"] in (301, 302, 303) and "/login" in o["location"])

    # -- signing in
    def sign_in(self, role: str) -> None:
        self.role = role
        self.client = self.app.test_client()  # a fresh cookie jar
        self._csrf = None
        if role == "anonymous":
            return
        token = self.csrf_token("/login")
        response = self.client.post("/login", data={
            "email": self.world.emails[role], "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, (role, response.status_code)
        self._csrf = None

    def csrf_token(self, page: str = "/") -> str:
        """The session's CSRF token, read from a page's form as a browser would."""
        if self._csrf is None:
            html = self.client.get(page if self.role != "anonymous" else "/login").get_data(
                as_text=True)
            match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
            assert match, "no CSRF token on the page"
            self._csrf = match.group(1)
        return self._csrf

    def _still_signed_in(self) -> bool:
        response = self.client.get("/account/registrations")
        return response.status_code == 200

    # -- sending
    def send(self, endpoint: str, method: str, path: str, *, query: bytes = b"",
             body: bytes | None = None, content_type: str | None = None,
             files: dict | None = None) -> bool:
        """One request; records a 5xx (with the line that raised) and any leak. Returns
        whether it reached validation."""
        url = path + (b"?" + query).decode("ascii") if query else path
        headers = {"X-CSRFToken": self.csrf_token()} if method not in SAFE_METHODS else {}
        if endpoint.startswith("api.") and self.role in self.world.api_secrets:
            headers["Authorization"] = f"Bearer {self.world.api_secrets[self.role]}"
        self._outcome = {}
        started = time.perf_counter()
        try:
            if files is not None:
                response = self.client.open(url, method=method, data=files, headers=headers)
            else:
                response = self.client.open(url, method=method, data=body,
                                            content_type=content_type, headers=headers)
            status = response.status_code
            text = response.get_data()
        except Exception as error:  # the testing app propagates what a 500 would hide
            frames = traceback.extract_tb(error.__traceback__)
            ours = [f for f in frames if "/webapp/" in f.filename] or frames
            where = f"{ours[-1].filename.split('/work/main/')[-1]}:{ours[-1].lineno}"
            self.report.server_errors.append(
                f"{self.role} {method} {url[:200]!r} "
                f"body={(body or repr(files or '').encode())[:200]!r}: "
                f"{type(error).__name__}: {str(error)[:200]} at {where}")
            status, text = 500, b""
        tally = self.report.tallies[self.role]
        tally.seconds += time.perf_counter() - started
        tally.sent += 1
        if status >= 500 and text:
            self.report.server_errors.append(f"{self.role} {method} {url[:200]!r}: {status}")
        reached = status < 500 and self._reached()
        if (endpoint, method) in self._counted:
            self.report.on_usable[self.role].sent += 1
            self.report.on_usable[self.role].reached += reached
        if reached:
            tally.reached += 1
            self.report.reached.add((self.role, endpoint, method))
        readable = _readable(text, response.mimetype) if status < 500 else text
        for marker in self.world.markers:
            if marker.encode() in readable:
                self.report.markers_seen.add(marker)
                if marker in self._forbidden:
                    self.report.leaks.append(f"{self.role} saw {marker} at {method} {url[:200]}")
        if method == "GET" and status == 200 and "html" in response.mimetype:
            self._learn_forms(path, text.decode("utf-8", "replace"))
        if self.role != "anonymous" and endpoint in SESSION_ENDING | {"admin.user_deactivate"} \
                and not self._still_signed_in():
            self.sign_in(self.role)
        return reached

    def _learn_forms(self, path: str, html: str) -> None:
        parser = _FormParser()
        parser.feed(html)
        for form in parser.forms:
            action = urlsplit(form["action"]).path or path
            try:
                endpoint, _ = self.adapter.match(action, method=form["method"])
            except (NotFound, MethodNotAllowed):
                continue
            known = self.forms[(endpoint, form["method"])]
            for name, options in form["fields"].items():
                if name != "csrf_token":
                    known.setdefault(name, [])
                    known[name] = sorted(set(known[name]) | set(options))[:20]

    # -- the walk
    def routes(self) -> list[tuple[object, str]]:
        out = []
        for rule in self.app.url_map.iter_rules():
            if rule.endpoint in SKIPPED_ENDPOINTS:
                continue
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                out.append((rule, method))
        # GET pages first: their forms tell the POSTs which fields exist.
        return sorted(out, key=lambda rm: (rm[1] != "GET", rm[0].endpoint in WALKED_LAST,
                                           rm[0].endpoint))

    def _candidates(self, rule) -> list[dict[str, str]]:
        names = set(rule.arguments)
        if not names:
            return [{}]
        seen, out = set(), []
        for binding in self.world.bindings:
            if names <= binding.keys():
                values = tuple(sorted((n, binding[n]) for n in names))
                if values not in seen:
                    seen.add(values)
                    out.append(dict(values))
        return out[:WARM_UP_COMBINATIONS]

    def _path(self, rule, values: dict[str, str]) -> str:
        """The rule's path with `values` quoted in (bytes beyond UTF-8 as they would
        arrive from a hostile client)."""
        path = rule.rule
        for name in rule.arguments:
            raw = values[name].encode("utf-8", "surrogatepass")
            path = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">",
                          lambda _m, raw=raw: quote(raw, safe=""), path)
        return path

    def walk(self, role: str) -> None:
        """Warm up (each route with the seeded ids and empty input: which ids this role
        reaches), then fuzz each route with hostile values."""
        self.sign_in(role)
        self.fresh_reads()
        self._forbidden = forbidden_markers(self.world, role)
        self._counted = set()
        working: dict[tuple[str, str], list[dict]] = {}
        for rule, method in self.routes():
            key = (rule.endpoint, method)
            for values in self._candidates(rule):
                if self.send(rule.endpoint, method, self._path(rule, values),
                             body=b"" if method not in SAFE_METHODS else None,
                             content_type="application/x-www-form-urlencoded"):
                    working.setdefault(key, []).append(values)
            if key in working:
                self.report.usable[role].add(key)
        self.fresh_reads()
        self._forbidden = forbidden_markers(self.world, role)
        self._counted = self.report.usable[role]
        for rule, method in self.routes():
            self._fuzz(rule, method, working.get((rule.endpoint, method), []))

    def _fuzz(self, rule, method: str, working: list[dict]) -> None:
        fields = self.forms.get((rule.endpoint, method), {})
        query_names = list(self.forms.get((rule.endpoint, "GET"), {})) or list(
            GENERIC_QUERY_NAMES[:4])
        walker = self

        @settings(max_examples=self.examples, database=None, deadline=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def one(data):
            if working and data.draw(st.integers(0, 9), "seeded ids") < 8:
                values = data.draw(st.sampled_from(working), "path")
            else:
                values = {name: data.draw(
                    id_values(walker.world, name) if rule._converters[name].regex.startswith(
                        r"\d") else st.one_of(HOSTILE_TEXT.filter(bool), st.sampled_from(
                            [b[name] for b in walker.world.bindings if name in b] or ["x"])),
                    name) for name in rule.arguments}
            query = _encode(data.draw(_pairs(walker.world, query_names, {}), "query"))
            if method in SAFE_METHODS:
                walker.send(rule.endpoint, method, walker._path(rule, values), query=query)
                return
            pairs = data.draw(_pairs(walker.world, list(fields), fields), "form")
            shape = data.draw(st.sampled_from(["form"] * 5 + ["json", "text", "multipart"]),
                              "content type")
            path = walker._path(rule, values)
            if shape == "form":
                walker.send(rule.endpoint, method, path, body=_encode(pairs),
                            content_type="application/x-www-form-urlencoded")
            elif shape == "json":
                body = json.dumps(dict(pairs), ensure_ascii=False).encode(
                    "utf-8", "surrogatepass")
                walker.send(rule.endpoint, method, path, body=body,
                            content_type="application/json")
            elif shape == "text":
                walker.send(rule.endpoint, method, path, body=_encode(pairs),
                            content_type="text/plain")
            else:
                # Multipart parts are encoded by the client: surrogates go as U+FFFD.
                files = {k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
                         for k, v in pairs}
                for name in fields:
                    if "logo" in name or "file" in name:
                        blob = data.draw(st.sampled_from(
                            [b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"GIF89a" + b"\xff" * 9,
                             b"<svg onload=alert(1)>", b"\x00" * 3000]), "file")
                        files[name] = (io.BytesIO(blob), "logo.png")
                walker.send(rule.endpoint, method, path, files=files)

        one()


def _readable(body: bytes, mimetype: str) -> bytes:
    """What a reader of the response sees: a PDF's text layer and an XLSX's cells are
    compressed in the file, where a marker would go unnoticed."""
    if mimetype == "application/pdf":
        result = subprocess.run(["pdftotext", "-q", "-", "-"], input=body,
                                capture_output=True, timeout=60, check=False)
        return body + result.stdout
    if mimetype.endswith("spreadsheetml.sheet"):
        with zipfile.ZipFile(io.BytesIO(body)) as xlsx:
            return body + b"".join(xlsx.read(name) for name in xlsx.namelist())
    return body


def _pairs(world: World, names: list[str], options: dict[str, list[str]]):
    """Fields to send: each present, missing, or duplicated, with a hostile value."""
    @st.composite
    def build(draw):
        out = []
        for name in names:
            times = draw(st.sampled_from([1, 1, 1, 0, 2]), name)
            for _ in range(times):
                out.append((name, draw(value_for(world, name, options.get(name, [])))))
        return out
    return build()


def _encode(pairs: list[tuple[str, str]]) -> bytes:
    """URL-encode as a hostile client might: lone surrogates go out as the (invalid)
    UTF-8 bytes they would be."""
    return urlencode([(k, v.encode("utf-8", "surrogatepass")) for k, v in pairs]).encode()


# --------------------------------------------------------------------------- stored text


def broken_stored_text() -> list[str]:
    """Rows whose stored text breaks item 1 of issue 18 (the text rule's own scan)."""
    return stored_text_problems(db.session)
