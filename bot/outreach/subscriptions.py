"""Subscriptions to announcements: /subscribe, /unsubscribe and the words "đăng ký" / "hủy".

Words count only when they are the whole message (accents optional: "huy dang ky" works), so a
question such as "đăng ký xác nhận khuyết tật thế nào" still goes to the matcher. Only private
chats subscribe: an announcement goes to the user's own chat.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.core.messages import Incoming, Reply
from bot.outreach.common import word_key

SUBSCRIBE_WORDS = frozenset(
    (
        "dang ky",
        "dang ki",
        "dang ky nhan tin",
        "dang ky nhan thong bao",
        "dang ky thong bao",
        "nhan thong bao",
        "subscribe",
    )
)
UNSUBSCRIBE_WORDS = frozenset(
    (
        "huy",
        "huy dang ky",
        "huy dang ki",
        "huy nhan tin",
        "huy thong bao",
        "huy nhan thong bao",
        "ngung nhan tin",
        "ngung nhan thong bao",
        "ngung thong bao",
        "unsubscribe",
    )
)
HOW_TO_STOP = 'Muốn ngừng, gõ /unsubscribe hoặc gõ "hủy".'
HOW_TO_START = 'Muốn nhận, gõ /subscribe hoặc gõ "đăng ký".'
SUBSCRIBED = (
    "Bạn đã đăng ký nhận thông báo. Khi chính sách cho người khuyết tật thay đổi, tôi sẽ nhắn "
    "cho bạn, kèm tin nhắn thoại nếu bạn bật giọng đọc. " + HOW_TO_STOP
)
ALREADY = "Bạn đã đăng ký nhận thông báo rồi. " + HOW_TO_STOP
UNSUBSCRIBED = "Bạn đã hủy đăng ký. Tôi sẽ không gửi thông báo cho bạn nữa. " + HOW_TO_START
NOT_SUBSCRIBED = "Bạn chưa đăng ký nhận thông báo. " + HOW_TO_START
PRIVATE_ONLY = "Bạn hãy nhắn riêng cho trợ lý để đăng ký hoặc hủy nhận thông báo."


class Subscriptions:
    """The subscribers table and the dialogue around it."""

    def __init__(self, store: Any, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    # -- data ---------------------------------------------------------------------------------

    def subscribe(self, user_id: int) -> bool:
        """True if newly subscribed."""
        with self._store.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO outreach_subscribers(user_id, created) VALUES (?, ?)",
                (user_id, self._clock()),
            )
            return cur.rowcount == 1

    def unsubscribe(self, user_id: int) -> bool:
        """True if the user was subscribed."""
        with self._store.transaction() as db:
            cur = db.execute("DELETE FROM outreach_subscribers WHERE user_id = ?", (user_id,))
            return cur.rowcount == 1

    def is_subscribed(self, user_id: int) -> bool:
        rows = self._store.query("SELECT 1 FROM outreach_subscribers WHERE user_id = ?", (user_id,))
        return bool(rows)

    def count(self) -> tuple[int, int]:
        """(subscribers, of whom with voice on)."""
        row = self._store.query(
            "SELECT COUNT(*), COALESCE(SUM(u.voice), 0) FROM outreach_subscribers s "
            "LEFT JOIN users u ON u.user_id = s.user_id"
        )[0]
        return int(row[0]), int(row[1])

    # -- dialogue -----------------------------------------------------------------------------

    def cmd_subscribe(self, inc: Incoming, arg: str) -> list[Reply]:
        if inc.chat_id != inc.user_id:
            return [Reply(PRIVATE_ONLY)]
        text = SUBSCRIBED if self.subscribe(inc.user_id) else ALREADY
        return [Reply(text, speak=text)]

    def cmd_unsubscribe(self, inc: Incoming, arg: str) -> list[Reply]:
        if inc.chat_id != inc.user_id:
            return [Reply(PRIVATE_ONLY)]
        text = UNSUBSCRIBED if self.unsubscribe(inc.user_id) else NOT_SUBSCRIBED
        return [Reply(text, speak=text)]

    def on_words(self, inc: Incoming, text: str) -> list[Reply] | None:
        if inc.chat_id != inc.user_id or not text:
            return None
        key = word_key(text)
        if key in SUBSCRIBE_WORDS:
            return self.cmd_subscribe(inc, "")
        if key in UNSUBSCRIBE_WORDS:
            return self.cmd_unsubscribe(inc, "")
        return None
