"""The speech service the adapters call: answer text in, a ready voice note out.

Owns the path from text to a sendable voice note: normalise for listening, cap the length, look
in the cache (the first engine's audio first, then any engine's), otherwise synthesise through
the fallback chain and store the audio, and attach the Telegram file_id already recorded for
that audio. `prepare` blocks (synthesis and disk I/O): call it with `asyncio.to_thread`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.speech.cache import VoiceCache, VoiceIndex, speech_digest, voice_key
from bot.speech.engines import FallbackSynthesizer, SpeechUnavailableError
from bot.speech.normalize import MAX_SPEECH_CHARS, limit_for_speech, text_for_speech

log = logging.getLogger(__name__)

EMPTY_SPEECH_TEXT = "Tin nhắn này không có nội dung để đọc."
_LOCK_STRIPES = 64


@dataclass(frozen=True)
class VoiceNote:
    """A voice note ready to send: upload `path`, or re-send `file_id` when it is known."""

    key: str
    engine: str
    path: Path
    file_id: str | None
    cached: bool


class SpeechService:
    """Normalise, cache and synthesise voice notes."""

    def __init__(
        self,
        cache_dir: Path,
        index: VoiceIndex,
        synthesizer: FallbackSynthesizer,
        *,
        max_chars: int = MAX_SPEECH_CHARS,
    ) -> None:
        self._cache = VoiceCache(cache_dir)
        self._index = index
        self._synthesizer = synthesizer
        self._max_chars = max_chars
        # Striped locks: the same text asked by many users at once is synthesised only once.
        self._locks = tuple(threading.Lock() for _ in range(_LOCK_STRIPES))

    def speech_text(self, text: str) -> str:
        """What the voice will say for `text`: normalised, capped, never empty."""
        spoken = limit_for_speech(text_for_speech(text), self._max_chars)
        return spoken or EMPTY_SPEECH_TEXT

    def prepare(self, text: str) -> VoiceNote:
        """A voice note for `text`, from the cache or freshly synthesised.

        Raises `SpeechUnavailableError` only when every engine failed.
        """
        speech = self.speech_text(text)
        digest = speech_digest(speech)
        with self._locks[int(digest[:8], 16) % _LOCK_STRIPES]:
            found = self._cache.find(digest, self._synthesizer.engine_names)
            if found is not None:
                engine, path = found
                return self._note(engine, digest, path, cached=True)
            engine, audio = self._synthesizer.synthesize_with_name(speech)
            path = self._cache.put(engine, digest, audio)
        return self._note(engine, digest, path, cached=False)

    def remember_file_id(self, key: str, file_id: str) -> None:
        """Record the Telegram file_id that `key`'s audio got when uploaded."""
        self._index.set_file_id(key, file_id)

    def prebuild(self, texts: Iterable[str]) -> int:
        """Synthesise what is not cached yet (e.g. every FAQ answer); returns how many were made."""
        made = 0
        for number, text in enumerate(texts, start=1):
            try:
                note = self.prepare(text)
            except SpeechUnavailableError:
                log.warning("prebuild: no engine could speak text #%d", number)
                continue
            made += not note.cached
        log.info("prebuild: %d voice notes synthesised", made)
        return made

    def _note(self, engine: str, digest: str, path: Path, *, cached: bool) -> VoiceNote:
        key = voice_key(engine, digest)
        return VoiceNote(
            key=key,
            engine=engine,
            path=path,
            file_id=self._index.get_file_id(key),
            cached=cached,
        )
