"""Rank knowledge-base entries for a question and decide: answer, suggest or decline.

Method (chosen by measuring on ../shared/eval/dev.yaml, see benchmarks/bench_matching.py):
1. Every question variant, title and keyword list is normalised (text.py) into tokens; the
   features are words and word pairs, weighted by inverse document frequency over entries, so
   words that every entry shares ("người khuyết tật") count little and distinctive ones count.
2. Query words not in the vocabulary are corrected to the closest known word with rapidfuzz
   (typos such as "tro cpa"), when they are close enough.
3. Prefilter: an inverted index from feature to entries scores how much of the query each entry
   explains; only the best few entries go on to fine scoring (this keeps the time per question
   nearly flat as staff add thousands of entries).
4. Fine scoring per candidate entry: the best variant by weighted overlap in both directions,
   blended with rapidfuzz's token_set_ratio on the normalised strings, and with how much of the
   query the entry as a whole explains. A query whose distinctive words the base does not know
   ("trợ cấp thôi việc") keeps a low score: that is what makes the bot decline.
5. Decision from thresholds in config.yaml: answer when the best score is high and clear of the
   runner-up; suggest when a few candidates are close; decline otherwise.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from bot.core.knowledge import KnowledgeBase
from bot.core.text import accented_words, fold


@dataclass(frozen=True)
class Thresholds:
    answer: float = 54.0
    suggest: float = 44.0
    margin: float = 6.0
    max_suggestions: int = 3


@dataclass(frozen=True)
class Candidate:
    id: str
    score: float


@dataclass(frozen=True)
class Decision:
    question: str
    decision: str  # "answer" | "suggest" | "decline"
    id: str | None
    score: float
    candidates: tuple[Candidate, ...]


IDF_MODE = "bm25"


def _idf(n: int, df: int) -> float:
    if IDF_MODE == "bm25":
        return max(math.log((n - df + 0.5) / (df + 0.5) + 1.0), 0.05)
    return math.log(1 + n / df)


def _stretch(ratio: float) -> float:
    """rapidfuzz ratios of unrelated Vietnamese sentences sit near 40-60: keep what is above."""
    return max(0.0, (ratio / 100.0 - 0.4) / 0.6)


def _features(tokens: list[str]) -> set[str]:
    feats = set(tokens)
    # Unordered pairs: "làm việc" and "việc làm" are the same subject to a user.
    feats.update(f"{a} {b}" if a <= b else f"{b} {a}" for a, b in zip(tokens, tokens[1:], strict=False))
    return feats


@dataclass
class _Variant:
    entry: int
    text: str
    feats: frozenset[str]


class Matcher:
    """An index over one KnowledgeBase, built once at load time."""

    PREFILTER = 12
    ANSWER_WEIGHT = 0.3
    W_COV = 0.4
    W_SORT = 0.4
    W_SET = 0.2

    def __init__(self, kb: KnowledgeBase, thresholds: Thresholds | None = None) -> None:
        self.kb = kb
        self.thresholds = thresholds or Thresholds()
        self._ids: list[str] = list(kb.entries)
        norm = kb.normalizer.tokens
        entry_feats: list[set[str]] = []
        answer_feats: list[set[str]] = []
        raw_variants: list[tuple[int, list[str]]] = []
        for index, entry in enumerate(kb.entries.values()):
            texts = [*entry.questions, entry.title]
            if entry.keywords:
                texts.append(" ".join(entry.keywords))
            union: set[str] = set()
            for text in texts:
                tokens = norm(text)
                if tokens:
                    raw_variants.append((index, tokens))
                    union |= _features(tokens)
            for keyword in entry.keywords:
                union |= _features(norm(keyword))
            entry_feats.append(union)
            body = _features(norm(f"{entry.answer_template} {entry.voice_template or ''}"))
            answer_feats.append(body - union)
        n = max(len(entry_feats), 1)
        df: dict[str, int] = defaultdict(int)
        for feats, body in zip(entry_feats, answer_feats, strict=True):
            for f in feats | body:
                df[f] += 1
        self._idf = {f: _idf(n, d) for f, d in df.items()}
        self._unknown_idf = _idf(n, 1)
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, (feats, body) in enumerate(zip(entry_feats, answer_feats, strict=True)):
            for f in feats:
                self._postings[f].append((index, 1.0))
            for f in body:
                self._postings[f].append((index, self.ANSWER_WEIGHT))
        self._entry_variants: list[list[_Variant]] = [[] for _ in self._ids]
        for index, tokens in raw_variants:
            feats = frozenset(_features(tokens))
            self._entry_variants[index].append(_Variant(index, " ".join(tokens), feats))
        accented: set[str] = set()
        for entry in kb.entries.values():
            for text in (*entry.questions, entry.title, *entry.keywords, entry.answer_template):
                accented |= accented_words(text)
            accented |= accented_words(entry.voice_template or "")
        for group in kb.synonyms:
            for word in group:
                accented |= accented_words(word)
        self._accented = frozenset(accented)
        self._vocab = sorted({w for f in df if " " not in f for w in [f]})

    # -- public -----------------------------------------------------------------------------

    def decide(self, question: str) -> Decision:
        ranked = self.rank(question)
        t = self.thresholds
        top = ranked[:3]
        if not ranked or ranked[0].score < t.suggest:
            return Decision(
                question, "decline", None, ranked[0].score if ranked else 0.0, tuple(top)
            )
        best = ranked[0]
        runner = ranked[1].score if len(ranked) > 1 else 0.0
        if best.score >= t.answer and best.score - runner >= t.margin:
            return Decision(question, "answer", best.id, best.score, tuple(top))
        close = [c for c in ranked[: t.max_suggestions] if c.score >= t.suggest]
        if len(close) == 1 and best.score >= t.answer:
            return Decision(question, "answer", best.id, best.score, tuple(top))
        return Decision(question, "suggest", None, best.score, tuple(top))

    def rank(self, question: str) -> list[Candidate]:
        return [c for c, _ in self.explain(question)]

    def explain(self, question: str) -> list[tuple[Candidate, dict[str, float]]]:
        """Ranked candidates with the parts of their score (for tuning and the benchmark)."""
        tokens = self.prepare(question)
        if not tokens:
            return []
        qfeats = _features(tokens)
        # Word pairs the base has never seen are no evidence either way; unknown words are.
        qw = {
            f: self._idf.get(f, self._unknown_idf)
            for f in qfeats
            if " " not in f or f in self._idf
        }
        qtotal = sum(qw.values())
        if qtotal <= 0:
            return []
        coverage: dict[int, float] = defaultdict(float)
        for f, w in qw.items():
            for index, factor in self._postings.get(f, ()):
                coverage[index] += w * factor
        if not coverage:
            return []
        pool = sorted(coverage, key=coverage.__getitem__, reverse=True)[: self.PREFILTER]
        qtext = " ".join(t.lstrip("~") for t in tokens)
        out = []
        for index in pool:
            cov = min(coverage[index] / qtotal, 1.0)
            best_sort = 0.0
            best_set = 0.0
            for v in self._entry_variants[index]:
                best_sort = max(best_sort, fuzz.token_sort_ratio(qtext, v.text))
                best_set = max(best_set, fuzz.token_set_ratio(qtext, v.text))
            parts = {"cov": cov, "sort": _stretch(best_sort), "set": _stretch(best_set)}
            score = 100.0 * (
                self.W_COV * parts["cov"] + self.W_SORT * parts["sort"] + self.W_SET * parts["set"]
            )
            out.append((Candidate(self._ids[index], round(score, 1)), parts))
        out.sort(key=lambda item: item[0].score, reverse=True)
        return out

    def prepare(self, question: str) -> list[str]:
        """Normalised tokens, with accent clashes marked unknown and typos corrected.

        Folding accents merges different words ("Đà Nẵng" and "nặng" both give "nang"). When the
        user typed accents and the accented word is not one the base uses, while its folded
        form is, the word is a different word: it is marked unknown instead of matching.
        """
        tokens = self.kb.normalizer.tokens(question)
        typed = accented_words(question)
        known = {fold(w) for w in typed if w in self._accented}
        clashes = {fold(w) for w in typed if w not in self._accented} - known
        if clashes:
            tokens = [f"~{t}" if t in clashes else t for t in tokens]
        return self._correct(tokens)

    def _correct(self, tokens: list[str]) -> list[str]:
        """Replace unknown words by the closest known word (one or two edits away)."""
        out = []
        for token in tokens:
            if token in self._idf or len(token) < 4 or token.isdigit() or token[0] == "~":
                out.append(token)
                continue
            match = process.extractOne(
                token,
                self._vocab,
                scorer=Levenshtein.distance,
                score_cutoff=1 if len(token) < 7 else 2,
            )
            out.append(match[0] if match else token)
        return out
