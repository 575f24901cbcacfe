"""Issue 11 items 4 and 5: storage that cannot be used, or is slow, never costs an answer.

Real parts only: the real Lambda entry imported in a fresh interpreter (as Lambda does),
real SQLite files in a read-only directory, on a tiny filesystem, under a file-size limit
(RLIMIT_FSIZE), corrupt, or locked by another connection; a loopback socket that accepts
and never answers standing in for DynamoDB (AWS_ENDPOINT_URL_DYNAMODB); and a loopback
server speaking DynamoDB's JSON protocol that throttles every call (moto has no throttling).

Time is not asserted (no timing in tests): what bounds a turn is asserted instead -- how
many calls reach the store in one turn (one read, and no write after a failed read), and
that the limits that bound each call are the short ones.
"""

from __future__ import annotations

import http.server
import json
import os
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from simulator.envelopes import Envelopes

REPO = Path(__file__).resolve().parent.parent
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"}

TURNS = """
import json, sys
sys.path.insert(0, "lambda")
from lambda_function import lambda_handler
for line in sys.stdin:
    print("RESULT", json.dumps(lambda_handler(json.loads(line), None)), flush=True)
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SKILL_ID", "SKILL_TABLE", "SKILL_SQLITE_PATH")
           and not k.startswith("AWS_")}
    env.update(PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def run_turns(events: list[dict], env: dict[str, str], *, prefix: list[str] = (),
              preexec=None) -> tuple[list[dict], str]:
    """Import the Lambda entry in a new interpreter and answer `events`, one per line."""
    proc = subprocess.run([*prefix, sys.executable, "-c", TURNS], cwd=REPO, env=env,
                          input="".join(json.dumps(e) + "\n" for e in events),
                          capture_output=True, text=True, timeout=120, preexec_fn=preexec)
    results = [json.loads(line[len("RESULT "):]) for line in proc.stdout.splitlines()
               if line.startswith("RESULT ")]
    assert proc.returncode == 0 and len(results) == len(events), proc.stdout + proc.stderr
    return results, proc.stderr


def a_conversation(user: str = "amzn1.ask.account.storage") -> list[dict]:
    env = Envelopes(locale="en-US", user_id=user)
    launch = env.launch()
    stretch = env.intent("StartRoutineIntent", {})
    return [launch, stretch]


def assert_answered(results: list[dict]) -> None:
    for result in results:
        speech = result["response"]["outputSpeech"]["ssml"]
        assert "Sorry" not in speech, speech
        if result["response"].get("shouldEndSession") is False:
            assert result["response"]["reprompt"]["outputSpeech"]["ssml"]


def _can_mount() -> bool:
    return (os.geteuid() == 0 and shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-m", "true"], capture_output=True).returncode == 0)


def in_mount(options: str, target: Path) -> list[str]:
    """A command prefix: a private mount namespace with a tmpfs (`options`) on `target`."""
    script = f'mount -t tmpfs -o {options} tmpfs "{target}" && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, "sh"]


# ---------------------------------------------------------------------- SQLite (item 4)


def test_a_read_only_directory_degrades_to_session_memory(tmp_path):
    store = tmp_path / "ro"
    store.mkdir()
    env = _env(SKILL_SQLITE_PATH=str(store / "sub" / "memory.sqlite3"))
    if _can_mount():
        prefix = in_mount("ro,size=64k", store)
        results, log = run_turns(a_conversation(), env, prefix=prefix)
    elif os.geteuid() != 0:
        store.chmod(0o555)
        try:
            results, log = run_turns(a_conversation(), env)
        finally:
            store.chmod(0o755)
    else:
        pytest.skip("root without mount namespaces: cannot make a read-only directory")
    assert_answered(results)
    assert "session-only" in log


@pytest.mark.skipif(not _can_mount(), reason="needs root and mount namespaces (unshare)")
def test_a_full_filesystem_degrades_to_session_memory(tmp_path):
    """A 12 KB tmpfs: room for SQLite's first pages, not for the WAL and the writes."""
    store = tmp_path / "tiny"
    store.mkdir()
    env = _env(SKILL_SQLITE_PATH=str(store / "memory.sqlite3"))
    events = [e for user in range(4)
              for e in a_conversation(f"amzn1.ask.account.full-{user}-" + "u" * 3000)]
    results, log = run_turns(events, env, prefix=in_mount("size=12k", store))
    assert_answered(results)
    assert "session-only" in log or "could not save" in log


@pytest.mark.parametrize("limit", [0, "existing"])
def test_a_file_size_limit_degrades_to_session_memory(tmp_path, limit):
    """RLIMIT_FSIZE (Python ignores SIGXFSZ, so writes fail with EFBIG): with limit 0 the
    store cannot even be created; with the limit at an existing store's size it can be
    read but not grow."""
    path = tmp_path / "memory.sqlite3"
    if limit == "existing":
        from skill.hosting.sqlite_persistence import SQLitePersistenceAdapter

        SQLitePersistenceAdapter(path).close()
        with sqlite3.connect(path) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        limit = max(path.stat().st_size, 1)

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    events = [e for user in range(3)
              for e in a_conversation(f"amzn1.ask.account.fsize-{user}-" + "v" * 5000)]
    results, log = run_turns(events, _env(SKILL_SQLITE_PATH=str(path)), preexec=cap)
    assert_answered(results)
    assert "session-only" in log or "could not save" in log


