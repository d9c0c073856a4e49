"""Hand-off tickets in SQLite: a question a user agreed to send to staff, and its answer.

A ticket is created only after the user chose to send the question. The relay job
(relay.py) posts new tickets to the staff chat and records which staff-chat message belongs to
which ticket; a staff reply is stored on the ticket (`answered`) before it is relayed, so a
restart between the two loses nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_QUESTION_CHARS = 1000
MAX_ANSWER_CHARS = 3500


@dataclass(frozen=True)
class Ticket:
    id: int
    user_id: int
    question: str
    status: str
    created: float
    notified: bool
    answer: str | None = None
    answer_chat: int | None = None


_COLUMNS = "id, user_id, question, status, created, notified, answer, answer_chat"


def _ticket(row: tuple) -> Ticket:
    return Ticket(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6], row[7])


class TicketStore:
    """SQL for tickets; `store` is the bot's SqliteStore (its transaction() and query())."""

    def __init__(self, store: Any, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def create(self, user_id: int, question: str) -> Ticket:
        question = question.strip()[:MAX_QUESTION_CHARS]
        now = self._clock()
        with self._store.transaction() as db:
            cur = db.execute(
                "INSERT INTO outreach_tickets(user_id, question, created) VALUES (?, ?, ?)",
                (user_id, question, now),
            )
            ticket_id = int(cur.lastrowid or 0)
        return Ticket(ticket_id, user_id, question, "open", now, False)

    def get(self, ticket_id: int) -> Ticket | None:
        rows = self._store.query(
            f"SELECT {_COLUMNS} FROM outreach_tickets WHERE id = ?", (ticket_id,)
        )
        return _ticket(rows[0]) if rows else None

    def by_message(self, chat_id: int, message_id: int) -> Ticket | None:
        rows = self._store.query(
            "SELECT ticket_id FROM outreach_ticket_messages WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        return self.get(rows[0][0]) if rows else None

    def open_tickets(self, limit: int = 50) -> list[Ticket]:
        rows = self._store.query(
            f"SELECT {_COLUMNS} FROM outreach_tickets WHERE status IN ('open', 'answered') "
            "ORDER BY id LIMIT ?",
            (limit,),
        )
        return [_ticket(r) for r in rows]

    def count_open(self) -> int:
        return self._store.query(
            "SELECT COUNT(*) FROM outreach_tickets WHERE status IN ('open', 'answered')"
        )[0][0]

    # -- the relay job's side ---------------------------------------------------------------

    def to_notify(self) -> list[Ticket]:
        rows = self._store.query(
            f"SELECT {_COLUMNS} FROM outreach_tickets WHERE notified = 0 AND status = 'open' "
            "ORDER BY id"
        )
        return [_ticket(r) for r in rows]

    def mark_notified(self, ticket_id: int, messages: list[tuple[int, int]]) -> None:
        """Remember the staff-chat messages (chat_id, message_id) of a ticket."""
        with self._store.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO outreach_ticket_messages(chat_id, message_id, ticket_id) "
                "VALUES (?, ?, ?)",
                [(chat, message, ticket_id) for chat, message in messages],
            )
            db.execute("UPDATE outreach_tickets SET notified = 1 WHERE id = ?", (ticket_id,))

    def answer(self, ticket_id: int, text: str, staff_chat: int) -> bool:
        """Store a staff answer on an open ticket; False if it was answered already."""
        with self._store.transaction() as db:
            cur = db.execute(
                "UPDATE outreach_tickets SET status = 'answered', answer = ?, answer_chat = ?, "
                "answered = ? WHERE id = ? AND status = 'open'",
                (text.strip()[:MAX_ANSWER_CHARS], staff_chat, self._clock(), ticket_id),
            )
            return cur.rowcount == 1

    def to_deliver(self) -> list[Ticket]:
        rows = self._store.query(
            f"SELECT {_COLUMNS} FROM outreach_tickets WHERE status = 'answered' ORDER BY id"
        )
        return [_ticket(r) for r in rows]

    def close(self, ticket_id: int, delivered: bool = True) -> None:
        status = "closed" if delivered else "undeliverable"
        with self._store.transaction() as db:
            db.execute(
                "UPDATE outreach_tickets SET status = ?, closed = ? WHERE id = ?",
                (status, self._clock(), ticket_id),
            )
