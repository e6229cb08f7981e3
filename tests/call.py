"""The call for applications: the load, its data and the checks of what must hold.

The moment a call opens, through gunicorn with four sync workers (production config, no
Redis: mail goes inline after each commit) to an SMTP server on loopback. On committed
data in a fresh database (150 members with passwords, 200 more members, a 50-seat
webinar that confirms at once, a mission whose queue holds 100 submitted applications),
one barrier releases at the same moment:

- 150 members signing in (the sign-in form with its CSRF token), each then opening
  "My registrations";
- 200 signed-in members applying to the webinar (its applying form, opened before);
- the organizing cluster's two partner managers approving the same 100 applications,
  each walking the queue they loaded before, in the same order, one POST per application.

`broken_promises` lists what did not hold: every sign-in is a redirect and its session
opens its own page; exactly 50 approved and 150 on the waiting list; each mission
application decided once (one audit entry) and the other manager told, on the page and
not by a 500, that it was already approved and by whom; no answer of 500 or more, nothing
that got no answer; each expected mail received exactly once, and no other.

Used by tests/test_call_for_applications.py, which proves it on both databases, and by
bench/call.py, which times it.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path

import requests
from sqlalchemy import func, select

from tests.factories import PASSWORD, Factory
from tests.live import LOCKED, form_fields
from tests.processes import (
    BIN,
    Mailbox,
    Processes,
    flask,
    free_port,
    mail_server,
    production_env,
    wait_for,
)
from webapp import create_app
from webapp.extensions import db
from webapp.models import AuditEntry, EventKind, OutboxMessage, Registration, User
from webapp.models import RegistrationStatus as S

ACCOUNTS, APPLICANTS, SEATS, QUEUE = 150, 200, 50, 100
WORKERS = 4
# The whole run, from the empty database to the last mail, on a 2-core machine shared with
# other work: every wait below takes at most what is left of it.
BUDGET_SECONDS = 170
REQUEST_TIMEOUT = 30
WEBINAR_TITLE = "Boston Mobility Buyers Webinar"
MISSION_TITLE = "Outbound Mission to Singapore"
MANAGER_NAMES = ("Desk Manager One", "Desk Manager Two")
QUEUE_LINK = re.compile(r'href="/desk/registrations/(\d+)"')


class Clock:
    """One deadline for a whole run."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self, at_most: float | None = None) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("the run is over its time budget")
        return left if at_most is None else min(left, at_most)


# -- the call ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Call:
    accounts: list[str]  # the members who sign in (emails)
    applicants: list[str]  # the signed-in members who apply to the webinar
    managers: list[tuple[str, str]]  # the mission's deciders: (email, name)
    webinar_id: int
    webinar_slug: str
    mission_id: int
    queue: dict[int, str]  # the mission's submitted applications: id -> applicant's email


