"""Entitlement rules evaluated for a profile, with their legal basis and FAQ entry ids.

Owns the rules model read from `knowledge/entitlements.yaml` (see `entitlement_rules` for the
loader and its validation), the `Profile` of a person with a disability and its parsing from
JSON, the base rate in force on a day (`base_rate`), and the pure `evaluate` that turns a profile
into monthly amounts, other entitlements and notes. No amount is written in this module: every
figure comes from the rules file.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.core.entitlement_rules import (
    AGE_GROUPS,
    CARERS,
    FAMILIES,
    LEVELS,
    REGIONS,
    CareGroup,
    Condition,
    EntryRef,
    Item,
    NoteRule,
    OtherEntitlement,
    RateEntry,
    Rules,
    check_entry_ids,
    load_rules,
)

__all__ = [
    "AGE_GROUPS",
    "CARERS",
    "FAMILIES",
    "LEVELS",
    "REGIONS",
    "CareGroup",
    "Condition",
    "EntitlementItem",
    "EntryRef",
    "Item",
    "NoteRule",
    "OtherEntitlement",
    "Profile",
    "ProfileError",
    "RateEntry",
    "Result",
    "Rules",
    "amount_of",
    "base_rate",
    "check_entry_ids",
    "evaluate",
    "facts_of",
    "family_of",
    "load_rules",
    "parse_profile",
    "rate_entry",
    "result_to_json",
]

logger = logging.getLogger(__name__)

_PROFILE_FIELDS = (
    "level",
    "age",
    "pregnant",
    "children_under_36_months",
    "carer",
    "region",
    "date",
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_AGE = 130
_MAX_CHILDREN = 20


class ProfileError(ValueError):
    """A profile that cannot be evaluated; `message` is one clear line for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, kw_only=True)
class Profile:
    """The person with a disability whose entitlements are evaluated."""

    level: str
    age: int
    pregnant: bool = False
    children_under_36_months: int = 0
    carer: str = "none"
    region: str
    date: date


@dataclass(frozen=True)
class EntitlementItem:
    """One monthly amount: `recipient` is "person" or "carer"; `kind` "allowance" or "care"."""

    name: str
    coefficient: float
    amount: int
    basis: str
    entry: str
    recipient: str
    key: str = ""
    kind: str = "allowance"


@dataclass(frozen=True)
class Result:
    """What a profile receives on `profile.date`; amounts are whole đồng."""

    profile: Profile
    base_rate: int
    base_rate_basis: str
    base_rate_since: date
    monthly_allowance: int
    care_support: int
    total_monthly: int
    items: tuple[EntitlementItem, ...]
    other_entitlements: tuple[str, ...]
    notes: tuple[str, ...]
    bases: tuple[str, ...] = field(default=())


def parse_profile(data: Any, default_region: str, today: date) -> Profile:
    """Build a Profile from decoded JSON; raise ProfileError with one clear line if invalid."""
    if not isinstance(data, dict):
        raise ProfileError('the profile must be a JSON object, e.g. {"level": "nang", "age": 40}')
    for name in data:
        if name not in _PROFILE_FIELDS:
            raise ProfileError(
                f"unknown field '{name}' (known fields: {', '.join(_PROFILE_FIELDS)})"
            )
    level = _choice(data, "level", LEVELS, None)
    age = _whole(data, "age", None, _MAX_AGE)
    pregnant = data.get("pregnant", False)
    if not isinstance(pregnant, bool):
        raise ProfileError("'pregnant' must be true or false")
    children = _whole(data, "children_under_36_months", 0, _MAX_CHILDREN)
    carer = _choice(data, "carer", CARERS, "none")
    region = _choice(data, "region", REGIONS, default_region)
    on = _profile_date(data.get("date"), today)
    return Profile(
        level=level,
        age=age,
        pregnant=pregnant,
        children_under_36_months=children,
        carer=carer,
        region=region,
        date=on,
    )


def _choice(data: dict, name: str, allowed: tuple[str, ...], default: str | None) -> str:
    value = data.get(name, default)
    if value is None:
        raise ProfileError(f"missing field '{name}' (one of: {', '.join(allowed)})")
    if not isinstance(value, str) or value not in allowed:
        raise ProfileError(f"unknown {name} {value!r} (use one of: {', '.join(allowed)})")
    return value


def _whole(data: dict, name: str, default: int | None, maximum: int) -> int:
    value = data.get(name, default)
    if value is None:
        raise ProfileError(f"missing field '{name}' (a whole number of years)")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProfileError(f"'{name}' must be a whole number, not {value!r}")
    if value < 0:
        raise ProfileError(f"'{name}' cannot be negative ({value})")
    if value > maximum:
        raise ProfileError(f"'{name}' is too large ({value}; at most {maximum})")
    return value


