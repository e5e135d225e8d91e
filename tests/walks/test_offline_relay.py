"""The relay the browser test cuts to take the server away (tests/support/relay.py): it
forwards, it really refuses connections when cut, it listens again on the same port, and it
can lose one answer after the server has acted on the request."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from support.relay import Relay


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    posts: ClassVar[list[bytes]] = []

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(b"hello " + self.path.encode())

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.posts.append(body)
        self._answer(b"stored " + body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    _Handler.posts = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=30)


def _get(port: int, path: str) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        return connection.getresponse().read()
    finally:
        connection.close()


def test_the_relay_forwards_cuts_restores_and_loses_an_answer(
        server: ThreadingHTTPServer) -> None:
    relay = Relay(target_port=int(server.server_address[1])).start()
    try:
        port = relay.port
        assert _get(port, "/a") == b"hello /a"
        kept = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        kept.request("GET", "/kept")
        assert kept.getresponse().read() == b"hello /kept"

        relay.cut()
        assert not relay.listening
        with pytest.raises(ConnectionRefusedError):
            _get(port, "/b")
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            kept.request("GET", "/kept-again")  # the open connection was closed too
            kept.getresponse()
        kept.close()
        accepted = relay.accepted

        relay.restore()
        assert relay.port == port
        assert _get(port, "/c") == b"hello /c"
        assert relay.accepted == accepted + 1

        relay.bad_gateway(True)
        gone = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        gone.request("GET", "/d")
        answer = gone.getresponse()
        assert (answer.status, answer.read()) == (502, b"Bad Gateway")
        gone.close()
        relay.bad_gateway(False)
        assert _get(port, "/e") == b"hello /e"

        relay.lose_next_answer()
        lost = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        lost.request("POST", "/p", body=b"one")
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            lost.getresponse()
        lost.close()
        assert relay.answer_lost.is_set() and relay.lost == 1
        assert _Handler.posts == [b"one"]  # the server acted; the client never heard
        again = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        again.request("POST", "/p", body=b"two")
        assert again.getresponse().read() == b"stored two"  # only the next answer is lost
        again.close()
    finally:
        relay.close()
