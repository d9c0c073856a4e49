"""Hand-off to a person, the dialogue side: offer, consent, ticket, and staff answers coming in.

After a decline the bot offers to send that very question to staff; the question is kept only
in memory (never on disk) until the user presses "Gửi câu hỏi này cho cán bộ" or types its
number, which is their consent; then it becomes a ticket. From /contact (or the words "gửi cán
bộ") the user can also write a new question. A staff member answers by replying (Telegram
reply) to the ticket's message in the staff chat, or with `/traloi <số phiếu> <câu trả lời>`;
the answer is stored on the ticket and relay.py delivers it. Anyone in the staff chat may
answer (the group is the staff's own); elsewhere only admins. `/tickets` lists open tickets.

The offer under a decline is a separate message whose button carries no engine number (the
engine keeps the numbered options of the last message only), so this module answers its typed
number itself, and only while the options the engine shows are still the decline's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from bot.core.dialogue import CONTACT_ENTRY, LABEL_MENU
from bot.core.formatting import number_buttons, numbered
from bot.core.messages import Button, Incoming, Reply
from bot.outreach.common import PENDING_TTL_SECONDS, Pending, is_admin, shown_options, word_key
from bot.outreach.tickets import MAX_QUESTION_CHARS, Ticket, TicketStore

log = logging.getLogger(__name__)

DECLINE_OPTIONS = ("menu:", "contact:")  # the numbered choices under the engine's decline
ASK_OPTIONS = ("handoff:cancel",)
LABEL_SEND_THIS = "Gửi câu hỏi này cho cán bộ"
LABEL_SEND = "Gửi câu hỏi cho cán bộ"
HOURS = "Cán bộ sẽ trả lời trong giờ hành chính, ngay tại cuộc trò chuyện này."
OFFER_DECLINE = "Bạn cũng có thể gửi câu hỏi này cho cán bộ. " + HOURS
OFFER_CONTACT = "Bạn muốn hỏi cán bộ? Hãy gửi câu hỏi ngay tại đây. " + HOURS
ASK_PROMPT = (
    "Bạn hãy viết câu hỏi trong một tin nhắn rồi gửi. Tôi sẽ chuyển câu hỏi cho cán bộ. "
    + HOURS
    + "\nMuốn thôi, gõ 1 hoặc bấm nút:"
)
LOST = "Tôi không còn giữ câu hỏi vừa rồi của bạn. "
CONFIRM = "Câu hỏi vừa rồi của bạn:\n“{question}”\n\nBạn có muốn gửi câu hỏi này cho cán bộ không? (gõ số hoặc bấm nút)"
CREATED = (
    "Đã gửi câu hỏi của bạn cho cán bộ, số phiếu {number}. "
    + HOURS
    + " Trong lúc chờ, bạn vẫn có thể hỏi trợ lý."
)
CANCELLED = "Vâng, tôi không gửi gì cho cán bộ. Bạn cứ tiếp tục hỏi trợ lý nhé."
TOO_SHORT = "Câu hỏi ngắn quá. Bạn hãy viết rõ hơn một chút, hoặc gõ 1 để thôi không gửi."
SEND_WORDS = frozenset(
    ("gui can bo", "gui cau hoi", "gui cau hoi cho can bo", "hoi can bo", "nhan can bo")
)
CANCEL_WORDS = frozenset(("thoi", "huy", "huy bo", "khong", "khong gui", "thoi khong gui"))


class Handoff:
    """Engine extensions for the hand-off; `wake` tells the relay job there is work."""

    def __init__(
        self,
        settings: Any,
        store: Any,
        tickets: TicketStore,
        pending: Pending,
        kb: Callable[[], Any],
        wake: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.store = store
        self.tickets = tickets
        self.pending = pending
        self._kb = kb
        self._wake = wake
        self._lock = threading.Lock()
        # user id -> (offer token, declined question, monotonic time): memory only, by design.
        self._offered: dict[int, tuple[str, str, float]] = {}

    # -- engine hooks -------------------------------------------------------------------------

    def after_decline(self, inc: Incoming, question: str) -> list[Reply] | None:
        if inc.chat_id != inc.user_id or not question.strip():
            return None
        token = self.pending.new_token(inc.user_id, "offer")
        with self._lock:
            self._prune()
            self._offered[inc.user_id] = (token, question.strip(), time.monotonic())
        number = len(DECLINE_OPTIONS) + 1  # numbered after the engine's own decline choices
        line = f"{number}. {LABEL_SEND_THIS}"
        return [
            Reply(f"{OFFER_DECLINE}\n{line}", (Button(LABEL_SEND_THIS, "handoff:send", number),))
        ]

    def after_contact(self, inc: Incoming) -> list[Reply] | None:
        if inc.chat_id != inc.user_id:
            return None
        number = len(self._contact_options()) + 1  # after the contact entry's related topics
        text = f"{OFFER_CONTACT}\n{number}. {LABEL_SEND}"
        return [Reply(text, (Button(LABEL_SEND, "handoff:start", number),))]

    def on_payload(self, inc: Incoming, value: str) -> list[Reply] | None:
        if inc.chat_id != inc.user_id:
            return [Reply("Bạn hãy nhắn riêng cho trợ lý để gửi câu hỏi cho cán bộ.")]
        if value == "send":
            return self.send_offered(inc)
        if value == "start":
            return self.start(inc)
        if value == "write":
            return self.ask(inc)
        if value == "cancel":
            return self.cancel(inc)
        return None

    def on_words(self, inc: Incoming, text: str) -> list[Reply] | None:
        if inc.reply_to_message_id is not None:
            replies = self._staff_reply(inc, text)
            if replies is not None:
                return replies
        if inc.chat_id != inc.user_id or not text:
            return None
        key = word_key(text)
        if self.pending.get(inc.user_id, "mode") == "ask":
            if shown_options(self.store, inc.user_id) == ASK_OPTIONS:
                if key in CANCEL_WORDS:
                    return self.cancel(inc)
                if text.strip().isdigit():
                    return None  # a typed choice: the engine maps it to the shown options
                if len(key.replace(" ", "")) < 4:
                    return [Reply(TOO_SHORT)]
                return self._create(inc, text)
            self.pending.clear(inc.user_id, "mode")  # the user went elsewhere meanwhile
        if key in SEND_WORDS:
            return self.start(inc)
        return None

    # -- admin commands -----------------------------------------------------------------------

    def cmd_tickets(self, inc: Incoming, arg: str) -> list[Reply] | None:
        if not is_admin(self.settings, inc.user_id):
            return None
        tickets = self.tickets.open_tickets()
        if not tickets:
            return [Reply("Không có phiếu nào đang mở.")]
        total = self.tickets.count_open()
        lines = [f"Phiếu đang mở: {total}."]
        for t in tickets:
            when = time.strftime("%d/%m %H:%M", time.localtime(t.created))
            state = " (đang chuyển câu trả lời)" if t.status == "answered" else ""
            question = t.question if len(t.question) <= 300 else t.question[:300] + "…"
            lines.append(f"#{t.id} · {when}{state}\n{question}")
        lines.append(
            "Để trả lời: trả lời (Reply) vào tin nhắn của phiếu, "
            "hoặc gõ /traloi <số phiếu> <câu trả lời>."
        )
        return [Reply("\n\n".join(lines))]

    def cmd_answer(self, inc: Incoming, arg: str) -> list[Reply] | None:
        """`/traloi N câu trả lời`: answer ticket N without replying to its message."""
        if not is_admin(self.settings, inc.user_id):
            return None
        head, _, answer = arg.strip().partition(" ")
        number = head.lstrip("#")
        if not number.isdigit() or not answer.strip():
            return [
                Reply(
                    "Cách dùng: /traloi <số phiếu> <câu trả lời>. Ví dụ: /traloi 12 Chào bạn, ..."
                )
            ]
        ticket = self.tickets.get(int(number))
        if ticket is None:
            return [Reply(f"Không có phiếu #{number}.")]
        return self._answer(inc, ticket, answer)

    # -- steps --------------------------------------------------------------------------------

    def start(self, inc: Incoming) -> list[Reply]:
        offered = self._offered_question(inc.user_id)
        if offered is None:
            return self.ask(inc)
        buttons = number_buttons(
            [
                (LABEL_SEND_THIS, "handoff:send"),
                ("Viết câu hỏi khác", "handoff:write"),
                ("Thôi, không gửi", "handoff:cancel"),
            ]
        )
        text = CONFIRM.format(question=offered[:MAX_QUESTION_CHARS]) + "\n" + numbered(buttons)
        return [Reply(text, buttons)]

    def send_offered(self, inc: Incoming) -> list[Reply]:
        offered = self._offered_question(inc.user_id)
        if offered is None:
            return self.ask(inc, lost=True)
        return self._create(inc, offered)

    def ask(self, inc: Incoming, lost: bool = False) -> list[Reply]:
        self.pending.set(inc.user_id, "mode", "ask")
        buttons = number_buttons([("Thôi, không gửi", "handoff:cancel")])
        text = (LOST if lost else "") + ASK_PROMPT + "\n" + numbered(buttons)
        return [Reply(text, buttons, speak=(LOST if lost else "") + ASK_PROMPT)]

    def cancel(self, inc: Incoming) -> list[Reply]:
        self._forget_offer(inc.user_id)
        self.pending.clear(inc.user_id, "mode")
        buttons = number_buttons([(LABEL_MENU, "menu:")])
        return [Reply(CANCELLED + "\n" + numbered(buttons), buttons)]

    def _create(self, inc: Incoming, question: str) -> list[Reply]:
        ticket = self.tickets.create(inc.user_id, question)
        self._forget_offer(inc.user_id)
        self.pending.clear(inc.user_id, "mode")
        log.info("ticket %d created", ticket.id)
        self._wake()
        text = CREATED.format(number=ticket.id)
        buttons = number_buttons([(LABEL_MENU, "menu:")])
        return [Reply(text + "\n" + numbered(buttons), buttons, speak=text)]

    def _contact_options(self) -> tuple[str, ...]:
        """The numbered options the engine shows with the contact entry (its related entries)."""
        kb = self._kb()
        entry = kb.entry(CONTACT_ENTRY)
        if entry is None:
            return ()
        related = [r for r in entry.related if r in kb.entries][:3]
        return tuple(f"faq:{r}" for r in related)

    # -- staff answers ------------------------------------------------------------------------

    def _staff_reply(self, inc: Incoming, text: str) -> list[Reply] | None:
        staff_chat = self.settings.staff_chat_id
        in_staff_chat = staff_chat is not None and inc.chat_id == staff_chat
        if not (in_staff_chat or is_admin(self.settings, inc.user_id)):
            return None
        assert inc.reply_to_message_id is not None
        ticket = self.tickets.by_message(inc.chat_id, inc.reply_to_message_id)
        if ticket is None:
            return None
        return self._answer(inc, ticket, text)

    def _answer(self, inc: Incoming, ticket: Ticket, text: str) -> list[Reply]:
        if not text.strip():
            return [Reply(f"Câu trả lời cho phiếu #{ticket.id} đang trống.")]
        if not self.tickets.answer(ticket.id, text, inc.chat_id):
            return [Reply(f"Phiếu #{ticket.id} đã được trả lời và đóng rồi; tôi không gửi thêm.")]
        log.info("ticket %d answered", ticket.id)
        self._wake()
        return []  # the relay job confirms once the user has it

    # -- the offered question (memory only) ---------------------------------------------------

    def _offered_question(self, user_id: int) -> str | None:
        token = self.pending.get(user_id, "offer")
        with self._lock:
            held = self._offered.get(user_id)
        if token is None or held is None or held[0] != token:
            return None  # expired, forgotten (/forget deletes the token) or lost in a restart
        return held[1]

    def _forget_offer(self, user_id: int) -> None:
        with self._lock:
            self._offered.pop(user_id, None)
        self.pending.clear(user_id, "offer")

    def _prune(self) -> None:
        cutoff = time.monotonic() - PENDING_TTL_SECONDS
        for user_id in [u for u, (_, _, t) in self._offered.items() if t < cutoff]:
            del self._offered[user_id]
