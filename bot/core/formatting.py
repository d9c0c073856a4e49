"""Accessible text: numbered options, splitting long text for Telegram, money and dates.

Every list of choices is also written as numbered lines, so a screen-reader or voice user can
type the number instead of finding a button. Text is split at paragraph boundaries, never in
the middle of a word, to stay under Telegram's 4,096-character limit.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.messages import Button

TELEGRAM_LIMIT = 4096


def numbered(buttons: Sequence[Button]) -> str:
    """'1. Label' lines for the buttons that carry a number."""
    return "\n".join(f"{b.number}. {b.label}" for b in buttons if b.number)


def number_buttons(items: Sequence[tuple[str, str]], start: int = 1) -> tuple[Button, ...]:
    """Buttons numbered from `start`, from (label, payload) pairs."""
    return tuple(Button(label, payload, start + i) for i, (label, payload) in enumerate(items))


def split_text(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split at blank lines, then lines, then spaces, each chunk at most `limit` characters."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        sep = "\n\n" if current else ""
        if len(current) + len(sep) + len(piece) <= limit:
            current += sep + piece
        else:
            if current:
                chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def _pieces(text: str, limit: int) -> list[str]:
    out: list[str] = []
    for para in text.split("\n\n"):
        para = para.strip()
        if not para:
            continue
        if len(para) <= limit:
            out.append(para)
            continue
        line_buf = ""
        for line in para.split("\n"):
            for word_chunk in _split_words(line, limit):
                sep = "\n" if line_buf else ""
                if len(line_buf) + len(sep) + len(word_chunk) <= limit:
                    line_buf += sep + word_chunk
                else:
                    out.append(line_buf)
                    line_buf = word_chunk
        if line_buf:
            out.append(line_buf)
    return out


def _split_words(line: str, limit: int) -> list[str]:
    if len(line) <= limit:
        return [line]
    parts: list[str] = []
    current = ""
    for word in line.split(" "):
        while len(word) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(word[:limit])
            word = word[limit:]
        sep = " " if current else ""
        if len(current) + len(sep) + len(word) <= limit:
            current += sep + word
        else:
            parts.append(current)
            current = word
    if current:
        parts.append(current)
    return parts
