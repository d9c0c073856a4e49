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


@dataclass(frozen=True)
class Thresholds:
    answer: float = 62.0
    suggest: float = 42.0
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


def _features(tokens: list[str]) -> set[str]:
    feats = set(tokens)
    feats.update(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))
    return feats


@dataclass
class _Variant:
    entry: int
    text: str
    feats: frozenset[str]
    weight: float


class Matcher:
    """An index over one KnowledgeBase, built once at load time."""

    PREFILTER = 12

    def __init__(self, kb: KnowledgeBase, thresholds: Thresholds | None = None) -> None:
        self.kb = kb
        self.thresholds = thresholds or Thresholds()
        self._ids: list[str] = list(kb.entries)
        norm = kb.normalizer.tokens
        entry_feats: list[set[str]] = []
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
        n = max(len(entry_feats), 1)
        df: dict[str, int] = defaultdict(int)
        for feats in entry_feats:
            for f in feats:
                df[f] += 1
        self._idf = {f: math.log(1 + n / d) for f, d in df.items()}
        self._unknown_idf = math.log(1 + n)
        self._postings: dict[str, list[int]] = defaultdict(list)
        for index, feats in enumerate(entry_feats):
            for f in feats:
                self._postings[f].append(index)
        self._entry_variants: list[list[_Variant]] = [[] for _ in self._ids]
        for index, tokens in raw_variants:
            feats = frozenset(_features(tokens))
            weight = sum(self._idf[f] for f in feats)
            self._entry_variants[index].append(_Variant(index, " ".join(tokens), feats, weight))
        self._vocab = sorted({w for f in df if " " not in f for w in [f]})

    # -- public -----------------------------------------------------------------------------

    def decide(self, question: str) -> Decision:
        ranked = self.rank(question)
        t = self.thresholds
        top = ranked[:3]
        if not ranked or ranked[0].score < t.suggest:
            return Decision(question, "decline", None, ranked[0].score if ranked else 0.0, tuple(top))
        best = ranked[0]
        runner = ranked[1].score if len(ranked) > 1 else 0.0
        if best.score >= t.answer and best.score - runner >= t.margin:
            return Decision(question, "answer", best.id, best.score, tuple(top))
        close = [c for c in ranked[: t.max_suggestions] if c.score >= t.suggest]
        if len(close) == 1 and best.score >= t.answer:
            return Decision(question, "answer", best.id, best.score, tuple(top))
        return Decision(question, "suggest", None, best.score, tuple(top))

    def rank(self, question: str) -> list[Candidate]:
        tokens = self._correct(self.kb.normalizer.tokens(question))
        if not tokens:
            return []
        qfeats = _features(tokens)
        qweights = {f: self._idf.get(f, self._unknown_idf) for f in qfeats}
        # Word pairs the base has never seen are not evidence either way: weigh the words.
        qtotal = sum(w for f, w in qweights.items() if " " not in f or f in self._idf)
        if qtotal <= 0:
            return []
        coverage: dict[int, float] = defaultdict(float)
        for f, w in qweights.items():
            for index in self._postings.get(f, ()):
                coverage[index] += w
        if not coverage:
            return []
        pool = sorted(coverage, key=coverage.__getitem__, reverse=True)[: self.PREFILTER]
        qtext = " ".join(tokens)
        scored = []
        for index in pool:
            entry_cov = min(coverage[index] / qtotal, 1.0)
            best = 0.0
            for v in self._entry_variants[index]:
                shared = sum(qweights[f] for f in v.feats & qfeats)
                if shared <= 0:
                    continue
                cq = min(shared / qtotal, 1.0)
                cv = shared / v.weight if v.weight else 0.0
                overlap = 2 * cq * cv / (cq + cv)
                fuzzy = fuzz.token_set_ratio(qtext, v.text) / 100.0
                best = max(best, 0.55 * overlap + 0.25 * fuzzy + 0.20 * cq)
            score = 100.0 * (0.75 * best + 0.25 * entry_cov) * min(1.0, entry_cov / 0.5)
            scored.append(Candidate(self._ids[index], round(score, 1)))
        scored.sort(key=lambda c: c.score, reverse=True)
        return scored

    # -- helpers ----------------------------------------------------------------------------

    def _correct(self, tokens: list[str]) -> list[str]:
        """Replace unknown words by the closest known word (one or two edits away)."""
        out = []
        for token in tokens:
            if token in self._idf or len(token) < 4 or token.isdigit():
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
