"""A TCP relay in front of a served site that a test can cut and restore: a real loss of the
server, not the browser's emulation of one.

The relay listens on a port of the loopback and forwards every connection to the site. ``cut()``
closes its listening socket and every connection it holds, so the port refuses connections as a
server that is gone does; ``restore()`` listens again on the same port (the same origin, so a
page's service worker, cookies and storage still apply). ``lose_next_answer()`` makes the relay
forward the next POST to the site and then drop the connection instead of passing the answer
back: the site has acted, the browser never hears of it (a phone losing its signal at the worst
moment), and retries. ``bad_gateway(True)`` makes it answer every request itself with 502, as a
proxy in front of a site that is down does.

One thread runs a selector over the listening socket, the connections and a wake-up pair; the
test's calls are carried out by that thread and waited for, so there is no polling and no
clock.
"""

from __future__ import annotations

import contextlib
import queue
import selectors
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

CHUNK = 65536


@dataclass
class _Pair:
    client: socket.socket
    upstream: socket.socket
    #: Whether the relay drops the first answer of this connection (it began with a POST).
    lose_answer: bool = False


@dataclass
class Relay:
    """Forward 127.0.0.1:``port`` to ``target_host``:``target_port``; start with ``start()``."""

    target_port: int
    target_host: str = "127.0.0.1"
    port: int = 0
    #: Connections accepted so far (a reload answered with the relay cut adds none).
    accepted: int = 0
    #: Answers dropped by ``lose_next_answer()``.
    lost: int = 0
    answer_lost: threading.Event = field(default_factory=threading.Event)
    _listener: socket.socket | None = None
    _selector: selectors.DefaultSelector = field(default_factory=selectors.DefaultSelector)
    _pairs: dict[socket.socket, _Pair] = field(default_factory=dict)
    _commands: queue.Queue[tuple[Callable[[], None], threading.Event]] = field(
        default_factory=queue.Queue)
    _wake: tuple[socket.socket, socket.socket] = field(default_factory=socket.socketpair)
    _thread: threading.Thread | None = None
    _running: bool = True
    _arm_loss: bool = False
    _bad_gateway: bool = False
    _gateways: set[socket.socket] = field(default_factory=set)

    @property
    def listening(self) -> bool:
        return self._listener is not None

    def start(self) -> Relay:
        self._selector.register(self._wake[0], selectors.EVENT_READ, "wake")
        self._listen()
        self._thread = threading.Thread(target=self._loop, name="relay", daemon=True)
        self._thread.start()
        return self

    def cut(self) -> None:
        """Stop listening and close every connection: the port now refuses connections."""
        self._call(self._cut)

    def restore(self) -> None:
        """Listen again on the same port."""
        self._call(self._listen)

    def lose_next_answer(self) -> None:
        """Forward the next POST, then drop its connection instead of passing the answer on;
        ``answer_lost`` is set when that has happened."""
        def arm() -> None:
            self._arm_loss = True
            self.answer_lost.clear()
        self._call(arm)

    def bad_gateway(self, on: bool) -> None:
        """Answer every new request with 502 Bad Gateway (``on``), or forward again."""
        def switch() -> None:
            self._bad_gateway = on
        self._call(switch)

    def close(self) -> None:
        def stop() -> None:
            self._cut()
            self._running = False
        self._call(stop)
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._selector.close()
        for end in self._wake:
            end.close()

    # -- carried out by the relay's thread -------------------------------------------------

    def _call(self, work: Callable[[], None]) -> None:
        done = threading.Event()
        self._commands.put((work, done))
        self._wake[1].send(b"x")
        if not done.wait(timeout=30):
            raise RuntimeError("the relay's thread did not answer")

    def _listen(self) -> None:
        if self._listener is not None:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.setblocking(False)
        self.port = int(listener.getsockname()[1])
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ, "accept")

    def _cut(self) -> None:
        if self._listener is not None:
            self._selector.unregister(self._listener)
            self._listener.close()
            self._listener = None
        for pair in {id(p): p for p in self._pairs.values()}.values():
            self._drop(pair)
        for client in list(self._gateways):
            self._gateways.discard(client)
            self._selector.unregister(client)
            client.close()

    def _drop(self, pair: _Pair) -> None:
        for sock in (pair.client, pair.upstream):
            if sock in self._pairs:
                del self._pairs[sock]
                self._selector.unregister(sock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            client, _address = self._listener.accept()
        except BlockingIOError:
            return
        self.accepted += 1
        client.setblocking(True)
        if self._bad_gateway:  # answered when its request arrives (_gateway)
            self._gateways.add(client)
            self._selector.register(client, selectors.EVENT_READ, "gateway")
            return
        try:
            upstream = socket.create_connection((self.target_host, self.target_port), timeout=30)
        except OSError:
            client.close()
            return
        pair = _Pair(client=client, upstream=upstream)
        for sock in (client, upstream):
            self._pairs[sock] = pair
            self._selector.register(sock, selectors.EVENT_READ, "data")

    def _gateway(self, client: socket.socket) -> None:
        self._gateways.discard(client)
        self._selector.unregister(client)
        with client:
            try:
                if client.recv(CHUNK):
                    client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\n"
                                   b"Content-Length: 11\r\nConnection: close\r\n\r\n"
                                   b"Bad Gateway")
            except OSError:
                pass

    def _forward(self, sock: socket.socket) -> None:
        pair = self._pairs.get(sock)
        if pair is None:
            return
        try:
            data = sock.recv(CHUNK)
        except OSError:
            data = b""
        if not data:
            self._drop(pair)
            return
        if sock is pair.client:
            # HTTP/1.1 without pipelining: a request begins a chunk once the answer before it
            # has been read.
            if self._arm_loss and data.startswith(b"POST "):
                self._arm_loss = False
                pair.lose_answer = True
            target = pair.upstream
        else:
            if pair.lose_answer:  # the site has answered: the browser never hears it
                self.lost += 1
                self.answer_lost.set()
                self._drop(pair)
                return
            target = pair.client
        try:
            target.sendall(data)
        except OSError:
            self._drop(pair)

    def _loop(self) -> None:
        while self._running:
            for key, _mask in self._selector.select():
                if key.data == "wake":
                    self._wake[0].recv(CHUNK)
                    while not self._commands.empty():
                        work, done = self._commands.get()
                        work()
                        done.set()
                elif key.data == "gateway":
                    if key.fileobj in self._gateways:
                        self._gateway(key.fileobj)
                elif key.data == "accept":
                    if self._listener is not None:
                        self._accept()
                else:
                    self._forward(key.fileobj)  # type: ignore[arg-type]