def seed(url: str) -> Call:
    """The call's data, committed in the (migrated, empty) database at `url`.

    Built with the testing config, whose password hash is cheap: a stored hash carries its
    method, so the production server checks it at that cost (the sign-ins measure the
    request, not scrypt's 2**15 rounds)."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        make = Factory()
        cluster = make.partner(name="Smart City Cluster Gent")
        managers = [make.manager(cluster, name=name, email=f"manager-{n}@call.example")
                    for n, name in enumerate(MANAGER_NAMES, 1)]

        def member(email: str) -> User:
            return make.user(make.organization(cluster), email=email)

        accounts = [member(f"account-{n:03}@call.example") for n in range(ACCOUNTS)]
        applicants = [member(f"applicant-{n:03}@call.example") for n in range(APPLICANTS)]
        webinar = make.event(
            organizers=[cluster], kind=EventKind.WEBINAR, title=WEBINAR_TITLE,
            requires_approval=False, capacity=SEATS, starts_in=timedelta(days=30),
            duration=timedelta(hours=2), timezone="America/New_York",
            target_country="US", target_city="Boston",
        )
        mission = make.event(organizers=[cluster], title=MISSION_TITLE, capacity=None)
        # The first members who sign in have applied to the mission: their page lists it.
        queue = {make.registration(mission, user).id: user.email
                 for user in accounts[:QUEUE]}
        db.session.commit()
        call = Call(
            accounts=[u.email for u in accounts], applicants=[u.email for u in applicants],
            managers=[(m.email, m.name) for m in managers], webinar_id=webinar.id,
            webinar_slug=webinar.slug, mission_id=mission.id, queue=queue,
        )
        unsent = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        assert unsent == 0, f"the data queued {unsent} mails before the call"
        db.session.remove()
        db.engine.dispose()
    return call


@dataclass
class Site:
    base: str
    call: Call
    box: Mailbox
    processes: Processes


@contextmanager
def served(url: str, log_dir: Path, clock: Clock, app: str = "wsgi:app") -> Iterator[Site]:
    """Migrate `url`, put the call's data in it and serve it with gunicorn (WORKERS sync
    workers, production config, no Redis), its mail going to an SMTP server on loopback."""
    processes = Processes(log_dir)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        with mail_server() as (mail_port, box):
            env = production_env(url, "", mail_port, BASE_URL=base)
            flask(env, "db", "upgrade", timeout=clock.left(120))
            call = seed(url)
            processes.start("gunicorn", [
                str(BIN / "gunicorn"), "--workers", str(WORKERS), "--bind",
                f"127.0.0.1:{port}", "--timeout", "60", app], env)
            wait_for(lambda: _answers(base), "gunicorn", deadline=clock.left(30),
                     processes=processes)
            yield Site(base, call, box, processes)
            processes.check_running()
    finally:
        processes.stop_all()


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/login", timeout=2).status_code == 200
    except requests.RequestException:
        return False


# -- browsers ------------------------------------------------------------------------------

@dataclass
class Answer:
    kind: str  # sign-in, my registrations, application, decision (or bare)
    who: str  # the email of whoever asked
    status: int
    seconds: float
    body: str = ""
    registration_id: int | None = None


class Browser:
    """One person's browser: their cookies, a timeout on every request."""

    def __init__(self, base: str, clock: Clock, email: str) -> None:
        self.base, self.clock, self.email = base, clock, email
        self.http = requests.Session()
        self.fields: list[tuple[str, str]] = []

    def send(self, kind: str, method: str, path: str, data=None, **extra) -> Answer:
        """The answer; status 0 when none came (refused, reset, timed out)."""
        start = time.perf_counter()
        try:
            reply = self.http.request(method, self.base + path, data=data,
                                      allow_redirects=False,
                                      timeout=self.clock.left(REQUEST_TIMEOUT))
        except requests.RequestException as error:
            return Answer(kind, self.email, 0, time.perf_counter() - start,
                          f"{method} {path}: {type(error).__name__}: {error}", **extra)
        return Answer(kind, self.email, reply.status_code, time.perf_counter() - start,
                      reply.text, **extra)

    def page_form(self, path: str, action: str | None = None) -> list[tuple[str, str]]:
        page = self.send("page", "GET", path)
        assert page.status == 200, f"{self.email}: GET {path} answered {page.status}"
        fields = form_fields(page.body, action or path)
        assert "csrf_token" in dict(fields), f"no form posting to {action or path} on {path}"
        return fields

    def open_sign_in(self) -> None:
        fields = [(k, v) for k, v in self.page_form("/login") if k not in ("email", "password")]
        self.fields = [*fields, ("email", self.email), ("password", PASSWORD)]

    def sign_in(self) -> Answer:
        return self.send("sign-in", "POST", "/login", self.fields)

    def signed_in(self) -> None:
        self.open_sign_in()
        answer = self.sign_in()
        assert answer.status == 302, f"{self.email} could not sign in: {answer.status}"

    def open_application(self, slug: str) -> None:
        """What a member does before pressing the button: open the applying page and tick
        the profile consent."""
        page = f"/events/{slug}/apply"
        self.fields = [*((k, v) for k, v in self.page_form(page) if k != "profile_consent"),
                       ("profile_consent", "y")]

    def open_queue(self, mission_id: int) -> list[int]:
        """The manager's desk filtered to the mission's undecided applications, and the
        decision form of the first (its CSRF token is the session's, good for every one)."""
        page = self.send("page", "GET",
                         f"/desk/?event={mission_id}&status=submitted&per_page=100")
        assert page.status == 200, f"{self.email}: the desk answered {page.status}"
        queue = [int(n) for n in dict.fromkeys(QUEUE_LINK.findall(page.body))]
        assert queue, f"{self.email}: an empty queue"
        self.fields = [*self.page_form(f"/desk/registrations/{queue[0]}",
                                       f"/desk/registrations/{queue[0]}/decide"),
                       ("decision", "approve")]
        assert dict(self.fields).get("expected_status") == S.SUBMITTED.value
        return queue

    def approve_each(self, queue: list[int]) -> list[Answer]:
        return [self.send("decision", "POST", f"/desk/registrations/{reg_id}/decide",
                          self.fields, registration_id=reg_id) for reg_id in queue]


