"""The entitlement rules model and its loader: `knowledge/entitlements.yaml` -> `Rules`.

Owns the frozen values the rules file turns into (base-rate history, age groups, coefficient
items, care-support groups, other entitlements, links, notes) and their validation. Every
problem names `path:line`: wrong or descending dates, amounts that are not positive whole
numbers, coefficients that are not positive numbers, unknown keys, condition fields or values,
duplicate keys, and (with `check_entry_ids`) FAQ entry ids that do not exist.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.core.problems import Problem
from bot.core.yamlsource import LineDict, LineList, YamlSyntaxError, load_yaml

LEVELS = ("dac_biet_nang", "nang", "nhe")
REGIONS = ("national", "ha-noi")
CARERS = ("none", "household", "foster")
AGE_GROUPS = ("child", "adult", "elderly")
FAMILIES = ("none", "pregnant_or_one_child", "pregnant_and_child_or_two_children")
RECIPIENTS = ("person", "carer")
CONDITION_VALUES: dict[str, tuple[str, ...]] = {
    "level": LEVELS,
    "age_group": AGE_GROUPS,
    "region": REGIONS,
    "carer": CARERS,
    "family": FAMILIES,
}
LINKS = ("apply", "assess_level")

_KEY = re.compile(r"^[a-z0-9_]+$")
_ENTRY_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Condition:
    """Field -> allowed values; a field that is absent matches every value."""

    fields: tuple[tuple[str, frozenset[str]], ...] = ()

    def matches(self, facts: dict[str, str]) -> bool:
        return all(facts.get(name) in allowed for name, allowed in self.fields)

    def could_match(self, facts: dict[str, str]) -> bool:
        """True when the condition holds for the fields known in `facts` (others are open)."""
        return all(facts[name] in allowed for name, allowed in self.fields if name in facts)

    def uses(self, name: str) -> bool:
        return any(field_name == name for field_name, _ in self.fields)


@dataclass(frozen=True)
class RateEntry:
    since: date
    amount: int
    basis: str
    uncertain: bool = False
    note: str = ""


@dataclass(frozen=True)
class Item:
    """A coefficient of the base rate (allowance, care support or one-off amount)."""

    key: str
    name: str
    coefficient: float
    when: Condition
    basis: str
    entry: str


@dataclass(frozen=True)
class CareGroup:
    group: str
    recipient: str
    items: tuple[Item, ...]
    note: str = ""


@dataclass(frozen=True)
class NoteRule:
    when: Condition
    note: str


@dataclass(frozen=True)
class OtherEntitlement:
    entry: str
    name: str
    basis: str
    when: Condition
    notes: tuple[NoteRule, ...] = ()


@dataclass(frozen=True)
class EntryRef:
    """Where the rules file names a FAQ entry id."""

    entry: str
    line: int
    owner: str


@dataclass(frozen=True)
class Rules:
    base_rates: dict[str, tuple[RateEntry, ...]]
    child_under: int
    elderly_from: int
    allowance_basis: str
    allowance_none_note: str
    allowance: tuple[Item, ...]
    care_basis: str
    care_groups: tuple[CareGroup, ...]
    one_off: tuple[Item, ...]
    other: tuple[OtherEntitlement, ...]
    links: dict[str, str]
    notes: dict[str, str]
    entry_refs: tuple[EntryRef, ...] = field(default=())

    def age_group(self, age: int) -> str:
        if age < self.child_under:
            return "child"
        if age >= self.elderly_from:
            return "elderly"
        return "adult"

    def all_items(self) -> tuple[Item, ...]:
        care = tuple(item for group in self.care_groups for item in group.items)
        return self.allowance + care + self.one_off

    def item(self, key: str) -> Item | None:
        return next((item for item in self.all_items() if item.key == key), None)

    def other_named(self, entry: str) -> OtherEntitlement | None:
        return next((other for other in self.other if other.entry == entry), None)


def load_rules(path: Path, display: str | None = None) -> tuple[Rules | None, list[Problem]]:
    """Load and validate the rules file; Rules is None when there is any problem."""
    shown = display or str(path)
    try:
        data = load_yaml(path, shown)
    except YamlSyntaxError as exc:
        return None, [Problem(shown, exc.line, "", exc.message)]
    except OSError as exc:
        return None, [Problem(shown, 1, "", f"cannot read the file: {exc.strerror}")]
    reader = _Reader(shown)
    rules = reader.rules(data)
    if reader.problems:
        return None, sorted(reader.problems)
    return rules, []


def check_entry_ids(rules: Rules, known_ids: set[str], path: Path | str) -> list[Problem]:
    """A Problem for every FAQ entry id in the rules that is not in `known_ids`."""
    return [
        Problem(str(path), ref.line, ref.owner, f"unknown FAQ entry id '{ref.entry}'")
        for ref in rules.entry_refs
        if ref.entry not in known_ids
    ]


def _empty(line: int) -> LineDict:
    empty = LineDict()
    empty.line = line
    empty.key_lines = {}
    return empty


class _Reader:
    """Turns loaded YAML into Rules, collecting problems instead of stopping at the first."""

    def __init__(self, display: str) -> None:
        self.path = display
        self.problems: list[Problem] = []
        self.entry_refs: list[EntryRef] = []
        self.note_refs: list[tuple[str, int, str]] = []
        self.item_keys: dict[str, int] = {}

    def add(self, line: int, owner: str, message: str) -> None:
        self.problems.append(Problem(self.path, line, owner, message))

    # -- generic checks -------------------------------------------------------------------

    def mapping(self, value: Any, line: int, owner: str, what: str) -> LineDict | None:
        if isinstance(value, LineDict):
            return value
        self.add(line, owner, f"{what} must be a mapping (key: value lines)")
        return None

    def sequence(self, value: Any, line: int, owner: str, what: str) -> LineList | None:
        if isinstance(value, LineList):
            return value
        self.add(line, owner, f"{what} must be a list (lines starting with '-')")
        return None

    def keys(
        self, data: LineDict, owner: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> None:
        allowed = required + optional
        for key in data:
            if key not in allowed:
                self.add(
                    data.line_of(key),
                    owner,
                    f"unknown key '{key}' (expected: {', '.join(allowed)})",
                )
        for key in required:
            if key not in data:
                self.add(data.line, owner, f"missing key '{key}'")

    def text(self, data: LineDict, key: str, owner: str) -> str:
        value = data.get(key)
        if key in data and (not isinstance(value, str) or not value.strip()):
            self.add(data.line_of(key), owner, f"'{key}' must be non-empty text")
            return ""
        return value.strip() if isinstance(value, str) else ""

    def day(self, data: LineDict, key: str, owner: str) -> date | None:
        value = data.get(key)
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        if key in data:
            self.add(data.line_of(key), owner, f"'{key}' must be a real date written YYYY-MM-DD")
        return None

    def whole(self, data: LineDict, key: str, owner: str) -> int | None:
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        if key in data:
            self.add(data.line_of(key), owner, f"'{key}' must be a positive whole number")
        return None

    def coefficient(self, data: LineDict, owner: str) -> float | None:
        value = data.get("coefficient")
        number_ok = isinstance(value, int | float) and not isinstance(value, bool)
        if number_ok and math.isfinite(value) and value > 0:
            return value
        if "coefficient" in data:
            self.add(data.line_of("coefficient"), owner, "'coefficient' must be a positive number")
        return None

    def entry(self, data: LineDict, key: str, owner: str) -> str:
        value = self.text(data, key, owner)
        if value and not _ENTRY_ID.match(value):
            self.add(data.line_of(key), owner, f"'{value}' is not a valid FAQ entry id")
        elif value:
            self.entry_refs.append(EntryRef(value, data.line_of(key), owner))
        return value

    def note_ref(self, data: LineDict, key: str, owner: str) -> str:
        value = self.text(data, key, owner)
        if value:
            self.note_refs.append((value, data.line_of(key), owner))
        return value

    def condition(self, data: LineDict, owner: str) -> Condition:
        if "when" not in data:
            return Condition()
        when = self.mapping(data["when"], data.line_of("when"), owner, "'when'")
        if when is None:
            return Condition()
        fields: list[tuple[str, frozenset[str]]] = []
        for name, values in when.items():
            line = when.line_of(name)
            if name not in CONDITION_VALUES:
                known = ", ".join(CONDITION_VALUES)
                self.add(line, owner, f"unknown condition field '{name}' (expected: {known})")
                continue
            if not isinstance(values, list) or not values:
                self.add(line, owner, f"'{name}' must be a non-empty list, e.g. [{name}_value]")
                continue
            allowed = CONDITION_VALUES[name]
            for value in values:
                if value not in allowed:
                    expected = ", ".join(allowed)
                    self.add(line, owner, f"unknown {name} '{value}' (expected: {expected})")
            fields.append((name, frozenset(str(value) for value in values)))
        return Condition(tuple(fields))

    # -- sections ---------------------------------------------------------------------------

    def rules(self, data: Any) -> Rules | None:
        top = self.mapping(data, 1, "", "the rules file")
        if top is None:
            return None
        sections = ("base_rates", "age_groups", "monthly_allowance", "care_support", "one_off")
        self.keys(top, "", sections + ("other_entitlements", "links", "notes"))
        notes = self.notes(top)
        base_rates = self.base_rates(top)
        child_under, elderly_from = self.age_groups(top)
        allowance = self.section(top, "monthly_allowance")
        allowance_items = self.allowance(allowance)
        none_note = self.note_ref(allowance, "none_note", "monthly_allowance")
        care = self.section(top, "care_support")
        care_groups = self.care_groups(care)
        one_off = self.items(top.get("one_off"), top.line_of("one_off"), "one_off")
        others = self.others(top)
        links = self.links(top)
        for note, line, owner in self.note_refs:
            if note not in notes:
                self.add(line, owner, f"unknown note '{note}' (not in 'notes')")
        return Rules(
            base_rates=base_rates,
            child_under=child_under,
            elderly_from=elderly_from,
            allowance_basis=self.text(allowance, "basis", "monthly_allowance"),
            allowance_none_note=none_note,
            allowance=allowance_items,
            care_basis=self.text(care, "basis", "care_support"),
            care_groups=care_groups,
            one_off=one_off,
            other=others,
            links=links,
            notes=notes,
            entry_refs=tuple(self.entry_refs),
        )

    def section(self, top: LineDict, name: str) -> LineDict:
        if name not in top:
            return _empty(top.line)
        found = self.mapping(top[name], top.line_of(name), name, f"'{name}'")
        return found if found is not None else _empty(top.line_of(name))

    def notes(self, top: LineDict) -> dict[str, str]:
        data = self.section(top, "notes")
        result: dict[str, str] = {}
        for key in data:
            text = self.text(data, key, f"notes.{key}")
            if text:
                result[str(key)] = " ".join(text.split())
        return result

    def base_rates(self, top: LineDict) -> dict[str, tuple[RateEntry, ...]]:
        data = self.section(top, "base_rates")
        if "base_rates" in top and "national" not in data:
            self.add(top.line_of("base_rates"), "base_rates", "missing the 'national' rates")
        result: dict[str, tuple[RateEntry, ...]] = {}
        for region, entries in data.items():
            owner = f"base_rates.{region}"
            if region not in REGIONS:
                known = ", ".join(REGIONS)
                self.add(data.line_of(region), owner, f"unknown region '{region}' ({known})")
                continue
            rows = self.sequence(entries, data.line_of(region), owner, f"'{region}'") or LineList()
            result[region] = self.rate_entries(rows, owner)
        return result

    def rate_entries(self, rows: LineList, owner: str) -> tuple[RateEntry, ...]:
        found: list[RateEntry] = []
        for index, row in enumerate(rows):
            data = self.mapping(row, rows.line_of(index), owner, "a rate")
            if data is None:
                continue
            self.keys(data, owner, ("from", "amount", "basis"), ("uncertain", "note"))
            since = self.day(data, "from", owner)
            amount = self.whole(data, "amount", owner)
            uncertain = data.get("uncertain", False)
            if not isinstance(uncertain, bool):
                self.add(data.line_of("uncertain"), owner, "'uncertain' must be true or false")
            note = self.note_ref(data, "note", owner)
            basis = self.text(data, "basis", owner)
            if uncertain is True and not note:
                self.add(data.line, owner, "an uncertain rate needs a 'note' that says so")
            if found and since is not None and since <= found[-1].since:
                self.add(
                    data.line_of("from"),
                    owner,
                    f"dates must go up: {since.isoformat()} is not after "
                    f"{found[-1].since.isoformat()}",
                )
                continue
            if since is not None and amount is not None:
                found.append(RateEntry(since, amount, basis, uncertain is True, note))
        return tuple(found)

    def age_groups(self, top: LineDict) -> tuple[int, int]:
        data = self.section(top, "age_groups")
        self.keys(data, "age_groups", ("child", "elderly"))
        limits = []
        for name, key in (("child", "under"), ("elderly", "from")):
            if name not in data:
                limits.append(0)
                continue
            group = self.mapping(data[name], data.line_of(name), name, f"'{name}'")
            if group is None:
                limits.append(0)
                continue
            self.keys(group, f"age_groups.{name}", (key,), ("basis",))
            self.text(group, "basis", f"age_groups.{name}")
            limits.append(self.whole(group, key, f"age_groups.{name}") or 0)
        child_under, elderly_from = limits
        if child_under and elderly_from and child_under > elderly_from:
            self.add(data.line, "age_groups", "child 'under' must not be above elderly 'from'")
        return child_under, elderly_from

    def allowance(self, data: LineDict) -> tuple[Item, ...]:
        self.keys(data, "monthly_allowance", ("rule", "basis", "items"), ("none_note",))
        self.rule(data, "monthly_allowance")
        return self.items(data.get("items"), data.line_of("items"), "monthly_allowance")

    def rule(self, data: LineDict, owner: str) -> None:
        if "rule" in data and data["rule"] != "highest_only":
            self.add(data.line_of("rule"), owner, "'rule' must be highest_only")

    def items(self, value: Any, line: int, owner: str) -> tuple[Item, ...]:
        rows = self.sequence(value, line, owner, f"'{owner}' items") or LineList()
        found: list[Item] = []
        for index, row in enumerate(rows):
            data = self.mapping(row, rows.line_of(index), owner, "an item")
            if data is None:
                continue
            key = data.get("key")
            who = key if isinstance(key, str) else owner
            self.keys(data, who, ("key", "name", "coefficient", "basis", "entry"), ("when",))
            if not isinstance(key, str) or not _KEY.match(key):
                self.add(data.line_of("key"), who, "'key' must be lower-case letters, digits, _")
                continue
            if key in self.item_keys:
                first = self.item_keys[key]
                self.add(data.line_of("key"), key, f"duplicate key '{key}' (first on line {first})")
                continue
            self.item_keys[key] = data.line_of("key")
            coefficient = self.coefficient(data, key)
            item = Item(
                key=key,
                name=self.text(data, "name", key),
                coefficient=coefficient or 0.0,
                when=self.condition(data, key),
                basis=self.text(data, "basis", key),
                entry=self.entry(data, "entry", key),
            )
            if coefficient is not None:
                found.append(item)
        return tuple(found)

    def care_groups(self, data: LineDict) -> tuple[CareGroup, ...]:
        self.keys(data, "care_support", ("basis", "groups"))
        groups = data.get("groups")
        rows = self.sequence(groups, data.line_of("groups"), "care_support", "groups") or LineList()
        found: list[CareGroup] = []
        seen: set[str] = set()
        for index, row in enumerate(rows):
            group = self.mapping(row, rows.line_of(index), "care_support", "a group")
            if group is None:
                continue
            name = str(group.get("group", ""))
            self.keys(group, name, ("group", "rule", "recipient", "items"), ("note",))
            if name in seen:
                self.add(group.line_of("group"), name, f"duplicate group '{name}'")
            seen.add(name)
            self.rule(group, name)
            recipient = group.get("recipient")
            if recipient not in RECIPIENTS:
                known = ", ".join(RECIPIENTS)
                self.add(group.line_of("recipient"), name, f"'recipient' must be one of: {known}")
            items = self.items(group.get("items"), group.line_of("items"), name)
            note = self.note_ref(group, "note", name)
            found.append(CareGroup(name, str(recipient), items, note))
        return tuple(found)

    def others(self, top: LineDict) -> tuple[OtherEntitlement, ...]:
        if "other_entitlements" not in top:
            return ()
        line = top.line_of("other_entitlements")
        rows = self.sequence(top["other_entitlements"], line, "other_entitlements", "it")
        rows = rows if rows is not None else LineList()
        found: list[OtherEntitlement] = []
        seen: dict[str, int] = {}
        for index, row in enumerate(rows):
            data = self.mapping(row, rows.line_of(index), "other_entitlements", "an entitlement")
            if data is None:
                continue
            entry = self.entry(data, "entry", "other_entitlements")
            self.keys(data, entry, ("entry", "name", "basis"), ("when", "notes"))
            if entry in seen:
                self.add(
                    data.line_of("entry"), entry, f"duplicate entry (first on line {seen[entry]})"
                )
                continue
            seen[entry] = data.line_of("entry")
            found.append(
                OtherEntitlement(
                    entry=entry,
                    name=self.text(data, "name", entry),
                    basis=self.text(data, "basis", entry),
                    when=self.condition(data, entry),
                    notes=self.note_rules(data, entry),
                )
            )
        return tuple(found)

    def note_rules(self, data: LineDict, owner: str) -> tuple[NoteRule, ...]:
        if "notes" not in data:
            return ()
        rows = self.sequence(data["notes"], data.line_of("notes"), owner, "'notes'") or LineList()
        found: list[NoteRule] = []
        for index, row in enumerate(rows):
            rule = self.mapping(row, rows.line_of(index), owner, "a note")
            if rule is None:
                continue
            self.keys(rule, owner, ("note",), ("when",))
            found.append(NoteRule(self.condition(rule, owner), self.note_ref(rule, "note", owner)))
        return tuple(found)

    def links(self, top: LineDict) -> dict[str, str]:
        data = self.section(top, "links")
        self.keys(data, "links", LINKS)
        return {name: self.entry(data, name, "links") for name in LINKS if name in data}
