"""Small pieces the outreach modules share: admin gating, word keys, the pending-step table.

`is_admin` reads `settings.admins` (BOT_ADMIN_IDS or `admins:` in config), the same list the
staff tools use. `word_key` folds what a user typed to a comparable key ("Hủy đăng ký!" ->
"huy dang ky"). `Pending` keeps, per user, which outreach step is waiting for their next message
("mode") and a random token for a question they were just offered to send ("offer"); it never
holds what the user typed, so it can live in SQLite and survive restarts.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from bot.core.text import fold_key

PENDING_TTL_SECONDS = 30 * 60


def is_admin(settings: Any, user_id: int) -> bool:
    return user_id in set(settings.admins)


# `word_key` folds what a user typed to a comparable key: the core's one function for that.
word_key = fold_key


def shown_options(store: Any, user_id: int) -> tuple[str, ...]:
    """Payloads of the numbered options the engine last showed this user (from its state)."""
    options = store.get_state(user_id).get("options") or []
    return tuple(str(o) for o in options)


class Pending:
    """Rows of `outreach_pending`: (user, kind) -> value, expiring after `ttl` seconds."""

    def __init__(
        self, store: Any, ttl: float = PENDING_TTL_SECONDS, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._clock = clock

    def set(self, user_id: int, kind: str, value: str) -> None:
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO outreach_pending(user_id, kind, value, created) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(user_id, kind) DO UPDATE SET value = excluded.value, "
                "created = excluded.created",
                (user_id, kind, value, self._clock()),
            )

    def get(self, user_id: int, kind: str) -> str | None:
        rows = self._store.query(
            "SELECT value, created FROM outreach_pending WHERE user_id = ? AND kind = ?",
            (user_id, kind),
        )
        if not rows or self._clock() - rows[0][1] > self._ttl:
            return None
        return rows[0][0]

    def clear(self, user_id: int, kind: str) -> None:
        with self._store.transaction() as db:
            db.execute(
                "DELETE FROM outreach_pending WHERE user_id = ? AND kind = ?", (user_id, kind)
            )

    def new_token(self, user_id: int, kind: str) -> str:
        token = secrets.token_hex(8)
        self.set(user_id, kind, token)
        return token
