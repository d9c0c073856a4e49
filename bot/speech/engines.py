"""Speech engines: offline eSpeak NG, Google TTS (gTTS), and the fallback chain over them.

Owns turning speech text into OGG/Opus bytes. `EspeakEngine` always works offline (eSpeak NG from
espeakng-loader through ctypes); `GTTSEngine` sounds better but needs Google and fails on HTTP 429
or without a network; `FallbackSynthesizer` tries engines in order, rests a failed engine for a
cooldown so a rate-limited gTTS does not slow every reply, and only gives up when all fail.
Logs name engines and exception types, never the text.
"""

from __future__ import annotations

import ctypes
import io
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.speech.opus import audio_to_ogg_opus, pcm_to_ogg_opus

log = logging.getLogger(__name__)


class SynthesisError(RuntimeError):
    """One engine could not produce audio."""


class SpeechUnavailableError(RuntimeError):
    """No engine could produce audio."""


@runtime_checkable
class Synthesizer(Protocol):
    """Turns speech text into OGG/Opus bytes; raises on failure."""

    name: str

    def synthesize(self, text: str) -> bytes: ...


# --- eSpeak NG -------------------------------------------------------------------------------

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)
# libespeak-ng keeps global state (voice, parameters, callback): every call goes through this lock.
_ESPEAK_LOCK = threading.Lock()
_pcm_chunks: list[bytes] = []


def _collect_samples(wav: object, count: int, _events: object) -> int:
    if count > 0 and wav:
        _pcm_chunks.append(ctypes.string_at(wav, count * 2))
    return 0  # 0 = go on synthesising


_CALLBACK = _SynthCallback(_collect_samples)  # module-level so ctypes never frees it


@dataclass
class _EspeakLibrary:
    lib: ctypes.CDLL
    sample_rate: int
    voice: str = ""
    rate: int | None = None


_espeak: _EspeakLibrary | None = None


def _load_espeak() -> _EspeakLibrary:
    """Load and initialise libespeak-ng once per process. Caller holds `_ESPEAK_LOCK`."""
    global _espeak
    if _espeak is not None:
        return _espeak
    import espeakng_loader

    lib = ctypes.CDLL(espeakng_loader.get_library_path())
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    lib.espeak_Synth.restype = ctypes.c_int
    data_path = espeakng_loader.get_data_path().encode()
    sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0)
    if sample_rate <= 0:
        raise SynthesisError(f"espeak_Initialize failed ({sample_rate})")
    lib.espeak_SetSynthCallback(_CALLBACK)
    _espeak = _EspeakLibrary(lib=lib, sample_rate=sample_rate)
    log.info("eSpeak NG loaded (%d Hz)", sample_rate)
    return _espeak


class EspeakEngine:
    """Offline Vietnamese voice. `rate` is words per minute (eSpeak's default is 175)."""

    name = "espeak"

    def __init__(self, voice: str = "vi", rate: int | None = None) -> None:
        self._voice = voice
        self._rate = rate

    def synthesize(self, text: str) -> bytes:
        pcm, sample_rate = self.synthesize_pcm(text)
        return pcm_to_ogg_opus(pcm, sample_rate)

    def synthesize_pcm(self, text: str) -> tuple[bytes, int]:
        """Mono 16-bit PCM and its sample rate (encoding happens outside the library lock)."""
        if not text.strip():
            raise SynthesisError("nothing to say")
        data = text.encode("utf-8")
        with _ESPEAK_LOCK:
            espeak = _load_espeak()
            self._configure(espeak)
            _pcm_chunks.clear()
            try:
                status = espeak.lib.espeak_Synth(
                    data, len(data) + 1, 0, 0, 0, _CHARS_UTF8, None, None
                )
                pcm = b"".join(_pcm_chunks)
            finally:
                _pcm_chunks.clear()
        if status != 0:
            raise SynthesisError(f"espeak_Synth failed ({status})")
        if not pcm:
            raise SynthesisError("eSpeak produced no audio")
        return pcm, espeak.sample_rate

    def _configure(self, espeak: _EspeakLibrary) -> None:
        if espeak.voice != self._voice:
            if espeak.lib.espeak_SetVoiceByName(self._voice.encode()) != 0:
                raise SynthesisError(f"eSpeak has no voice {self._voice!r}")
            espeak.voice = self._voice
            espeak.rate = None  # a new voice resets the rate
        if self._rate is not None and espeak.rate != self._rate:
            espeak.lib.espeak_SetParameter(_PARAM_RATE, self._rate, 0)
            espeak.rate = self._rate


