"""The question log: what people asked, kept privacy-first in SQLite.

Every question the matcher decides on is one row: the time, the decision (answer / suggest /
decline), the answered id, the best candidate id, the score, a salted hash of the user id and
the question text after masking. Never the raw user id or name: the salt is generated once and
kept in BOT_DATA_DIR (`question-log.salt`), so the hash only counts distinct people and lets
`/forget` delete their rows. The text is normalised (NFC, lower case, single spaces) and phone
numbers, long digit runs, e-mail addresses and the user's own name are masked before storing.
Rows older than `log_retention_days` are deleted at start-up and then hourly.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Vietnam has one time zone and no daylight saving: "today" starts at midnight UTC+7.
LOCAL_TZ = timezone(timedelta(hours=7))
SALT_FILE = "question-log.salt"
MAX_STORED_CHARS = 500
MASK_NUMBER = "***"
MASK_EMAIL = "[email]"
MASK_NAME = "[tên]"
_PURGE_EVERY_S = 3600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS question_log (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    decision TEXT NOT NULL,
    entry_id TEXT,
    best_id TEXT,
    score REAL NOT NULL,
    user_hash TEXT NOT NULL,
    question TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS question_log_ts ON question_log(ts);
CREATE INDEX IF NOT EXISTS question_log_user ON question_log(user_hash)
"""
_HASH_FUNCTION = "staff_user_hash"
_FORGET = (f"DELETE FROM question_log WHERE user_hash = {_HASH_FUNCTION}(?)",)

# A phone number or any long run of digits (7+), allowing single spaces, dots or dashes
# between the groups, with an optional leading +: "0912 345 678", "+84.912.345.678",
# "001234567890" (a citizen id). Short numbers ("2 triệu", "năm 2019", "04/2019") stay.
_LONG_DIGITS = re.compile(r"(?<!\w)\+?\d(?:[ .\-]?\d){6,}(?!\w)")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class LoggedQuestion:
    ts: float
    decision: str
    entry_id: str | None
    best_id: str | None
    score: float
    question: str


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """Normalise and mask a question before it is stored (see the module docstring)."""
    text = unicodedata.normalize("NFC", text)
    text = _SPACES.sub(" ", text).strip().lower()
    text = _EMAIL.sub(MASK_EMAIL, text)
    text = _LONG_DIGITS.sub(MASK_NUMBER, text)
    for name in names:
        for word in unicodedata.normalize("NFC", name).lower().split():
            if len(word) >= 2:
                text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", MASK_NAME, text)
    return text[:MAX_STORED_CHARS]


def load_salt(data_dir: Path) -> bytes:
    """The salt for user hashes: generated once, kept in the data folder (mode 0600)."""
    path = Path(data_dir) / SALT_FILE
    try:
        value = path.read_text(encoding="ascii").strip()
        if len(value) >= 32:
            return bytes.fromhex(value)
    except (OSError, ValueError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(salt.hex())
    os.replace(tmp, path)
    return salt


def day_start(now: float, days_back: int = 0) -> float:
    """Epoch seconds of local midnight `days_back` days before the day of `now`."""
    local = datetime.fromtimestamp(now, LOCAL_TZ)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - timedelta(days=days_back)).timestamp()


class QuestionLog:
    """The `question_log` table in the bot's SqliteStore."""

    def __init__(self, store: Any, data_dir: Path, retention_days: int = 180) -> None:
        self.store = store
        self.retention_days = retention_days
        self._salt = load_salt(data_dir)
        self._purged_at = 0.0
        self._purge_lock = threading.Lock()
        with store.transaction() as db:
            # /forget passes the raw id; SQLite hashes it with the same salt to find the rows.
            db.create_function(_HASH_FUNCTION, 1, self._sql_hash, deterministic=True)
        store.add_schema(_SCHEMA, _FORGET)
        self.purge()

    def user_hash(self, user_id: int) -> str:
        digest = hmac.new(self._salt, str(int(user_id)).encode(), hashlib.sha256)
        return digest.hexdigest()[:20]

    def _sql_hash(self, user_id: Any) -> str:
        return self.user_hash(int(user_id))

    def record(
        self,
        user_id: int,
        question: str,
        decision: Any,
        names: Iterable[str] = (),
        now: float | None = None,
    ) -> None:
        """Log one decided question (a `bot.core.matching.Decision`)."""
        now = time.time() if now is None else now
        best = decision.candidates[0].id if decision.candidates else None
        answered = decision.id if decision.decision == "answer" else None
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO question_log(ts, decision, entry_id, best_id, score, user_hash, "
                "question) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    now,
                    decision.decision,
                    answered,
                    best,
                    float(decision.score),
                    self.user_hash(user_id),
                    mask_text(question, names),
                ),
            )
        if now - self._purged_at > _PURGE_EVERY_S:
            self.purge(now)

    def purge(self, now: float | None = None) -> int:
        """Delete rows older than the retention period; returns how many went."""
        now = time.time() if now is None else now
        with self._purge_lock:
            self._purged_at = now
            cutoff = now - self.retention_days * 86400.0
            with self.store.transaction() as db:
                deleted = db.execute("DELETE FROM question_log WHERE ts < ?", (cutoff,)).rowcount
        if deleted:
            log.info("question log: %d rows past retention deleted", deleted)
        return deleted

    # -- queries ------------------------------------------------------------------------------

    def count(self, since: float) -> int:
        return self.store.query("SELECT COUNT(*) FROM question_log WHERE ts >= ?", (since,))[0][0]

    def decisions(self, since: float) -> dict[str, int]:
        rows = self.store.query(
            "SELECT decision, COUNT(*) FROM question_log WHERE ts >= ? GROUP BY decision", (since,)
        )
        return {decision: count for decision, count in rows}

    def people(self, since: float) -> int:
        rows = self.store.query(
            "SELECT COUNT(DISTINCT user_hash) FROM question_log WHERE ts >= ?", (since,)
        )
        return rows[0][0]

    def top_entries(self, since: float, limit: int = 5) -> list[tuple[str, int]]:
        rows = self.store.query(
            "SELECT entry_id, COUNT(*) AS n FROM question_log WHERE ts >= ? AND entry_id IS NOT "
            "NULL GROUP BY entry_id ORDER BY n DESC, entry_id LIMIT ?",
            (since, limit),
        )
        return [(entry_id, count) for entry_id, count in rows]

    def unanswered(self, since: float) -> list[LoggedQuestion]:
        """Declined and low-confidence (suggested) questions since `since`, oldest first."""
        rows = self.store.query(
            "SELECT ts, decision, entry_id, best_id, score, question FROM question_log "
            "WHERE ts >= ? AND decision IN ('decline', 'suggest') ORDER BY ts",
            (since,),
        )
        return [LoggedQuestion(*row) for row in rows]
