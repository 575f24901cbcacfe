"""Long-term memory in a SQLite file, for the web service, the simulator and the tests.

It implements the ASK SDK's `AbstractPersistenceAdapter`, so the skill code cannot tell
it from DynamoDB: one JSON document of attributes per Alexa user id (the same partition
key convention as `ask_sdk_dynamodb.partition_keygen.user_id_partition_keygen`).

Concurrency: the web service may run several workers (processes) with several threads
each, and two requests for one user can arrive together. So:
- WAL journal mode lets readers proceed while one writer writes;
- a short busy timeout (0.5 s) makes a second writer wait a little instead of failing at
  once -- but never long: Alexa waits 8 s for the whole turn, and a turn whose memory is
  locked is answered with session-only memory instead (see `skill.alexa.context`);
- every thread (and every forked process) gets its own connection, because a sqlite3
  connection must not be shared between threads or across a fork;
- each save is a single upsert statement, so a document is replaced whole or not at all
  (last writer wins, as with DynamoDB's put_item).

Failure: a store that cannot be used never stops the skill. An uncreatable or read-only
directory, a full disk or a file-size limit make each call raise `PersistenceException`
(the skill then keeps that turn's memory in the session); a file that is not a database
is moved aside (`<name>.corrupt-<time>`) and a fresh one started; a row that is not a
JSON object is deleted and read as empty, so the user is not a first-time user forever.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from typing import Any, Callable

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException

DEFAULT_TABLE = "skill_attributes"
BUSY_TIMEOUT_SECONDS = 0.5

log = logging.getLogger(__name__)
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


def _is_corruption(error: sqlite3.Error) -> bool:
    """SQLITE_CORRUPT / SQLITE_NOTADB, which Python raises as plain DatabaseError (its
    subclasses -- locked, full, I/O, integrity -- are not about the file being bad)."""
    return type(error) is sqlite3.DatabaseError


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
        try:
            self._connection()  # create the file and table now, so misconfiguration shows early
        except PersistenceException as error:
            log.warning("SQLite memory unusable at start (%s); answering with session-only "
                        "memory until it works", error)

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
            self._local.connection = None
        try:
            connection = self._open()
        except sqlite3.Error as error:
            if not _is_corruption(error) or not os.path.exists(self.path):
                raise PersistenceException(f"SQLite store unusable: {error}") from None
            self._set_aside(error)
            try:
                connection = self._open()
            except sqlite3.Error as again:
                raise PersistenceException(f"SQLite store unusable: {again}") from None
        except OSError as error:
            raise PersistenceException(f"SQLite store unusable: {error}") from None
        self._local.connection = connection
        self._local.pid = os.getpid()
        return connection

    def _open(self) -> sqlite3.Connection:
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=self.busy_timeout,
                                     isolation_level=None, check_same_thread=True)
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            self._retry(lambda: connection.execute("PRAGMA journal_mode = WAL").fetchone())
            connection.execute("PRAGMA synchronous = NORMAL")
            self._retry(lambda: connection.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table_name} ("
                " id TEXT PRIMARY KEY,"
                " attributes TEXT NOT NULL,"
                " updated_at REAL NOT NULL)"))
        except BaseException:
            connection.close()
            raise
        return connection

    def _after_error(self, error: sqlite3.Error) -> None:
        """Corruption found mid-use ("database disk image is malformed"): set the file
        aside so the next call starts a fresh store; other errors change nothing."""
        if not _is_corruption(error):
            return
        self.close()
        try:
            self._set_aside(error)
        except PersistenceException as move_error:
            log.warning("%s", move_error)

    def _set_aside(self, error: Exception) -> None:
        """A file that is not a database: keep it for inspection, start a fresh one."""
        aside = f"{self.path}.corrupt-{int(time.time())}"
        try:
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                if os.path.exists(self.path + suffix):
                    os.replace(self.path + suffix, aside + suffix)
        except OSError as move_error:
            raise PersistenceException(
                f"SQLite file is corrupt ({error}) and cannot be moved aside: {move_error}"
            ) from None
        log.warning("SQLite file was not a database (%s); moved it to %s and started afresh",
                    error, aside)

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
            self._after_error(error)
            raise PersistenceException(f"Failed to read attributes from SQLite: {error}")
        if row is None:
            return {}
        try:
            attributes = json.loads(row[0])
        except (TypeError, ValueError):
            attributes = None
        if not isinstance(attributes, dict):
            self._drop_unreadable(key)
            return {}
        return attributes

    def _drop_unreadable(self, key: str) -> None:
        """A row that is not a JSON object can never be used: delete it (best effort), so
        the user starts afresh instead of failing the same way every session."""
        log.warning("stored attributes were not a JSON object; starting that user afresh")
        try:
            self._connection().execute(f"DELETE FROM {self.table_name} WHERE id = ?", (key,))
        except (sqlite3.Error, PersistenceException) as error:
            log.warning("could not delete the unreadable row: %s", error)

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
            self._after_error(error)
            raise PersistenceException(f"Failed to save attributes to SQLite: {error}")

    def delete_attributes(self, request_envelope: Any) -> None:
        key = self.partition_keygen(request_envelope)
        try:
            self._connection().execute(f"DELETE FROM {self.table_name} WHERE id = ?", (key,))
        except sqlite3.Error as error:
            raise PersistenceException(f"Failed to delete attributes from SQLite: {error}")
