"""Announcements, the admin's side: /broadcast, the preview, the confirmation.

`/broadcast <text>` (or `/broadcast`, then the text as the next message) shows the announcement
exactly as subscribers will see it and how many will get it (and how many with a voice note),
with "Gửi" and "Hủy" as buttons and as numbers. Confirming queues it in SQLite (queue.py) and
wakes the sender (sender.py), which reports progress to the admin's chat. Admin only: anyone
else gets the engine's unknown-command reply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.formatting import number_buttons, numbered
from bot.core.messages import Incoming, Reply
from bot.outreach.common import Pending, is_admin, shown_options, word_key
from bot.outreach.pacing import DEFAULT_RATE
from bot.outreach.queue import BroadcastQueue
from bot.outreach.sender import render
from bot.outreach.subscriptions import Subscriptions

MAX_TEXT = 3500
PROMPT_OPTIONS = ("bc:abort",)
CANCEL_WORDS = frozenset(("thoi", "huy", "huy bo", "khong", "khong gui", "thoi khong gui"))
PROMPT = (
    "Bạn hãy gõ nội dung thông báo trong một tin nhắn. Tôi sẽ cho xem trước và hỏi lại "
    "trước khi gửi cho {total} người đăng ký."
)


class BroadcastDesk:
    """Engine extensions for /broadcast; `wake` tells the sender there is work."""

    def __init__(
        self,
        settings: Any,
        store: Any,
        queue: BroadcastQueue,
        subscriptions: Subscriptions,
        pending: Pending,
        wake: Callable[[], None],
        rate: float = DEFAULT_RATE,
    ) -> None:
        self.settings = settings
        self.store = store
        self.queue = queue
        self.subscriptions = subscriptions
        self.pending = pending
        self._wake = wake
        self.rate = rate

    def cmd_broadcast(self, inc: Incoming, arg: str) -> list[Reply] | None:
        if not is_admin(self.settings, inc.user_id):
            return None
        if arg.strip():
            return self._preview(inc, arg)
        self.pending.set(inc.user_id, "mode", "broadcast")
        total, _ = self.subscriptions.count()
        lines = [PROMPT.format(total=total)]
        active = self.queue.next_active()
        if active is not None:
            p = self.queue.progress(active.id)
            lines.append(f"Thông báo #{active.id} đang gửi: xong {p.finished}/{p.total}.")
        buttons = number_buttons([("Thôi, không gửi", "bc:abort")])
        return [Reply("\n".join(lines) + "\n" + numbered(buttons), buttons)]

    def on_words(self, inc: Incoming, text: str) -> list[Reply] | None:
        if not text or not is_admin(self.settings, inc.user_id):
            return None
        if self.pending.get(inc.user_id, "mode") != "broadcast":
            return None
        if shown_options(self.store, inc.user_id) != PROMPT_OPTIONS:
            self.pending.clear(inc.user_id, "mode")  # the admin went elsewhere meanwhile
            return None
        if text.strip().isdigit():
            return None  # "1" = the shown option "Thôi, không gửi"
        if word_key(text) in CANCEL_WORDS:
            return self.on_payload(inc, "abort")
        return self._preview(inc, text)

    def on_payload(self, inc: Incoming, value: str) -> list[Reply] | None:
        if not is_admin(self.settings, inc.user_id):
            return None
        action, _, ident = value.partition(":")
        if action == "abort":
            self.pending.clear(inc.user_id, "mode")
            return [Reply("Đã thôi, không soạn thông báo nữa.")]
        if not ident.isdigit():
            return None
        broadcast_id = int(ident)
        if action == "send":
            return self._confirm(broadcast_id)
        if action == "cancel":
            done = self.queue.cancel(broadcast_id)
            if done:
                return [Reply(f"Đã hủy thông báo #{broadcast_id}. Không ai nhận được.")]
            return [Reply(f"Thông báo #{broadcast_id} đã được xếp hàng gửi, không hủy được nữa.")]
        return None

    def _preview(self, inc: Incoming, text: str) -> list[Reply]:
        self.pending.clear(inc.user_id, "mode")
        text = text.strip()
        if len(text) > MAX_TEXT:
            return [
                Reply(
                    f"Thông báo dài {len(text)} ký tự; tối đa {MAX_TEXT} để gửi trong một tin "
                    "nhắn. Bạn hãy rút gọn rồi gõ /broadcast lại."
                )
            ]
        total, voice = self.subscriptions.count()
        if total == 0:
            return [Reply("Chưa có ai đăng ký nhận thông báo, nên chưa gửi được cho ai.")]
        draft = self.queue.create_draft(inc.user_id, inc.chat_id, text)
        buttons = number_buttons(
            [
                (f"Gửi cho {total} người", f"bc:send:{draft.id}"),
                ("Hủy, không gửi", f"bc:cancel:{draft.id}"),
            ]
        )
        question = (
            f"Thông báo #{draft.id} sẽ gửi tới {total} người đăng ký "
            f"({voice} người nhận kèm tin nhắn thoại). Gửi ngay? (gõ số hoặc bấm nút)\n"
            + numbered(buttons)
        )
        return [
            Reply(f"Xem trước thông báo #{draft.id}, đúng như người nhận sẽ thấy:"),
            Reply(render(text)),
            Reply(question, buttons),
        ]

    def _confirm(self, broadcast_id: int) -> list[Reply]:
        ahead = self.queue.next_active()
        count = self.queue.enqueue(broadcast_id)
        if count is None:
            broadcast = self.queue.get(broadcast_id)
            if broadcast is not None and broadcast.status == "cancelled":
                return [Reply(f"Thông báo #{broadcast_id} đã bị hủy.")]
            return [Reply(f"Thông báo #{broadcast_id} đã được xếp hàng rồi; tôi không gửi lại.")]
        self._wake()
        text = (
            f"Đã xếp hàng thông báo #{broadcast_id} cho {count} người. Tôi gửi khoảng "
            f"{round(self.rate)} tin mỗi giây và báo tiến độ vài giây một lần."
        )
        if ahead is not None:
            text += f" Thông báo #{ahead.id} đang gửi; thông báo này sẽ gửi ngay sau."
        return [Reply(text)]
