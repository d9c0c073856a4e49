"""SpeechService and VoiceCache: real eSpeak audio in real files under tmp_path."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from bot.speech.cache import MemoryVoiceIndex, VoiceCache, speech_digest
from bot.speech.engines import EspeakEngine, FallbackSynthesizer, SynthesisError
from bot.speech.normalize import TRUNCATION_NOTICE
from bot.speech.opus import ogg_duration_seconds
from bot.speech.service import EMPTY_SPEECH_TEXT, SpeechService

ANSWER = "Theo Nghị định 20/2021/NĐ-CP, NKT đặc biệt nặng được hưởng 1.250.000 đồng mỗi tháng."

# About 600 characters, the size of a typical FAQ answer.
LONG_ANSWER = (
    "Người khuyết tật đặc biệt nặng được hưởng trợ cấp xã hội hằng tháng theo Nghị định "
    "20/2021/NĐ-CP. Mức chuẩn trợ giúp xã hội từ ngày 1/7/2024 là 500.000 đồng mỗi tháng. "
    "Hệ số 2,5 đối với người khuyết tật đặc biệt nặng, tức là 1.250.000 đồng mỗi tháng. "
    "Hồ sơ gồm tờ khai theo mẫu, bản sao Giấy xác nhận khuyết tật và bản sao CCCD. Bạn nộp hồ "
    "sơ tại UBND xã, phường nơi cư trú. Trong 10 ngày làm việc, Chủ tịch UBND cấp huyện quyết "
    "định. Người khuyết tật nặng cũng được cấp thẻ BHYT miễn phí. Nếu cần hỗ trợ, bạn gọi tổng "
    "đài 111 hoặc hỏi cán bộ LĐTBXH ở xã. Trợ cấp được trả từ tháng Chủ tịch ký quyết định."
)


class _Counting:
    """A real engine that counts its calls."""

    def __init__(self, engine: EspeakEngine | None = None, name: str = "espeak") -> None:
        self.engine = engine or EspeakEngine()
        self.name = name
        self.texts: list[str] = []

    def synthesize(self, text: str) -> bytes:
        self.texts.append(text)
        return self.engine.synthesize(text)


class _Down:
    name = "gtts"

    def __init__(self) -> None:
        self.calls = 0

    def synthesize(self, text: str) -> bytes:
        self.calls += 1
        raise SynthesisError("429 Too Many Requests")


def _service(tmp_path: Path, *engines: object) -> tuple[SpeechService, MemoryVoiceIndex]:
    index = MemoryVoiceIndex()
    chain = FallbackSynthesizer(list(engines) or [_Counting()])  # type: ignore[arg-type]
    return SpeechService(tmp_path / "voice", index, chain), index


def test_prepare_synthesises_once_then_serves_the_cache(tmp_path: Path) -> None:
    counting = _Counting()
    service, _ = _service(tmp_path, counting)
    first = service.prepare(ANSWER)
    assert not first.cached and first.file_id is None
    assert first.engine == "espeak"
    assert first.path == tmp_path / "voice" / f"{first.key}.ogg"
    data = first.path.read_bytes()
    assert data.startswith(b"OggS") and b"OpusHead" in data
    assert ogg_duration_seconds(data) > 2.0

    second = service.prepare(ANSWER)
    assert second.cached
    assert (second.key, second.path) == (first.key, first.path)
    assert len(counting.texts) == 1
    # The engine was given the normalised text, never the raw one.
    assert "1.250.000" not in counting.texts[0]
    assert "một triệu hai trăm năm mươi nghìn đồng" in counting.texts[0]


def test_prepare_returns_the_recorded_file_id(tmp_path: Path) -> None:
    service, index = _service(tmp_path)
    note = service.prepare(ANSWER)
    service.remember_file_id(note.key, "AwACAgIAAxkBAAIBQ2")
    assert index.get_file_id(note.key) == "AwACAgIAAxkBAAIBQ2"
    again = service.prepare(ANSWER)
    assert again.cached and again.file_id == "AwACAgIAAxkBAAIBQ2"


def test_texts_that_sound_the_same_share_one_note(tmp_path: Path) -> None:
    counting = _Counting()
    service, _ = _service(tmp_path, counting)
    first = service.prepare("Mức hỗ trợ là 500.000đ.")
    second = service.prepare("Mức hỗ trợ là   500.000 đồng.")
    assert second.cached and second.key == first.key
    assert len(counting.texts) == 1


def test_gtts_down_gives_an_espeak_note(tmp_path: Path) -> None:
    down = _Down()
    service, _ = _service(tmp_path, down, _Counting())
    note = service.prepare(ANSWER)
    assert note.engine == "espeak" and note.key.startswith("espeak-")
    assert note.path.exists() and down.calls == 1
    # Cached now: neither engine is asked again.
    assert service.prepare(ANSWER).cached and down.calls == 1


def test_cache_prefers_the_first_engine_then_any_other(tmp_path: Path) -> None:
    gtts = _Counting(name="gtts")
    espeak = _Counting()
    service, _ = _service(tmp_path, gtts, espeak)
    digest = speech_digest(service.speech_text(ANSWER))
    cache = VoiceCache(tmp_path / "voice")
    audio = EspeakEngine().synthesize("Xin chào.")

    cache.put("espeak", digest, audio)
    note = service.prepare(ANSWER)
    assert (note.engine, note.cached) == ("espeak", True)

    cache.put("gtts", digest, audio)
    assert service.prepare(ANSWER).engine == "gtts"

    cache.path_for("gtts", digest).unlink()
    cache.path_for("espeak", digest).unlink()
    cache.put("oldengine", digest, audio)  # an engine no longer configured
    assert service.prepare(ANSWER).engine == "oldengine"
    assert gtts.texts == [] and espeak.texts == []


def test_empty_text_still_gets_a_voice_note(tmp_path: Path) -> None:
    counting = _Counting()
    service, _ = _service(tmp_path, counting)
    note = service.prepare("https://example.vn ✅")
    assert note.path.exists()
    assert counting.texts == [EMPTY_SPEECH_TEXT]


def test_long_text_is_capped_at_a_sentence(tmp_path: Path) -> None:
    service, _ = _service(tmp_path)
    spoken = service.speech_text(LONG_ANSWER * 12)
    assert len(spoken) <= 3000
    assert spoken.endswith(". " + TRUNCATION_NOTICE)


def test_prebuild_counts_new_notes(tmp_path: Path) -> None:
    counting = _Counting()
    service, _ = _service(tmp_path, counting)
    assert service.prebuild(["Xin chào.", "Cảm ơn bạn.", "Xin chào."]) == 2
    assert service.prebuild(["Xin chào.", "Cảm ơn bạn.", "Tạm biệt."]) == 1
    assert len(counting.texts) == 3


def test_same_text_from_many_threads_is_synthesised_once(tmp_path: Path) -> None:
    counting = _Counting()
    service, _ = _service(tmp_path, counting)
    keys: list[str] = []
    threads = [
        threading.Thread(target=lambda: keys.append(service.prepare(ANSWER).key)) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and len(keys) == 8
    assert len(counting.texts) == 1


def test_cache_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = VoiceCache(tmp_path)
    digest = speech_digest("xin chào")
    path = cache.put("espeak", digest, b"OggS first version")
    assert path.read_bytes() == b"OggS first version"

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        cache.put("espeak", digest, b"OggS second version, never completed")
    assert path.read_bytes() == b"OggS first version"  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left

    with pytest.raises(OSError):
        cache.put("espeak", speech_digest("khác"), b"OggS")
    assert cache.get("espeak", speech_digest("khác")) is None


def test_cache_removes_stale_temp_files(tmp_path: Path) -> None:
    stale = tmp_path / ".espeak-abc.x.tmp"
    fresh = tmp_path / ".espeak-def.y.tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"writing")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    VoiceCache(tmp_path)
    assert not stale.exists() and fresh.exists()


def test_cache_rejects_unsafe_engine_names(tmp_path: Path) -> None:
    cache = VoiceCache(tmp_path)
    with pytest.raises(ValueError):
        cache.path_for("../evil", speech_digest("x"))


def test_prepare_is_fast_for_a_typical_answer(tmp_path: Path) -> None:
    service, _ = _service(tmp_path)
    service.prepare("Khởi động.")  # load eSpeak once, as the bot does at start-up
    assert 550 <= len(LONG_ANSWER) <= 650
    started = time.perf_counter()
    first = service.prepare(LONG_ANSWER)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    again = service.prepare(LONG_ANSWER)
    cached_s = time.perf_counter() - started
    assert not first.cached and again.cached
    assert first_s < 3.0  # about 0.4 s here; generous for a loaded CI machine
    assert cached_s < 0.05
