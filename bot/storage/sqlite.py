"""SQLite store: user settings, dialogue state and the voice cache index.

One file in BOT_DATA_DIR (`bot.sqlite3`), WAL journal, every write in a transaction, so settings
survive restarts and crashes. Nothing here stores what a user typed: dialogue state holds only
ids and choices (e.g. the numbered options last shown, the checker step). `forget(user_id)`
deletes every row about a user.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.errors import StorageError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    user_id INTEGER PRIMARY KEY,
    voice INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dialogue_state (
    user_id INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS voice_files (
    key TEXT PRIMARY KEY,
    file_id TEXT NOT NULL,
    created REAL NOT NULL
);
"""


@dataclass(frozen=True)
class UserSettings:
    user_id: int
    voice: bool = False


class Store(Protocol):
    def settings(self, user_id: int) -> UserSettings: ...
    def set_voice(self, user_id: int, on: bool) -> UserSettings: ...
    def get_state(self, user_id: int) -> dict[str, Any]: ...
    def set_state(self, user_id: int, state: dict[str, Any] | None) -> None: ...
    def forget(self, user_id: int) -> int: ...
    def get_file_id(self, key: str) -> str | None: ...
    def set_file_id(self, key: str, file_id: str) -> None: ...


class SqliteStore:
    """The embedded default `Store`. Thread-safe: one connection guarded by a lock."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.execute("PRAGMA foreign_keys=ON")
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"cannot open the database {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        self._extensions: list[str] = []
        with self._lock:
            self._db.executescript(_SCHEMA)  # CREATE IF NOT EXISTS: idempotent
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)",
                (str(SCHEMA_VERSION),),
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: a crash mid-write loses nothing."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def add_schema(self, script: str, forget_sql: tuple[str, ...] = ()) -> None:
        """Let other parts (question log, tickets) add tables and say how to forget a user."""
        with self.transaction() as db:
            for statement in (s.strip() for s in script.split(";")):
                if statement:
                    db.execute(statement)
        self._extensions.extend(forget_sql)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- settings -------------------------------------------------------------------------

    def settings(self, user_id: int) -> UserSettings:
        rows = self.query("SELECT voice FROM users WHERE user_id = ?", (user_id,))
        return UserSettings(user_id, bool(rows[0][0])) if rows else UserSettings(user_id)

    def set_voice(self, user_id: int, on: bool) -> UserSettings:
        now = time.time()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO users(user_id, voice, created, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(user_id) DO UPDATE SET voice = excluded.voice, updated = excluded.updated",
                (user_id, int(on), now, now),
            )
        return UserSettings(user_id, on)

    def voice_users(self) -> int:
        return self.query("SELECT COUNT(*) FROM users WHERE voice = 1")[0][0]

    # -- dialogue state -------------------------------------------------------------------

    def get_state(self, user_id: int) -> dict[str, Any]:
        rows = self.query("SELECT state FROM dialogue_state WHERE user_id = ?", (user_id,))
        if not rows:
            return {}
        try:
            value = json.loads(rows[0][0])
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}

    def set_state(self, user_id: int, state: dict[str, Any] | None) -> None:
        with self.transaction() as db:
            if not state:
                db.execute("DELETE FROM dialogue_state WHERE user_id = ?", (user_id,))
            else:
                db.execute(
                    "INSERT INTO dialogue_state(user_id, state, updated) VALUES (?, ?, ?) "
                    "ON CONFLICT(user_id) DO UPDATE SET state = excluded.state, "
                    "updated = excluded.updated",
                    (user_id, json.dumps(state, ensure_ascii=False), time.time()),
                )

    # -- forget ---------------------------------------------------------------------------

    def forget(self, user_id: int) -> int:
        """Delete every row about `user_id`; returns how many rows went."""
        deleted = 0
        with self.transaction() as db:
            for table in ("users", "dialogue_state"):
                deleted += db.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,)).rowcount
            for statement in self._extensions:
                deleted += db.execute(statement, (user_id,)).rowcount
        return deleted

    # -- voice index (bot.speech.cache.VoiceIndex) ----------------------------------------

    def get_file_id(self, key: str) -> str | None:
        rows = self.query("SELECT file_id FROM voice_files WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_file_id(self, key: str, file_id: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO voice_files(key, file_id, created) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET file_id = excluded.file_id",
                (key, file_id, time.time()),
            )
