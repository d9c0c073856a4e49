"""Staff tools: safe knowledge updates, what people asked, spreadsheets and QR codes.

Plugged in by `bot.app` (FEATURES): `install(app)` adds the admin commands, the question log,
uploads and the automatic reload to a running App; `register_cli(subparsers)` adds
`import-sheet`, `export-sheet`, `report` and `qr` to `python run_bot.py`.

Modules: admin (who is an admin, /admin), questionlog (the privacy-first log), report (/stats,
/unanswered, `report`), reload (validate + swap + watch), updates (validated writes with
backups, /export), yamledit (formatting-preserving YAML edits), sheets and xlsx (spreadsheets),
qr, font and poster (QR posters), commands (the engine handlers), cli (the subcommands).
"""

from __future__ import annotations

from typing import Any

from bot.staff.admin import is_admin, register_admin_command

__all__ = ["install", "register_cli", "is_admin", "register_admin_command", "tools_of"]

_TOOLS: dict[int, Any] = {}  # id(app) -> StaffTools, while the app is open


def install(app: Any) -> Any:
    """Add the staff tools to `app`; returns the StaffTools object."""
    from bot.staff.admin import ADMIN_COMMANDS
    from bot.staff.commands import StaffTools

    tools = StaffTools(app)
    tools.install()
    app.engine.admin_commands.extend(ADMIN_COMMANDS)
    key = id(app)
    _TOOLS[key] = tools
    app.closers.append(lambda: _TOOLS.pop(key, None))
    return tools


def tools_of(app: Any) -> Any:
    """The StaffTools installed on `app` (its reloader, writer and question log)."""
    return _TOOLS[id(app)]


def register_cli(subparsers: Any) -> dict[str, Any]:
    from bot.staff.cli import register

    return register(subparsers)
