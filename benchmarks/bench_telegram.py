"""Telegram channel benchmark: answers per second under a burst, and voice note latency.

Runs the real bot (build_app + the PTB Application) against the Bot API stand-in on 127.0.0.1,
both in this process, and prints a table:
1. 300 questions from 100 users sent at once: all answered? answers per second, and the time
   from a question to its answer (p50 / p95). Measured with the production rate limiter
   (Telegram's flood limit: 30 messages a second overall) and with that limit lifted, which
   shows what the adapter and the engine could do; and once with voice on for every user.
2. With voice on, the time from the question to the `sendVoice` call for a ~600-character
   answer: the first time (synthesised by the offline eSpeak NG voice, gTTS failing first) and
   cached (sent by file_id). Targets: 1.5 s and 0.2 s.
Not part of `make test`: `python benchmarks/bench_telegram.py`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram.ext import AIORateLimiter  # noqa: E402

from tests.standin import BotApiStandin  # noqa: E402
from tests.test_telegram import running_bot  # noqa: E402
from tests.test_telegram_voice import entry_of_length  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "dev.yaml"
USERS = 100
PER_USER = 3
FIRST_VOICE_TARGET_S = 1.5
CACHED_VOICE_TARGET_S = 0.2


def _questions(app) -> list[str]:
    questions: list[str] = []
    if DEV.exists():
        data = yaml.safe_load(DEV.read_text(encoding="utf-8")) or {}
        questions = [q for v in data.values() for q in (v or []) if isinstance(q, str)]
    if len(questions) < 50:
        questions += [q for e in app.knowledge.kb.entries.values() for q in e.questions]
    return questions


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


async def _burst(standin: BotApiStandin, label: str, limiter, voice: bool) -> list[str]:
    async with running_bot(standin, rate_limiter=limiter) as bot:
        questions = _questions(bot.app)
        users = [700_000 + i for i in range(USERS)]
        if voice:
            for user in users:
                bot.app.store.set_voice(user, True)
        mark = standin.mark()
        sent_at: dict[int, list[float]] = defaultdict(list)
        started = time.monotonic()
        for round_ in range(PER_USER):
            for i, user in enumerate(users):
                sent_at[user].append(time.monotonic())
                standin.send_text(user, questions[(i * PER_USER + round_) % len(questions)])
        await bot.settle(timeout=120)
        elapsed = time.monotonic() - started
        calls = [c for c in standin.calls[mark:] if c.status == 200]
    replies: dict[int, list[float]] = defaultdict(list)
    voices = 0
    for c in calls:
        if c.method == "sendMessage":
            replies[int(c.params["chat_id"])].append(c.time)
        voices += c.method == "sendVoice"
    answered = sum(min(len(replies[u]), PER_USER) for u in users)
    latencies = [
        replies[u][k] - sent_at[u][k]
        for u in users
        if len(replies[u]) == PER_USER
        for k in range(PER_USER)
    ]
    total = USERS * PER_USER
    row = [
        label,
        f"{answered}/{total}",
        f"{elapsed:.2f} s",
        f"{answered / elapsed:.0f}/s",
        f"{_pct(latencies, 0.5):.2f} s" if latencies else "-",
        f"{_pct(latencies, 0.95):.2f} s" if latencies else "-",
        str(voices) if voice else "-",
    ]
    return row


async def _voice_latency(standin: BotApiStandin) -> list[list[str]]:
    rows: list[list[str]] = []
    async with running_bot(standin) as bot:
        kb = bot.app.knowledge.kb
        question, entry = entry_of_length(bot.app, 600)
        spoken = bot.app.speech().speech_text(
            f"{entry.title}. {kb.voice(entry) or kb.answer(entry)}"
        )
        user = 900_001
        bot.app.store.set_voice(user, True)  # no voice note before the first measured one

        async def time_to_voice() -> tuple[float, bool]:
            mark = standin.mark()
            started = time.monotonic()
            standin.send_text(user, question)
            call = await standin.wait_for_async(
                lambda c: c.method == "sendVoice" and c.status == 200, timeout=30, after_index=mark
            )
            await bot.settle()
            return call.time - started, "voice" in call.files

        first, uploaded = await time_to_voice()
        cached = [await time_to_voice() for _ in range(5)]
        assert uploaded and not any(up for _, up in cached)
        rows.append(
            [
                f"first voice note, {len(spoken)} chars (espeak, cold)",
                f"{first:.3f} s",
                f"< {FIRST_VOICE_TARGET_S} s",
                "ok" if first < FIRST_VOICE_TARGET_S else "MISSED",
            ]
        )
        worst = max(t for t, _ in cached)
        rows.append(
            [
                "cached voice note (file_id), worst of 5",
                f"{worst:.3f} s",
                f"< {CACHED_VOICE_TARGET_S} s",
                "ok" if worst < CACHED_VOICE_TARGET_S else "MISSED",
            ]
        )
        # Warm engine, new texts: other answers of similar length, each synthesised once.
        warm: list[float] = []
        for other in sorted(
            (e for e in kb.entries.values() if e.id != entry.id),
            key=lambda e: abs(len(kb.voice(e) or kb.answer(e)) - 600),
        )[:5]:
            mark = standin.mark()
            started = time.monotonic()
            standin.press_button(user, f"faq:{other.id}")
            call = await standin.wait_for_async(
                lambda c: c.method == "sendVoice" and c.status == 200, timeout=30, after_index=mark
            )
            await bot.settle()
            warm.append(call.time - started)
        rows.append(
            [
                "first voice note, ~600 chars (espeak, warm), median / worst of 5",
                f"{statistics.median(warm):.3f} / {max(warm):.3f} s",
                f"< {FIRST_VOICE_TARGET_S} s",
                "ok" if max(warm) < FIRST_VOICE_TARGET_S else "MISSED",
            ]
        )
    return rows


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bot.speech").setLevel(logging.ERROR)  # gTTS fails here on purpose
    with tempfile.TemporaryDirectory() as tmp, BotApiStandin() as standin:
        os.environ["TELEGRAM_BOT_TOKEN"] = standin.token
        os.environ["TELEGRAM_API_URL"] = standin.url
        os.environ.pop("BOT_CONFIG", None)

        def fresh_data(name: str) -> None:
            os.environ["BOT_DATA_DIR"] = str(Path(tmp) / name)

        fresh_data("voice")
        voice_rows = await _voice_latency(standin)
        burst_rows = []
        for label, limiter, voice in (
            ("production limiter (30 msg/s)", None, False),
            ("flood limit lifted", AIORateLimiter(overall_max_rate=0, max_retries=3), False),
            (
                "flood limit lifted, voice on",
                AIORateLimiter(overall_max_rate=0, max_retries=3),
                True,
            ),
        ):
            fresh_data(label.replace(" ", "-").replace("/", "").replace(",", "").replace("(", ""))
            burst_rows.append(await _burst(standin, label, limiter, voice))

    print(
        f"\n{USERS * PER_USER} questions from {USERS} users sent at once ({os.cpu_count()} cores)"
    )
    print(
        _table(
            ["run", "answered", "wall", "answers/s", "p50", "p95", "voice notes"],
            burst_rows,
        )
    )
    print("\nVoice note latency: question sent -> sendVoice at the Bot API")
    print(_table(["case", "measured", "target", ""], voice_rows))


if __name__ == "__main__":
    asyncio.run(main())
