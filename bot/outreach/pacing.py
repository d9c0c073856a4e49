"""Pacing for messages the bot sends on its own, and a wake-up signal for the outreach jobs.

`Pacer` spaces sends evenly: each send reserves `cost / rate` seconds of the timeline (a voice
user's announcement costs 2: the text and the voice note), and an idle pause never builds up
credit, so there is no burst after a quiet spell or a stalled event loop. Spacing evenly at 20
messages a second keeps any one-second window, as Telegram counts it on arrival, at about 21
even with a few hundred milliseconds of jitter: under the 25 the issue allows and the 30 that
Telegram tolerates. `Waker` lets a dialogue thread wake a background job on the event loop;
`run_until_stopped` lets a job finish the send in hand when the channel stops it, so a clean
restart never cuts a message between the API call and the row that records it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

DEFAULT_RATE = 20.0
MAX_RATE = 25.0


class Pacer:
    """Even spacing of sends at `rate` per second across every caller on one event loop."""

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not 0 < rate <= MAX_RATE:
            raise ValueError(f"rate must be in (0, {MAX_RATE}]")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0

    async def wait(self, cost: int = 1) -> None:
        """Return when this send may go; `cost` is how many messages it will make."""
        now = self._clock()
        start = max(now, self._next)
        self._next = start + max(1, cost) / self.rate
        if start > now:
            await self._sleep(start - now)

    def hold(self) -> None:
        """After a stall (sends piled up behind a flood wait), wait one slot before the next."""
        self._next = max(self._next, self._clock() + 1 / self.rate)


class Waker:
    """A wake-up call from any thread to a job waiting on the event loop."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def attach(self) -> None:
        """Bind to the running loop (called by the job when it starts)."""
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self._event.set()  # look for work once at start

    def notify(self) -> None:
        loop, event = self._loop, self._event
        if loop is None or event is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:  # the loop is shutting down
            pass

    async def wait(self, timeout: float) -> None:
        """Wait for a notify() or `timeout` seconds, whichever comes first."""
        assert self._event is not None, "attach() first"
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            pass
        self._event.clear()


class Stopper:
    """A stop request for a job's loop, and sleeps that end early when it comes."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    @property
    def stopped(self) -> bool:
        return self._event.is_set()

    def stop(self) -> None:
        self._event.set()

    async def sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            pass


async def run_until_stopped(
    body: Callable[[Stopper], Awaitable[None]], waker: Waker, grace_seconds: float = 10.0
) -> None:
    """Run `body(stopper)`; when this task is cancelled, ask the body to stop and wait for it.

    The body checks `stopper.stopped` between steps; if it does not end within
    `grace_seconds` it is cancelled after all.
    """
    stopper = Stopper()
    inner = asyncio.get_running_loop().create_task(body(stopper))
    try:
        await asyncio.shield(inner)
    except asyncio.CancelledError:
        stopper.stop()
        waker.notify()
        try:
            await asyncio.wait_for(inner, grace_seconds)
        except TimeoutError:
            log.warning("an outreach job did not stop within %.0f s", grace_seconds)
        except Exception:
            log.exception("an outreach job failed while stopping")
        raise
