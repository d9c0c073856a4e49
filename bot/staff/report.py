"""What people asked, summarised for staff: `/stats`, `/unanswered` and `report` (text, CSV).

Owns the figures (questions today / 7 days / 30 days, share answered / suggested / declined,
people, top topics, voice users, subscribers), the grouping of near-duplicate unanswered
questions (normalised text, then rapidfuzz's token_sort_ratio) with the entry each group most
likely belongs to, and their Vietnamese text and CSV forms. Nothing here shows a user id, a
name or a phone number: it reads only the masked question log and counts.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from bot.staff.questionlog import LoggedQuestion, QuestionLog, day_start

GROUP_SIMILARITY = 85.0
MAX_GROUPS = 10
DECISION_LABELS = {
    "answer": "trả lời ngay",
    "suggest": "gợi ý chủ đề",
    "decline": "chưa trả lời được",
}


@dataclass(frozen=True)
class Stats:
    days: int
    today: int
    week: int
    month: int
    window: int
    decisions: dict[str, int]
    people: int
    top: tuple[tuple[str, int], ...]
    voice_users: int
    subscribers: int | None


@dataclass(frozen=True)
class Group:
    """Near-duplicate unanswered questions: the most frequent wording and the likely entry."""

    question: str
    count: int
    variants: tuple[str, ...]
    proposal: str | None
    score: float


def collect_stats(qlog: QuestionLog, store: Any, days: int = 30, now: float | None = None) -> Stats:
    now = time.time() if now is None else now
    since = day_start(now, days - 1)
    voice = store.voice_users() if hasattr(store, "voice_users") else 0
    return Stats(
        days=days,
        today=qlog.count(day_start(now)),
        week=qlog.count(day_start(now, 6)),
        month=qlog.count(day_start(now, 29)),
        window=qlog.count(since),
        decisions=qlog.decisions(since),
        people=qlog.people(since),
        top=tuple(qlog.top_entries(since)),
        voice_users=voice,
        subscribers=_subscribers(store),
    )


def _subscribers(store: Any) -> int | None:
    """Subscribers from the outreach feature's table, when it exists."""
    tables = {row[0] for row in store.query("SELECT name FROM sqlite_master WHERE type='table'")}
    for name in ("outreach_subscribers", "subscribers", "subscriptions"):
        if name in tables:
            columns = {row[1] for row in store.query(f"PRAGMA table_info({name})")}
            where = " WHERE active = 1" if "active" in columns else ""
            return store.query(f"SELECT COUNT(*) FROM {name}{where}")[0][0]
    return None


def group_unanswered(
    rows: Sequence[LoggedQuestion], kb: Any, matcher: Any, limit: int = MAX_GROUPS
) -> list[Group]:
    """Group near-duplicate questions; drop groups the current base now answers."""
    by_key: dict[str, Counter[str]] = {}
    last_seen: dict[str, float] = {}
    for row in rows:
        key = kb.normalizer.normalize(row.question)
        if not key:
            continue
        by_key.setdefault(key, Counter())[row.question] += 1
        last_seen[key] = max(last_seen.get(key, 0.0), row.ts)
    order = sorted(by_key, key=lambda k: (-sum(by_key[k].values()), -last_seen[k], k))
    clusters: list[tuple[str, Counter[str]]] = []
    for key in order:
        reps = [rep for rep, _ in clusters]
        hit = process.extractOne(
            key, reps, scorer=fuzz.token_sort_ratio, score_cutoff=GROUP_SIMILARITY
        )
        if hit is not None:
            clusters[hit[2]][1].update(by_key[key])
        else:
            clusters.append((key, Counter(by_key[key])))
    groups: list[Group] = []
    for _, texts in clusters:
        question = texts.most_common(1)[0][0]
        decision = matcher.decide(question)
        if decision.decision == "answer":
            continue  # staff already covered it since
        best = decision.candidates[0] if decision.candidates else None
        variants = tuple(t for t, _ in texts.most_common() if t != question)
        groups.append(
            Group(
                question=question,
                count=sum(texts.values()),
                variants=variants,
                proposal=best.id if best is not None and best.id in kb.entries else None,
                score=best.score if best is not None else 0.0,
            )
        )
    groups.sort(key=lambda g: -g.count)
    return groups[:limit]


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"


