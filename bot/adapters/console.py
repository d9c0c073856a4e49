"""The console chat: the same dialogue core in a terminal, for trying changes and for parity.

Each line typed (or piped) is one message. Choices print as numbered lines; typing the number
picks one. With voice on, each voice note is written to BOT_DATA_DIR/voice/ and its path is
printed. Commands work as on Telegram (/start, /menu, /voice, /check, ...). Ends at EOF.
"""

from __future__ import annotations

import shutil
import sys
from typing import TextIO

from bot.core.formatting import split_text
from bot.core.messages import Incoming, Reply

CONSOLE_USER = 1


def run_console(app, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    interactive = stdin.isatty()
    _print_replies(
        app, app.engine.handle(Incoming(CONSOLE_USER, CONSOLE_USER, text="/start")), stdout
    )
    while True:
        if interactive:
            stdout.write("\n> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        text = line.rstrip("\n")
        if interactive is False:
            stdout.write(f"\n> {text}\n")
        replies = app.engine.handle(Incoming(CONSOLE_USER, CONSOLE_USER, text=text))
        _print_replies(app, replies, stdout)
    stdout.write("\nTạm biệt!\n")
    stdout.flush()
    return 0


def _print_replies(app, replies: list[Reply], stdout: TextIO) -> None:
    for reply in replies:
        for chunk in split_text(reply.text):
            stdout.write(chunk + "\n")
        if reply.attachment is not None:
            name, data = reply.attachment
            target = app.settings.data_dir / "exports" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            stdout.write(f"[Tệp đính kèm: {target}]\n")
        if reply.speak:
            note = app.speech().prepare(reply.speak)
            target_dir = app.settings.data_dir / "voice"
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / f"{note.key}.ogg"
            if not target.exists():
                shutil.copyfile(note.path, target)
            stdout.write(f"[Tin nhắn thoại ({note.engine}): {target}]\n")
        stdout.write("\n")
    stdout.flush()
