"""Long-term memory in a SQLite file, for the web service, the simulator and the tests.

It implements the ASK SDK's `AbstractPersistenceAdapter`, so the skill code cannot tell
it from DynamoDB: one JSON document of attributes per Alexa user id (the same partition
key convention as `ask_sdk_dynamodb.partition_keygen.user_id_partition_keygen`).

Concurrency: the web service may run several workers (processes) with several threads
each, and two requests for one user can arrive together. So:
- WAL journal mode lets readers proceed while one writer writes;
- a busy timeout makes a second writer wait instead of failing with "database is locked";
- every thread (and every forked process) gets its own connection, because a sqlite3
  connection must not be shared between threads or across a fork;
- each save is a single upsert statement, so a document is replaced whole or not at all
  (last writer wins, as with DynamoDB's put_item).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from typing import Any, Callable

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException

DEFAULT_TABLE = "skill_attributes"
BUSY_TIMEOUT_SECONDS = 10.0
_INHERITED: list[sqlite3.Connection] = []


def user_id_partition_keygen(request_envelope: Any) -> str:
    """The Alexa user id, as the ASK DynamoDB adapter keys its items (same error, too)."""
    try:
        user_id = request_envelope.context.system.user.user_id
    except AttributeError:
        user_id = None
    if not user_id:
        raise PersistenceException(
            "Couldn't retrieve user id from request envelope, for partition key use")
    return user_id


class SQLitePersistenceAdapter(AbstractPersistenceAdapter):
    """Attributes as JSON text in `path`, one row per partition key."""

    def __init__(self, path: str, *, table_name: str = DEFAULT_TABLE,
                 partition_keygen: Callable[[Any], str] = user_id_partition_keygen,
                 busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        if not table_name.isidentifier():
            raise ValueError("table_name must be a plain identifier")
        self.path = os.path.abspath(os.fspath(path))
        self.table_name = table_name
        self.partition_keygen = partition_keygen
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self._connection()  # create the file and table now, so misconfiguration shows early

    # -- connections

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection in this process (a fork gets a fresh one)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            if self._local.pid == os.getpid():
                return connection
            # Inherited across a fork: never use it, and never close it here either
            # (closing would run SQLite's clean-up on the parent's file handles).
            _INHERITED.append(connection)
        connection = sqlite3.connect(self.path, timeout=self.busy_timeout,
                                     isolation_level=None, check_same_thread=True)
        connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        self._retry(lambda: connection.execute("PRAGMA journal_mode = WAL").fetchone())
        connection.execute("PRAGMA synchronous = NORMAL")
        self._retry(lambda: connection.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table_name} ("
            " id TEXT PRIMARY KEY,"
            " attributes TEXT NOT NULL,"
            " updated_at REAL NOT NULL)"))
        self._local.connection = connection
        self._local.pid = os.getpid()
        return connection

    def _retry(self, action: Callable[[], Any]) -> Any:
        """Switching to WAL or creating the table can meet a lock that the busy handler
        does not wait on (another process doing the same at the same moment): retry."""
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                return action()
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # -- AbstractPersistenceAdapter

    def get_attributes(self, request_envelope: Any) -> dict:
        key = self.partition_keygen(request_envelope)
        try:
            row = self._connection().execute(
                f"SELECT attributes FROM {self.table_name} WHERE id = ?", (key,)).fetchone()
        except sqlite3.Error as error:
            raise PersistenceException(f"Failed to read attributes from SQLite: {error}")
        if row is None:
            return {}
        try:
            attributes = json.loads(row[0])
        except ValueError as error:
            raise PersistenceException(f"Stored attributes are not JSON: {error}")
        if not isinstance(attributes, dict):
            raise PersistenceException("Stored attributes are not a JSON object")
        return attributes

    def save_attributes(self, request_envelope: Any, attributes: dict) -> None:
        key = self.partition_keygen(request_envelope)
        try:
            document = json.dumps(attributes, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as error:
            raise PersistenceException(f"Attributes are not JSON-serialisable: {error}")
        try:
            self._connection().execute(
                f"INSERT INTO {self.table_name} (id, attributes, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET attributes = excluded.attributes,"
                " updated_at = excluded.updated_at",
                (key, document, time.time()))
        except sqlite3.Error as error:
            raise PersistenceException(f"Failed to save attributes to SQLite: {error}")

    def delete_attributes(self, request_envelope: Any) -> None:
        key = self.partition_keygen(request_envelope)
        try:
            self._connection().execute(f"DELETE FROM {self.table_name} WHERE id = ?", (key,))
        except sqlite3.Error as error:
            raise PersistenceException(f"Failed to delete attributes from SQLite: {error}")
