"""Speech engines and Opus encoding: real eSpeak NG, real PyAV encoding, a fake Google endpoint."""

from __future__ import annotations

import array
import io
import logging
import math
import threading
import time

import av
import av.audio.frame
import pytest
from gtts.tts import gTTSError

from bot.speech.engines import (
    EspeakEngine,
    FallbackSynthesizer,
    GTTSEngine,
    SpeechUnavailableError,
    SynthesisError,
)
from bot.speech.opus import (
    AudioEncodingError,
    audio_to_ogg_opus,
    ogg_duration_seconds,
    pcm_to_ogg_opus,
)

SENTENCE = "Người khuyết tật nặng được hưởng trợ cấp xã hội hằng tháng theo quy định."


def _sine_pcm(seconds: float, rate: int, freq: float = 440.0) -> bytes:
    count = int(seconds * rate)
    samples = array.array(
        "h", (int(12_000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(count))
    )
    return samples.tobytes()


def _sine_mp3(seconds: float, rate: int = 24_000) -> bytes:
    """A real MP3 file (what Google's endpoint returns), made with PyAV's libmp3lame."""
    assert "libmp3lame" in av.codecs_available
    pcm = _sine_pcm(seconds, rate)
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout="mono")
        frame = av.audio.frame.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
        frame.sample_rate = rate
        frame.planes[0].update(pcm)
        resampler = av.AudioResampler(format="s16p", layout="mono", rate=rate)
        for chunk in [*resampler.resample(frame), *resampler.resample(None)]:
            chunk.pts = None
            for packet in stream.encode(chunk):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def _assert_voice_note(data: bytes) -> None:
    assert data.startswith(b"OggS")
    assert b"OpusHead" in data
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "opus"
        assert stream.codec_context.channels == 1
        assert stream.rate == 48_000


def _mean_loudness(data: bytes) -> float:
    """Mean absolute sample value of the decoded audio (silence is close to 0)."""
    total, count = 0, 0
    resampler = av.AudioResampler(format="s16", layout="mono", rate=48_000)
    with av.open(io.BytesIO(data)) as container:
        for frame in container.decode(audio=0):
            for chunk in resampler.resample(frame):
                samples = array.array("h", bytes(chunk.planes[0])[: chunk.samples * 2])
                total += sum(abs(x) for x in samples)
                count += len(samples)
    return total / max(count, 1)


class _FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _FakeGoogle:
    """Stands in for Google's endpoint: returns MP3 bytes, or raises like a 429."""

    def __init__(self, mp3: bytes | None = None, error: Exception | None = None) -> None:
        self.mp3 = mp3
        self.error = error
        self.texts: list[str] = []

    def __call__(self, text: str) -> bytes:
        self.texts.append(text)
        if self.error is not None:
            raise self.error
        assert self.mp3 is not None
        return self.mp3


class _Broken:
    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = 0

    def synthesize(self, text: str) -> bytes:
        self.calls += 1
        raise SynthesisError("broken")


# --- Opus -------------------------------------------------------------------------------------


def test_pcm_to_ogg_opus_keeps_the_duration() -> None:
    data = pcm_to_ogg_opus(_sine_pcm(1.5, 22_050), 22_050)
    _assert_voice_note(data)
    assert ogg_duration_seconds(data) == pytest.approx(1.5, abs=0.03)


def test_audio_to_ogg_opus_reencodes_mp3() -> None:
    mp3 = _sine_mp3(2.0)
    assert not mp3.startswith(b"OggS")
    data = audio_to_ogg_opus(mp3)
    _assert_voice_note(data)
    assert ogg_duration_seconds(data) == pytest.approx(2.0, abs=0.1)


def test_audio_to_ogg_opus_rejects_garbage() -> None:
    with pytest.raises(AudioEncodingError):
        audio_to_ogg_opus(b"this is not audio at all" * 10)


def test_pcm_to_ogg_opus_rejects_empty_input() -> None:
    with pytest.raises(AudioEncodingError):
        pcm_to_ogg_opus(b"", 22_050)


def test_ogg_duration_rejects_other_formats() -> None:
    with pytest.raises(ValueError):
        ogg_duration_seconds(b"ID3" + b"\0" * 100)


# --- eSpeak NG --------------------------------------------------------------------------------


def test_espeak_speaks_vietnamese_as_ogg_opus() -> None:
    data = EspeakEngine().synthesize(SENTENCE)
    _assert_voice_note(data)
    assert ogg_duration_seconds(data) > 1.0
    assert _mean_loudness(data) > 300  # speech, not silence


def test_espeak_longer_text_gives_longer_audio() -> None:
    engine = EspeakEngine()
    short = ogg_duration_seconds(engine.synthesize("Xin chào."))
    long = ogg_duration_seconds(engine.synthesize(SENTENCE + " " + SENTENCE))
    assert long > 2 * short


