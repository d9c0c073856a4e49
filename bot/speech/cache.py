"""Voice note cache: audio files on disk and the index of Telegram file ids.

Owns where synthesised audio lives (`<dir>/<engine>-<sha256 of speech text>.ogg`, written
atomically so a crash never leaves half a file) and the `VoiceIndex` seam that remembers the
Telegram `file_id` of a note already uploaded, so it can be re-sent without uploading again.
The SQLite index lives in storage; `MemoryVoiceIndex` serves tests and the console.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

_ENGINE_NAME = re.compile(r"[a-z0-9_]+")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_TEMP_SUFFIX = ".tmp"
_STALE_TEMP_S = 3600


class VoiceIndex(Protocol):
    """Maps a voice note key to the Telegram file_id it got when first uploaded."""

    def get_file_id(self, key: str) -> str | None: ...

    def set_file_id(self, key: str, file_id: str) -> None: ...


class MemoryVoiceIndex:
    """A `VoiceIndex` in a dict (tests, console)."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def get_file_id(self, key: str) -> str | None:
        with self._lock:
            return self._ids.get(key)

    def set_file_id(self, key: str, file_id: str) -> None:
        with self._lock:
            self._ids[key] = file_id


def speech_digest(speech_text: str) -> str:
    """sha256 hex digest of the normalised speech text."""
    return hashlib.sha256(speech_text.encode("utf-8")).hexdigest()


def voice_key(engine: str, digest: str) -> str:
    """The cache and index key of one engine's audio for one text: "espeak-<digest>"."""
    if not _ENGINE_NAME.fullmatch(engine):
        raise ValueError(f"engine name must match [a-z0-9_]+: {engine!r}")
    if not _DIGEST.fullmatch(digest):
        raise ValueError("digest must be a sha256 hex digest")
    return f"{engine}-{digest}"


class VoiceCache:
    """OGG/Opus files keyed by engine and text digest."""

    def __init__(self, directory: Path) -> None:
        self._dir = Path(directory)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._remove_stale_temp_files()

    @property
    def directory(self) -> Path:
        return self._dir

    def path_for(self, engine: str, digest: str) -> Path:
        return self._dir / f"{voice_key(engine, digest)}.ogg"

    def get(self, engine: str, digest: str) -> Path | None:
        path = self.path_for(engine, digest)
        try:
            return path if path.stat().st_size > 0 else None
        except FileNotFoundError:
            return None

    def find(self, digest: str, preferred: Sequence[str]) -> tuple[str, Path] | None:
        """Cached audio for `digest`: the first of `preferred` engines, then any other engine."""
        for engine in preferred:
            path = self.get(engine, digest)
            if path is not None:
                return engine, path
        for path in sorted(self._dir.glob(f"*-{digest}.ogg")):
            engine = path.name[: -len(f"-{digest}.ogg")]
            if _ENGINE_NAME.fullmatch(engine) and self.get(engine, digest) is not None:
                return engine, path
        return None

    def put(self, engine: str, digest: str, data: bytes) -> Path:
        """Write atomically: a temp file in the same directory, fsync, then os.replace."""
        path = self.path_for(engine, digest)
        fd, temp_name = tempfile.mkstemp(
            dir=self._dir, prefix=f".{path.stem}.", suffix=_TEMP_SUFFIX
        )
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        return path

    def _remove_stale_temp_files(self) -> None:
        """Temp files left by a crash mid-write (fresh ones may belong to a live writer)."""
        cutoff = time.time() - _STALE_TEMP_S
        for temp in self._dir.glob(f".*{_TEMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                if temp.stat().st_mtime < cutoff:
                    temp.unlink()
