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
import sys
from array import array
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from bot.core.knowledge import KnowledgeBase
from bot.core.text import accented_words, fold, has_tone


@dataclass(frozen=True)
class Thresholds:
    """Decision limits on the 0-100 score. A question with no word of the domain (see
    knowledge/domain.yaml: "khuyết tật", "trợ cấp", ...) must clear the `*_no_domain` limits."""

    answer: float = 54.0
    suggest: float = 48.0
    margin: float = 3.0
    answer_no_domain: float = 70.0
    suggest_no_domain: float = 70.0
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
    feats.update(
        f"{a} {b}" if a <= b else f"{b} {a}" for a, b in zip(tokens, tokens[1:], strict=False)
    )
    return feats


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
        intern = sys.intern
        self._qfeats: list[frozenset[str]] = []
        self._afeats: list[frozenset[str]] = []
        self._variants: list[tuple[str, ...]] = []
        accented: set[str] = set()
        for entry in kb.entries.values():
            texts = [*entry.questions, entry.title, *entry.keywords]
            if entry.keywords:
                texts.append(" ".join(entry.keywords))
            union: set[str] = set()
            variants = []
            for text in texts:
                tokens = norm(text)
                if tokens:
                    variants.append(" ".join(tokens))
                    union |= _features(tokens)
            body = _features(norm(f"{entry.answer_template} {entry.voice_template or ''}"))
            self._qfeats.append(frozenset(intern(f) for f in union))
            self._afeats.append(frozenset(intern(f) for f in body - union))
            self._variants.append(tuple(variants))
            for text in (*texts, entry.answer_template, entry.voice_template or ""):
                accented |= accented_words(text)
        for group in kb.synonyms:
            for word in group:
                accented |= accented_words(word)
        self._accented = frozenset(accented)
        self._postings: dict[str, array] = defaultdict(lambda: array("I"))
        self._apostings: dict[str, array] = defaultdict(lambda: array("I"))
        for index, (qf, af) in enumerate(zip(self._qfeats, self._afeats, strict=True)):
            for f in qf:
                self._postings[f].append(index)
            for f in af:
                self._apostings[f].append(index)
        self._postings = dict(self._postings)
        self._apostings = dict(self._apostings)
        n = max(len(self._ids), 1)
        df: dict[str, int] = {f: len(p) for f, p in self._postings.items()}
        for f, p in self._apostings.items():
            df[f] = df.get(f, 0) + len(p)
        self._idf = {f: _idf(n, d) for f, d in df.items()}
        self._unknown_idf = _idf(n, 1)
        # Features in more entries than this are left out of the prefilter (they rank nothing)
        # and counted exactly for the few entries that go on to fine scoring.
        self._common_df = max(64, n // 20)
        self._vocab = sorted(f for f in df if " " not in f)
        self._domain = tuple(" ".join(t) for t in (norm(w) for w in kb.domain_words) if t)

    # -- public -----------------------------------------------------------------------------

    def decide(self, question: str) -> Decision:
        tokens = self.prepare(question)
        ranked = [c for c, _ in self._explain_tokens(tokens)]
        t = self.thresholds
        in_domain = self.in_domain(tokens)
        answer_at = t.answer if in_domain else t.answer_no_domain
        suggest_at = t.suggest if in_domain else t.suggest_no_domain
        top = tuple(ranked[:3])
        if not ranked or ranked[0].score < suggest_at:
            return Decision(question, "decline", None, ranked[0].score if ranked else 0.0, top)
        best = ranked[0]
        runner = ranked[1].score if len(ranked) > 1 else 0.0
        if best.score >= answer_at and best.score - runner >= t.margin:
            return Decision(question, "answer", best.id, best.score, top)
        return Decision(question, "suggest", None, best.score, top)

    def in_domain(self, tokens: list[str]) -> bool:
        """Does the question hold a word of the domain (knowledge/domain.yaml)?"""
        padded = f" {' '.join(tokens)} "
        return any(f" {phrase} " in padded for phrase in self._domain)

    def rank(self, question: str) -> list[Candidate]:
        return [c for c, _ in self.explain(question)]

    def explain(self, question: str) -> list[tuple[Candidate, dict[str, float]]]:
        """Ranked candidates with the parts of their score (for tuning and the benchmark)."""
        return self._explain_tokens(self.prepare(question))

    def _explain_tokens(self, tokens: list[str]) -> list[tuple[Candidate, dict[str, float]]]:
        if not tokens:
            return []
        qfeats = _features(tokens)
        # Word pairs the base has never seen are no evidence either way; unknown words are.
        qw = {
            f: self._idf.get(f, self._unknown_idf) for f in qfeats if " " not in f or f in self._idf
        }
        qtotal = sum(qw.values())
        if qtotal <= 0:
            return []
        coverage: dict[int, float] = defaultdict(float)
        common = self._common_df
        answer_weight = self.ANSWER_WEIGHT
        for f, w in qw.items():
            posting = self._postings.get(f)
            aposting = self._apostings.get(f)
            if len(posting or ()) + len(aposting or ()) > common:
                continue
            for index in posting or ():
                coverage[index] += w
            for index in aposting or ():
                coverage[index] += w * answer_weight
        if not coverage:  # only very common words: rank everything by them (rare)
            for f, w in qw.items():
                for index in self._postings.get(f, ()):
                    coverage[index] += w
        if not coverage:
            return []
        pool = sorted(coverage, key=coverage.__getitem__, reverse=True)[: self.PREFILTER]
        qtext = " ".join(t.lstrip("~") for t in tokens)
        texts: list[str] = []
        owners: list[int] = []
        for index in pool:
            texts.extend(self._variants[index])
            owners.extend([index] * len(self._variants[index]))
        best_sort: dict[int, float] = defaultdict(float)
        best_set: dict[int, float] = defaultdict(float)
        for scorer, best in ((fuzz.token_sort_ratio, best_sort), (fuzz.token_set_ratio, best_set)):
            for _text, ratio, i in process.extract(
                qtext, texts, scorer=scorer, processor=None, limit=None
            ):
                if ratio > best[owners[i]]:
                    best[owners[i]] = ratio
        out = []
        for index in pool:
            qf = self._qfeats[index]
            af = self._afeats[index]
            covered = sum(
                w if f in qf else (w * answer_weight if f in af else 0.0) for f, w in qw.items()
            )
            parts = {
                "cov": min(covered / qtotal, 1.0),
                "sort": _stretch(best_sort[index]),
                "set": _stretch(best_set[index]),
            }
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
        # A word typed without its tone mark is taken as a slip ("khuyêt"); a word with a tone
        # mark the base never uses is a different word ("Nẵng" is not "nặng").
        clashes = {fold(w) for w in typed if w not in self._accented and has_tone(w)} - known
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
