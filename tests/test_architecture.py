"""Imports flow one way: the core knows nothing about Telegram, speech, storage or networks."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "bot" / "core"
FORBIDDEN = (
    "telegram",
    "gtts",
    "av",
    "httpx",
    "requests",
    "bot.adapters",
    "bot.speech",
    "bot.storage",
    "bot.staff",
    "bot.outreach",
    "sqlite3",
    "socket",
)


def test_core_imports_nothing_channel_specific():
    offenders = []
    for path in CORE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
