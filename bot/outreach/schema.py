"""The outreach tables in the bot's SQLite file, and how `/forget` removes a user from them.

Tickets (numbered with AUTOINCREMENT, so a number is never reused), the staff-chat messages that
belong to each ticket, subscribers, broadcasts and their delivery queue (one row per recipient
with a status), and the pending-step table. Statuses:

- ticket: open -> answered (a staff reply is stored) -> closed | undeliverable
- broadcast: draft -> queued -> sending -> done | cancelled
- delivery: pending -> sending -> sent | blocked | failed | skipped; a row left in `sending`
  by a crash becomes `unknown` at the next start and is not sent again (see sender.py).
"""

from __future__ import annotations

from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS outreach_pending (
    user_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (user_id, kind)
);
CREATE TABLE IF NOT EXISTS outreach_subscribers (
    user_id INTEGER PRIMARY KEY,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS outreach_tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    question TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    created REAL NOT NULL,
    notified INTEGER NOT NULL DEFAULT 0,
    answer TEXT,
    answer_chat INTEGER,
    answered REAL,
    closed REAL
);
CREATE INDEX IF NOT EXISTS outreach_tickets_work ON outreach_tickets(status, notified);
CREATE INDEX IF NOT EXISTS outreach_tickets_user ON outreach_tickets(user_id);
CREATE TABLE IF NOT EXISTS outreach_ticket_messages (
    chat_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    ticket_id INTEGER NOT NULL REFERENCES outreach_tickets(id) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, message_id)
);
CREATE INDEX IF NOT EXISTS outreach_ticket_messages_ticket
    ON outreach_ticket_messages(ticket_id);
CREATE TABLE IF NOT EXISTS outreach_broadcasts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    admin_id INTEGER NOT NULL,
    admin_chat INTEGER NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft',
    created REAL NOT NULL,
    queued REAL,
    started REAL,
    finished REAL
);
CREATE TABLE IF NOT EXISTS outreach_deliveries (
    broadcast_id INTEGER NOT NULL REFERENCES outreach_broadcasts(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    updated REAL NOT NULL,
    PRIMARY KEY (broadcast_id, user_id)
);
CREATE INDEX IF NOT EXISTS outreach_deliveries_status
    ON outreach_deliveries(broadcast_id, status);
CREATE INDEX IF NOT EXISTS outreach_deliveries_user ON outreach_deliveries(user_id)
"""

# Each statement gets (user_id,) from SqliteStore.forget(); ticket messages go by cascade.
FORGET_SQL: tuple[str, ...] = (
    "DELETE FROM outreach_pending WHERE user_id = ?",
    "DELETE FROM outreach_subscribers WHERE user_id = ?",
    "DELETE FROM outreach_tickets WHERE user_id = ?",
    "DELETE FROM outreach_deliveries WHERE user_id = ?",
)


def install_schema(store: Any) -> None:
    store.add_schema(SCHEMA, FORGET_SQL)