def test_espeak_serialises_threads() -> None:
    """The library has global state: concurrent calls must not mix their samples."""
    engine = EspeakEngine()
    texts = ["Xin chào.", SENTENCE, SENTENCE + " " + SENTENCE, "Cảm ơn bạn đã hỏi."]
    expected = {t: len(engine.synthesize_pcm(t)[0]) for t in texts}
    results: dict[str, int] = {}

    def work(text: str) -> None:
        results[text] = len(engine.synthesize_pcm(text)[0])

    threads = [threading.Thread(target=work, args=(t,)) for t in texts * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # eSpeak varies by a few samples between runs; mixed-up buffers would be off by far more.
    assert results.keys() == expected.keys()
    for text, size in results.items():
        assert size == pytest.approx(expected[text], rel=0.01)


def test_espeak_refuses_empty_text() -> None:
    with pytest.raises(SynthesisError):
        EspeakEngine().synthesize("   ")


# --- gTTS -------------------------------------------------------------------------------------


def test_gtts_mp3_is_decoded_to_opus() -> None:
    google = _FakeGoogle(mp3=_sine_mp3(1.2))
    data = GTTSEngine(tts_factory=google).synthesize("Xin chào bạn.")
    _assert_voice_note(data)
    assert ogg_duration_seconds(data) == pytest.approx(1.2, abs=0.1)
    assert google.texts == ["Xin chào bạn."]


def test_gtts_deadline_bounds_a_hanging_endpoint() -> None:
    release = threading.Event()

    def hanging(text: str) -> bytes:
        release.wait(5)
        return b""

    engine = GTTSEngine(timeout=0.2, tts_factory=hanging)
    started = time.perf_counter()
    try:
        with pytest.raises(TimeoutError):
            engine.synthesize("Xin chào.")
    finally:
        release.set()
    assert time.perf_counter() - started < 1.0


def test_gtts_deadline_grows_with_the_number_of_requests() -> None:
    engine = GTTSEngine(timeout=4.0, chunk_budget_s=1.0)
    assert engine.deadline_for("ngắn") == 4.0
    assert engine.deadline_for("a" * 1000) == pytest.approx(13.0)


def test_rate_limited_gtts_falls_back_to_espeak_and_rests(
    caplog: pytest.LogCaptureFixture,
) -> None:
    google = _FakeGoogle(error=gTTSError("429 (Too Many Requests) from TTS API"))
    clock = _FakeClock()
    chain = FallbackSynthesizer(
        [GTTSEngine(tts_factory=google), EspeakEngine()], cooldown_s=300, clock=clock
    )
    with caplog.at_level(logging.INFO, logger="bot.speech.engines"):
        name, data = chain.synthesize_with_name(SENTENCE)
    assert name == "espeak"
    _assert_voice_note(data)
    assert len(google.texts) == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "gtts" in warnings[0].getMessage()
    assert any("espeak" in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)
    assert all(SENTENCE not in r.getMessage() for r in caplog.records)
    assert chain.resting() == ("gtts",)

    clock.now += 299  # still resting: gTTS is not asked again
    assert chain.synthesize_with_name("Xin chào.")[0] == "espeak"
    assert len(google.texts) == 1

    clock.now += 2  # cooldown over, and Google answers again
    google.error = None
    google.mp3 = _sine_mp3(0.5)
    assert chain.synthesize_with_name("Xin chào.")[0] == "gtts"
    assert len(google.texts) == 2
    assert chain.resting() == ()


def test_real_gtts_without_network_falls_back_quickly() -> None:
    chain = FallbackSynthesizer([GTTSEngine(timeout=2.0), EspeakEngine()])
    started = time.perf_counter()
    name, data = chain.synthesize_with_name(SENTENCE)
    elapsed = time.perf_counter() - started
    assert name == "espeak"
    _assert_voice_note(data)
    assert elapsed < 3.5  # bounded by the gTTS deadline even if DNS hangs


def test_resting_engine_is_the_last_resort() -> None:
    clock = _FakeClock()
    flaky = _FakeGoogle(error=gTTSError("Failed to connect"))
    broken = _Broken("espeak")
    chain = FallbackSynthesizer([GTTSEngine(tts_factory=flaky), broken], clock=clock)
    with pytest.raises(SpeechUnavailableError):
        chain.synthesize_with_name("Xin chào.")
    flaky.error = None
    flaky.mp3 = _sine_mp3(0.5)
    # Both engines rest now; the chain still tries them rather than send no voice at all.
    assert chain.synthesize_with_name("Xin chào.")[0] == "gtts"
    assert broken.calls == 1  # gTTS comes first and now succeeds


def test_fallback_needs_an_engine() -> None:
    with pytest.raises(ValueError):
        FallbackSynthesizer([])
