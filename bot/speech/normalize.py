"""Speech text: turns a written Vietnamese answer into what a voice should say.

Owns the rewrite from text for the eye to text for the ear: numbers, money, percentages, dates,
times, phone numbers and legal document codes become words; abbreviations are expanded; links,
e-mail addresses, markup and symbols are dropped; list lines become sentences so the voice
pauses between them. Also owns the length cap for spoken text. Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata

from bot.speech.rewrites import REWRITES

MAX_SPEECH_CHARS = 3000
TRUNCATION_NOTICE = "Phần còn lại có trong tin nhắn văn bản."

_URL = re.compile(r"(?:https?://|www\.)[^\s]*[^\s.,;:!?)\]\"'”]", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DOMAIN = re.compile(
    r"(?<![\w@.])(?:[a-z0-9-]+\.)+(?:vn|com|org|net|gov|edu|info|io)(?:/[^\s]*[^\s.,;:!?)])?(?!\w|\.\w)",
    re.IGNORECASE,
)
_LINE_MARKUP = re.compile(r"^(?:#+|>+)\s*")
_BULLET = re.compile(r"^[-*•+–—▪●◦·]\s*")
_NUMBERED = re.compile(r"^(\d{1,2})[.)]\s+")
_SENTENCE_END = ".!?;:,…"
_KEEP_PUNCTUATION = ".,;:!?"
_SYMBOL_WORDS = {"&": " và ", "~": " khoảng ", "≥": " từ ", "≤": " không quá ", "=": " bằng "}
_PAUSE_CHARS = "()[]{}|"
_PUNCT_RUN = re.compile(r"\s*([.,;:!?])(?:\s*[.,;:!?])*")


def text_for_speech(text: str) -> str:
    """Rewrite `text` for listening: "500.000 đồng" -> "năm trăm nghìn đồng"."""
    spoken = unicodedata.normalize("NFC", text).replace("\u00a0", " ")
    for pattern in (_URL, _EMAIL, _DOMAIN):
        spoken = pattern.sub(" ", spoken)
    spoken = _lines_to_sentences(spoken)
    for pattern, replacement in REWRITES:
        spoken = pattern.sub(replacement, spoken)
    return _tidy(_drop_symbols(spoken))


def limit_for_speech(text: str, max_chars: int = MAX_SPEECH_CHARS) -> str:
    """Cut `text` at a sentence end so it fits `max_chars`, then say the rest is in the text."""
    if len(text) <= max_chars:
        return text
    window = text[: max(1, max_chars - len(TRUNCATION_NOTICE) - 1)]
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s|$)", window)]
    if ends and ends[-1] >= len(window) // 2:
        head = window[: ends[-1]]
    else:
        head = window.rsplit(" ", 1)[0].rstrip(_KEEP_PUNCTUATION + " ") + "."
    return f"{head.rstrip()} {TRUNCATION_NOTICE}"


def _lines_to_sentences(text: str) -> str:
    """One sentence per non-empty line, so list items and headings get a pause."""
    sentences: list[str] = []
    for raw in text.splitlines():
        line = _LINE_MARKUP.sub("", raw.strip())
        line = _BULLET.sub("", line)
        line = _NUMBERED.sub(r"\1. ", line)
        line = line.replace("**", "").replace("__", "").replace("`", "").strip()
        if not line:
            continue
        if line[-1] not in _SENTENCE_END:
            line += "."
        sentences.append(line)
    return " ".join(sentences)


def _drop_symbols(text: str) -> str:
    """Keep letters, marks, digits, spaces and sentence punctuation; brackets become pauses."""
    out: list[str] = []
    for char in text:
        if char in _SYMBOL_WORDS:
            out.append(_SYMBOL_WORDS[char])
        elif char in _PAUSE_CHARS:
            out.append(", ")
        elif char == "…":
            out.append(".")
        elif char in _KEEP_PUNCTUATION or char.isspace():
            out.append(char)
        elif unicodedata.category(char)[0] in "LMN":
            out.append(char)
        else:
            out.append(" ")
    return "".join(out)


def _strongest(match: re.Match[str]) -> str:
    run = match.group(0)
    for mark in "?!.;:":
        if mark in run:
            return mark + " "
    return ", "


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    text = _PUNCT_RUN.sub(_strongest, text)
    text = " ".join(text.split()).lstrip(_KEEP_PUNCTUATION + " ")
    if text and text[-1] in ",;:":
        text = text[:-1] + "."
    return text