def test_a_corrupt_file_is_set_aside_and_memory_works_again(tmp_path):
    path = tmp_path / "memory.sqlite3"
    path.write_bytes(b"this is not a database\n" * 300)
    env = _env(SKILL_SQLITE_PATH=str(path))
    user = "amzn1.ask.account.corrupt"
    results, log = run_turns([Envelopes(user_id=user).launch()], env)
    assert_answered(results)
    assert "moved it to" in log
    assert list(tmp_path.glob("memory.sqlite3.corrupt-*"))
    # The fresh store remembers: the disclaimer is not read out again next time.
    again, _ = run_turns([Envelopes(user_id=user).launch()], env)
    first = results[0]["response"]["outputSpeech"]["ssml"]
    second = again[0]["response"]["outputSpeech"]["ssml"]
    assert "not a substitute" in first and "not a substitute" not in second


def test_a_bad_row_is_replaced_so_the_user_is_not_new_forever(tmp_path):
    path = tmp_path / "memory.sqlite3"
    user = "amzn1.ask.account.badrow"
    from skill.hosting.sqlite_persistence import SQLitePersistenceAdapter

    SQLitePersistenceAdapter(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO skill_attributes VALUES (?, 'not json', 0)", (user,))
    env = _env(SKILL_SQLITE_PATH=str(path))
    first, _ = run_turns([Envelopes(user_id=user).launch()], env)
    second, _ = run_turns([Envelopes(user_id=user).launch()], env)
    assert "not a substitute" in first[0]["response"]["outputSpeech"]["ssml"]
    assert "not a substitute" not in second[0]["response"]["outputSpeech"]["ssml"]


def test_a_locked_file_costs_one_turn_its_memory_not_its_answer(tmp_path):
    """Another process holds the file exclusively (no reads, no writes): each turn is
    answered from session memory after SQLite's short busy timeout."""
    from skill.hosting import sqlite_persistence

    assert sqlite_persistence.BUSY_TIMEOUT_SECONDS <= 1.0
    path = tmp_path / "memory.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("CREATE TABLE lock_probe (x)")
        results, log = run_turns(a_conversation("amzn1.ask.account.locked"),
                                 _env(SKILL_SQLITE_PATH=str(path)))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_answered(results)
    assert "locked" in log and "session-only" in log
    assert "not a substitute" in results[0]["response"]["outputSpeech"]["ssml"]


# --------------------------------------------------------------------- DynamoDB (item 5)


class CountingSilentServer:
    """Accepts TCP connections and never answers, counting them: DynamoDB that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


class ThrottlingDynamoDb:
    """Speaks DynamoDB's JSON 1.0 protocol: every call (or every `only` call) is refused
    with ThrottlingException, as DynamoDB does under load; GetItem otherwise finds nothing."""

    def __init__(self, only: str | None = None) -> None:
        calls = self.calls = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
                calls.append(target)
                if only is None or target == only:
                    status, body = 400, {"__type": "com.amazonaws.dynamodb.v20120810#"
                                                  "ThrottlingException",
                                         "message": "Rate of requests exceeds the allowed "
                                                    "throughput."}
                else:
                    status, body = 200, {}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _dynamodb_env(url: str) -> dict[str, str]:
    return _env(SKILL_TABLE="pins-and-needles", AWS_ENDPOINT_URL_DYNAMODB=url, **AWS_ENV)


def test_the_client_config_bounds_every_call():
    pytest.importorskip("boto3")
    from skill.hosting.dynamodb_persistence import CLIENT_CONFIG

    assert CLIENT_CONFIG.connect_timeout <= 1 and CLIENT_CONFIG.read_timeout <= 1
    assert CLIENT_CONFIG.retries["total_max_attempts"] == 1


def test_a_dynamodb_that_never_answers_costs_one_bounded_call_per_turn():
    pytest.importorskip("boto3")
    silent = CountingSilentServer()
    try:
        events = a_conversation("amzn1.ask.account.silent")
        results, log = run_turns(events, _dynamodb_env(silent.url))
    finally:
        silent.close()
    assert_answered(results)
    assert "session-only" in log
    # One read per turn, one attempt each (no retries), and no write after a failed read.
    assert len(silent.accepted) == len(events)


@pytest.mark.parametrize("only", [None, "PutItem"])
def test_a_throttling_dynamodb_is_not_retried_past_the_turn(only):
    pytest.importorskip("boto3")
    throttling = ThrottlingDynamoDb(only)
    try:
        events = a_conversation("amzn1.ask.account.throttled")
        results, log = run_turns(events, _dynamodb_env(throttling.url))
    finally:
        throttling.close()
    assert_answered(results)
    if only is None:
        assert throttling.calls == ["GetItem"] * len(events)
        assert "session-only" in log
    else:  # reads work; the launch's write (disclaimer heard) is throttled once, logged
        assert throttling.calls.count("PutItem") <= len(events)
        assert set(throttling.calls) == {"GetItem", "PutItem"}
        assert "could not save" in log


def test_the_web_service_starts_and_answers_on_a_corrupt_file(tmp_path):
    """`serve` used to exit with code 3 on a corrupt SQLite file."""
    from test_webservice_server import Server, _env as server_env

    path = tmp_path / "memory.sqlite3"
    path.write_bytes(b"garbage, not SQLite" * 500)
    srv = Server(["--workers", "1", "--no-verify"],
                 server_env(SKILL_SQLITE_PATH=str(path)), tmp_path / "server.log")
    try:
        import certs

        status, _, body = srv.request("POST", "/", certs.body_of(certs.envelope()))
        assert status == 200
        assert b"Pins and Needles" in body
    finally:
        srv.stop()
    assert list(tmp_path.glob("memory.sqlite3.corrupt-*"))
