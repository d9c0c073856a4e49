"""Rank knowledge-base entries for a question and decide: answer, suggest or decline.

Method (chosen by measuring on ../shared/eval/dev.yaml and an independent paraphrase set,
benchmarks/eval_extra.yaml; plain WRatio / token-set / token-sort scans ranked far worse):
1. Questions, titles and keywords are normalised (text.py) into tokens; features are words and
   unordered word pairs, weighted by rarity (BM25-style IDF over entries), so words every entry
   shares ("người khuyết tật") count little and distinctive ones count much.
2. Query words the base does not know are corrected to the closest known word (rapidfuzz,
   one or two edits). A word typed with a tone mark the base never uses is a different word
   ("Đà Nẵng" is not "nặng"): it stays unknown.
3. Prefilter: an inverted index scores how much of the question each entry explains, using
   only features rare enough to discriminate; the best 12 entries go on (time per question
   stays nearly flat as the base grows).
4. Fine score per candidate: 0.4 x coverage of the question by the entry's variants and keywords
   (its answer text counts 0.3), 0.4 x token-sort and 0.2 x token-set ratio of the best variant
   (rapidfuzz), stretched so unrelated sentences score near zero. Unknown words stay in the
   question's weight: "trợ cấp thôi việc" scores low because "thôi việc" is unexplained.
5. Decision with thresholds from config.yaml: answer when the best score is high enough and
   ahead of the runner-up, suggest when it is only close, decline otherwise. A question with no
   word of the domain (knowledge/domain.yaml) must reach higher scores.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
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


def _csr(rows: list[list[int]]) -> tuple[array, array]:
    """Rows of ints as (starts, data): row r is data[starts[r]:starts[r + 1]]."""
    starts = array("I", [0])
    data = array("I")
    for row in rows:
        data.extend(row)
        starts.append(len(data))
    return starts, data


def _invert(rows: list[list[int]], width: int) -> list[list[int]]:
    """Row -> features becomes feature -> rows (the postings)."""
    out: list[list[int]] = [[] for _ in range(width)]
    for r, row in enumerate(rows):
        for feature in row:
            out[feature].append(r)
    return out


def _has(sorted_ids: array, value: int) -> bool:
    i = bisect_left(sorted_ids, value)
    return i < len(sorted_ids) and sorted_ids[i] == value


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
        fid: dict[str, int] = {}
        qfeats: list[list[int]] = []
        afeats: list[list[int]] = []
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
            qfeats.append(sorted(fid.setdefault(f, len(fid)) for f in union))
            afeats.append(sorted(fid.setdefault(f, len(fid)) for f in body - union))
            self._variants.append(tuple(variants))
            for text in (*texts, entry.answer_template, entry.voice_template or ""):
                accented |= accented_words(text)
        for group in kb.synonyms:
            for word in group:
                accented |= accented_words(word)
        self._accented = frozenset(accented)
        self._fid = fid
        # Compact arrays (CSR: starts + data) instead of millions of small objects: the index
        # of a 10,000-entry base stays small in memory and loads fast from the cache.
        self._qstart, self._qdata = _csr(qfeats)
        self._astart, self._adata = _csr(afeats)
        self._pstart, self._pdata = _csr(_invert(qfeats, len(fid)))
        self._apstart, self._apdata = _csr(_invert(afeats, len(fid)))
        n = max(len(self._ids), 1)
        self._idf = array(
            "d",
            (_idf(n, self._df(i)) for i in range(len(fid))),
        )
        self._unknown_idf = _idf(n, 1)
        # Features in more entries than this are left out of the prefilter (they rank nothing)
        # and counted exactly for the few entries that go on to fine scoring.
        self._common_df = max(64, n // 20)
        self._vocab = sorted(f for f in fid if " " not in f)
        self._domain = tuple(" ".join(t) for t in (norm(w) for w in kb.domain_words) if t)

    def _df(self, feature: int) -> int:
        return (
            self._pstart[feature + 1]
            - self._pstart[feature]
            + self._apstart[feature + 1]
            - self._apstart[feature]
        )

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
        return [c for c, _ in self._explain_tokens(self.prepare(question))]

    def _explain_tokens(self, tokens: list[str]) -> list[tuple[Candidate, dict[str, float]]]:
        """Ranked candidates with the parts of their score (coverage, fuzzy ratios)."""
        if not tokens:
            return []
        qfeats = _features(tokens)
        fid = self._fid
        # Word pairs the base has never seen are no evidence either way; unknown words are.
        qw: dict[int, float] = {}
        unknown = 0.0
        for f in qfeats:
            i = fid.get(f)
            if i is not None:
                qw[i] = self._idf[i]
            elif " " not in f:
                unknown += self._unknown_idf
        qtotal = sum(qw.values()) + unknown
        if qtotal <= 0 or not qw:
            return []
        coverage: dict[int, float] = defaultdict(float)
        common = self._common_df
        answer_weight = self.ANSWER_WEIGHT
        pstart, pdata, apstart, apdata = self._pstart, self._pdata, self._apstart, self._apdata
        for i, w in qw.items():
            if self._df(i) > common:
                continue
            for index in pdata[pstart[i] : pstart[i + 1]]:
                coverage[index] += w
            for index in apdata[apstart[i] : apstart[i + 1]]:
                coverage[index] += w * answer_weight
        if not coverage:  # only very common words: rank everything by them (rare)
            for i, w in qw.items():
                for index in pdata[pstart[i] : pstart[i + 1]]:
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
            qf = self._qdata[self._qstart[index] : self._qstart[index + 1]]
            af = self._adata[self._astart[index] : self._astart[index + 1]]
            covered = sum(
                w if _has(qf, i) else (w * answer_weight if _has(af, i) else 0.0)
                for i, w in qw.items()
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
            if token in self._fid or len(token) < 4 or token.isdigit() or token[0] == "~":
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
