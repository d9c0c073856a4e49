"""The Telegram channel end to end: the real python-telegram-bot stack over HTTP, the stand-in.

Each test reads as an exchange: a user does something (types, presses a button, sends a
sticker), the bot answers. The bot under test is the real composition (`build_app` +
`build_application`) pointed at the Bot API stand-in with `TELEGRAM_API_URL`; nothing in the
adapter or the engine is mocked. One bot runs for the whole module (start-up costs about half a
second) and every test talks to it as a new user; tests that need their own bot (restarts,
logs from start-up) start one with `running_bot`. The harness is shared with
tests/test_telegram_voice.py and benchmarks/bench_telegram.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from telegram.ext import Application, BaseRateLimiter

from bot.adapters import telegram as tg
from bot.app import App, build_app
from bot.config import load_settings
from bot.core.dialogue import COMMANDS, LABEL_CONTACT, LABEL_VOICE_ON
from bot.core.messages import Incoming, Reply
from tests.standin import BotApiStandin, Call

pytestmark = pytest.mark.asyncio(loop_scope="module")

USER = 4242
SEND = ("sendMessage", "sendVoice", "sendDocument")
EXAMPLE_QUESTIONS = (
    "trợ cấp cho người khuyết tật đặc biệt nặng",
    "trợ cấp hằng tháng",
    "xe buýt miễn phí",
    "học phí",
    "thẻ bảo hiểm y tế",
)
_ENV_CLEARED = ("BOT_ADMIN_IDS", "BOT_KNOWLEDGE_DIR", "BOT_CONFIG")
_new_users = itertools.count(50_001)


# -- the harness ------------------------------------------------------------------------------


def failing_gtts(text: str) -> bytes:
    """A gTTS factory that fails like Google does when it rate-limits (HTTP 429)."""
    raise RuntimeError("429 (Too Many Requests) from TTS API")


def offline_speech(
    app: App,
    gtts_factory: Callable[[str], bytes] = failing_gtts,
    cache_dir: Path | None = None,
    index: Any = None,
) -> Any:
    """Give `app` the production engine chain with a gTTS whose network call is replaced.

    `cache_dir` / `index` default to the app's own (BOT_DATA_DIR/voice-cache, the SQLite store).
    """
    from bot.speech import EspeakEngine, FallbackSynthesizer, GTTSEngine, SpeechService

    engines = [GTTSEngine(timeout=2.0, tts_factory=gtts_factory), EspeakEngine()]
    synth = FallbackSynthesizer(engines, cooldown_s=app.settings.gtts_cooldown_seconds)
    cache = cache_dir or app.settings.data_dir / "voice-cache"
    app._speech = SpeechService(cache, app.store if index is None else index, synth)
    return app._speech


@dataclass
class RunningBot:
    """A started bot (the App, the PTB Application, the stand-in it talks to) and one user."""

    standin: BotApiStandin
    app: App
    application: Application
    user: int = USER

    def as_new_user(self) -> RunningBot:
        return dataclasses.replace(self, user=next(_new_users))

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every queued update was fetched and fully handled (replies sent)."""
        deadline = time.monotonic() + timeout
        while self.standin.pending_updates():
            if time.monotonic() > deadline:
                raise AssertionError("the bot did not fetch its updates")
            await asyncio.sleep(0.002)
        remaining = max(0.1, deadline - time.monotonic())
        await asyncio.wait_for(self.application.update_queue.join(), remaining)

    async def act(self, inject: Callable[[], object]) -> list[Call]:
        """Run `inject` (e.g. a stand-in send_* call), wait, return what was sent to the user."""
        mark = self.standin.mark()
        inject()
        await self.settle()
        return sends(self.standin, self.user, mark)

    async def say(self, text: str) -> list[Call]:
        return await self.act(lambda: self.standin.send_text(self.user, text))

    async def press(self, data: str, message_id: int | None = None) -> list[Call]:
        return await self.act(lambda: self.standin.press_button(self.user, data, message_id))


