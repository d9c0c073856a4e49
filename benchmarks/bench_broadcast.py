"""Outreach benchmark: a broadcast with a restart halfway, and staff-reply latency.

Runs the real bot (build_app + python-telegram-bot) against the Bot API stand-in on 127.0.0.1,
in a temporary data folder:

1. a broadcast to N subscribers (some with voice on, some who blocked the bot), stopped cleanly
   halfway and restarted: how long it took, the peak messages per second the stand-in saw, and
   a check that nobody got it twice and nobody was missed;
2. K tickets, a restart, then a staff reply to each: the time from the staff member's reply
   reaching the stand-in to the relayed answer reaching the user.

Not part of `make test`. Run: .venv/bin/python benchmarks/bench_broadcast.py [--subscribers N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.standin import BotApiStandin  # noqa: E402
from tests.test_outreach import ADMIN, STAFF, STAFF_CHAT, outreach_config, running  # noqa: E402
from tests.test_outreach_broadcast import (  # noqa: E402
    ANNOUNCEMENT,
    add_subscribers,
    announcements,
    wait_until,
)


async def _broadcast(standin: BotApiStandin, subscribers: int, voice_every: int, blocked_n: int):
    async with running(standin) as bot:
        users = add_subscribers(bot.app, subscribers, voice_every=voice_every)
        step = max(1, subscribers // max(1, blocked_n))
        blocked = set(users[5::step][:blocked_n])
        for user in blocked:
            standin.block_chat(user)
        standin.send_text(ADMIN, f"/broadcast {ANNOUNCEMENT}")
        await standin.wait_for_message_async(ADMIN, "Gửi ngay?")
        standin.press_button(ADMIN, "bc:send:1")
        await wait_until(lambda: len(announcements(standin)) >= subscribers // 2, timeout=300)
    async with running(standin) as bot:
        await standin.wait_for_message_async(ADMIN, "Đã gửi xong thông báo #1", timeout=600)
        remaining = bot.app.outreach.subscriptions.count()[0]
    sent = announcements(standin)
    delivered = Counter(c.params["chat_id"] for c in sent)
    times = [c.time for c in sent]
    gap = max(b - a for a, b in zip(times, times[1:], strict=False))
    voice = sum(1 for u in users[::voice_every] if u not in blocked) if voice_every else 0
    return {
        "subscribers": subscribers,
        "voice users": voice,
        "blocked": len(blocked),
        "wall time first to last (s)": round(times[-1] - times[0], 1),
        "restart gap (s)": round(gap, 2),
        "sending time (s)": round(times[-1] - times[0] - gap, 1),
        "peak msgs/s (sendMessage+sendVoice)": standin.rate_per_second(),
        "duplicates": sum(1 for n in delivered.values() if n > 1),
        "missed": len(set(users) - blocked - set(delivered)),
        "still subscribed": remaining,
    }


async def _tickets(standin: BotApiStandin, count: int) -> dict[str, object]:
    first_user = 8_000_000
    notices = {}
    async with running(standin):
        for i in range(count):
            user = first_user + i
            standin.press_button(user, "handoff:start")
            await standin.wait_for_message_async(user, "viết câu hỏi")
            mark = standin.mark()
            standin.send_text(user, f"Câu hỏi thử số {i} về hỗ trợ học nghề")
            notice = await standin.wait_for_message_async(
                STAFF_CHAT, f"Phiếu #{i + 1} ", after_index=mark
            )
            notices[user] = int(notice.result["message_id"])
    latencies = []
    async with running(standin):  # restart between the questions and the answers
        for user, message_id in notices.items():
            await asyncio.sleep(0.2)  # one at a time: the latency, not the shared pacing
            mark = standin.mark()
            started = time.monotonic()
            standin.send_text(
                STAFF, f"Trả lời cho {user}", chat_id=STAFF_CHAT, reply_to_message_id=message_id
            )
            relayed = await standin.wait_for_message_async(
                user, f"Trả lời cho {user}", after_index=mark
            )
            latencies.append(relayed.time - started)
    return {
        "tickets": count,
        "staff reply -> user, median (ms)": round(statistics.median(latencies) * 1000),
        "staff reply -> user, max (ms)": round(max(latencies) * 1000),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--voice-every", type=int, default=20, help="every n-th has voice on")
    parser.add_argument("--blocked", type=int, default=5)
    parser.add_argument("--tickets", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, BotApiStandin() as standin:
        os.environ.update(
            BOT_CONFIG=str(outreach_config(Path(tmp))),
            BOT_DATA_DIR=str(Path(tmp) / "data"),
            BOT_ADMIN_IDS=str(ADMIN),
            TELEGRAM_BOT_TOKEN=standin.token,
            TELEGRAM_API_URL=standin.url,
        )
        os.environ.pop("BOT_KNOWLEDGE_DIR", None)
        results = asyncio.run(_broadcast(standin, args.subscribers, args.voice_every, args.blocked))
        results.update(asyncio.run(_tickets(standin, args.tickets)))
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