def _profile_date(value: Any, today: date) -> date:
    if value is None:
        return today
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ProfileError(f"'date' must be a date written YYYY-MM-DD, not {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ProfileError(f"'date' {value!r} is not a real date (YYYY-MM-DD)") from None


def rate_entry(rules: Rules, region: str, on: date) -> RateEntry:
    """The base-rate entry that applies in `region` on `on`.

    Outside `national`, the higher of the national rate and the region's own rate in force that
    day applies; on a tie the national entry is used. Raises ProfileError for an unknown region
    or a day before any rate.
    """
    if region not in REGIONS:
        raise ProfileError(f"unknown region {region!r} (use one of: {', '.join(REGIONS)})")
    best = _in_force(rules.base_rates.get("national", ()), on)
    if region != "national":
        local = _in_force(rules.base_rates.get(region, ()), on)
        if local is not None and (best is None or local.amount > best.amount):
            best = local
    if best is None:
        raise ProfileError(f"no base rate is known for {on.isoformat()} (the date is too early)")
    return best


def base_rate(rules: Rules, region: str, on: date) -> int:
    """The base rate (mức chuẩn trợ giúp xã hội) in whole đồng for `region` on `on`."""
    return rate_entry(rules, region, on).amount


def _in_force(entries: tuple[RateEntry, ...], on: date) -> RateEntry | None:
    found = None
    for entry in entries:
        if entry.since <= on:
            found = entry
    return found


def family_of(pregnant: bool, children_under_36_months: int) -> str:
    """The `family` condition value for a pregnancy and a number of children under 36 months."""
    if (pregnant and children_under_36_months >= 1) or children_under_36_months >= 2:
        return "pregnant_and_child_or_two_children"
    if pregnant or children_under_36_months == 1:
        return "pregnant_or_one_child"
    return "none"


def facts_of(rules: Rules, profile: Profile) -> dict[str, str]:
    """The condition facts of a profile (level, age_group, region, carer, family)."""
    return {
        "level": profile.level,
        "age_group": rules.age_group(profile.age),
        "region": profile.region,
        "carer": profile.carer,
        "family": family_of(profile.pregnant, profile.children_under_36_months),
    }


def evaluate(rules: Rules, profile: Profile) -> Result:
    """Evaluate a profile against the rules (pure; raises ProfileError for a date too early)."""
    rate = rate_entry(rules, profile.region, profile.date)
    facts = facts_of(rules, profile)
    notes: list[str] = []
    items: list[EntitlementItem] = []
    bases: list[str] = [rate.basis]

    allowance = _highest(item for item in rules.allowance if item.when.matches(facts))
    if allowance is not None:
        items.append(_amount_item(allowance, rate.amount, "person", "allowance"))
        bases.append(rules.allowance_basis)
    elif rules.allowance_none_note:
        notes.append(rules.notes[rules.allowance_none_note])

    for group in rules.care_groups:
        best = _highest(item for item in group.items if item.when.matches(facts))
        if best is None:
            continue
        items.append(_amount_item(best, rate.amount, group.recipient, "care"))
        bases.append(best.basis)
        if group.note:
            notes.append(rules.notes[group.note])

    others: list[str] = []
    for other in rules.other:
        if not other.when.matches(facts):
            continue
        others.append(other.entry)
        notes.extend(rules.notes[rule.note] for rule in other.notes if rule.when.matches(facts))
    if rate.note:
        notes.append(rules.notes[rate.note])

    monthly = sum(item.amount for item in items if item.kind == "allowance")
    care = sum(item.amount for item in items if item.kind == "care")
    return Result(
        profile=profile,
        base_rate=rate.amount,
        base_rate_basis=rate.basis,
        base_rate_since=rate.since,
        monthly_allowance=monthly,
        care_support=care,
        total_monthly=monthly + care,
        items=tuple(items),
        other_entitlements=tuple(others),
        notes=tuple(dict.fromkeys(notes)),
        bases=tuple(dict.fromkeys(bases)),
    )


def _highest(items: Any) -> Item | None:
    best: Item | None = None
    for item in items:
        if best is None or item.coefficient > best.coefficient:
            best = item
    return best


def _amount_item(item: Item, rate: int, recipient: str, kind: str) -> EntitlementItem:
    return EntitlementItem(
        name=item.name,
        coefficient=item.coefficient,
        amount=amount_of(item.coefficient, rate),
        basis=item.basis,
        entry=item.entry,
        recipient=recipient,
        key=item.key,
        kind=kind,
    )


def amount_of(coefficient: float, rate: int) -> int:
    """Coefficient × base rate, rounded to whole đồng."""
    return int(round(coefficient * rate))


def result_to_json(result: Result) -> dict[str, Any]:
    """The JSON shape of the `entitlements --json` CLI (exactly the keys of issue 4)."""
    return {
        "base_rate": result.base_rate,
        "monthly_allowance": result.monthly_allowance,
        "care_support": result.care_support,
        "total_monthly": result.total_monthly,
        "items": [
            {
                "name": item.name,
                "coefficient": item.coefficient,
                "amount": item.amount,
                "basis": item.basis,
                "entry": item.entry,
            }
            for item in result.items
        ],
        "other_entitlements": list(result.other_entitlements),
        "notes": list(result.notes),
    }
