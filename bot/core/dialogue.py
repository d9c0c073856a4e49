"""The dialogue engine: what the bot says back to one thing a user did, on any channel.

`Engine.handle(incoming)` routes, in this order: commands (/start, /help, /menu, /voice, /check,
/contact, /forget), pressed buttons (payloads), the entitlement checker while it runs, the
reply-keyboard labels and a few plain words ("menu", "bật giọng đọc"), typed numbers (they pick
from the numbered options last shown), and finally questions, which go to the matcher. Button
texts never reach the matcher.

```mermaid
stateDiagram-v2
    [*] --> Idle
    Idle --> Idle: question / menu / number / command
    Idle --> Checker: /check or "Tôi được hưởng gì?"
    Checker --> Checker: answer a step / back
    Checker --> Idle: result / cancel / any command
```

State per user is small and holds no message text: the payloads of the numbered options last
shown, and the checker's step and answers while it runs (deleted when it ends).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from bot.core import checker
from bot.core.formatting import number_buttons, numbered
from bot.core.knowledge import Entry, KnowledgeBase
from bot.core.matching import Decision, Matcher
from bot.core.messages import Button, Incoming, MediaKind, Reply
from bot.core.text import fold_key

log = logging.getLogger(__name__)

LABEL_MENU = "Danh mục chủ đề"
LABEL_CHECK = "Tôi được hưởng gì?"
LABEL_VOICE_ON = "Bật giọng đọc"
LABEL_VOICE_OFF = "Tắt giọng đọc"
LABEL_CONTACT = "Liên hệ cán bộ"
LABEL_HELP = "Hướng dẫn"
CONTACT_ENTRY = "lien-he-ho-tro"
HELP_ENTRY = "cach-dung-tro-ly"
MAX_QUESTION_CHARS = 1000

COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Bắt đầu, lời chào và danh mục"),
    ("menu", "Danh mục các chủ đề"),
    ("check", "Tôi được hưởng những gì? Trả lời vài câu hỏi"),
    ("voice", "Bật hoặc tắt giọng đọc"),
    ("contact", "Liên hệ cán bộ"),
    ("help", "Cách dùng trợ lý"),
    ("forget", "Xóa thông tin trợ lý lưu về bạn"),
)

WELCOME = (
    "Xin chào! Tôi là trợ lý hỏi đáp về chính sách cho người khuyết tật ở Hà Nội.\n\n"
    "Bạn cứ gõ câu hỏi bằng lời của mình, có dấu hay không dấu đều được. "
    'Ví dụ: "trợ cấp cho người khuyết tật nặng".\n\n'
    'Muốn nghe đọc to câu trả lời, gõ /voice hoặc bấm nút "Bật giọng đọc".\n'
    "Muốn biết một người được hưởng gì, gõ /check.\n"
    "Các lựa chọn đều có số: gõ số để chọn."
)


@dataclass
class QuestionEvent:
    """What the engine tells the question log (issue: staff tools); never the user id raw."""

    user_id: int
    question: str
    decision: Decision
    user_name: str = ""  # only so the log can mask it if typed; never stored


class KnowledgeHolder:
    """Holds the current KnowledgeBase and its Matcher; `swap` replaces both at once."""

    def __init__(
        self,
        kb: KnowledgeBase,
        matcher_factory: Callable[[KnowledgeBase], Matcher],
        matcher: Matcher | None = None,
    ):
        self._factory = matcher_factory
        self._pair = (kb, matcher if matcher is not None else matcher_factory(kb))

    @property
    def kb(self) -> KnowledgeBase:
        return self._pair[0]

    @property
    def matcher(self) -> Matcher:
        return self._pair[1]

    def pair(self) -> tuple[KnowledgeBase, Matcher]:
        return self._pair

    def swap(self, kb: KnowledgeBase) -> None:
        self._pair = (kb, self._factory(kb))  # one assignment: readers see old or new, never half


class Engine:
    """Channel-independent dialogue. Thread-safe for different users; one call per update."""

    def __init__(
        self,
        knowledge: KnowledgeHolder,
        store: Any,
        default_region: str = "ha-noi",
        today: Callable[[], date] = date.today,
        on_question: Callable[[QuestionEvent], None] | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.store = store
        self.default_region = default_region
        self.today = today
        self.on_question = on_question
        self.extra_commands: dict[str, Callable[[Incoming, str], list[Reply] | None]] = {}
        self.extra_payloads: dict[str, Callable[[Incoming, str], list[Reply] | None]] = {}
        self.extra_words: list[Callable[[Incoming, str], list[Reply] | None]] = []
        # Commands features add: public ones go to the Telegram menu and the help lists;
        # admin ones only to admins' menus.
        self.public_commands: list[tuple[str, str]] = []
        self.admin_commands: list[tuple[str, str]] = []
        # Hook points for features (staff tools, hand-off): name -> callable.
        #   "contact": (incoming) -> list[Reply] | None, appended after the contact info;
        #   "decline": (incoming, question) -> list[Reply] | None, appended after a decline.
        self.hooks: dict[str, Callable[..., list[Reply] | None]] = {}

    # -- entry point ------------------------------------------------------------------------

    def handle(self, incoming: Incoming) -> list[Reply]:
        kb, matcher = self.knowledge.pair()
        voice = self.store.settings(incoming.user_id).voice
        state = self.store.get_state(incoming.user_id)
        ctx = _Turn(self, kb, matcher, incoming, state, voice)
        replies = ctx.run()
        return ctx.finish(replies)

    # -- shared pieces, also used by adapters and other features ------------------------------

    def commands(self) -> list[tuple[str, str]]:
        """Every public command with its Vietnamese description, in menu order."""
        return list(dict([*COMMANDS, *self.public_commands]).items())

    def keyboard(self, kb: KnowledgeBase, voice_on: bool) -> tuple[tuple[str, ...], ...]:
        rows: list[tuple[str, ...]] = [(c.title,) for c in kb.categories if c.entry_ids]
        rows.append((LABEL_CHECK,))
        rows.append((LABEL_VOICE_OFF if voice_on else LABEL_VOICE_ON, LABEL_CONTACT))
        return tuple(rows)


class _Turn:
    """One update being handled: the routing, with access to kb, state and settings."""

    def __init__(
        self,
        engine: Engine,
        kb: KnowledgeBase,
        matcher: Matcher,
        incoming: Incoming,
        state: dict[str, Any],
        voice: bool,
    ) -> None:
        self.engine = engine
        self.kb = kb
        self.matcher = matcher
        self.inc = incoming
        self.state = dict(state)
        self.voice = voice
        self.forgotten = False
        self.today = engine.today()

    # -- routing ----------------------------------------------------------------------------

    def run(self) -> list[Reply]:
        inc = self.inc
        if inc.payload is not None:
            return self.on_payload(inc.payload)
        text = (inc.text or "").strip()
        if inc.chat_id != inc.user_id and not text.startswith("/"):
            # A group (e.g. the staff chat): only commands and features' own words (a staff
            # reply, an uploaded file), never answers to the group's conversation.
            for handler in self.engine.extra_words:
                replies = handler(inc, text)
                if replies is not None:
                    return replies
            return []
        if inc.media is not None:
            return self.on_media(inc.media)
        if not text:
            return [self.reply("Bạn hãy gõ câu hỏi, hoặc gõ /menu để xem các chủ đề.")]
        if text.startswith("/"):
            self.state.pop("checker", None)
            return self.on_command(text)
        if "checker" in self.state:
            label = self.on_label(text)
            if label is not None:
                self.state.pop("checker", None)
                return label
            return self.on_checker(text)
        label = self.on_label(text)
        if label is not None:
            return label
        for handler in self.engine.extra_words:
            replies = handler(inc, text)
            if replies is not None:
                return replies
        if text.isdigit():
            return self.on_number(int(text))
        social = self.small_talk(text)
        if social is not None:
            return [social]
        return self.on_question(text)

    def finish(self, replies: list[Reply]) -> list[Reply]:
        """Remember numbered options; attach the keyboard; drop speech if voice is off."""
        options: list[str] = []
        for r in replies:
            if r.chat_id is not None:
                continue
            for b in r.buttons:
                if b.number:
                    options += [""] * (b.number - len(options))
                    options[b.number - 1] = b.payload
        if options:
            self.state["options"] = options
        if not self.forgotten:
            if self.state.get("options") or self.state.get("checker"):
                self.engine.store.set_state(self.inc.user_id, self.state)
            else:
                self.engine.store.set_state(self.inc.user_id, None)
        out = []
        for r in replies:
            if r.speak and not self.voice:
                r = replace(r, speak=None)
            out.append(r)
        return out

    def reply(
        self,
        text: str,
        buttons: tuple[Button, ...] = (),
        speak: str | None = None,
        keyboard: bool = False,
    ) -> Reply:
        kb_rows = self.engine.keyboard(self.kb, self.voice) if keyboard else None
        return Reply(text=text, buttons=buttons, speak=speak, keyboard=kb_rows)

    # -- commands ---------------------------------------------------------------------------

    def on_command(self, text: str) -> list[Reply]:
        head, _, rest = text.partition(" ")
        name = head[1:].split("@", 1)[0].lower()
        arg = rest.strip()
        if name == "start":
            if arg:
                entry = self.kb.entry(arg.strip().lower())
                if entry is not None:
                    return self.answer_entry(entry, keyboard=True)
            return [self.reply(WELCOME, keyboard=True), self.menu()]
        if name == "menu":
            return [self.menu(keyboard=True)]
        if name == "help":
            return self.help()
        if name == "voice":
            return self.set_voice(_voice_arg(arg, self.voice))
        if name == "check":
            return self.start_checker()
        if name == "contact":
            return self.contact()
        if name == "forget":
            return self.forget()
        handler = self.engine.extra_commands.get(name)
        if handler is not None:
            replies = handler(self.inc, arg)
            if replies is not None:
                return replies
        return [self.unknown_command(head)]

    def unknown_command(self, head: str) -> Reply:
        lines = "\n".join(f"/{name}: {desc}" for name, desc in self.engine.commands())
        return self.reply(f"Tôi chưa biết lệnh {head}. Các lệnh bạn có thể dùng:\n{lines}")

    def help(self) -> list[Reply]:
        entry = self.kb.entry(HELP_ENTRY)
        if entry is not None:
            return self.answer_entry(entry, keyboard=True)
        lines = "\n".join(f"/{name}: {desc}" for name, desc in self.engine.commands())
        return [self.reply(f"{WELCOME}\n\n{lines}", keyboard=True)]

    def set_voice(self, on: bool) -> list[Reply]:
        self.engine.store.set_voice(self.inc.user_id, on)
        self.voice = on
        if on:
            text = (
                "Đã bật giọng đọc. Từ giờ, sau mỗi câu trả lời tôi gửi thêm một tin nhắn "
                "thoại. Gõ /voice off để tắt."
            )
            return [self.reply(text, speak="Đã bật giọng đọc.", keyboard=True)]
        return [self.reply("Đã tắt giọng đọc. Gõ /voice on để bật lại.", keyboard=True)]

    def contact(self) -> list[Reply]:
        entry = self.kb.entry(CONTACT_ENTRY)
        if entry is not None:
            replies = self.answer_entry(entry)
        else:
            replies = [self.reply("Bạn hãy liên hệ UBND xã/phường nơi cư trú để được hỗ trợ.")]
        return replies + (self.hook("contact", self.inc) or [])

    def hook(self, name: str, *args: Any) -> list[Reply] | None:
        handler = self.engine.hooks.get(name)
        return handler(*args) if handler is not None else None

    def forget(self) -> list[Reply]:
        self.engine.store.forget(self.inc.user_id)
        self.forgotten = True
        self.voice = False
        text = (
            "Tôi đã xóa mọi thông tin trợ lý lưu về bạn: cài đặt giọng đọc và các bước "
            "đang làm dở. Bạn vẫn có thể tiếp tục hỏi bất cứ lúc nào."
        )
        return [self.reply(text, keyboard=True)]

    # -- menus ------------------------------------------------------------------------------

    def menu(self, keyboard: bool = False) -> Reply:
        cats = [c for c in self.kb.categories if c.entry_ids]
        buttons = number_buttons([(c.title, f"cat:{c.id}") for c in cats])
        text = "Danh mục các chủ đề. Gõ số hoặc bấm nút để chọn.\n\n" + numbered(buttons)
        return self.reply(text, buttons, keyboard=keyboard)

    def category(self, category_id: str) -> list[Reply]:
        cat = self.kb.category(category_id)
        if cat is None or not cat.entry_ids:
            return [self.reply("Mục này không còn nữa. Đây là danh mục mới:"), self.menu()]
        items = [(self.kb.entries[i].title, f"faq:{i}") for i in cat.entry_ids]
        buttons = number_buttons(items)
        text = f"{cat.title}. Chọn một câu hỏi (gõ số hoặc bấm nút):\n" + numbered(buttons)
        return [self.reply(text, buttons)]

    def on_label(self, text: str) -> list[Reply] | None:
        key = _key(text)
        if key in (_key(LABEL_MENU), "menu", "danh muc", "chu de", "muc luc"):
            return [self.menu(keyboard=True)]
        if key in (_key(LABEL_HELP), "tro giup", "giup do", "help"):
            return self.help()
        if key in (_key(LABEL_VOICE_ON), "bat giong", "bat doc", "doc to"):
            return self.set_voice(True)
        if key in (_key(LABEL_VOICE_OFF), "tat giong", "tat doc"):
            return self.set_voice(False)
        if key in (_key(LABEL_CONTACT), "lien he", "gap can bo"):
            return self.contact()
        if key in (_key(LABEL_CHECK), "kiem tra quyen loi", "kiem tra"):
            return self.start_checker()
        for cat in self.kb.categories:
            if key == _key(cat.title):
                return self.category(cat.id)
        return None

    def on_number(self, number: int) -> list[Reply]:
        options = self.state.get("options") or []
        if 1 <= number <= len(options) and options[number - 1]:
            return self.on_payload(options[number - 1])
        if options:
            return [
                self.reply(
                    f"Không có lựa chọn số {number}. Bạn hãy gõ một số từ 1 đến "
                    f"{len(options)}, hoặc gõ /menu."
                )
            ]
        return [
            self.reply("Bạn hãy gõ /menu để xem các chủ đề, rồi gõ số của chủ đề muốn xem."),
            self.menu(),
        ]

    # -- payloads (buttons) -----------------------------------------------------------------

    def on_payload(self, payload: str) -> list[Reply]:
        kind, _, value = payload.partition(":")
        if kind == "faq":
            entry = self.kb.entry(value)
            if entry is None:
                return [
                    self.reply("Chủ đề này đã được thay đổi hoặc gỡ bỏ. Bạn xem danh mục mới nhé:"),
                    self.menu(),
                ]
            return self.answer_entry(entry)
        if kind == "cat":
            return self.category(value)
        if kind == "menu":
            return [self.menu()]
        if kind == "voice":
            return self.set_voice(value == "on")
        if kind == "contact":
            return self.contact()
        if kind == "check":
            return self.start_checker()
        if kind == "chk":
            if "checker" not in self.state:
                return [self.reply("Lượt kiểm tra này đã kết thúc. Gõ /check để bắt đầu lại.")]
            return self.on_checker(payload)
        handler = self.engine.extra_payloads.get(kind)
        if handler is not None:
            replies = handler(self.inc, value)
            if replies is not None:
                return replies
        return [
            self.reply("Nút này đã cũ và không còn dùng được. Bạn xem danh mục mới nhé:"),
            self.menu(),
        ]

    # -- the entitlement checker ------------------------------------------------------------

    def start_checker(self) -> list[Reply]:
        state, first = checker.start()
        self.state["checker"] = state.to_dict()
        self.state.pop("options", None)
        return [first]

    def on_checker(self, text_or_payload: str) -> list[Reply]:
        try:
            state = checker.CheckerState.from_dict(self.state["checker"])
        except (KeyError, TypeError, ValueError):
            self.state.pop("checker", None)
            return [self.reply("Lượt kiểm tra này đã hết hạn. Gõ /check để bắt đầu lại.")]
        new_state, replies = checker.handle(
            state, text_or_payload, self.kb.rules, self.today, self.engine.default_region
        )
        if new_state is None:
            self.state.pop("checker", None)
        else:
            self.state["checker"] = new_state.to_dict()
            self.state.pop("options", None)
        return list(replies)

    # -- media ------------------------------------------------------------------------------

    def on_media(self, media: MediaKind) -> list[Reply]:
        if media in (MediaKind.VOICE, MediaKind.AUDIO):
            text = (
                "Xin lỗi, tôi chưa nghe được tin nhắn thoại. Bạn vui lòng gõ câu hỏi. "
                "Bạn cũng có thể bấm biểu tượng micro trên bàn phím điện thoại để nói, "
                "điện thoại sẽ tự chuyển lời nói thành chữ."
            )
            return [self.reply(text, speak=text)]
        if media == MediaKind.DOCUMENT:
            for handler in self.engine.extra_words:
                replies = handler(self.inc, "")
                if replies is not None:
                    return replies
        return [
            self.reply(
                "Tôi chỉ đọc được tin nhắn chữ. Bạn hãy gõ câu hỏi, "
                "hoặc gõ /menu để xem các chủ đề."
            )
        ]

    # -- small talk -------------------------------------------------------------------------

    def small_talk(self, text: str) -> Reply | None:
        """Greetings, thanks, "ok", goodbyes: a short friendly line, not "I don't know"."""
        key = fold_key(text)
        words = [w for w in key.split() if w not in _SOFT_WORDS]
        phrase = " ".join(words)
        for phrases, answer in _SMALL_TALK:
            if phrase in phrases:
                return self.reply(answer)
        if not self.kb.normalizer.tokens(text):  # nothing but polite fillers ("dạ", "ạ")
            return self.reply(_SMALL_TALK[0][1])
        return None

    # -- questions --------------------------------------------------------------------------

    def on_question(self, text: str) -> list[Reply]:
        long_text = len(text) > MAX_QUESTION_CHARS
        decision = self.matcher.decide(text[:MAX_QUESTION_CHARS])
        log.info("question decided: %s score=%.1f", decision.decision, decision.score)
        if self.engine.on_question is not None:
            try:
                event = QuestionEvent(self.inc.user_id, text, decision, self.inc.user_name)
                self.engine.on_question(event)
            except Exception:  # the log must never stop an answer
                log.exception("question log failed")
        if decision.decision == "answer" and decision.id:
            return self.answer_entry(self.kb.entries[decision.id])
        if decision.decision == "suggest":
            return [self.suggest(decision)]
        return [self.decline(long_text)] + (self.hook("decline", self.inc, text) or [])

    def answer_entry(self, entry: Entry, keyboard: bool = False) -> list[Reply]:
        answer = self.kb.answer(entry, self.today)
        parts = [entry.title, answer, self.kb.source_line(entry)]
        related = [self.kb.entries[r] for r in entry.related if r in self.kb.entries][:3]
        buttons = number_buttons([(e.title, f"faq:{e.id}") for e in related])
        if buttons:
            parts.append("Xem thêm (gõ số hoặc bấm nút):\n" + numbered(buttons))
        speak = self.kb.voice(entry, self.today) or answer
        text = "\n\n".join(parts)
        return [self.reply(text, buttons, speak=f"{entry.title}. {speak}", keyboard=keyboard)]

    def suggest(self, decision: Decision) -> Reply:
        items = [
            (self.kb.entries[c.id].title, f"faq:{c.id}")
            for c in decision.candidates
            if c.id in self.kb.entries and c.score >= self.matcher.thresholds.suggest
        ]
        items = items[: self.matcher.thresholds.max_suggestions]
        items.append(("Không có chủ đề tôi cần", "contact:"))
        buttons = number_buttons(items)
        text = (
            "Tôi chưa chắc bạn hỏi về điều nào. Bạn chọn một chủ đề "
            "(gõ số hoặc bấm nút):\n" + numbered(buttons)
        )
        return self.reply(text, buttons)

    def decline(self, long_text: bool) -> Reply:
        buttons = number_buttons([(LABEL_MENU, "menu:"), (LABEL_CONTACT, "contact:")])
        tip = (
            "Câu hỏi khá dài; bạn thử hỏi ngắn gọn, mỗi lần một ý. "
            if long_text
            else 'Bạn có thể hỏi lại bằng cách khác, ví dụ: "trợ cấp cho người khuyết tật nặng". '
        )
        text = (
            "Xin lỗi, tôi chưa có thông tin về câu hỏi này. "
            + tip
            + "Bạn cũng có thể:\n"
            + numbered(buttons)
        )
        return self.reply(text, buttons)


_SOFT_WORDS = {
    "a",
    "nhe",
    "nha",
    "nhieu",
    "ban",
    "bot",
    "em",
    "anh",
    "chi",
    "ad",
    "admin",
    "oi",
}
_SMALL_TALK: tuple[tuple[frozenset[str], str], ...] = (
    (
        frozenset({"xin chao", "chao", "hello", "hi", "alo", "chao buoi sang", "chao buoi toi"}),
        "Xin chào! Bạn cứ gõ câu hỏi về chính sách cho người khuyết tật, "
        "hoặc gõ /menu để xem các chủ đề.",
    ),
    (
        frozenset({"cam on", "cam on rat", "thank", "thanks", "thank you", "ok cam on"}),
        "Không có gì ạ. Khi cần, bạn cứ hỏi tiếp nhé.",
    ),
    (
        frozenset(
            {"ok", "oke", "okay", "vang", "da", "u", "uh", "duoc", "roi", "da hieu", "hieu roi"}
        ),
        "Vâng. Bạn cần hỏi thêm điều gì cứ gõ câu hỏi, hoặc gõ /menu.",
    ),
    (
        frozenset({"tam biet", "bye", "tam biet nhe"}),
        "Tạm biệt bạn. Chúc bạn và gia đình nhiều sức khỏe!",
    ),
)


_key = fold_key


def _voice_arg(arg: str, current: bool) -> bool:
    key = _key(arg)
    if key in ("on", "bat", "1", "yes", "co"):
        return True
    if key in ("off", "tat", "0", "no", "khong"):
        return False
    return not current
