"""A faulty network between the app and PostgreSQL: a TCP proxy on 127.0.0.1 that passes
traffic, refuses connections, drops them or stalls them, switched while the app runs.

Used by tests/test_faults_database.py and bench/stalled_database.py.

- `passes()`: bytes go both ways.
- `refuses()`: the server is gone: open connections are cut, new ones refused (nothing
  listens on the port).
- `drops()`: open connections are cut, new ones accepted and closed at once.
- `stalls()`: nothing moves any more, in either direction, on open or new connections,
  and nobody is told: the peers' kernels still acknowledge every packet, as behind a
  frozen NAT or a paused server. When the link passes again, the stalled connections are
  cut (a stall long enough to matter outlives the state of whatever sat in the middle);
  what the client sent into the stall never reaches the server.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

PASS, REFUSE, DROP, STALL = "pass", "refuse", "drop", "stall"
POLL = 0.02  # seconds between looks at the mode


class _Link:
    """One client connection and, unless it arrived stalled, its upstream."""

    def __init__(self, client: socket.socket, server: socket.socket | None) -> None:
        self.client, self.server = client, server
        self.stalled = server is None
        self.closed = False

    def cut(self) -> None:
        self.closed = True
        for sock in (self.client, self.server):
            if sock is not None:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with suppress(OSError):
                    sock.close()


class FaultyLink:
    """The proxy: `port` on 127.0.0.1 leads to `upstream` while it passes."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode = PASS
        self._links: list[_Link] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.port = 0
        self._listen()

    # ------------------------------------------------------------------ switching

    def passes(self) -> None:
        with self._lock:
            self.mode = PASS
            self._cut(lambda link: link.stalled)
        self._listen()

    def refuses(self) -> None:
        with self._lock:
            self.mode = REFUSE
            self._cut(lambda link: True)
            if self._listener is not None:
                self._listener.close()
                self._listener = None

    def drops(self) -> None:
        with self._lock:
            self.mode = DROP
            self._cut(lambda link: True)
        self._listen()

    def stalls(self) -> None:
        with self._lock:
            self.mode = STALL
            for link in self._links:
                link.stalled = True
        self._listen()

    @contextmanager
    def fault(self, mode: str) -> Iterator[None]:
        """`with link.fault(STALL): ...`, then the link passes again."""
        {REFUSE: self.refuses, DROP: self.drops, STALL: self.stalls, PASS: self.passes}[mode]()
        try:
            yield
        finally:
            self.passes()

    def close(self) -> None:
        self.refuses()

    # ------------------------------------------------------------------ the proxy

    def _cut(self, which) -> None:
        for link in [link for link in self._links if which(link)]:
            link.cut()
            self._links.remove(link)

    def _listen(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(128)
            self.port = listener.getsockname()[1]
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                ready, _, _ = select.select([listener], [], [], POLL)
                if not ready:
                    continue
                client, _address = listener.accept()
            except (OSError, ValueError):
                return  # closed: the link refuses
            with self._lock:
                mode = self.mode
            if mode == DROP:
                with suppress(OSError):
                    client.close()
                continue
            server = None
            if mode == PASS:
                try:
                    server = socket.create_connection(self.upstream, timeout=5)
                except OSError:
                    client.close()
                    continue
                server.settimeout(None)
            link = _Link(client, server)
            with self._lock:
                self._links.append(link)
            if server is not None:
                threading.Thread(target=self._pump, args=(link,), daemon=True).start()

    def _pump(self, link: _Link) -> None:
        """Both directions of one link, while it is not stalled."""
        peers = {link.client: link.server, link.server: link.client}
        while not link.closed:
            if link.stalled:
                time.sleep(POLL)
                continue
            try:
                ready, _, _ = select.select(list(peers), [], [], POLL)
                for sock in ready:
                    if link.stalled:
                        break
                    data = sock.recv(65536)
                    if not data:
                        raise ConnectionError("closed")
                    peers[sock].sendall(data)
            except (OSError, ValueError):
                with self._lock:
                    link.cut()
                    if link in self._links:
                        self._links.remove(link)
                return