# -- the moment ----------------------------------------------------------------------------

@dataclass
class Burst:
    answers: list[Answer] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # clients that gave up
    seconds: float = 0.0  # from the release to the last answer

    @property
    def per_second(self) -> float:
        return len(self.answers) / self.seconds if self.seconds else 0.0

    @property
    def slowest(self) -> float:
        return max((a.seconds for a in self.answers), default=0.0)

    def statuses(self) -> Counter:
        return Counter(a.status for a in self.answers)


def at_once(acts: list[Callable[[], list[Answer]]], clock: Clock) -> Burst:
    """Run each act in its own thread, all released by one barrier."""
    burst = Burst()
    lock = threading.Lock()
    barrier = threading.Barrier(len(acts) + 1)
    ends: list[float] = []

    def run(act) -> None:
        try:
            barrier.wait(timeout=clock.left(60))
            answers = act()
        except Exception as error:  # reported with the outcome, not lost in the thread
            with lock:
                burst.failures.append(f"{type(error).__name__}: {error}")
            return
        with lock:
            burst.answers.extend(answers)
            ends.append(time.perf_counter())

    threads = [threading.Thread(target=run, args=(act,), daemon=True) for act in acts]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=clock.left(60))
    start = time.perf_counter()
    for thread in threads:
        thread.join(timeout=max(clock.end - time.monotonic(), 0.1))
    stuck = sum(thread.is_alive() for thread in threads)
    if stuck:
        burst.failures.append(f"{stuck} clients still waiting at the end of the budget")
    burst.seconds = max(ends, default=start) - start
    return burst


def prepared(items: list, prepare: Callable) -> list:
    """`prepare(item)` for every item, 8 at a time, before the moment: not timed."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(prepare, items))


def call_for_applications(base: str, call: Call, clock: Clock) -> Burst:
    """Open every browser's form first, then release the sign-ins, the applications and
    the two managers' walks through the queue at the same moment."""

    def signing_in(email: str) -> Browser:
        browser = Browser(base, clock, email)
        browser.open_sign_in()
        return browser

    def applying(email: str) -> Browser:
        browser = Browser(base, clock, email)
        browser.signed_in()
        browser.open_application(call.webinar_slug)
        return browser

    def deciding(manager: tuple[str, str]) -> tuple[Browser, list[int]]:
        browser = Browser(base, clock, manager[0])
        browser.signed_in()
        return browser, browser.open_queue(call.mission_id)

    members = prepared(call.accounts, signing_in)
    applicants = prepared(call.applicants, applying)
    managers = prepared(call.managers, deciding)

    def sign_in_and_look(browser: Browser) -> list[Answer]:
        signed_in = browser.sign_in()
        return [signed_in, browser.send("my registrations", "GET", "/account/registrations")]

    acts = [
        *(lambda b=b: sign_in_and_look(b) for b in members),
        *(lambda b=b: [b.send("application", "POST", f"/events/{call.webinar_slug}/apply",
                              b.fields)] for b in applicants),
        *(lambda b=b, queue=queue: b.approve_each(queue) for b, queue in managers),
    ]
    return at_once(acts, clock)


