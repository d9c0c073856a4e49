"""OGG/Opus encoding for Telegram voice notes, in memory, through PyAV's bundled FFmpeg.

Owns the audio format the bot sends: 48 kHz mono libopus in an Ogg container (what Telegram
shows as a voice note). Encodes raw 16-bit PCM from the offline engine, re-encodes any audio
PyAV can decode (the MP3 that gTTS returns) and reads the duration of an Ogg/Opus file.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable, Iterator

import av
import av.audio.frame

OPUS_RATE = 48_000
VOICE_BIT_RATE = 32_000  # Plenty for speech; keeps uploads small on slow mobile links.
# libopus at its default complexity 10 took ~0.6 s for 40 s of speech on 2 cores; complexity 5
# took ~0.2 s with no audible loss for a synthetic voice. Constrained VBR holds the bit rate
# (plain VBR at lower complexity drifted to ~58 kb/s).
_ENCODER_OPTIONS = {"compression_level": "5", "vbr": "constrained"}


class AudioEncodingError(RuntimeError):
    """Audio could not be decoded or encoded."""


def pcm_to_ogg_opus(pcm: bytes, sample_rate: int, *, bit_rate: int = VOICE_BIT_RATE) -> bytes:
    """Encode mono signed 16-bit little-endian PCM at `sample_rate` as OGG/Opus bytes."""
    if sample_rate <= 0:
        raise ValueError("sample_rate must be positive")
    samples = len(pcm) // 2
    if samples == 0:
        raise AudioEncodingError("no audio samples to encode")
    frame = av.audio.frame.AudioFrame(format="s16", layout="mono", samples=samples)
    frame.sample_rate = sample_rate
    frame.planes[0].update(pcm[: samples * 2])
    return _encode([frame], bit_rate)


def audio_to_ogg_opus(data: bytes, *, bit_rate: int = VOICE_BIT_RATE) -> bytes:
    """Decode any audio PyAV can open (MP3, WAV, OGG, ...) and re-encode it as OGG/Opus."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise AudioEncodingError("input has no audio stream")
            return _encode(container.decode(audio=0), bit_rate)
    except av.error.FFmpegError as exc:
        raise AudioEncodingError(f"cannot decode audio: {exc}") from exc


def ogg_duration_seconds(data: bytes) -> float:
    """Playing time of an Ogg/Opus file, from the last page's granule position less pre-skip."""
    if not data.startswith(b"OggS"):
        raise ValueError("not an Ogg stream")
    head = data.find(b"OpusHead")
    if head < 0 or len(data) < head + 12:
        raise ValueError("no OpusHead packet")
    (pre_skip,) = struct.unpack_from("<H", data, head + 10)
    last = data.rfind(b"OggS")
    if len(data) < last + 14:
        raise ValueError("truncated Ogg page")
    (granule,) = struct.unpack_from("<q", data, last + 6)
    return max(0, granule - pre_skip) / OPUS_RATE


def _encode(frames: Iterable[av.AudioFrame], bit_rate: int) -> bytes:
    out = io.BytesIO()
    produced = False
    try:
        with av.open(out, mode="w", format="ogg") as container:
            stream = container.add_stream(
                "libopus", rate=OPUS_RATE, layout="mono", options=dict(_ENCODER_OPTIONS)
            )
            stream.bit_rate = bit_rate
            resampler = av.AudioResampler(format="s16", layout="mono", rate=OPUS_RATE)
            for frame in _resampled(frames, resampler):
                frame.pts = None
                for packet in stream.encode(frame):
                    container.mux(packet)
                    produced = True
            for packet in stream.encode(None):
                container.mux(packet)
                produced = True
    except av.error.FFmpegError as exc:
        raise AudioEncodingError(f"cannot encode Opus: {exc}") from exc
    if not produced:
        raise AudioEncodingError("no audio was decoded")
    return out.getvalue()


def _resampled(
    frames: Iterable[av.AudioFrame], resampler: av.AudioResampler
) -> Iterator[av.AudioFrame]:
    for frame in frames:
        yield from resampler.resample(frame)
    yield from resampler.resample(None)
