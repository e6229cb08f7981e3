"""The real processes of a production set-up, for tests and benchmarks: RQ workers and
gunicorn started as `flask`/`gunicorn` subprocesses with the production config, and an
aiosmtpd server on 127.0.0.1 that they send their mail to.

Used by tests/test_jobs.py, tests/test_production.py and bench/jobs.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET = "production-test-secret-0123456789abcdef"


def loaded_at_start(*modules: str) -> list[str]:
    """Which of `modules` a fresh interpreter has loaded once it created the app: the
    heavy ones (WeasyPrint, the scheduler's solver) should wait until they are used."""
    code = ("import sys; from webapp import create_app; create_app('testing'); "
            f"print(' '.join(sorted(set({sorted(modules)!r}) & set(sys.modules))))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, cwd=Path(__file__).resolve().parents[1]).stdout
    return out.split()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_env(database_url: str, redis_url: str, mail_port: int, **extra: str) -> dict:
    """The environment of a production process on this machine (plain http on loopback)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "BEACHHEAD_"))}
    env.update(BEACHHEAD_CONFIG="production", SECRET_KEY=SECRET, DATABASE_URL=database_url,
               REDIS_URL=redis_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(mail_port),
               SESSION_COOKIE_SECURE="false", PREFERRED_URL_SCHEME="http",
               PYTHONUNBUFFERED="1", **extra)
    return env


def flask(env: dict, *args: str, timeout: float = 120) -> str:
    """Run `flask --app wsgi ARGS` to its end; its output, or an error with it."""
    result = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"flask {' '.join(args)} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    return result.stdout


class Processes:
    """Processes started for one test, stopped (and their output kept) at the end."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], env: dict) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "w")  # noqa: SIM115 - closed by the process
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        log.close()
        self.started.append((name, process))
        return process

    def worker(self, env: dict, name: str = "worker", *args: str) -> subprocess.Popen:
        return self.start(name, [str(BIN / "flask"), "--app", "wsgi", "worker", *args], env)

    def gunicorn(self, env: dict, port: int, workers: int = 2) -> subprocess.Popen:
        return self.start("gunicorn", [str(BIN / "gunicorn"), "--workers", str(workers),
                                       "--bind", f"127.0.0.1:{port}", "--timeout", "60",
                                       "wsgi:app"], env)

    def output(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def check_running(self) -> None:
        for name, process in self.started:
            if process.poll() is not None:
                raise AssertionError(f"{name} exited ({process.returncode}):\n"
                                     f"{self.output(name)[-3000:]}")

    def stop_all(self) -> None:
        for _name, process in reversed(self.started):
            if process.poll() is None:
                process.terminate()
        for _name, process in reversed(self.started):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def wait_for(condition: Callable[[], object], what: str, deadline: float = 60,
             processes: Processes | None = None) -> object:
    """Poll `condition` until it returns something true, or fail after `deadline` s."""
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if processes is not None:
            processes.check_running()
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what} after {deadline} s")
        time.sleep(0.05)


class Mailbox:
    """What the loopback SMTP server received, as parsed messages."""

    def __init__(self) -> None:
        self.messages: list = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list:
        with self._lock:
            return [m for m in self.messages if address.lower() in m["To"].lower()]

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    @staticmethod
    def text(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()


@contextmanager
def mail_server(handler=None) -> Iterator[tuple[int, Mailbox]]:
    """aiosmtpd on a free port of 127.0.0.1: (port, handler), the handler a Mailbox
    unless one is given (a server that stalls, say)."""
    from aiosmtpd.controller import Controller

    port = free_port()
    box = handler if handler is not None else Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


@contextmanager
def scratch_database(server_url: str, name: str) -> Iterator[str]:
    """A new, empty PostgreSQL database `name` on the server of `server_url` (any database
    URL of it, `postgresql+psycopg://...`), dropped at the end: yields its URL. For load
    that must not touch the test database the rest of the suite shares."""
    import psycopg

    server = server_url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True,
                             connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
