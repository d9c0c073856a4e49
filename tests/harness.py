"""The harness for tests that drive the real python-telegram-bot stack against tests/standin.py.

It owns starting and stopping a bot (`running_bot`: `build_app` + `build_application`, polling
the stand-in), talking to it as a Telegram user (`RunningBot.say` / `press` / `act`, which wait
until the bot has handled the update and return what it sent), reading what was sent (`sends`,
`texts`, `inline_buttons`, `keyboard_labels`), the environment that points a bot at a stand-in
(`point_env_at`, `bot_environment`), a deterministic speech chain (`offline_speech` with
`failing_gtts`) and picking questions from the real knowledge (`question_with`,
`entry_of_length`). Used by the Telegram tests and benchmarks/bench_telegram.py; not a test file.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pytest
from telegram.ext import Application, BaseRateLimiter

from bot.adapters import telegram as tg
from bot.app import App, build_app
from bot.config import load_settings
from bot.core.knowledge import Entry
from bot.core.messages import Incoming
from tests.standin import BotApiStandin, Call

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


@dataclass(frozen=True)
class RunningBot:
    """A started bot (the App, the PTB Application, the stand-in it talks to) and one user.

    `say`, `press` and `act` speak as `user` unless given another user id, and return what the
    bot sent to that user's chat.
    """

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

    async def act(self, inject: Callable[[], object], user: int | None = None) -> list[Call]:
        """Run `inject` (e.g. a stand-in send_* call), wait, return what was sent to `user`."""
        chat = self.user if user is None else user
        mark = self.standin.mark()
        inject()
        await self.settle()
        return sends(self.standin, chat, mark)

    async def say(self, text: str, user: int | None = None) -> list[Call]:
        who = self.user if user is None else user
        return await self.act(lambda: self.standin.send_text(who, text), who)

    async def press(
        self, data: str, user: int | None = None, message_id: int | None = None
    ) -> list[Call]:
        who = self.user if user is None else user
        return await self.act(lambda: self.standin.press_button(who, data, message_id), who)


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
    speech: Literal["offline", "default"] = "offline",
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


def entry_of_length(app: App, chars: int) -> tuple[str, Entry]:
    """A question answered directly whose spoken text is the nearest to `chars` long."""
    kb = app.knowledge.kb
    best: tuple[int, str, Entry] | None = None
    for entry in kb.entries.values():
        spoken = f"{entry.title}. {kb.voice(entry, date.today()) or kb.answer(entry)}"
        for question in (entry.title, *entry.questions):
            decided = app.knowledge.matcher.decide(question)
            if decided.decision == "answer" and decided.id == entry.id:
                distance = abs(len(spoken) - chars)
                if best is None or distance < best[0]:
                    best = (distance, question, entry)
                break
    assert best is not None
    return best[1], best[2]
