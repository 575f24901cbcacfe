"""Issue 11 item 6, against the real served process (`python -m skill.hosting.serve`):
malformed chunked bodies are a 400 (never a 500, never a hung worker), and slow clients
cannot starve the service.

Raw sockets, because http.client cannot send a broken chunked body or trickle headers.
The server runs with ONE worker process and ONE thread -- the easiest to starve -- and
verification on.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
from test_webservice_server import served

HEAD = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from served(tmp_path_factory.mktemp("slow"), ["--workers", "1", "--threads", "1"])


def connect(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    return sock


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except (ConnectionResetError, TimeoutError):
        pass
    return b"".join(chunks)


def status_of(raw: bytes) -> int | None:
    if not raw.startswith(b"HTTP/1."):
        return None
    return int(raw.split(b" ", 2)[1])


def healthz_ok(server) -> bool:
    status, _, _ = server.request("GET", "/healthz")
    return status == 200


@pytest.mark.parametrize("body", [
    b"zz\r\nabc\r\n0\r\n\r\n",              # chunk size not hex
    b"-5\r\nabc\r\n0\r\n\r\n",              # negative chunk size
    b"3\r\nabcXY0\r\n\r\n",                 # missing CRLF after the chunk data
    b"3;\x00bad\r\nabc\r\n0\r\n\r\n",       # a control character in a chunk extension
])
def test_malformed_chunked_bodies_are_400(server, body):
    with connect(server) as sock:
        sock.sendall(HEAD + body)
        raw = read_all(sock)
    assert status_of(raw) == 400, raw[:200]
    assert healthz_ok(server)


def test_a_truncated_final_chunk_with_a_half_close_is_never_a_500(server):
    with connect(server) as sock:
        sock.sendall(HEAD + b"10\r\n{\"version\":")
        sock.shutdown(socket.SHUT_WR)
        raw = read_all(sock)
    assert status_of(raw) in (None, 400), raw[:200]  # dropped or refused, never handled
    assert healthz_ok(server)


def test_a_chunk_larger_than_its_data_holds_no_worker(server):
    """The request never completes, so it never reaches the single worker thread:
    other requests are answered meanwhile, and the server closes it at its deadline."""
    with connect(server) as sock:
        sock.sendall(HEAD + b"1000\r\n{\"version\":\"1.0\"")
        assert healthz_ok(server)
        assert server.post_signed()[0] == 200
        raw = read_all(sock)  # the server hangs up (request read deadline)
    assert status_of(raw) in (None, 400, 408)


def test_slow_header_clients_do_not_starve_the_service(server):
    """Sixteen clients each send one header line a second, for ever; /healthz and signed
    Alexa requests are answered all the while, and the server drops the slow clients."""
    stop = threading.Event()
    dropped = []

    def trickle(number: int) -> None:
        with connect(server) as sock:
            try:
                sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                for line in range(120):
                    if stop.wait(1.0):
                        return
                    sock.sendall(f"X-Slow-{line}: {number}\r\n".encode())
            except OSError:
                dropped.append(number)  # the server hung up on us

    clients = [threading.Thread(target=trickle, args=(n,), daemon=True) for n in range(16)]
    for client in clients:
        client.start()
    try:
        time.sleep(2.5)  # let every slow client get going
        for _ in range(5):
            assert healthz_ok(server)
            assert server.post_signed()[0] == 200
        for client in clients:
            client.join(60)
    finally:
        stop.set()
    assert sorted(dropped) == list(range(16))
    assert healthz_ok(server)
