"""Telegram channel benchmark: answers per second under a burst, and voice note latency.

Runs the real bot (build_app + the PTB Application) in this process against the Bot API
stand-in on 127.0.0.1, served from a child process (as Telegram would be: the stand-in's own
work does not compete with the bot for this interpreter), and prints a table:
1. 300 questions from 100 users sent at once: all answered? answers per second, and the time
   from a question to its answer (p50 / p95). Measured with the production rate limiter
   (Telegram's flood limit: 30 messages a second overall) and with that limit lifted, which
   shows what the adapter and the engine could do; and once with voice on for every user.
   With voice on, twice: the voice cache cold, then warm (notes synthesised and uploaded once).
2. With voice on, the time from the question to the `sendVoice` call for a ~600-character
   answer: the first time (synthesised by the offline eSpeak NG voice, gTTS failing first) and
   cached (sent by file_id). Targets: 1.5 s and 0.2 s. `Call.time` is CLOCK_MONOTONIC, which
   is the same clock in both processes.
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
from multiprocessing.managers import BaseManager
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram.ext import AIORateLimiter  # noqa: E402

from tests.harness import entry_of_length, running_bot  # noqa: E402
from tests.standin import BotApiStandin, Call  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "dev.yaml"
USERS = 100
PER_USER = 3
FIRST_VOICE_TARGET_S = 1.5
CACHED_VOICE_TARGET_S = 0.2


class ServedStandin(BotApiStandin):
    """The stand-in with what a proxy from another process needs (methods, no properties)."""

    def serve(self) -> tuple[str, str]:
        """Start serving; returns (url, token)."""
        self.start()
        return self.url, self.token

    def calls_since(self, index: int) -> list[Call]:
        with self._cond:
            return self._calls[index:]


class _Manager(BaseManager):
    pass


_Manager.register(
    "Standin",
    ServedStandin,
    exposed=("serve", "stop", "calls_since", "mark", "pending_updates")
    + ("send_text", "press_button"),
)


def _questions(app: Any) -> list[str]:
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


async def _burst(bot: Any, standin: Any, label: str, voice: bool, first_user: int) -> list[str]:
    questions = _questions(bot.app)
    users = [first_user + i for i in range(USERS)]
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
    await bot.settle(timeout=300)
    elapsed = time.monotonic() - started
    calls = [c for c in standin.calls_since(mark) if c.status == 200]
    replies: dict[int, list[float]] = defaultdict(list)
    uploads = by_id = 0
    for c in calls:
        if c.method == "sendMessage":
            replies[int(c.params["chat_id"])].append(c.time)
        elif c.method == "sendVoice":
            uploads += "voice" in c.files
            by_id += "voice" not in c.files
    answered = sum(min(len(replies[u]), PER_USER) for u in users)
    latencies = [
        replies[u][k] - sent_at[u][k]
        for u in users
        if len(replies[u]) == PER_USER
        for k in range(PER_USER)
    ]
    return [
        label,
        f"{answered}/{USERS * PER_USER}",
        f"{elapsed:.2f} s",
        f"{answered / elapsed:.0f}/s",
        f"{_pct(latencies, 0.5):.2f} s" if latencies else "-",
        f"{_pct(latencies, 0.95):.2f} s" if latencies else "-",
        f"{uploads} + {by_id}" if voice else "-",
    ]


async def _voice_note_after(bot: Any, standin: Any, send: Any) -> Call:
    mark = standin.mark()
    send()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [
            c for c in standin.calls_since(mark) if c.method == "sendVoice" and c.status == 200
        ]
        if found:
            await bot.settle()
            return found[0]
        await asyncio.sleep(0.005)
    raise AssertionError("no voice note within 30 s")


async def _voice_latency(bot: Any, standin: Any) -> list[list[str]]:
    kb = bot.app.knowledge.kb
    question, entry = entry_of_length(bot.app, 600)
    spoken = bot.app.speech().speech_text(f"{entry.title}. {kb.voice(entry) or kb.answer(entry)}")
    user = 900_001
    bot.app.store.set_voice(user, True)  # no voice note before the first measured one

    async def time_to_voice() -> tuple[float, bool]:
        started = time.monotonic()
        call = await _voice_note_after(bot, standin, lambda: standin.send_text(user, question))
        return call.time - started, "voice" in call.files

    first, uploaded = await time_to_voice()
    cached = [await time_to_voice() for _ in range(5)]
    assert uploaded and not any(up for _, up in cached)
    warm: list[float] = []  # other answers of similar length, each synthesised once
    others = sorted(
        (e for e in kb.entries.values() if e.id != entry.id),
        key=lambda e: abs(len(kb.voice(e) or kb.answer(e)) - 600),
    )[:5]
    for other in others:
        started = time.monotonic()
        call = await _voice_note_after(
            bot, standin, lambda o=other: standin.press_button(user, f"faq:{o.id}")
        )
        warm.append(call.time - started)
    worst_cached = max(t for t, _ in cached)
    return [
        [
            f"first voice note, {len(spoken)} chars (espeak, cold process)",
            f"{first:.3f} s",
            f"< {FIRST_VOICE_TARGET_S} s",
            "ok" if first < FIRST_VOICE_TARGET_S else "MISSED",
        ],
        [
            "first voice note, ~600 chars (espeak warm), median / worst of 5",
            f"{statistics.median(warm):.3f} / {max(warm):.3f} s",
            f"< {FIRST_VOICE_TARGET_S} s",
            "ok" if max(warm) < FIRST_VOICE_TARGET_S else "MISSED",
        ],
        [
            "cached voice note (file_id), median / worst of 5",
            f"{statistics.median(t for t, _ in cached):.3f} / {worst_cached:.3f} s",
            f"< {CACHED_VOICE_TARGET_S} s",
            "ok" if worst_cached < CACHED_VOICE_TARGET_S else "MISSED",
        ],
    ]


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


async def _run(standin: Any, tmp: Path) -> tuple[list[list[str]], list[list[str]]]:
    url, token = standin.serve()
    os.environ.update(TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=url)
    for name in ("BOT_CONFIG", "BOT_KNOWLEDGE_DIR", "BOT_ADMIN_IDS"):
        os.environ.pop(name, None)
    lifted = AIORateLimiter(overall_max_rate=0, max_retries=3)

    os.environ["BOT_DATA_DIR"] = str(tmp / "voice")
    async with running_bot(standin) as bot:
        voice_rows = await _voice_latency(bot, standin)

    burst_rows = []
    os.environ["BOT_DATA_DIR"] = str(tmp / "limited")
    async with running_bot(standin) as bot:
        burst_rows.append(await _burst(bot, standin, "production limiter (30 msg/s)", False, 1))
    os.environ["BOT_DATA_DIR"] = str(tmp / "lifted")
    async with running_bot(standin, rate_limiter=lifted) as bot:
        burst_rows.append(await _burst(bot, standin, "flood limit lifted", False, 10_001))
        burst_rows.append(await _burst(bot, standin, "lifted, voice on, cache cold", True, 20_001))
        burst_rows.append(await _burst(bot, standin, "lifted, voice on, cache warm", True, 30_001))
    return burst_rows, voice_rows


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bot.speech").setLevel(logging.ERROR)  # gTTS fails here on purpose
    manager = _Manager()
    manager.start()
    standin = manager.Standin()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            burst_rows, voice_rows = asyncio.run(_run(standin, Path(tmp)))
    finally:
        standin.stop()
        manager.shutdown()

    print(
        f"\n{USERS * PER_USER} questions from {USERS} users sent at once ({os.cpu_count()} cores)"
    )
    header = ["run", "answered", "wall", "answers/s", "p50", "p95", "voice upload + file_id"]
    print(_table(header, burst_rows))
    print("\nVoice note latency: question sent -> sendVoice at the Bot API")
    print(_table(["case", "measured", "target", ""], voice_rows))


if __name__ == "__main__":
    main()
