"""The broadcast queue in SQLite: drafts, one delivery row per recipient, and their statuses.

Confirming a draft copies the current subscribers into `outreach_deliveries` in the same
transaction that marks the broadcast queued. The sender claims one row at a time (`pending` ->
`sending`, only while the user is still subscribed) right before the API call and marks it
`sent` right after it returns, each in its own committed transaction. `recover()` at start
turns rows a crash left in `sending` into `unknown`: they are not sent again (at-most-once).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Broadcast:
    id: int
    admin_id: int
    admin_chat: int
    text: str
    status: str
    created: float
    started: float | None


@dataclass(frozen=True)
class Progress:
    total: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    unknown: int = 0
    skipped: int = 0
    pending: int = 0  # pending or being sent

    @property
    def finished(self) -> int:
        return self.total - self.pending


_COLUMNS = "id, admin_id, admin_chat, text, status, created, started"


class BroadcastQueue:
    """SQL for broadcasts; `store` is the bot's SqliteStore."""

    def __init__(self, store: Any, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    # -- drafts -------------------------------------------------------------------------------

    def create_draft(self, admin_id: int, admin_chat: int, text: str) -> Broadcast:
        now = self._clock()
        with self._store.transaction() as db:
            cur = db.execute(
                "INSERT INTO outreach_broadcasts(admin_id, admin_chat, text, created) "
                "VALUES (?, ?, ?, ?)",
                (admin_id, admin_chat, text, now),
            )
            broadcast_id = int(cur.lastrowid or 0)
        return Broadcast(broadcast_id, admin_id, admin_chat, text, "draft", now, None)

    def get(self, broadcast_id: int) -> Broadcast | None:
        rows = self._store.query(
            f"SELECT {_COLUMNS} FROM outreach_broadcasts WHERE id = ?", (broadcast_id,)
        )
        return Broadcast(*rows[0]) if rows else None

    def enqueue(self, broadcast_id: int) -> int | None:
        """Queue a draft for every current subscriber; the count, or None if not a draft."""
        now = self._clock()
        with self._store.transaction() as db:
            cur = db.execute(
                "UPDATE outreach_broadcasts SET status = 'queued', queued = ? "
                "WHERE id = ? AND status = 'draft'",
                (now, broadcast_id),
            )
            if cur.rowcount != 1:
                return None
            cur = db.execute(
                "INSERT INTO outreach_deliveries(broadcast_id, user_id, updated) "
                "SELECT ?, user_id, ? FROM outreach_subscribers ORDER BY created, user_id",
                (broadcast_id, now),
            )
            return cur.rowcount

    def cancel(self, broadcast_id: int) -> bool:
        with self._store.transaction() as db:
            cur = db.execute(
                "UPDATE outreach_broadcasts SET status = 'cancelled' "
                "WHERE id = ? AND status = 'draft'",
                (broadcast_id,),
            )
            return cur.rowcount == 1

    # -- the sender's side --------------------------------------------------------------------

    def recover(self) -> int:
        """Rows a crash left mid-send become `unknown` (never re-sent); returns how many."""
        with self._store.transaction() as db:
            cur = db.execute(
                "UPDATE outreach_deliveries SET status = 'unknown', updated = ? "
                "WHERE status = 'sending'",
                (self._clock(),),
            )
            return cur.rowcount

    def next_active(self) -> Broadcast | None:
        rows = self._store.query(
            f"SELECT {_COLUMNS} FROM outreach_broadcasts WHERE status IN ('queued', 'sending') "
            "ORDER BY id LIMIT 1"
        )
        return Broadcast(*rows[0]) if rows else None

    def start(self, broadcast_id: int) -> None:
        with self._store.transaction() as db:
            db.execute(
                "UPDATE outreach_broadcasts SET status = 'sending', "
                "started = COALESCE(started, ?) WHERE id = ?",
                (self._clock(), broadcast_id),
            )

    def finish(self, broadcast_id: int) -> None:
        with self._store.transaction() as db:
            db.execute(
                "UPDATE outreach_broadcasts SET status = 'done', finished = ? WHERE id = ?",
                (self._clock(), broadcast_id),
            )

    def pending_batch(self, broadcast_id: int, limit: int = 100) -> list[tuple[int, bool]]:
        """(user_id, voice on) of rows still to send, in queue order."""
        rows = self._store.query(
            "SELECT d.user_id, COALESCE(u.voice, 0) FROM outreach_deliveries d "
            "LEFT JOIN users u ON u.user_id = d.user_id "
            "WHERE d.broadcast_id = ? AND d.status = 'pending' ORDER BY d.rowid LIMIT ?",
            (broadcast_id, limit),
        )
        return [(int(r[0]), bool(r[1])) for r in rows]

    def voice_pending(self, broadcast_id: int) -> int:
        """How many rows still to send go to users with voice on."""
        return self._store.query(
            "SELECT COUNT(*) FROM outreach_deliveries d JOIN users u ON u.user_id = d.user_id "
            "WHERE d.broadcast_id = ? AND d.status = 'pending' AND u.voice = 1",
            (broadcast_id,),
        )[0][0]

    def claim(self, broadcast_id: int, user_id: int) -> bool:
        """pending -> sending if the user is still subscribed (else -> skipped)."""
        now = self._clock()
        with self._store.transaction() as db:
            cur = db.execute(
                "UPDATE outreach_deliveries SET status = 'sending', attempts = attempts + 1, "
                "updated = ? WHERE broadcast_id = ? AND user_id = ? AND status = 'pending' "
                "AND EXISTS (SELECT 1 FROM outreach_subscribers s WHERE s.user_id = ?)",
                (now, broadcast_id, user_id, user_id),
            )
            if cur.rowcount == 1:
                return True
            db.execute(
                "UPDATE outreach_deliveries SET status = 'skipped', updated = ? "
                "WHERE broadcast_id = ? AND user_id = ? AND status = 'pending'",
                (now, broadcast_id, user_id),
            )
            return False

    def mark_sent(self, broadcast_id: int, user_id: int) -> None:
        self._set(broadcast_id, user_id, "sent")

    def mark_blocked(self, broadcast_id: int, user_id: int) -> None:
        """The user blocked the bot: record it and unsubscribe them, in one transaction."""
        with self._store.transaction() as db:
            db.execute(
                "UPDATE outreach_deliveries SET status = 'blocked', updated = ? "
                "WHERE broadcast_id = ? AND user_id = ?",
                (self._clock(), broadcast_id, user_id),
            )
            db.execute("DELETE FROM outreach_subscribers WHERE user_id = ?", (user_id,))

    def mark_failed(self, broadcast_id: int, user_id: int) -> bool:
        """Back to pending for another try, or `failed` after MAX_ATTEMPTS; True if retried."""
        with self._store.transaction() as db:
            cur = db.execute(
                "UPDATE outreach_deliveries SET updated = ?, status = CASE WHEN attempts < ? "
                "THEN 'pending' ELSE 'failed' END WHERE broadcast_id = ? AND user_id = ? "
                "RETURNING status",
                (self._clock(), MAX_ATTEMPTS, broadcast_id, user_id),
            )
            rows = cur.fetchall()
        return bool(rows and rows[0][0] == "pending")

    def _set(self, broadcast_id: int, user_id: int, status: str) -> None:
        with self._store.transaction() as db:
            db.execute(
                "UPDATE outreach_deliveries SET status = ?, updated = ? "
                "WHERE broadcast_id = ? AND user_id = ?",
                (status, self._clock(), broadcast_id, user_id),
            )

    def progress(self, broadcast_id: int) -> Progress:
        rows = self._store.query(
            "SELECT status, COUNT(*) FROM outreach_deliveries WHERE broadcast_id = ? "
            "GROUP BY status",
            (broadcast_id,),
        )
        counts = {status: int(n) for status, n in rows}
        return Progress(
            total=sum(counts.values()),
            sent=counts.get("sent", 0),
            blocked=counts.get("blocked", 0),
            failed=counts.get("failed", 0),
            unknown=counts.get("unknown", 0),
            skipped=counts.get("skipped", 0),
            pending=counts.get("pending", 0) + counts.get("sending", 0),
        )
