"""Accuracy of the answer engine on ../shared/eval/dev.yaml (development questions).

In-scope questions must be answered with the right entry (decision "answer", right id) at a
rate of at least 0.95, with and without accents; every `_none` question must be declined.
"""

from __future__ import annotations

import yaml

from bot.app import matcher_factory
from bot.config import load_settings
from bot.core.text import fold
from tests.conftest import DEV_SET, ROOT


def _load(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _score(matcher, data, transform=lambda q: q):
    right = total = 0
    misses = []
    for topic, questions in data.items():
        if topic == "_none":
            continue
        for q in questions:
            total += 1
            d = matcher.decide(transform(q))
            if d.decision == "answer" and d.id == topic:
                right += 1
            else:
                misses.append((topic, q, d.decision, [(c.id, c.score) for c in d.candidates]))
    return right / total, misses


def _matcher(real_kb):
    return matcher_factory(load_settings())(real_kb)


def test_dev_set_top1_accuracy(real_kb):
    accuracy, misses = _score(_matcher(real_kb), _load(DEV_SET))
    assert accuracy >= 0.95, misses


def test_dev_set_without_accents(real_kb):
    accuracy, misses = _score(_matcher(real_kb), _load(DEV_SET), fold)
    assert accuracy >= 0.95, misses


def test_dev_set_out_of_scope_declined(real_kb):
    matcher = _matcher(real_kb)
    wrong = [(q, matcher.decide(q).decision) for q in _load(DEV_SET)["_none"]]
    assert all(d == "decline" for _, d in wrong), wrong


def test_independent_paraphrase_set_no_confident_wrong_answers(real_kb):
    """benchmarks/eval_extra.yaml, written without seeing the knowledge base: a confident wrong
    answer is the worst outcome, so it must stay rare."""
    data = _load(ROOT / "benchmarks" / "eval_extra.yaml")
    matcher = _matcher(real_kb)
    wrong = []
    for topic, questions in data.items():
        for q in questions:
            d = matcher.decide(q)
            if d.decision == "answer" and d.id != (None if topic == "_none" else topic):
                wrong.append((topic, q, d.id))
    total = sum(len(v) for v in data.values())
    assert len(wrong) / total <= 0.03, wrong
