"""One overall deadline per JWKS fetch, held against servers that misbehave on purpose.

Each server listens on 127.0.0.1 and misbehaves in one way: it stalls before answering, trickles the
body or an endless header line one byte every 50 ms, redirects, or sends a body over the size cap.
`fetch_jwks` must give up by its deadline (asserted with a generous bound: this is the run, not a
benchmark) and say why, so a Lambda invocation never runs to the function's timeout.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from secure_api_authorizer.jwks import MAX_JWKS_BYTES, JwksError, fetch_jwks

TIMEOUT = 0.5
BOUND = 3.0  # seconds: far above TIMEOUT, far below the 12 s a trickle took before the deadline held


def _stall(_conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(10)


def _trickle(prefix: bytes, byte: bytes) -> Callable[[socket.socket, threading.Event], None]:
    def serve(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(prefix)
        while not stop.wait(0.05):
            conn.sendall(byte)

    return serve


def _send(data: bytes) -> Callable[[socket.socket, threading.Event], None]:
    def serve(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(data)
        stop.wait(10)

    return serve


@pytest.fixture
def server() -> Iterator[Callable[[Callable[[socket.socket, threading.Event], None]], str]]:
    stop = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    threads: list[threading.Thread] = []

    def start(behaviour: Callable[[socket.socket, threading.Event], None]) -> str:
        def run() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                with contextlib.suppress(OSError):  # the client gave up, as it should
                    behaviour(conn, stop)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        threads.append(thread)
        return f"http://127.0.0.1:{listener.getsockname()[1]}/jwks.json"

    yield start
    stop.set()
    listener.close()
    for thread in threads:
        thread.join(5)


HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
MISBEHAVIOURS = {
    "stalls before the status line": (_stall, "slower than"),
    "trickles the body": (_trickle(HEADERS + b"Content-Length: 100000\r\n\r\n{", b" "), "slower than"),
    "trickles an endless header line": (_trickle(HEADERS + b"X-Slow: ", b"a"), "slower than"),
    "trickles endless headers": (_trickle(HEADERS, b"X: y\r\n"), "slower than"),
    "redirects": (
        _send(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n"),
        "HTTP 302",
    ),
    "sends a huge body": (
        _send(HEADERS + f"Content-Length: {4 * MAX_JWKS_BYTES}\r\n\r\n".encode() + b" " * (4 * MAX_JWKS_BYTES)),
        "larger than",
    ),
}


@pytest.mark.parametrize(("behaviour", "message"), MISBEHAVIOURS.values(), ids=MISBEHAVIOURS.keys())
def test_every_misbehaving_server_is_cut_off_by_the_deadline(
    server: Callable[[Callable[[socket.socket, threading.Event], None]], str],
    behaviour: Callable[[socket.socket, threading.Event], None],
    message: str,
) -> None:
    url = server(behaviour)
    started = time.monotonic()
    with pytest.raises(JwksError, match=message):
        fetch_jwks(url, TIMEOUT)
    assert time.monotonic() - started < BOUND


def test_a_well_behaved_server_is_read_whole(
    server: Callable[[Callable[[socket.socket, threading.Event], None]], str],
) -> None:
    body = b'{"keys": []}'
    url = server(_send(HEADERS + f"Content-Length: {len(body)}\r\n\r\n".encode() + body))
    assert fetch_jwks(url, TIMEOUT) == body
