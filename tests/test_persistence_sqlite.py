"""The SQLite persistence adapter, on a real file, under real concurrency.

The web service runs several worker processes with threads; two requests for the same
user can land together. These tests hammer one file from threads and from processes and
check that nothing is lost, nothing is torn and nobody sees "database is locked".
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_model import Context, RequestEnvelope
from ask_sdk_model.interfaces.system import SystemState
from ask_sdk_model.user import User

from skill.hosting.persistence import make_persistence_adapter
from skill.hosting.sqlite_persistence import SQLitePersistenceAdapter, user_id_partition_keygen

ROOT = Path(__file__).resolve().parents[1]


def envelope(user_id: str | None) -> RequestEnvelope:
    user = User(user_id=user_id) if user_id is not None else None
    return RequestEnvelope(context=Context(system=SystemState(user=user)))


def test_is_an_ask_persistence_adapter(tmp_path):
    adapter = SQLitePersistenceAdapter(tmp_path / "m.sqlite3")
    assert isinstance(adapter, AbstractPersistenceAdapter)


def test_round_trip_on_a_real_file(tmp_path):
    path = tmp_path / "nested" / "memory.sqlite3"
    adapter = SQLitePersistenceAdapter(path)
    alice, bob = envelope("amzn1.ask.account.alice"), envelope("amzn1.ask.account.bob")
    assert adapter.get_attributes(alice) == {}
    memory = {"heard_disclaimer": True,
              "routine": {"v": 1, "variant": "seated", "step": 2, "saved_at": 1700000000},
              "note": "caf\u00e9 \u2014 \"quoted\"", "ratio": 0.5, "none": None}
    adapter.save_attributes(alice, memory)
    assert path.is_file()
    # A second adapter (another worker) on the same file sees it, types intact.
    again = SQLitePersistenceAdapter(path).get_attributes(alice)
    assert again == memory
    assert type(again["routine"]["step"]) is int
    assert adapter.get_attributes(bob) == {}
    adapter.save_attributes(alice, {"heard_disclaimer": False})
    assert adapter.get_attributes(alice) == {"heard_disclaimer": False}
    adapter.delete_attributes(alice)
    assert adapter.get_attributes(alice) == {}
    adapter.delete_attributes(alice)  # deleting nothing is fine


def test_wal_mode_and_busy_timeout(tmp_path):
    adapter = SQLitePersistenceAdapter(tmp_path / "m.sqlite3", busy_timeout=3)
    connection = adapter._connection()
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 3000


def test_keyed_like_the_ask_dynamodb_adapter():
    from ask_sdk_dynamodb.partition_keygen import user_id_partition_keygen as sdk_keygen

    request = envelope("amzn1.ask.account.same")
    assert user_id_partition_keygen(request) == sdk_keygen(request) == "amzn1.ask.account.same"
    with pytest.raises(PersistenceException):
        user_id_partition_keygen(envelope(None))


def test_unserialisable_attributes_are_refused_and_nothing_is_written(tmp_path):
    adapter = SQLitePersistenceAdapter(tmp_path / "m.sqlite3")
    request = envelope("u")
    adapter.save_attributes(request, {"ok": 1})
    with pytest.raises(PersistenceException):
        adapter.save_attributes(request, {"bad": object()})
    with pytest.raises(PersistenceException):
        adapter.save_attributes(request, {"bad": float("nan")})
    assert adapter.get_attributes(request) == {"ok": 1}


@pytest.mark.parametrize("stored", ["not json", "[1, 2]", "null"])
def test_an_unreadable_row_is_replaced_not_kept_forever(tmp_path, stored):
    """A bad row used to make the user a first-time user forever: now it reads as empty,
    is deleted, and the next save stores a good document in its place."""
    path = tmp_path / "m.sqlite3"
    adapter = SQLitePersistenceAdapter(path)
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO skill_attributes VALUES ('u', ?, 0)", (stored,))
    assert adapter.get_attributes(envelope("u")) == {}
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM skill_attributes").fetchone() == (0,)
    adapter.save_attributes(envelope("u"), {"heard_disclaimer": True})
    assert adapter.get_attributes(envelope("u")) == {"heard_disclaimer": True}


def test_one_connection_per_thread(tmp_path):
    adapter = SQLitePersistenceAdapter(tmp_path / "m.sqlite3")
    seen = []
    thread = threading.Thread(target=lambda: seen.append(adapter._connection()))
    thread.start()
    thread.join()
    assert seen[0] is not adapter._connection()


def _hammer(adapter: SQLitePersistenceAdapter, worker: int, rounds: int, errors: list) -> None:
    try:
        shared = envelope("amzn1.ask.account.shared")
        own = envelope(f"amzn1.ask.account.worker-{worker}")
        for number in range(rounds):
            document = {"worker": worker, "round": number, "padding": "x" * 2000}
            adapter.save_attributes(shared, document)
            adapter.save_attributes(own, {"worker": worker, "round": number})
            seen = adapter.get_attributes(shared)
            # Whole documents only: never a mix of two writers.
            assert set(seen) == {"worker", "round", "padding"} and len(seen["padding"]) == 2000
    except BaseException as error:  # report back to the main thread
        errors.append(repr(error))


def test_concurrent_threads_share_one_adapter(tmp_path):
    adapter = SQLitePersistenceAdapter(tmp_path / "m.sqlite3")
    errors: list = []
    threads = [threading.Thread(target=_hammer, args=(adapter, n, 60, errors)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for worker in range(8):
        assert adapter.get_attributes(envelope(f"amzn1.ask.account.worker-{worker}")) == \
            {"worker": worker, "round": 59}
    last = adapter.get_attributes(envelope("amzn1.ask.account.shared"))
    assert last["round"] == 59 and last["worker"] in range(8)


def _process_worker(path: str, worker: int, rounds: int, queue) -> None:
    errors: list = []
    _hammer(SQLitePersistenceAdapter(path), worker, rounds, errors)
    queue.put(errors)


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_concurrent_processes_on_one_file(tmp_path, method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} not available here")
    context = multiprocessing.get_context(method)
    path = str(tmp_path / "m.sqlite3")
    if method == "fork":
        # The parent has an open connection when it forks: children must not reuse it.
        parent = SQLitePersistenceAdapter(path)
        parent.save_attributes(envelope("amzn1.ask.account.parent"), {"parent": True})
    queue = context.Queue()
    processes = [context.Process(target=_process_worker, args=(path, n, 40, queue))
                 for n in range(4)]
    for process in processes:
        process.start()
    results = [queue.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert results == [[]] * 4
    reader = SQLitePersistenceAdapter(path)
    for worker in range(4):
        assert reader.get_attributes(envelope(f"amzn1.ask.account.worker-{worker}")) == \
            {"worker": worker, "round": 39}
    if method == "fork":
        assert parent.get_attributes(envelope("amzn1.ask.account.parent")) == {"parent": True}


def test_factory_chooses_by_environment(tmp_path):
    assert make_persistence_adapter({}) is None
    assert make_persistence_adapter({"SKILL_SQLITE_PATH": "  "}) is None
    from_env = make_persistence_adapter({"SKILL_SQLITE_PATH": str(tmp_path / "a.sqlite3")})
    assert isinstance(from_env, SQLitePersistenceAdapter)
    assert from_env.path == str(tmp_path / "a.sqlite3")
    default = make_persistence_adapter({}, default_sqlite_path=str(tmp_path / "b.sqlite3"))
    assert isinstance(default, SQLitePersistenceAdapter) and default.path.endswith("b.sqlite3")
    # The environment wins over the caller's default.
    both = make_persistence_adapter({"SKILL_SQLITE_PATH": str(tmp_path / "c.sqlite3")},
                                    default_sqlite_path=str(tmp_path / "b.sqlite3"))
    assert both.path.endswith("c.sqlite3")


def test_sqlite_choice_never_imports_boto3(tmp_path):
    """Lambda cold start: without a table, neither boto3 nor the DynamoDB adapter loads."""
    code = (
        "import sys\n"
        "from skill.hosting.persistence import make_persistence_adapter\n"
        f"adapter = make_persistence_adapter({{'SKILL_SQLITE_PATH': {str(tmp_path / 'x.db')!r}}})\n"
        "assert adapter is not None\n"
        "assert make_persistence_adapter({}) is None\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'ask_sdk_dynamodb')]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_json_is_what_is_stored(tmp_path):
    """Plain JSON text in the file, so the store can be inspected or migrated by hand."""
    path = tmp_path / "m.sqlite3"
    SQLitePersistenceAdapter(path).save_attributes(envelope("u"), {"a": [1, 2]})
    with sqlite3.connect(path) as raw:
        (text,) = raw.execute("SELECT attributes FROM skill_attributes WHERE id='u'").fetchone()
    assert json.loads(text) == {"a": [1, 2]}
