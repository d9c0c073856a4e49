"""Announcements: a 500-subscriber broadcast through the Telegram stand-in with a restart halfway,
flood waits (429 retry_after), blocked users, and the queue's crash recovery and retries.

The big test takes about 25 s (500 messages at the sender's 20 a second, plus a restart); it is
the acceptance run and prints its figures (run with -s). benchmarks/bench_broadcast.py repeats
it with more subscribers.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.adapters.channel import RecipientBlocked
from bot.app import App
from bot.core.messages import Reply
from bot.outreach.pacing import Pacer, Waker
from bot.outreach.queue import BroadcastQueue
from bot.outreach.sender import BroadcastSender
from tests import test_outreach as outreach
from tests.harness import texts
from tests.standin import BotApiStandin, Call
from tests.test_outreach import ADMIN, running

FIRST_SUBSCRIBER = 7_000_000
ANNOUNCEMENT = (
    "Từ ngày 1/1/2027, mức chuẩn trợ giúp xã hội tăng lên 600.000 đồng mỗi tháng. "
    "Bạn không cần làm lại hồ sơ."
)
MARKER = "Thông báo từ trợ lý"

# The outreach-configured fixtures of tests/test_outreach.py: an App (no Telegram) and the
# environment of a bot of its own pointed at the `standin` fixture (tests/conftest.py).
app = outreach.app
tg_env = outreach.tg_env


def add_subscribers(app: App, count: int, voice_every: int = 0) -> list[int]:
    """Insert subscribers straight into SQLite (every `voice_every`-th with voice on)."""
    users = [FIRST_SUBSCRIBER + i for i in range(count)]
    now = time.time()
    with app.store.transaction() as db:
        db.executemany(
            "INSERT INTO outreach_subscribers(user_id, created) VALUES (?, ?)",
            [(u, now + i / 1e6) for i, u in enumerate(users)],
        )
        if voice_every:
            db.executemany(
                "INSERT INTO users(user_id, voice, created, updated) VALUES (?, 1, ?, ?)",
                [(u, now, now) for u in users[::voice_every]],
            )
    return users


def announcements(standin: BotApiStandin, status: int = 200) -> list[Call]:
    """Announcements sent to subscribers (not the admin's preview)."""
    return [
        c
        for c in standin.calls
        if c.method == "sendMessage"
        and c.status == status
        and c.params.get("chat_id") != ADMIN
        and str(c.params.get("text", "")).startswith(MARKER)
    ]


async def wait_until(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


async def test_500_subscribers_with_a_restart_halfway_no_duplicate_no_miss(
    tg_env: Path, standin: BotApiStandin
) -> None:
    async with running(standin) as bot:
        users = add_subscribers(bot.app, 500, voice_every=50)
        voice_users = set(users[::50])
        blocked = {users[10], users[200], users[333]}  # users[200] has voice on
        for user in blocked:
            standin.block_chat(user)

        *_, question = texts(await bot.say(f"/broadcast {ANNOUNCEMENT}", ADMIN))
        assert "sẽ gửi tới 500 người đăng ký (10 người nhận kèm tin nhắn thoại)" in question
        assert texts(await bot.say("1", ADMIN))[0].startswith("Đã xếp hàng thông báo #1")
        await wait_until(lambda: len(announcements(standin)) >= 250, timeout=30)
    at_stop = len(announcements(standin))

    async with running(standin) as bot:
        await standin.wait_for_message_async(ADMIN, "Tiếp tục gửi thông báo #1", timeout=5)
        done = await standin.wait_for_message_async(ADMIN, "Đã gửi xong thông báo #1", timeout=40)
        remaining = bot.app.outreach.subscriptions.count()[0]

    delivered = Counter(c.params["chat_id"] for c in announcements(standin))
    refused = Counter(c.params["chat_id"] for c in announcements(standin, status=403))
    voices = Counter(
        c.params["chat_id"]
        for c in standin.calls
        if c.method == "sendVoice" and c.status == 200 and c.params["chat_id"] in set(users)
    )
    assert 50 <= at_stop <= 450, "the restart was not halfway"
    assert set(delivered) == set(users) - blocked, "someone was missed or a stranger got it"
    assert set(delivered.values()) == {1}, "someone got the announcement twice"
    assert refused == dict.fromkeys(blocked, 1)
    assert voices == dict.fromkeys(voice_users - blocked, 1)
    assert remaining == 497  # the three who blocked the bot were unsubscribed
    assert "497 người đã nhận" in str(done.params["text"])
    assert "3 người đã chặn trợ lý" in str(done.params["text"])
    progress = [t for t in standin.messages_to(ADMIN) if t.startswith("Đang gửi thông báo #1")]
    assert progress, "no progress report"

    peak = standin.rate_per_second(("sendMessage", "sendVoice"))
    times = [c.time for c in announcements(standin)]
    total = times[-1] - times[0]
    restart_gap = max(b - a for a, b in zip(times, times[1:], strict=False))
    print(
        f"\nbroadcast to 500 (10 with voice, 3 blocked): {total:.1f} s first to last message, "
        f"{total - restart_gap:.1f} s without the restart gap ({restart_gap:.1f} s); "
        f"{at_stop} sent before the restart; peak {peak} messages/s at the stand-in"
    )
    assert peak <= 25


async def test_a_flood_wait_is_honoured_and_the_message_sent_once(
    tg_env: Path, standin: BotApiStandin
) -> None:
    async with running(standin) as bot:
        users = add_subscribers(bot.app, 60)
        await bot.say(f"/broadcast {ANNOUNCEMENT}", ADMIN)
        await bot.press("bc:send:1", ADMIN)
        await wait_until(lambda: len(announcements(standin)) >= 20, timeout=10)
        standin.fail_next("sendMessage", status=429, retry_after=1)
        await standin.wait_for_message_async(ADMIN, "Đã gửi xong thông báo #1", timeout=20)

    (flooded,) = [c for c in standin.calls if c.status == 429]
    chat = flooded.params["chat_id"]
    delivered = Counter(c.params["chat_id"] for c in announcements(standin))
    assert delivered == dict.fromkeys(users, 1)
    retried = [c for c in announcements(standin) if c.params["chat_id"] == chat]
    assert retried[0].time >= flooded.time + 1.0
    # Every send waits while Telegram asks to: nothing goes out during the flood wait.
    during = [
        c
        for c in standin.calls
        if c.method in ("sendMessage", "sendVoice")
        and flooded.time + 0.3 < c.time < flooded.time + 1.0
    ]
    assert during == []
    assert standin.rate_per_second(("sendMessage", "sendVoice")) <= 25


async def test_a_draft_is_sent_only_once_and_can_be_cancelled(
    tg_env: Path, standin: BotApiStandin
) -> None:
    async with running(standin) as bot:
        add_subscribers(bot.app, 3)
        (prompt,) = texts(await bot.say("/broadcast", ADMIN))
        assert "3 người đăng ký" in prompt
        preview, rendered, question = texts(await bot.say(ANNOUNCEMENT, ADMIN))
        assert rendered.startswith(MARKER) and ANNOUNCEMENT in rendered and "hủy" in rendered
        assert "1. Gửi cho 3 người" in question and "2. Hủy, không gửi" in question
        await bot.press("bc:send:1", ADMIN)
        (again,) = texts(await bot.press("bc:send:1", ADMIN))
        assert "không gửi lại" in again
        await standin.wait_for_message_async(ADMIN, "Đã gửi xong thông báo #1")

        await bot.say("/broadcast Một thông báo viết nhầm", ADMIN)
        (cancelled,) = texts(await bot.say("2", ADMIN))
        assert "Đã hủy thông báo #2" in cancelled
        assert texts(await bot.press("bc:send:2", ADMIN)) == ["Thông báo #2 đã bị hủy."]
        await asyncio.sleep(0.2)
    assert len(announcements(standin)) == 3


# -- the queue and the sender without Telegram ------------------------------------------------


class MemoryChannel:
    """A `Channel` that keeps what it sends; some chats are blocked, some fail a few times."""

    def __init__(self, blocked: set[int] = frozenset(), failing: dict[int, int] | None = None):
        self.sent: list[tuple[int, Reply]] = []
        self.blocked = set(blocked)
        self.failing = dict(failing or {})

    async def send(self, chat_id: int, reply: Reply) -> list[int]:
        await asyncio.sleep(0)
        if chat_id in self.blocked:
            raise RecipientBlocked("403")
        if self.failing.get(chat_id, 0) > 0:
            self.failing[chat_id] -= 1
            raise ConnectionError("network down")
        self.sent.append((chat_id, reply))
        return [len(self.sent)]

    def texts_to(self, chat_id: int) -> list[str]:
        return [r.text for c, r in self.sent if c == chat_id]


def _queued(app: App, count: int) -> tuple[BroadcastQueue, list[int]]:
    users = add_subscribers(app, count)
    queue = BroadcastQueue(app.store)
    draft = queue.create_draft(ADMIN, ADMIN, ANNOUNCEMENT)
    assert queue.enqueue(draft.id) == count
    return queue, users


async def _run_until_done(sender: BroadcastSender, channel: MemoryChannel) -> None:
    task = asyncio.get_running_loop().create_task(sender.run(channel))
    try:
        await wait_until(
            lambda: any("Đã gửi xong" in t for t in channel.texts_to(ADMIN)), timeout=10
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_rows_cut_by_a_crash_are_not_sent_again_and_the_admin_is_told(app: App) -> None:
    queue, users = _queued(app, 6)
    queue.start(1)
    assert queue.claim(1, users[0]) and queue.claim(1, users[1])
    queue.mark_sent(1, users[0])  # users[1]: the process died between the call and the mark
    app.outreach.subscriptions.unsubscribe(users[5])  # left before their turn

    channel = MemoryChannel()
    sender = BroadcastSender(queue, Pacer(25), Waker(), progress_every=60)
    await _run_until_done(sender, channel)

    got = [c for c, _ in channel.sent if c != ADMIN]
    assert got == users[2:5]
    p = queue.progress(1)
    assert (p.sent, p.unknown, p.skipped, p.pending) == (4, 1, 1, 0)
    resumed, finished = channel.texts_to(ADMIN)
    assert "Tiếp tục gửi thông báo #1" in resumed and "1 người không rõ" in resumed
    assert "1 người đã hủy đăng ký trước khi tới lượt" in finished


async def test_errors_are_retried_three_times_and_blocked_users_unsubscribed(app: App) -> None:
    queue, users = _queued(app, 5)
    flaky, broken, gone = users[1], users[2], users[3]
    channel = MemoryChannel(blocked={gone}, failing={flaky: 1, broken: 99})
    sender = BroadcastSender(queue, Pacer(25), Waker(), progress_every=60, retry_pause=0.01)

    await _run_until_done(sender, channel)

    got = Counter(c for c, _ in channel.sent if c != ADMIN)
    assert got == {users[0]: 1, flaky: 1, users[4]: 1}
    p = queue.progress(1)
    assert (p.sent, p.failed, p.blocked) == (3, 1, 1)
    assert channel.failing[broken] == 96  # tried three times, then given up
    assert not app.outreach.subscriptions.is_subscribed(gone)
    (finished,) = channel.texts_to(ADMIN)
    assert "1 người chưa gửi được" in finished


async def test_the_pacer_spaces_sends_evenly_without_bursts_after_a_pause() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(20, clock=lambda: now[0], sleep=sleep)
    starts = []
    for cost in [1] * 10 + [2] * 5:
        await pacer.wait(cost)
        starts.append(now[0])
    assert starts[:3] == [0.0, 0.05, 0.1]
    assert starts[10:12] == pytest.approx([0.5, 0.6])  # a voice send takes two slots
    now[0] += 10.0  # a quiet spell earns no credit
    burst = []
    for _ in range(3):
        await pacer.wait()
        burst.append(now[0])
    assert burst[1] - burst[0] == pytest.approx(0.05) and burst[2] - burst[1] == pytest.approx(0.05)
    with pytest.raises(ValueError):
        Pacer(30)