def stats_text(stats: Stats, kb: Any) -> str:
    total = sum(stats.decisions.values())
    shares = ", ".join(
        f"{label} {_share(stats.decisions.get(key, 0), total)} ({stats.decisions.get(key, 0)})"
        for key, label in DECISION_LABELS.items()
    )
    lines = [
        "Thống kê câu hỏi (giờ Việt Nam)",
        f"Hôm nay: {stats.today} câu. 7 ngày: {stats.week} câu. 30 ngày: {stats.month} câu.",
        f"Trong {stats.days} ngày qua ({stats.window} câu): {shares}.",
        f"Số người đã hỏi trong {stats.days} ngày: {stats.people}.",
    ]
    if stats.top:
        lines.append(f"Chủ đề được hỏi nhiều nhất ({stats.days} ngày):")
        for i, (entry_id, count) in enumerate(stats.top, 1):
            lines.append(f"{i}. {_title(kb, entry_id)}: {count} lần")
    else:
        lines.append("Chưa có câu hỏi nào được trả lời trong thời gian này.")
    lines.append(f"Người dùng bật giọng đọc: {stats.voice_users}.")
    if stats.subscribers is not None:
        lines.append(f"Người đăng ký nhận thông báo: {stats.subscribers}.")
    return "\n".join(lines)


def unanswered_text(groups: Sequence[Group], kb: Any, days: int = 30) -> str:
    if not groups:
        return f"Trong {days} ngày qua không có câu hỏi nào mà trợ lý chưa trả lời được."
    lines = [
        f"Câu hỏi chưa trả lời được hoặc chưa chắc chắn ({days} ngày qua), "
        "các câu gần giống nhau được gộp lại:"
    ]
    for i, group in enumerate(groups, 1):
        line = f'{i}. "{group.question}" ({group.count} lần)'
        if group.variants:
            shown = "; ".join(f'"{v}"' for v in group.variants[:3])
            more = f" và {len(group.variants) - 3} cách hỏi khác" if len(group.variants) > 3 else ""
            line += f"\n   Cách hỏi gần giống: {shown}{more}"
        if group.proposal is not None:
            line += f"\n   Có thể thuộc chủ đề: {_title(kb, group.proposal)}"
        else:
            line += "\n   Chưa có chủ đề nào gần: cần viết câu trả lời mới."
        lines.append(line)
    lines.append(
        "Bấm nút hoặc gõ số để thêm câu hỏi làm một cách hỏi của chủ đề được gợi ý. "
        "Trợ lý kiểm tra, sao lưu tệp rồi nạp lại."
    )
    return "\n".join(lines)


def report_text(stats: Stats, groups: Sequence[Group], kb: Any) -> str:
    return stats_text(stats, kb) + "\n\n" + unanswered_text(groups, kb, stats.days)


def report_csv(stats: Stats, groups: Sequence[Group], kb: Any) -> str:
    """One CSV: section, item, count, detail (share, title or proposed entry)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "item", "count", "detail"])
    writer.writerow(["questions", "today", stats.today, ""])
    writer.writerow(["questions", "7_days", stats.week, ""])
    writer.writerow(["questions", "30_days", stats.month, ""])
    writer.writerow(["questions", f"{stats.days}_days", stats.window, ""])
    total = sum(stats.decisions.values())
    for key in DECISION_LABELS:
        count = stats.decisions.get(key, 0)
        writer.writerow(["decision", key, count, _share(count, total)])
    writer.writerow(["people", f"{stats.days}_days", stats.people, ""])
    for entry_id, count in stats.top:
        writer.writerow(["top_topic", entry_id, count, _title(kb, entry_id)])
    writer.writerow(["users", "voice_on", stats.voice_users, ""])
    if stats.subscribers is not None:
        writer.writerow(["users", "subscribers", stats.subscribers, ""])
    for group in groups:
        detail = group.proposal or ""
        writer.writerow(["unanswered", group.question, group.count, detail])
    return out.getvalue()


def _title(kb: Any, entry_id: str) -> str:
    entry = kb.entries.get(entry_id)
    return entry.title if entry is not None else f"{entry_id} (đã gỡ)"
