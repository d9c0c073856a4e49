"""The hand-off relay job: new tickets to the staff chat, staff answers to the users.

Runs as a background job on the channel (an outbox over the tickets table): it posts each new
ticket as "Phiếu #N" to `staff_chat_id` (or, without one, to every admin's private chat) and
records the message ids, so a reply to that message finds its ticket, after a restart too; then
it delivers stored answers to the users (with a voice note for voice users) and closes the
tickets. A dialogue thread wakes it through a `Waker`, so a staff reply goes out within
milliseconds. A clean stop lets the send in hand finish and be recorded. Across a crash both
steps are at-least-once: a crash between sending and recording repeats the staff notice or the
answer, rather than leaving someone without an answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bot.adapters.channel import Channel, RecipientBlocked
from bot.core.messages import Reply
from bot.outreach.pacing import Pacer, Stopper, Waker, run_until_stopped
from bot.outreach.tickets import Ticket, TicketStore

log = logging.getLogger(__name__)

STAFF_NOTICE = (
    "Phiếu #{number} · câu hỏi mới\n\n{question}\n\n"
    "Để trả lời: trả lời (Reply) vào tin nhắn này. Trợ lý sẽ chuyển câu trả lời cho người hỏi "
    "và đóng phiếu."
)
VOICE_NOTE = "\nNgười hỏi nghe bằng giọng đọc: câu trả lời sẽ được đọc to, nên viết câu ngắn, rõ."
ANSWER = "Cán bộ trả lời câu hỏi của bạn (phiếu số {number}):\n\n{answer}\n\nNếu cần hỏi thêm, gõ /contact."
ANSWER_SPOKEN = "Cán bộ trả lời câu hỏi của bạn. {answer}"
DELIVERED = "Đã chuyển câu trả lời cho người hỏi. Phiếu #{number} đã đóng."
BLOCKED = "Không gửi được câu trả lời phiếu #{number}: người hỏi đã chặn trợ lý. Phiếu đã đóng."


class TicketRelay:
    """Background job `run(channel)`; see the module docstring."""

    def __init__(
        self,
        settings: Any,
        tickets: TicketStore,
        voice_on: Callable[[int], bool],
        pacer: Pacer,
        waker: Waker,
        idle_seconds: float = 30.0,
    ) -> None:
        self.settings = settings
        self.tickets = tickets
        self.voice_on = voice_on
        self.pacer = pacer
        self.waker = waker
        self.idle_seconds = idle_seconds
        self._warned = False

    async def run(self, channel: Channel) -> None:
        self.waker.attach()
        await run_until_stopped(lambda s: self._loop(channel, s), self.waker)

    async def _loop(self, channel: Channel, stopper: Stopper) -> None:
        while not stopper.stopped:
            await self.waker.wait(self.idle_seconds)
            try:
                await self.work(channel, stopper)
            except Exception:  # the relay must keep running; failed items are retried
                log.exception("ticket relay failed")

    async def work(self, channel: Channel, stopper: Stopper | None = None) -> None:
        """Post new tickets, then deliver stored answers; stops between items when asked."""
        for ticket in await asyncio.to_thread(self.tickets.to_notify):
            if stopper is not None and stopper.stopped:
                return
            await self._notify(channel, ticket)
        for ticket in await asyncio.to_thread(self.tickets.to_deliver):
            if stopper is not None and stopper.stopped:
                return
            await self._deliver(channel, ticket)

    def _targets(self) -> list[int]:
        if self.settings.staff_chat_id is not None:
            return [self.settings.staff_chat_id]
        return list(self.settings.admins)

    async def _notify(self, channel: Channel, ticket: Ticket) -> None:
        targets = self._targets()
        if not targets:
            if not self._warned:
                log.warning("tickets wait: no staff_chat_id and no admins are configured")
                self._warned = True
            return
        text = STAFF_NOTICE.format(number=ticket.id, question=ticket.question)
        if await asyncio.to_thread(self.voice_on, ticket.user_id):
            text += VOICE_NOTE
        sent: list[tuple[int, int]] = []
        for chat_id in targets:
            await self.pacer.wait()
            try:
                ids = await channel.send(chat_id, Reply(text))
            except RecipientBlocked:
                log.warning("staff chat %d cannot be reached (blocked)", chat_id)
                continue
            except Exception as exc:
                log.warning("ticket %d notice failed: %s", ticket.id, exc.__class__.__name__)
                continue
            sent.extend((chat_id, message_id) for message_id in ids)
        if sent:
            await asyncio.to_thread(self.tickets.mark_notified, ticket.id, sent)
            log.info("ticket %d posted to %d staff chat(s)", ticket.id, len(targets))

    async def _deliver(self, channel: Channel, ticket: Ticket) -> None:
        answer = ticket.answer or ""
        voice = await asyncio.to_thread(self.voice_on, ticket.user_id)
        reply = Reply(
            ANSWER.format(number=ticket.id, answer=answer),
            speak=ANSWER_SPOKEN.format(answer=answer) if voice else None,
        )
        await self.pacer.wait(2 if voice else 1)
        try:
            await channel.send(ticket.user_id, reply)
        except RecipientBlocked:
            await asyncio.to_thread(self.tickets.close, ticket.id, False)
            await self._tell_staff(channel, ticket, BLOCKED)
            return
        except Exception as exc:
            log.warning("ticket %d answer failed: %s", ticket.id, exc.__class__.__name__)
            return
        await asyncio.to_thread(self.tickets.close, ticket.id, True)
        log.info("ticket %d answered and closed", ticket.id)
        await self._tell_staff(channel, ticket, DELIVERED)

    async def _tell_staff(self, channel: Channel, ticket: Ticket, template: str) -> None:
        if ticket.answer_chat is None:
            return
        await self.pacer.wait()
        try:
            await channel.send(ticket.answer_chat, Reply(template.format(number=ticket.id)))
        except Exception as exc:  # a lost confirmation must not reopen the ticket
            log.warning("staff confirmation failed: %s", exc.__class__.__name__)