# --- gTTS ------------------------------------------------------------------------------------

Mp3Source = Callable[[str], bytes]
_GTTS_CHARS_PER_REQUEST = 100  # gTTS splits text into requests of at most this many characters


def _google_mp3(text: str, lang: str, timeout: float) -> bytes:
    from gtts import gTTS

    buffer = io.BytesIO()
    gTTS(text=text, lang=lang, lang_check=False, timeout=timeout).write_to_fp(buffer)
    return buffer.getvalue()


def _call_with_deadline(function: Callable[[], bytes], seconds: float) -> bytes:
    """Run `function` in a daemon thread; give up after `seconds` (the thread may finish later)."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["result"] = function()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=run, name="gtts-request", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {seconds:.1f} s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]


class GTTSEngine:
    """Google's Vietnamese voice via gTTS; MP3 re-encoded to OGG/Opus.

    `tts_factory(text) -> MP3 bytes` replaces the call to Google (tests inject a fake). `timeout`
    bounds each HTTP request and the first chunk of text; each further ~100-character request
    that gTTS makes adds `chunk_budget_s` to the overall deadline.
    """

    name = "gtts"

    def __init__(
        self,
        timeout: float = 4.0,
        tts_factory: Mp3Source | None = None,
        *,
        lang: str = "vi",
        chunk_budget_s: float = 1.0,
    ) -> None:
        self._timeout = timeout
        self._chunk_budget_s = chunk_budget_s
        self._source: Mp3Source = tts_factory or (lambda text: _google_mp3(text, lang, timeout))

    def deadline_for(self, text: str) -> float:
        requests = max(1, math.ceil(len(text) / _GTTS_CHARS_PER_REQUEST))
        return self._timeout + self._chunk_budget_s * (requests - 1)

    def synthesize(self, text: str) -> bytes:
        if not text.strip():
            raise SynthesisError("nothing to say")
        mp3 = _call_with_deadline(lambda: self._source(text), self.deadline_for(text))
        if not mp3:
            raise SynthesisError("gTTS returned no audio")
        return audio_to_ogg_opus(mp3)


# --- fallback chain --------------------------------------------------------------------------


class FallbackSynthesizer:
    """Tries engines in order; a failed engine rests for `cooldown_s` before it is tried again.

    Resting engines are still tried as a last resort when every other engine failed, so a voice
    note is produced whenever any engine can produce one.
    """

    name = "fallback"

    def __init__(
        self,
        engines: Sequence[Synthesizer],
        cooldown_s: float = 300,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not engines:
            raise ValueError("at least one engine is needed")
        self._engines = list(engines)
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._failed_at: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def engine_names(self) -> tuple[str, ...]:
        return tuple(engine.name for engine in self._engines)

    def resting(self) -> tuple[str, ...]:
        """Names of engines currently skipped after a failure."""
        now = self._clock()
        with self._lock:
            return tuple(
                name for name, at in self._failed_at.items() if now - at < self._cooldown_s
            )

    def synthesize(self, text: str) -> bytes:
        return self.synthesize_with_name(text)[1]

    def synthesize_with_name(self, text: str) -> tuple[str, bytes]:
        """(engine name, OGG/Opus bytes) from the first engine that succeeds."""
        resting = set(self.resting())
        ready = [e for e in self._engines if e.name not in resting]
        last_resort = [e for e in self._engines if e.name in resting]
        for engine in ready + last_resort:
            started = time.perf_counter()
            try:
                audio = engine.synthesize(text)
            except Exception as exc:
                with self._lock:
                    self._failed_at[engine.name] = self._clock()
                log.warning(
                    "speech engine %s failed (%s); resting it for %.0f s",
                    engine.name,
                    type(exc).__name__,
                    self._cooldown_s,
                )
                continue
            with self._lock:
                self._failed_at.pop(engine.name, None)
            log.info(
                "voice note from %s: %d chars in %.2f s",
                engine.name,
                len(text),
                time.perf_counter() - started,
            )
            return engine.name, audio
        raise SpeechUnavailableError("no speech engine could produce audio")
