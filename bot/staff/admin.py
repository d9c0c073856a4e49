"""Who is an admin, and the list of admin commands that `/admin` shows.

Admins are the Telegram user ids in `settings.admins` (config `admins:` plus `BOT_ADMIN_IDS`).
Admin-only handlers return None for anyone else, so the engine answers exactly as it does for
an unknown command or an old button: nothing reveals that the command exists. Other features
(tickets, broadcasts) can add their own lines to `/admin` with `register_admin_command`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bot.core.messages import Incoming, Reply

Handler = Callable[[Incoming, str], list[Reply] | None]

# (command, Vietnamese description), in the order `/admin` lists them.
ADMIN_COMMANDS: list[tuple[str, str]] = [
    ("admin", "Danh sách lệnh quản trị"),
    ("reload", "Nạp lại kho kiến thức (kiểm tra lỗi trước, lỗi thì giữ bản cũ)"),
    ("export", "Tải về các tệp kiến thức (tệp zip); /export excel: bảng tính"),
    ("stats", "Thống kê câu hỏi: hôm nay, 7 ngày, 30 ngày"),
    ("unanswered", "Câu hỏi chưa trả lời được trong 30 ngày, kèm nút thêm vào chủ đề"),
]

# Other features' admin commands, listed by `/admin` when the engine has them.
OTHER_ADMIN_COMMANDS: dict[str, str] = {
    "tickets": "Các câu hỏi người dùng gửi cán bộ đang chờ trả lời",
    "broadcast": "Gửi thông báo cho người đăng ký (xem trước rồi xác nhận)",
}

UPLOAD_HELP = (
    "Gửi một tệp .yaml: trợ lý kiểm tra rồi thay tệp cùng tên (bản cũ được sao lưu).\n"
    "Gửi một tệp .xlsx hoặc .csv (bảng tính xuất từ /export excel): trợ lý kiểm tra rồi nhập."
)


def register_admin_command(name: str, description: str) -> None:
    """Add a line to `/admin` (for other features' admin commands)."""
    if all(existing != name for existing, _ in ADMIN_COMMANDS):
        ADMIN_COMMANDS.append((name, description))


def is_admin(settings: Any, user_id: int) -> bool:
    return user_id in set(settings.admins)


def admin_only(settings: Any, handler: Handler) -> Handler:
    """Wrap a command or payload handler: None (as unknown) for everyone but admins."""

    def guarded(incoming: Incoming, arg: str) -> list[Reply] | None:
        if not is_admin(settings, incoming.user_id):
            return None
        return handler(incoming, arg)

    guarded.__name__ = getattr(handler, "__name__", "guarded")
    return guarded


def admin_help(available: Iterable[str] = ()) -> str:
    """The `/admin` text; `available` are the engine's extra commands (to list other features')."""
    listed = list(ADMIN_COMMANDS)
    listed += [(n, d) for n, d in OTHER_ADMIN_COMMANDS.items() if n in set(available)]
    listed = list(dict(listed).items())
    lines = [f"/{name}: {desc}" for name, desc in listed]
    return "Lệnh dành cho cán bộ quản trị:\n" + "\n".join(lines) + "\n\n" + UPLOAD_HELP


def recipients(settings: Any) -> list[int]:
    """Where staff notices go: the staff chat when configured, else every admin."""
    if settings.staff_chat_id is not None:
        return [settings.staff_chat_id]
    return list(dict.fromkeys(settings.admins))