# -- what came of it -----------------------------------------------------------------------

@dataclass
class Outcome:
    webinar: dict[str, S]  # applicant's email -> status
    mission: dict[int, S]  # registration id -> status
    decisions: dict[int, list[tuple[str, str]]]  # registration id -> (action, actor's email)


def read_outcome(url: str, call: Call) -> Outcome:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        webinar = dict(db.session.execute(
            select(User.email, Registration.status).join(Registration.user)
            .where(Registration.event_id == call.webinar_id)).all())
        mission = dict(db.session.execute(
            select(Registration.id, Registration.status)
            .where(Registration.event_id == call.mission_id)).all())
        decisions: dict[int, list] = {reg_id: [] for reg_id in mission}
        for reg_id, action, email in db.session.execute(
                select(AuditEntry.registration_id, AuditEntry.action, User.email)
                .outerjoin(User, User.id == AuditEntry.actor_id)
                .join(Registration, Registration.id == AuditEntry.registration_id)
                .where(Registration.event_id == call.mission_id,
                       AuditEntry.action != "registration.applied")
                .order_by(AuditEntry.id)):
            decisions[reg_id].append((action, email))
        db.session.remove()
        db.engine.dispose()
    return Outcome(webinar, mission, decisions)


def expected_mail(call: Call, outcome: Outcome) -> Counter:
    """(recipient, subject) of every mail the call should send: each applicant to the
    webinar hears of its outcome, each mission applicant of the approval."""
    expected = Counter()
    for email, status in outcome.webinar.items():
        if status == S.APPROVED:
            expected[email, f"You're registered: {WEBINAR_TITLE}"] += 1
        elif status == S.WAITLISTED:
            expected[email, f"You're on the waiting list: {WEBINAR_TITLE}"] += 1
    for email in call.queue.values():
        expected[email, f"Your application is approved: {MISSION_TITLE}"] += 1
    return expected


def received_mail(box: Mailbox, expected_total: int, clock: Clock) -> Counter:
    """What the SMTP server received, once it has had time to drain (a little longer than
    the expected count takes, so a duplicate has its chance to arrive)."""
    end = time.monotonic() + min(30, max(clock.end - time.monotonic(), 0))
    while box.count() < expected_total and time.monotonic() < end:
        time.sleep(0.1)  # the comparison below says what is missing
    time.sleep(min(1.0, max(clock.end - time.monotonic(), 0)))
    return Counter((parseaddr(str(m["To"]))[1].lower(), str(m["Subject"]))
                   for m in list(box.messages))


def _sample(items, n: int = 5) -> str:
    items = list(items)
    return ", ".join(map(str, items[:n])) + (f" (and {len(items) - n} more)"
                                            if len(items) > n else "")


