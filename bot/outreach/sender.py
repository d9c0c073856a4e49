"""The broadcast sender: a background job that drains the queue at a pace Telegram allows.

One broadcast at a time, oldest first. For each pending row: wait for the `Pacer` (a voice
user's announcement costs two messages), claim the row (`sending`, committed), send the text
and, for voice users, the voice note, then mark it `sent` (committed) as soon as the API call
returns. At most `max_in_flight` sends run at once, which also bounds the burst when Telegram's
flood wait (HTTP 429, waited out inside the channel) releases the sends that queued behind it.
A recipient who blocked the bot (403) is unsubscribed in the same transaction that records it.
Other errors put the row back for up to three tries, with a growing pause.

Delivery guarantee: exactly once across a clean stop (the channel's stop asks the job to
finish the sends in hand and record them, see `run_until_stopped`). Across a crash, the few
rows caught between claim and record become `unknown` and are not sent again: at-most-once,
because the issue asks that nobody gets the same announcement twice; the admin is told how
many. A retry after an error can repeat a message only if Telegram got it but its answer was
lost (a read timeout), which is rare next to the network errors that happen before delivery.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from bot.adapters.channel import Channel, RecipientBlocked
from bot.core.messages import Reply
from bot.outreach.pacing import Pacer, Stopper, Waker, run_until_stopped
from bot.outreach.queue import Broadcast, BroadcastQueue, Progress

log = logging.getLogger(__name__)

ANNOUNCEMENT = (
    "Thông báo từ trợ lý chính sách cho người khuyết tật:\n\n{text}\n\n"
    'Muốn ngừng nhận thông báo, gõ /unsubscribe hoặc gõ "hủy".'
)
SPOKEN = "Thông báo. {text}"


def render(text: str) -> str:
    """The announcement exactly as a subscriber sees it."""
    return ANNOUNCEMENT.format(text=text.strip())


def spoken(text: str) -> str:
    return SPOKEN.format(text=text.strip())


def _counts(p: Progress) -> str:
    parts = [f"{p.sent} người đã nhận"]
    if p.blocked:
        parts.append(f"{p.blocked} người đã chặn trợ lý (đã hủy đăng ký cho họ)")
    if p.skipped:
        parts.append(f"{p.skipped} người đã hủy đăng ký trước khi tới lượt")
    if p.failed:
        parts.append(f"{p.failed} người chưa gửi được do lỗi mạng")
    if p.unknown:
        parts.append(f"{p.unknown} người không rõ đã nhận chưa (trợ lý dừng đột ngột)")
    return ", ".join(parts)


class BroadcastSender:
    """Background job `run(channel)`; see the module docstring."""

    def __init__(
        self,
        queue: BroadcastQueue,
        pacer: Pacer,
        waker: Waker,
        prepare_voice: Callable[[str], Any] | None = None,
        progress_every: float = 5.0,
        max_in_flight: int = 4,
        idle_seconds: float = 30.0,
        grace_seconds: float = 10.0,
        retry_pause: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queue = queue
        self.pacer = pacer
        self.waker = waker
        self.prepare_voice = prepare_voice
        self.progress_every = progress_every
        self.max_in_flight = max_in_flight
        self.idle_seconds = idle_seconds
        self.grace_seconds = grace_seconds
        self.retry_pause = retry_pause
        self._clock = clock
        self._failures = 0  # consecutive failed sends: the pause before the next one grows

    async def run(self, channel: Channel) -> None:
        self.waker.attach()
        await run_until_stopped(lambda s: self._loop(channel, s), self.waker, self.grace_seconds)

    async def _loop(self, channel: Channel, stopper: Stopper) -> None:
        lost = await asyncio.to_thread(self.queue.recover)
        if lost:
            log.warning("%d deliveries were cut by a crash; not sent again", lost)
        while not stopper.stopped:
            try:
                broadcast = await asyncio.to_thread(self.queue.next_active)
                if broadcast is None:
                    await self.waker.wait(self.idle_seconds)
                    continue
                await self._send(channel, broadcast, stopper)
            except Exception:
                log.exception("broadcast sender failed; trying again shortly")
                await stopper.sleep(5.0)

    async def _send(self, channel: Channel, broadcast: Broadcast, stopper: Stopper) -> None:
        resumed = broadcast.status == "sending"
        await asyncio.to_thread(self.queue.start, broadcast.id)
        began = getattr(await asyncio.to_thread(self.queue.get, broadcast.id), "started", None)
        text, speak = render(broadcast.text), spoken(broadcast.text)
        if resumed:
            p = await asyncio.to_thread(self.queue.progress, broadcast.id)
            await self._tell(
                channel,
                broadcast,
                f"Trợ lý vừa khởi động lại. Tiếp tục gửi thông báo #{broadcast.id}: "
                f"đã xong {p.finished}/{p.total}, còn {p.pending} người."
                + (
                    f" {p.unknown} người không rõ đã nhận chưa vì trợ lý dừng đột ngột; "
                    "tôi không gửi lại cho họ để không ai nhận hai lần."
                    if p.unknown
                    else ""
                ),
            )
        log.info("broadcast %d: sending (resumed=%s)", broadcast.id, resumed)
        await self._warm_voice(broadcast.id, speak)
        in_flight: set[asyncio.Task[None]] = set()
        slots = asyncio.Semaphore(self.max_in_flight)
        next_progress = self._clock() + self.progress_every
        try:
            while not stopper.stopped:
                batch = await asyncio.to_thread(self.queue.pending_batch, broadcast.id)
                if not batch:
                    if not in_flight:
                        break
                    await asyncio.wait(in_flight)  # retries come back as pending rows
                    continue
                for user_id, voice in batch:
                    if stopper.stopped:
                        break
                    congested = slots.locked()
                    await slots.acquire()
                    if congested:
                        self.pacer.hold()
                    if self._failures:
                        await stopper.sleep(
                            min(30.0, self.retry_pause * 2.0 ** (self._failures - 1))
                        )
                    await self.pacer.wait(2 if voice else 1)
                    claimed = await asyncio.to_thread(self.queue.claim, broadcast.id, user_id)
                    if not claimed:
                        slots.release()
                        continue
                    task = asyncio.get_running_loop().create_task(
                        self._deliver(
                            channel, broadcast.id, user_id, text, speak if voice else None, slots
                        )
                    )
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                    if self._clock() >= next_progress:
                        next_progress = self._clock() + self.progress_every
                        await self._report_progress(channel, broadcast)
        finally:
            if in_flight:  # finish and record the sends in hand, also when stopping
                await asyncio.wait(in_flight)
        if stopper.stopped:
            log.info("broadcast %d: paused by a stop; resumes at the next start", broadcast.id)
            return
        await asyncio.to_thread(self.queue.finish, broadcast.id)
        p = await asyncio.to_thread(self.queue.progress, broadcast.id)
        seconds = time.time() - (began or time.time())  # since the first start, restarts included
        log.info(
            "broadcast %d done: sent=%d blocked=%d failed=%d unknown=%d in %.1f s",
            broadcast.id,
            p.sent,
            p.blocked,
            p.failed,
            p.unknown,
            seconds,
        )
        await self._tell(
            channel,
            broadcast,
            f"Đã gửi xong thông báo #{broadcast.id} tới {p.total} người: {_counts(p)}. "
            f"Thời gian gửi: {round(seconds)} giây.",
        )

    async def _deliver(
        self,
        channel: Channel,
        broadcast_id: int,
        user_id: int,
        text: str,
        speak: str | None,
        slots: asyncio.Semaphore,
    ) -> None:
        try:
            try:
                await channel.send(user_id, Reply(text, speak=speak))
            except RecipientBlocked:
                await asyncio.to_thread(self.queue.mark_blocked, broadcast_id, user_id)
                log.info("broadcast %d: a recipient blocked the bot; unsubscribed", broadcast_id)
            except Exception as exc:
                self._failures += 1
                retried = await asyncio.to_thread(self.queue.mark_failed, broadcast_id, user_id)
                log.warning(
                    "broadcast %d: send failed (%s), retry=%s",
                    broadcast_id,
                    exc.__class__.__name__,
                    retried,
                )
            else:
                self._failures = 0
                await asyncio.to_thread(self.queue.mark_sent, broadcast_id, user_id)
        finally:
            slots.release()

    async def _warm_voice(self, broadcast_id: int, speak: str) -> None:
        if self.prepare_voice is None:
            return
        if not await asyncio.to_thread(self.queue.voice_pending, broadcast_id):
            return
        try:  # synthesise once before the first voice user, not while the queue waits
            await asyncio.to_thread(self.prepare_voice, speak)
        except Exception as exc:
            log.warning("voice for broadcast %d not prepared: %s", broadcast_id, exc)

    async def _report_progress(self, channel: Channel, broadcast: Broadcast) -> None:
        p = await asyncio.to_thread(self.queue.progress, broadcast.id)
        await self._tell(
            channel,
            broadcast,
            f"Đang gửi thông báo #{broadcast.id}: xong {p.finished}/{p.total} "
            f"({_counts(p)}). Còn {p.pending} người.",
        )

    async def _tell(self, channel: Channel, broadcast: Broadcast, text: str) -> None:
        await self.pacer.wait()
        try:
            await channel.send(broadcast.admin_chat, Reply(text))
        except Exception as exc:  # the admin's chat failing must not stop the broadcast
            log.warning("broadcast progress not delivered: %s", exc.__class__.__name__)
