"""Speech for voice replies: text normalisation, engines (gTTS, offline eSpeak NG), OGG/Opus, cache.

Adapters use `SpeechService.prepare(text)` (blocking; run it with `asyncio.to_thread`) and send
the returned `VoiceNote` with Telegram's sendVoice, then `remember_file_id` the id Telegram gave.
"""

from bot.speech.cache import MemoryVoiceIndex, VoiceCache, VoiceIndex
from bot.speech.engines import (
    EspeakEngine,
    FallbackSynthesizer,
    GTTSEngine,
    SpeechUnavailableError,
    SynthesisError,
    Synthesizer,
)
from bot.speech.normalize import limit_for_speech, text_for_speech
from bot.speech.opus import audio_to_ogg_opus, ogg_duration_seconds, pcm_to_ogg_opus
from bot.speech.service import SpeechService, VoiceNote

__all__ = [
    "EspeakEngine",
    "FallbackSynthesizer",
    "GTTSEngine",
    "MemoryVoiceIndex",
    "SpeechService",
    "SpeechUnavailableError",
    "SynthesisError",
    "Synthesizer",
    "VoiceCache",
    "VoiceIndex",
    "VoiceNote",
    "audio_to_ogg_opus",
    "limit_for_speech",
    "ogg_duration_seconds",
    "pcm_to_ogg_opus",
    "text_for_speech",
]
