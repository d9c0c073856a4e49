"""Vietnamese text normalisation for matching.

Owns the one function every question and every question variant goes through before it is
compared: Unicode NFC, lower case, filler words removed ("cho em hỏi", "ạ", "vậy"), accents
folded (đ -> d) so that typing without accents matches, punctuation dropped, and synonyms and
abbreviations from `knowledge/synonyms.yaml` rewritten to one canonical form.

Ambiguous fillers are removed only where they are unambiguous: "vậy" with its accent anywhere,
but the folded "vay" only at the end of a sentence, because "vay vốn" (a loan) folds the same.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Filler phrases removed wherever they appear (checked on accented and folded text).
_FILLERS_ANYWHERE = (
    "cho em hỏi là",
    "cho em hỏi",
    "cho tôi hỏi",
    "cho mình hỏi",
    "cho cháu hỏi",
    "cho con hỏi",
    "cho tớ hỏi",
    "em muốn hỏi",
    "tôi muốn hỏi",
    "mình muốn hỏi",
    "xin hỏi",
    "cho hỏi",
    "em xin hỏi",
    "làm ơn",
    "vui lòng",
    "xin chào",
    "chào bạn",
    "chào bot",
    "ad ơi",
    "admin ơi",
    "bạn ơi",
    "bot ơi",
    "ạ",
    "vậy",
    "nhỉ",
    "thì",
    "nhé",
    "dạ",
    "à",
    "ơi",
)
# Folded fillers that are also real words: removed only as the last word(s).
_FILLERS_AT_END = ("a", "vay", "voi", "nhe", "nhi", "the", "ha", "day", "z", "k", "ko")
_FILLERS_AT_START = ("da", "em", "toi", "minh", "chau", "cho hoi", "xin chao", "chao ban")

_PUNCT = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACES = re.compile(r"\s+")


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {ord("đ"): "d", ord("Đ"): "d"}
    for start, end in ((0xC0, 0x250), (0x1E00, 0x1F00)):
        for code in range(start, end):
            base = "".join(
                c
                for c in unicodedata.normalize("NFD", chr(code))
                if unicodedata.category(c) != "Mn"
            )
            if base and base != chr(code):
                table[code] = base.lower()
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Lower-case, NFC, accents removed and đ -> d. 'Đặc biệt nặng' -> 'dac biet nang'."""
    text = unicodedata.normalize("NFC", text).lower().translate(_FOLD)
    if not text.isascii():  # rare: combining marks left over (e.g. on non-Latin letters)
        decomposed = unicodedata.normalize("NFD", text)
        text = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return text


def fold_key(text: str) -> str:
    """A comparison key for button labels and command words: folded, no punctuation, single
    spaces. "Hủy đăng ký!" -> "huy dang ky"."""
    return " ".join(_PUNCT.sub(" ", fold(text)).split())


def _clean(text: str) -> str:
    text = _PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def _strip_phrases(text: str, phrases: Iterable[str]) -> str:
    padded = f" {text} "
    for phrase in phrases:
        padded = padded.replace(f" {phrase} ", " ")
    return padded.strip()


_FILLERS_LONGEST_FIRST = tuple(sorted(_FILLERS_ANYWHERE, key=len, reverse=True))
_FOLDED_FILLERS = tuple(sorted({_clean(fold(p)) for p in _FILLERS_ANYWHERE if len(p) > 3}))


@dataclass
class Normalizer:
    """Turns raw text into folded, canonical tokens. Built once from the synonym groups."""

    synonyms: Sequence[Sequence[str]] = ()
    _table: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict, init=False)
    _max_len: int = field(default=1, init=False)
    _by_first: dict[str, list[int]] = field(default_factory=dict, init=False)
    _cache: dict[str, tuple[str, ...]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for group in self.synonyms:
            forms = [_clean(fold(str(w))).split() for w in group if str(w).strip()]
            if not forms:
                continue
            canonical = tuple(forms[0])
            for form in forms[1:]:
                if tuple(form) != canonical:
                    self._table[tuple(form)] = canonical
                    self._max_len = max(self._max_len, len(form))
                    sizes = self._by_first.setdefault(form[0], [])
                    if len(form) not in sizes:
                        sizes.append(len(form))
                        sizes.sort(reverse=True)

    def tokens(self, text: str) -> list[str]:
        """The canonical token list of `text` (may be empty). Memoised: the same question
        variants are normalised by the validator and again by the matcher."""
        cached = self._cache.get(text)
        if cached is None:
            cached = tuple(self._tokens(text))
            if len(self._cache) > 200_000:
                self._cache.clear()
            self._cache[text] = cached
        return list(cached)

    def _tokens(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFC", text or "").lower()
        text = _clean(text)
        # Accented fillers first: unambiguous while the accents are there.
        text = _strip_phrases(text, _FILLERS_LONGEST_FIRST)
        folded = _clean(fold(text))
        folded = _strip_phrases(folded, _FOLDED_FILLERS)
        words = folded.split()
        words = _trim_edges(words)
        return self._canonical(words)

    def normalize(self, text: str) -> str:
        return " ".join(self.tokens(text))

    def _canonical(self, words: list[str]) -> list[str]:
        if not self._table:
            return words
        out: list[str] = []
        i = 0
        n = len(words)
        while i < n:
            for size in self._by_first.get(words[i], ()):
                if i + size <= n:
                    replacement = self._table.get(tuple(words[i : i + size]))
                    if replacement is not None:
                        out.extend(replacement)
                        i += size
                        break
            else:
                out.append(words[i])
                i += 1
        return out


def _trim_edges(words: list[str]) -> list[str]:
    changed = True
    while changed and len(words) > 1:
        changed = False
        for phrase in _FILLERS_AT_END:
            parts = phrase.split()
            if len(words) > len(parts) and words[-len(parts) :] == parts:
                words = words[: -len(parts)]
                changed = True
        for phrase in _FILLERS_AT_START:
            parts = phrase.split()
            if len(words) > len(parts) + 1 and words[: len(parts)] == parts:
                words = words[len(parts) :]
                changed = True
    return words


def accented_words(text: str) -> set[str]:
    """The lower-case words of `text` that carry Vietnamese diacritics (or đ)."""
    words = _clean(unicodedata.normalize("NFC", text or "").lower()).split()
    return {w for w in words if not w.isascii()}


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def has_tone(word: str) -> bool:
    """True when the word carries a Vietnamese tone mark (huyền, sắc, ngã, hỏi, nặng)."""
    return any(c in _TONES for c in unicodedata.normalize("NFD", word))
