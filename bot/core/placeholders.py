"""Placeholders in FAQ answers that take amounts, rates and dates from the entitlement rules.

Owns the placeholder syntax, its rendering (`render`) and its checking (`check`), and the
Vietnamese formatting of money, coefficients and dates. Forms (REGION is `national` or
`ha-noi`, `@YYYY-MM-DD` picks the day, default today):

- `{{rate:REGION}}`, `{{rate:REGION@DATE}}`: the base rate that applies there ("650.000 đồng");
  in Hà Nội the higher of the national and the city rate;
- `{{since:REGION}}`: the day that rate took effect ("01/01/2026"); `{{basis:REGION}}`: its decree;
- `{{amount:KEY}}`: coefficient of item KEY × the rate that applies in Hà Nội;
  `{{amount:KEY:REGION}}` for another region (both accept `@DATE`);
- `{{coef:KEY}}`: the coefficient ("2,5"; "2" for whole numbers).

KEY is any item key of `monthly_allowance`, `care_support` or `one_off`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date

from bot.core.entitlements import REGIONS, ProfileError, Rules, amount_of, rate_entry

logger = logging.getLogger(__name__)

KINDS = ("rate", "since", "basis", "amount", "coef")
DEFAULT_AMOUNT_REGION = "ha-noi"

_PLACEHOLDER = re.compile(r"\{\{([^{}\n]*)\}\}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class PlaceholderError(ValueError):
    """A placeholder that cannot be resolved; the message is plain words."""


@dataclass(frozen=True)
class _Spec:
    kind: str
    key: str
    region: str
    on: date | None


def format_money(amount: int) -> str:
    """1300000 -> "1.300.000 đồng" (Vietnamese thousands separator)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(int(amount)):,} đồng".replace(",", ".")


def format_coef(coefficient: float) -> str:
    """2.5 -> "2,5"; 2.0 -> "2"."""
    if float(coefficient).is_integer():
        return str(int(coefficient))
    return repr(float(coefficient)).replace(".", ",")


def format_date(day: date) -> str:
    """date(2024, 7, 1) -> "01/07/2024"."""
    return day.strftime("%d/%m/%Y")


def render(text: str, rules: Rules, today: date) -> str:
    """Replace every placeholder; one that cannot be resolved is left as written (and logged)."""

    def replace(match: re.Match[str]) -> str:
        try:
            return _resolve(_parse(match.group(1), rules), rules, today)
        except (PlaceholderError, ValueError) as exc:
            logger.warning("placeholder %s left as is: %s", match.group(0), exc)
            return match.group(0)

    return _PLACEHOLDER.sub(replace, text)


def check(text: str, rules: Rules) -> list[str]:
    """A message for every placeholder problem in `text` (empty when all are fine)."""
    return [message for _, message in check_with_lines(text, rules)]


def check_with_lines(text: str, rules: Rules) -> list[tuple[int, str]]:
    """Like `check`, with the 1-based line within `text` where each problem is."""
    found: list[tuple[int, str]] = []
    for match in _PLACEHOLDER.finditer(text):
        try:
            spec = _parse(match.group(1), rules)
            if spec.on is not None:
                _resolve(spec, rules, spec.on)
        except (PlaceholderError, ValueError) as exc:
            found.append((match.start(), f"placeholder {match.group(0)}: {exc}"))
    rest = _PLACEHOLDER.sub(lambda m: " " * len(m.group(0)), text)
    for token in ("{{", "}}"):
        start = rest.find(token)
        while start != -1:
            message = f"'{token}' without its pair: write a placeholder as {{{{kind:...}}}}"
            found.append((start, message))
            start = rest.find(token, start + 2)
    found.sort()
    return [(text.count("\n", 0, position) + 1, message) for position, message in found]


def _parse(body: str, rules: Rules) -> _Spec:
    body = body.strip()
    kind, colon, rest = body.partition(":")
    if not colon:
        raise PlaceholderError(f"missing kind (use one of: {', '.join(KINDS)})")
    if kind not in KINDS:
        raise PlaceholderError(f"unknown kind '{kind}' (use one of: {', '.join(KINDS)})")
    rest, at, when = rest.partition("@")
    on = _parse_date(when) if at else None
    parts = rest.split(":")
    if kind == "coef":
        if at or len(parts) != 1:
            raise PlaceholderError("write {{coef:KEY}}")
        return _Spec(kind, _known_key(parts[0], rules), "", None)
    if kind == "amount":
        if len(parts) not in (1, 2):
            raise PlaceholderError("write {{amount:KEY}} or {{amount:KEY:REGION}}")
        region = parts[1] if len(parts) == 2 else DEFAULT_AMOUNT_REGION
        return _Spec(kind, _known_key(parts[0], rules), _known_region(region, rules), on)
    if len(parts) != 1:
        raise PlaceholderError(f"write {{{{{kind}:REGION}}}} (REGION: {', '.join(REGIONS)})")
    return _Spec(kind, "", _known_region(parts[0], rules), on)


def _parse_date(text: str) -> date:
    if not _ISO_DATE.match(text):
        raise PlaceholderError(f"'{text}' is not a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PlaceholderError(f"'{text}' is not a real date") from None


def _known_key(key: str, rules: Rules) -> str:
    if rules.item(key) is None:
        keys = ", ".join(item.key for item in rules.all_items())
        raise PlaceholderError(f"unknown key '{key}' (known keys: {keys})")
    return key


def _known_region(region: str, rules: Rules) -> str:
    if region not in REGIONS:
        raise PlaceholderError(f"unknown region '{region}' (use one of: {', '.join(REGIONS)})")
    return region


def _resolve(spec: _Spec, rules: Rules, today: date) -> str:
    item = rules.item(spec.key) if spec.key else None
    if spec.kind == "coef" and item is not None:
        return format_coef(item.coefficient)
    on = spec.on or today
    try:
        entry = rate_entry(rules, spec.region, on)
    except ProfileError as exc:
        raise PlaceholderError(exc.message) from None
    if spec.kind == "rate":
        return format_money(entry.amount)
    if spec.kind == "since":
        return format_date(entry.since)
    if spec.kind == "basis":
        return entry.basis
    if item is None:  # pragma: no cover - _parse guarantees a key for amount
        raise PlaceholderError("missing key")
    return format_money(amount_of(item.coefficient, entry.amount))
