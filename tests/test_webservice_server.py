"""The real thing: `python -m skill.hosting.serve` (waitress) on loopback, spoken to over HTTP.

Verification stays ON. The server is told, through the documented env vars, to trust the
generated test CA (ALEXA_TRUST_BUNDLE) and to download the chain from a loopback server
(ALEXA_CERT_CHAIN_ORIGIN); everything else -- waitress, Flask, the verifier, the real
Pins & Needles skill with SQLite memory -- is what production runs.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import certs
import pytest
from certs import SKILL_ID, USER_ID, default_pki, free_port, utcnow

from skill.hosting.webservice import ENV_KEYS, short_id

REPO = Path(__file__).resolve().parent.parent


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env.pop("SKILL_TABLE", None)  # never a real DynamoDB table from a test
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


class Server(certs.ServeProcess):
    """The live server, plus the HTTP calls the tests make to it."""

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, chunked: bool = False):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            if chunked:
                conn.putrequest(method, path)
                for k, v in (headers or {}).items():
                    conn.putheader(k, v)
                conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                for i in range(0, len(body), 65536):
                    part = body[i:i + 65536]
                    conn.send(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                conn.send(b"0\r\n\r\n")
            else:
                conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def post_signed(self, env: dict | None = None, pki=None):
        body = certs.body_of(env or certs.envelope())
        return self.request("POST", "/", body, (pki or default_pki()).headers(body))

def served(tmp, args: list[str], **extra: str):
    """A real `serve` process trusting the test PKI, its chain on a loopback server; stopped
    after the `yield` (for module fixtures here and in the slow-client tests)."""
    pki = default_pki()
    with certs.chain_server(pki) as chains:
        srv = Server(args, _env(
            ALEXA_TRUST_BUNDLE=str(pki.write_root(tmp / "test-root.pem")),
            ALEXA_CERT_CHAIN_ORIGIN=chains.origin,
            SKILL_SQLITE_PATH=str(tmp / "memory.sqlite3"), **extra), tmp / "server.log")
        srv.chains = chains
        try:
            yield srv
        finally:
            srv.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from served(tmp_path_factory.mktemp("server"), ["--workers", "2", "--threads", "2"],
                      SKILL_ID=SKILL_ID)


def _json(body: bytes):
    return json.loads(body.decode())


# ---------------------------------------------------------------------------- serving

def test_healthz_reports_verification_on(server):
    status, headers, body = server.request("GET", "/healthz")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert _json(body) == {"status": "ok", "verify_signature": True, "verify_timestamp": True}


def test_signed_launch_request_is_answered_by_the_real_skill(server):
    status, headers, body = server.post_signed()
    assert status == 200, body
    data = _json(body)
    assert "Pins and Needles" in data["response"]["outputSpeech"]["ssml"]
    assert data["response"]["shouldEndSession"] is False


def test_concurrent_signed_requests_all_succeed(server):
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: server.post_signed()[0], range(64)))
    assert results == [200] * 64
    # Two workers, each with its own cache: the chain is downloaded at most once each.
    assert 1 <= len(server.chains.hits) <= 2


# ------------------------------------------------------------------------- rejections

@pytest.mark.parametrize("case", ["unsigned", "tampered", "wrong_app", "stale", "bad_url"])
def test_failed_verification_is_a_json_400(server, case):
    env = certs.envelope()
    if case == "wrong_app":
        env = certs.envelope(application_id="amzn1.ask.skill.someone-else")
    if case == "stale":
        env = certs.envelope(timestamp=utcnow() - dt.timedelta(minutes=10))
    body = certs.body_of(env)
    headers = default_pki().headers(body)
    if case == "unsigned":
        headers = {"Content-Type": "application/json"}
    if case == "tampered":
        body = body.replace(b"en-US", b"en-GB")
    if case == "bad_url":
        headers["SignatureCertChainUrl"] = "https://s3.amazonaws.com/echo.api/../evil/c.pem"
    status, _, resp = server.request("POST", "/", body, headers)
    assert status == 400
    assert _json(resp) == {"error": "Incoming request failed verification"}


@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_body_is_413(server, chunked):
    body = b'{"pad":"' + b"x" * (300 * 1024) + b'"}'
    status, _, resp = server.request("POST", "/", body, {"Content-Type": "application/json"},
                                     chunked=chunked)
    assert status == 413
    assert _json(resp) == {"error": "Request Entity Too Large"}


def test_not_json_is_400_and_wrong_method_is_405(server):
    status, _, resp = server.request("POST", "/", b"\x00\xffnot json")
    assert status == 400 and "not UTF-8 JSON" in _json(resp)["error"]
    status, headers, resp = server.request("GET", "/")
    assert status == 405 and "POST" in headers["Allow"]


def test_unknown_request_type_gets_an_empty_response(server):
    status, _, resp = server.post_signed(certs.envelope("Alexa.Brand.New.Event"))
    assert status == 200
    assert _json(resp) == {"version": "1.0", "response": {}}


def test_server_log_is_structured_and_private(server):
    server.post_signed()
    server.request("POST", "/", certs.body_of(certs.envelope()))  # unsigned
    time.sleep(0.3)  # let the workers' stderr reach the file
    log = server.log()
    assert USER_ID not in log
    assert f"user={short_id(USER_ID)}" in log
    assert "event=alexa_request status=200 type=LaunchRequest" in log
    assert "event=alexa_request_rejected status=400" in log
    assert "Traceback" not in log


# ------------------------------------------------------------------------- --no-verify

def test_no_verify_refuses_a_non_loopback_host(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "skill.hosting.serve", "--host", "0.0.0.0",
                           "--port", str(free_port()), "--no-verify"],
                          cwd=REPO, env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "refusing --no-verify on non-loopback host" in proc.stderr


def test_malformed_verification_setting_stops_the_server(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "skill.hosting.serve",
                           "--port", str(free_port())],
                          cwd=REPO, env=_env(ASK_SDK_VERIFY_SIGNATURE="flase"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "ASK_SDK_VERIFY_SIGNATURE" in proc.stderr


def test_no_verify_on_loopback_serves_unsigned_requests_and_says_so(tmp_path):
    srv = Server(["--workers", "1", "--no-verify"],
                 _env(SKILL_SQLITE_PATH=str(tmp_path / "memory.sqlite3")),
                 tmp_path / "server.log")
    try:
        old = certs.envelope(timestamp=utcnow() - dt.timedelta(days=2))
        status, _, body = srv.request("POST", "/", certs.body_of(old))
        assert status == 200
        assert "Pins and Needles" in _json(body)["response"]["outputSpeech"]["ssml"]
        assert _json(srv.request("GET", "/healthz")[2])["verify_signature"] is False
    finally:
        srv.stop()
    assert "event=no_verify" in srv.log()


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_stops_the_supervisor_and_its_workers(tmp_path):
    """SIGTERM (systemd, docker stop, ServeProcess.stop) must end serve at once: Python
    retries an interrupted waitpid, so a supervisor that only set a flag kept waiting on
    its healthy workers until something SIGKILLed it."""
    srv = Server(["--workers", "2", "--no-verify"],
                 _env(SKILL_SQLITE_PATH=str(tmp_path / "memory.sqlite3")),
                 tmp_path / "server.log")
    try:
        workers = [int(p) for p in Path(f"/proc/{srv.proc.pid}/task/{srv.proc.pid}/children")
                   .read_text().split()]
        assert len(workers) == 2
        srv.proc.terminate()
        assert srv.proc.wait(timeout=20) == 0
        assert not [pid for pid in workers if _alive(pid)]
    finally:
        srv.stop()