def sends(standin: BotApiStandin, chat: int, after: int = 0) -> list[Call]:
    """Successful sendMessage / sendVoice / sendDocument calls to `chat` after index `after`."""
    return [
        c
        for c in standin.calls[after:]
        if c.method in SEND and c.status == 200 and str(c.params.get("chat_id")) == str(chat)
    ]


def texts(calls: list[Call]) -> list[str]:
    return [str(c.params["text"]) for c in calls if c.method == "sendMessage"]


def inline_buttons(call: Call) -> list[tuple[str, str]]:
    """(label, callback_data) of the inline keyboard on a sent message."""
    markup = call.params.get("reply_markup") or {}
    return [
        (b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row
    ]


def keyboard_labels(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [
        b["text"] if isinstance(b, dict) else b for row in markup.get("keyboard", []) for b in row
    ]


@contextlib.asynccontextmanager
async def running_bot(
    standin: BotApiStandin,
    *,
    speech: str = "offline",
    rate_limiter: BaseRateLimiter | None = None,
    configure: Callable[[App], None] | None = None,
) -> AsyncIterator[RunningBot]:
    """Build the app from the environment, start polling the stand-in, stop cleanly.

    The environment must hold BOT_DATA_DIR, TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL (see
    `bot_environment`). `speech="offline"` swaps in a failing gTTS (deterministic, no network);
    `speech="default"` keeps the configured engines.
    """
    app = build_app(load_settings())
    try:
        if speech == "offline":
            offline_speech(app)
        if configure is not None:
            configure(app)
        application = tg.build_application(app, rate_limiter=rate_limiter)
        async with application:
            await application.start()
            await tg.post_init(application)  # what run_polling's post_init does
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                yield RunningBot(standin, app, application)
            finally:
                await application.updater.stop()
                await tg.stop_background(application)
                await application.stop()
    finally:
        app.close()


def point_env_at(monkeypatch: pytest.MonkeyPatch, standin: BotApiStandin) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", standin.token)
    monkeypatch.setenv("TELEGRAM_API_URL", standin.url)


@contextlib.contextmanager
def bot_environment(data_dir: Path, standin: BotApiStandin) -> Iterator[Path]:
    """The environment of a bot pointed at `standin`, keeping its state in `data_dir`."""
    with pytest.MonkeyPatch.context() as mp:
        for name in _ENV_CLEARED:
            mp.delenv(name, raising=False)
        mp.setenv("BOT_DATA_DIR", str(data_dir))
        point_env_at(mp, standin)
        yield data_dir


@pytest.fixture
def standin() -> Iterator[BotApiStandin]:
    with BotApiStandin() as server:
        yield server


@pytest.fixture
def bot_env(env: dict[str, str], standin: BotApiStandin, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment of a bot of its own, pointed at `standin`; returns BOT_DATA_DIR."""
    point_env_at(monkeypatch, standin)
    return Path(env["BOT_DATA_DIR"])


@pytest.fixture(scope="module")
def shared_standin() -> Iterator[BotApiStandin]:
    with BotApiStandin() as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_bot(
    shared_standin: BotApiStandin, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningBot]:
    with bot_environment(tmp_path_factory.mktemp("bot-data"), shared_standin):
        async with running_bot(shared_standin) as running:
            yield running


@pytest.fixture
def bot(shared_bot: RunningBot) -> RunningBot:
    """The module's running bot, talking to a user it has never seen."""
    return shared_bot.as_new_user()


def question_with(app: App, decision: str) -> tuple[str, Any]:
    """A question the current knowledge gets `decision` for ("answer" / "suggest").

    Each candidate is checked twice: the matcher's decision, and a dry run of the engine for a
    scratch user (so a phrase the engine routes elsewhere, e.g. a menu word, is skipped).
    """
    kb = app.knowledge.kb
    entries = list(kb.entries.values())
    pool = list(EXAMPLE_QUESTIONS)
    if decision == "suggest":  # vague: a few words shared by several topics
        pool += [" ".join(e.title.split()[:n]) for n in (2, 3, 1) for e in entries]
    pool += [q for e in entries for q in (e.title, *e.questions)]
    for question in pool:
        decided = app.knowledge.matcher.decide(question)
        if decided.decision == decision and _engine_agrees(app, question, decided):
            return question, decided
    raise AssertionError(f"no question in the knowledge base gets {decision!r}")


def _engine_agrees(app: App, question: str, decided: Any) -> bool:
    scratch = 1
    try:
        replies = app.engine.handle(Incoming(scratch, scratch, text=question))
    finally:
        app.store.forget(scratch)
    if len(replies) != 1:
        return False
    if decided.decision == "answer":
        return replies[0].text.startswith(app.knowledge.kb.entries[decided.id].title)
    offered = {b.payload for b in replies[0].buttons}
    return any(f"faq:{c.id}" in offered for c in decided.candidates)


# -- commands and menus -----------------------------------------------------------------------


async def test_start_greets_with_the_keyboard_and_the_menu(bot: RunningBot) -> None:
    replies = await bot.say("/start")

    welcome, menu = texts(replies)
    assert welcome.startswith("Xin chào")
    assert "/voice" in welcome
    labels = keyboard_labels(replies[0])
    assert LABEL_VOICE_ON in labels and LABEL_CONTACT in labels
    assert replies[0].params["reply_markup"]["is_persistent"] is True
    categories = [c.title for c in bot.app.knowledge.kb.categories if c.entry_ids]
    assert [label for label, _ in inline_buttons(replies[1])] == [
        f"{n}. {title}" for n, title in enumerate(categories, start=1)
    ]
    assert f"1. {categories[0]}" in menu
    assert all("parse_mode" not in c.params for c in replies)

    registered = next(iter(bot.standin.commands.values()))
    descriptions = {c["command"]: c["description"] for c in registered}
    assert descriptions == dict(bot.app.engine.commands())
    assert dict(COMMANDS).items() <= descriptions.items()
    assert {"start", "voice", "check", "contact", "forget", "help", "menu"} <= descriptions.keys()
    assert "giọng đọc" in descriptions["voice"] and "Xóa" in descriptions["forget"]


async def test_a_question_is_answered_in_plain_text_with_its_source(bot: RunningBot) -> None:
    question, decided = question_with(bot.app, "answer")
    entry = bot.app.knowledge.kb.entries[decided.id]

    replies = await bot.say(question)

    [answer] = texts(replies)
    assert answer.startswith(entry.title)
    source = answer.split("\n\n")[2] if len(answer.split("\n\n")) > 2 else answer
    assert "Nguồn:" in answer and "Cập nhật:" in answer, source
    assert entry.reviewed.strftime("%d/%m/%Y") in answer
    assert all("parse_mode" not in c.params for c in replies)
    assert [c.method for c in replies] == ["sendMessage"]  # voice is off by default


async def test_deep_link_opens_the_topic_and_still_gives_the_keyboard(bot: RunningBot) -> None:
    entry = next(e for e in bot.app.knowledge.kb.entries.values() if e.related)

    replies = await bot.say(f"/start {entry.id}")

    assert texts(replies)[0].startswith(entry.title)
    markups = [c.params.get("reply_markup") or {} for c in replies]
    assert any("keyboard" in m for m in markups), "the reply keyboard reaches the new user"
    assert any("inline_keyboard" in m for m in markups), "related topics stay as buttons"
    assert "Nguồn:" in "\n".join(texts(replies))


async def test_suggest_offers_buttons_and_numbers_and_both_pick(bot: RunningBot) -> None:
    question, decided = question_with(bot.app, "suggest")
    kb = bot.app.knowledge.kb

    [offer] = await bot.say(question)

    buttons = inline_buttons(offer)
    topics = [(label, data) for label, data in buttons if data.startswith("faq:")]
    assert topics, buttons
    for number, (label, _) in enumerate(buttons, start=1):
        assert label.startswith(f"{number}. ")
        assert label in offer.params["text"]  # the numbered list repeats every button
    first_id = topics[0][1].removeprefix("faq:")

    picked = await bot.press(topics[0][1], message_id=offer.result["message_id"])
    assert texts(picked)[0].startswith(kb.entries[first_id].title)
    assert bot.standin.unanswered_callbacks() == []

    await bot.say(question)
    typed = await bot.say("1")
    assert texts(typed)[0].startswith(kb.entries[first_id].title)


async def test_a_keyboard_category_lists_topics_and_a_number_opens_one(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = bot.app.knowledge.kb
    category = next(c for c in kb.categories if len(c.entry_ids) >= 2)
    decide_calls: list[str] = []
    real_decide = bot.app.knowledge.matcher.decide

    def spy(question: str) -> Any:
        decide_calls.append(question)
        return real_decide(question)

    monkeypatch.setattr(bot.app.knowledge.matcher, "decide", spy)

    [listing] = await bot.say(category.title)
    second = kb.entries[category.entry_ids[1]]
    assert f"2. {second.title}" in listing.params["text"]
    assert len(inline_buttons(listing)) == len(category.entry_ids)

    [answer] = await bot.say("2")
    assert answer.params["text"].startswith(second.title)

    await bot.say(LABEL_VOICE_ON)
    await bot.say("Danh mục chủ đề")
    assert decide_calls == [], "button texts and numbers never reach the matcher"


async def test_other_kinds_of_messages_get_one_polite_answer(bot: RunningBot) -> None:
    standin = bot.standin
    for kind, inject in (
        ("sticker", lambda: standin.send_sticker(bot.user)),
        ("photo", lambda: standin.send_photo(bot.user, caption="ảnh giấy tờ")),
        ("voice", lambda: standin.send_voice(bot.user)),
        ("document", lambda: standin.send_document(bot.user, "don.pdf", b"%PDF-1.4")),
        ("location", lambda: standin.send_location(bot.user)),
    ):
        replies = await bot.act(inject)
        assert len(replies) == 1, (kind, texts(replies))
        text = texts(replies)[0]
        assert text.startswith("Xin lỗi") or "gõ câu hỏi" in text, (kind, text)
        assert "sự cố" not in text, kind


async def test_buttons_are_always_answered_and_old_ones_say_they_expired(bot: RunningBot) -> None:
    unknown = await bot.press("zz:from-an-old-version")
    removed = await bot.press("faq:chu-de-da-go-bo")
    removed_category = await bot.press("cat:muc-da-go-bo")

    for replies in (unknown, removed, removed_category):
        notice, menu = texts(replies)
        assert any(w in notice for w in ("cũ", "gỡ bỏ", "không còn")), notice
        assert menu.startswith("Danh mục các chủ đề") or menu.startswith("1. ")
        assert inline_buttons(replies[1])
    assert bot.standin.unanswered_callbacks() == []


async def test_forget_confirms_and_voice_is_off_afterwards(bot: RunningBot) -> None:
    await bot.say("/voice on")
    assert bot.app.store.settings(bot.user).voice is True

    [confirmation] = await bot.say("/forget")
    assert "đã xóa" in confirmation.params["text"]
    assert bot.app.store.settings(bot.user).voice is False
    question, _ = question_with(bot.app, "answer")
    assert [c.method for c in await bot.say(question)] == ["sendMessage"]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own
async def test_a_flood_wait_is_waited_out_and_the_answer_still_arrives(bot: RunningBot) -> None:
    question, _ = question_with(bot.app, "answer")
    bot.standin.fail_next("sendMessage", status=429, retry_after=1)

    replies = await bot.say(question)

    assert len(texts(replies)) == 1
    attempts = [
        c for c in bot.standin.calls_of("sendMessage") if c.params.get("chat_id") == bot.user
    ]
    assert [c.status for c in attempts[-2:]] == [429, 200]
    assert attempts[-1].time - attempts[-2].time >= 1.0


async def test_an_engine_failure_gets_one_polite_sentence(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(incoming: object) -> list[Reply]:
        raise RuntimeError("engine broke")

    monkeypatch.setattr(bot.app.engine, "handle", broken)
    replies = await bot.say("trợ cấp")

    assert texts(replies) == [tg.ERROR_TEXT]
    assert tg.ERROR_TEXT.count(".") == 1  # one sentence
    assert "RuntimeError" in caplog.text
    monkeypatch.undo()
    question, _ = question_with(bot.app, "answer")
    assert "Nguồn:" in texts(await bot.say(question))[0], "the bot goes on after a failure"


async def test_the_token_and_message_text_stay_out_of_the_logs(
    bot_env: Path,
    standin: BotApiStandin,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    logging.getLogger("httpx").setLevel(logging.NOTSET)  # as in a fresh process
    caplog.set_level(logging.INFO)
    secret_question = "Con tôi tên Nguyễn Văn Bí Mật được hưởng trợ cấp gì"
    async with running_bot(standin) as running:
        await running.say("/start")
        answer = texts(await running.say(secret_question))[0]
        await running.say("/voice on")
        await running.say(secret_question)
        await running.press("faq:khong-co")

    out, err = capsys.readouterr()
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records, "the bot logs something at INFO"
    for where in (logged, out, err):
        assert standin.token not in where
        assert standin.token.split(":")[1] not in where
        assert "Bí Mật" not in where
        assert answer.splitlines()[0] not in where


async def test_a_long_reply_is_split_at_paragraphs(bot: RunningBot) -> None:
    paragraphs = [f"Đoạn {i}: " + "quyền lợi của người khuyết tật " * 8 for i in range(20)]
    long_text = "\n\n".join(p.strip() for p in paragraphs)
    assert len(long_text) > 5000
    reply = Reply(long_text, buttons=(), keyboard=None)
    mark = bot.standin.mark()

    ids = await tg.send_replies(bot.application.bot, bot.app, bot.user, [reply])

    chunks = texts(sends(bot.standin, bot.user, mark))
    assert len(ids) == len(chunks) >= 2
    assert all(len(c) < 4096 for c in chunks)
    assert "\n\n".join(chunks) == long_text  # nothing lost, cut only between paragraphs
    assert all(c.startswith("Đoạn ") for c in chunks)


async def test_chunks_count_emoji_as_telegram_does() -> None:
    text = "\n\n".join(["🙂" * 1500] * 3)  # 4,500 characters but 9,000 UTF-16 units
    chunks = tg.message_chunks(text)
    assert all(len(c.encode("utf-16-le")) // 2 <= 4096 for c in chunks)
    assert "".join(chunks).count("🙂") == 4500


async def test_many_users_at_once_are_all_answered(bot: RunningBot) -> None:
    kb = bot.app.knowledge.kb
    questions = [q for e in kb.entries.values() for q in e.questions][:20]
    users = [bot.as_new_user().user for _ in range(20)]
    mark = bot.standin.mark()
    started = time.perf_counter()

    for i, user in enumerate(users):
        bot.standin.send_text(user, questions[i % len(questions)])
        bot.standin.send_text(user, questions[(i + 7) % len(questions)])
    await bot.settle(timeout=20)
    elapsed = time.perf_counter() - started

    for user in users:
        assert len(texts(sends(bot.standin, user, mark))) == 2
    assert elapsed < 5.0, f"40 answers took {elapsed:.2f} s"