def broken_promises(call: Call, burst: Burst, outcome: Outcome, mail: Counter,
                    server_log: str) -> list[str]:
    """Every way the call went wrong, as sentences (none: it went right)."""
    problems = []
    if burst.failures:
        problems.append(f"{len(burst.failures)} clients gave up: {_sample(burst.failures, 3)}")
    unanswered = [a for a in burst.answers if a.status == 0]
    if unanswered:
        problems.append(f"{len(unanswered)} requests got no answer: "
                        + _sample((a.body for a in unanswered), 3))
    errors = [a for a in burst.answers if a.status >= 500]
    if errors:
        problems.append(f"{len(errors)} answers of 500 or more: " + _sample(
            f"{a.kind} by {a.who}: {a.status}" for a in errors))
    tracebacks = server_log.count("Traceback")
    if tracebacks:
        problems.append(f"the server logged {tracebacks} tracebacks")
    locked = server_log.count(LOCKED) + sum(LOCKED in a.body for a in burst.answers)
    if locked:
        problems.append(f"'{LOCKED}' {locked} times in the answers and the server's log")

    by_kind: dict[str, dict[str, list[Answer]]] = {}
    for answer in burst.answers:
        by_kind.setdefault(answer.kind, {}).setdefault(answer.who, []).append(answer)
    signed_in = by_kind.get("sign-in", {})
    looked = by_kind.get("my registrations", {})
    refused = [email for email in call.accounts
               if [a.status for a in signed_in.get(email, [])] != [302]]
    if refused:
        problems.append(f"{len(refused)} sign-ins did not answer 302: " + _sample(
            f"{e} {[a.status for a in signed_in.get(e, [])]}" for e in refused))
    not_theirs = [email for email in call.accounts
                  if not any(a.status == 200 and email in a.body
                             for a in looked.get(email, []))]
    if not_theirs:
        problems.append(f"{len(not_theirs)} sessions did not open their own My registrations: "
                        + _sample(f"{e} {[a.status for a in looked.get(e, [])]}"
                                  for e in not_theirs))
    applied = by_kind.get("application", {})
    not_applied = [email for email in call.applicants
                   if [a.status for a in applied.get(email, [])] not in ([302], [303])]
    if not_applied:
        problems.append(f"{len(not_applied)} applications were not redirected to the "
                        "registration: " + _sample(
                            f"{e} {[a.status for a in applied.get(e, [])]}" for e in not_applied))

    seats = Counter(outcome.webinar.values())
    if (seats[S.APPROVED], seats[S.WAITLISTED], sum(seats.values())) != (
            SEATS, APPLICANTS - SEATS, APPLICANTS):
        problems.append(f"the webinar should have {SEATS} approved and "
                        f"{APPLICANTS - SEATS} waitlisted, it has "
                        f"{ {s.value: n for s, n in seats.items()} }")

    names = dict(call.managers)
    attempts: dict[int, list[Answer]] = {}
    for answers in by_kind.get("decision", {}).values():
        for answer in answers:
            attempts.setdefault(answer.registration_id, []).append(answer)
    for reg_id in call.queue:
        status, entries = outcome.mission.get(reg_id), outcome.decisions.get(reg_id, [])
        tries = attempts.get(reg_id, [])
        won = [a for a in tries if a.status == 302]
        lost = [a for a in tries if a.status != 302]
        if status != S.APPROVED or len(entries) != 1 or entries[0][0] != "registration.approved":
            problems.append(f"mission application {reg_id} is {status and status.value}, "
                            f"its decisions in the audit log: {entries}")
            continue
        decider = entries[0][1]
        if len(tries) != 2 or len(won) != 1 or won[0].who != decider:
            problems.append(f"mission application {reg_id}: decided by {decider}, the "
                            f"managers' answers {[(a.who, a.status) for a in tries]}")
            continue
        message = f"Already approved by {names[decider]}"
        if lost[0].status != 409 or message not in lost[0].body:
            problems.append(f"mission application {reg_id}: {lost[0].who}'s second attempt "
                            f"answered {lost[0].status} without '{message}'")

    expected = expected_mail(call, outcome)
    missing, extra = expected - mail, mail - expected
    if missing:
        problems.append(f"{sum(missing.values())} expected mails never arrived: "
                        f"{_sample(missing.items())}")
    if extra:
        problems.append(f"{sum(extra.values())} mails arrived that should not have "
                        f"(duplicates or others): {_sample(extra.items())}")
    return problems
