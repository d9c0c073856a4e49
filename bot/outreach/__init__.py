"""Outreach: hand-off to a person (tickets) and announcements to subscribers (broadcasts).

`install(app)` adds the tables to the bot's SQLite file, plugs the dialogue parts into the
engine (/subscribe, /unsubscribe, /tickets, /traloi, /broadcast, the words "đăng ký" / "hủy",
the offer after a decline and under /contact, staff replies) and adds two background jobs the
channel starts: the ticket relay (relay.py) and the broadcast sender (sender.py), which share
one `Pacer` so everything the bot sends on its own stays under the rate limit. The parts are
kept on `app.outreach` (an `Outreach`) for tests and tools. `register_cli` adds
`python run_bot.py outreach`, a status summary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.core.messages import Reply
from bot.outreach.broadcast import BroadcastDesk
from bot.outreach.common import Pending
from bot.outreach.handoff import Handoff
from bot.outreach.pacing import Pacer, Waker
from bot.outreach.queue import BroadcastQueue
from bot.outreach.relay import TicketRelay
from bot.outreach.schema import install_schema
from bot.outreach.sender import BroadcastSender
from bot.outreach.subscriptions import Subscriptions
from bot.outreach.tickets import TicketStore

__all__ = ["Outreach", "install", "register_cli"]


@dataclass(frozen=True)
class Outreach:
    pacer: Pacer
    tickets: TicketStore
    subscriptions: Subscriptions
    queue: BroadcastQueue
    handoff: Handoff
    desk: BroadcastDesk
    relay: TicketRelay
    sender: BroadcastSender


def install(app: Any) -> Outreach:
    store, settings, engine = app.store, app.settings, app.engine
    install_schema(store)
    pending = Pending(store)
    tickets = TicketStore(store)
    subscriptions = Subscriptions(store)
    queue = BroadcastQueue(store)
    pacer = Pacer()
    relay_waker, sender_waker = Waker(), Waker()
    handoff = Handoff(
        settings, store, tickets, pending, lambda: app.knowledge.kb, relay_waker.notify
    )
    desk = BroadcastDesk(
        settings, store, queue, subscriptions, pending, sender_waker.notify, rate=pacer.rate
    )

    def voice_on(user_id: int) -> bool:
        return bool(store.settings(user_id).voice)

    relay = TicketRelay(settings, tickets, voice_on, pacer, relay_waker)
    sender = BroadcastSender(
        queue, pacer, sender_waker, prepare_voice=lambda text: app.speech().prepare(text)
    )
    engine.extra_commands.update(
        {
            "subscribe": subscriptions.cmd_subscribe,
            "unsubscribe": subscriptions.cmd_unsubscribe,
            "tickets": handoff.cmd_tickets,
            "traloi": handoff.cmd_answer,
            "broadcast": desk.cmd_broadcast,
        }
    )
    engine.public_commands.extend(
        [("subscribe", "Nhận thông báo chính sách mới"), ("unsubscribe", "Thôi nhận thông báo")]
    )
    engine.admin_commands.extend(
        [
            ("tickets", "Câu hỏi người dùng gửi cán bộ đang chờ trả lời"),
            ("traloi", "Trả lời một phiếu: /traloi số-phiếu nội dung"),
            ("broadcast", "Gửi thông báo cho người đăng ký"),
        ]
    )
    engine.extra_payloads["handoff"] = handoff.on_payload
    engine.extra_payloads["bc"] = desk.on_payload
    engine.extra_words.extend([handoff.on_words, desk.on_words, subscriptions.on_words])
    _add_hook(engine.hooks, "decline", handoff.after_decline)
    _add_hook(engine.hooks, "contact", handoff.after_contact)
    app.background.extend([relay.run, sender.run])
    parts = Outreach(pacer, tickets, subscriptions, queue, handoff, desk, relay, sender)
    app.outreach = parts
    return parts


def _add_hook(hooks: dict[str, Any], name: str, handler: Callable[..., list[Reply] | None]) -> None:
    """Set a hook, keeping one another feature set before (both replies, theirs first)."""
    previous = hooks.get(name)
    if previous is None:
        hooks[name] = handler
        return

    def both(*args: Any) -> list[Reply] | None:
        replies = (previous(*args) or []) + (handler(*args) or [])
        return replies or None

    hooks[name] = both


def register_cli(subparsers: Any) -> dict[str, Callable[[Any, Any], int]]:
    subparsers.add_parser("outreach", help="subscribers, open tickets and broadcasts")
    return {"outreach": _cmd_status}


def _cmd_status(args: Any, settings: Any) -> int:
    from bot.storage.sqlite import SqliteStore

    store = SqliteStore(settings.data_dir / "bot.sqlite3")
    try:
        install_schema(store)
        total, voice = Subscriptions(store).count()
        print(f"Người đăng ký nhận thông báo: {total} ({voice} dùng giọng đọc)")
        print(f"Phiếu đang mở: {TicketStore(store).count_open()}")
        queue = BroadcastQueue(store)
        for (broadcast_id,) in store.query(
            "SELECT id FROM outreach_broadcasts WHERE status != 'draft' ORDER BY id DESC LIMIT 5"
        ):
            broadcast = queue.get(broadcast_id)
            p = queue.progress(broadcast_id)
            status = broadcast.status if broadcast else "?"
            print(
                f"Thông báo #{broadcast_id} ({status}): đã nhận {p.sent}/{p.total}, "
                f"chặn {p.blocked}, lỗi {p.failed}, không rõ {p.unknown}, còn {p.pending}"
            )
    finally:
        store.close()
    return 0
