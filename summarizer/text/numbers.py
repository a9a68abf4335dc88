"""Numbers written in text: where they are and every value each may stand for.

French and English conventions both: ``1,8`` = ``1.8``; ``100 000`` (also with U+00A0, U+202F) =
``100,000``; a lone ``1,500`` may be 1.5 or 1500; ``12h30`` = ``12:30``, ``7 p.m.`` = ``19h``;
a percent sign or a scale word is read with its number (``2,5 millions`` stands for
``2500000``, its bare ``2.5`` kept apart); Roman ordinals (``XXe``) count. Values are canonical strings (``"1.8"``,
``"100000"``, ``"t12:30"`` for a time). Used by the faithfulness checks.
"""

from __future__ import annotations

import re
from typing import NamedTuple

SPACE = "\u0020\u00a0\u202f\u2009"
"""The spaces that group digits (and separate a number from its unit)."""

_BLOB = re.compile(rf"[0-9]+(?:[.,{SPACE}][0-9]+)*")
_SEGMENT = re.compile(rf"[^{SPACE}]+")
_GROUP = re.compile(r"[0-9]{3}(?:[.,][0-9]+)?")
_TIME = re.compile(r" ?(?:[hH]|heures?) ?([0-9]{2})?(?![^\W_])|:([0-9]{2})(?![0-9])")
_AMPM = re.compile(r" ?([aApP])\.? ?[mM](?![^\W_])\.?")
_CLOCK = re.compile(r"([0-9]{1,2})[.:,]([0-9]{2})")
_PERCENT = re.compile(rf"[{SPACE}]?%")
_SCALE = re.compile(
    rf"[{SPACE}](millions?|milliards?|billions?|trillions?|thousands?|mille|Mds?|"
    rf"Mrds?|Mio|bn|mn)(?![^\W_])|[{SPACE}]?(M)(?=[{SPACE}]?[€$£])"
)
_SCALES = {  # powers of ten
    word: tuple(map(int, exponents.split(",")))
    for word, exponents in (
        pair.split(":")
        for pair in """million:6 milliard:9 billion:9,12
    trillion:12,18 thousand:3 mille:3 md:9 mrd:9 mio:6 bn:9 mn:6 m:6""".split()
    )
}
_TAIL_STARTS = frozenset(f"{SPACE}hH:aApP%M")
ROMAN = re.compile(r"\b([IVXLC]{1,8})(er|re|e|ème|eme)?\b")
_VALID_ROMAN = re.compile(r"C{0,3}(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
NUMERIC_DATE = re.compile(r"\b([0-9]{1,4})[/.-]([0-9]{1,2})[/.-]([0-9]{1,4})\b")


class Number(NamedTuple):
    start: int
    end: int
    values: frozenset[str]  # canonical readings ("1.8", "100000", "t12:30"): one must be backed
    parts: tuple[frozenset[str], ...] = ()  # a date-like number's groups, a time's hour and minutes
    bare: frozenset[str] = frozenset()  # a scaled number read without its scale word ("2" of "2 millions")


def _canon(whole: str, fraction: str = "") -> str:
    whole, fraction = whole.lstrip("0") or "0", fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def _shift(value: str, exponent: int) -> str:
    whole, _, fraction = value.partition(".")
    fraction += "0" * exponent
    return _canon(whole + fraction[:exponent], fraction[exponent:])


def _readings(digits: str) -> tuple[set[str], tuple[frozenset[str], ...]]:
    """Values a run like ``1.234,5`` may stand for, or the parts of a date-like ``27.05.2025``."""
    if digits.isdigit():
        return {_canon(digits)}, ()
    runs, seps = re.split(r"[.,]", digits), [c for c in digits if c in ".,"]
    head, tail = runs[0], runs[-1]
    grouped = len(head) <= 3 and head[:1] != "0" and all(len(r) == 3 for r in runs[1:-1])
    if len(seps) == 1:
        values = {_canon(head + tail)} if grouped and len(tail) == 3 else set()
        if not values or tail[-1] != "0":  # "15,000" is not 15.000
            values.add(_canon(head, tail))
        if len(head) <= 2 and len(tail) == 2 and int(head) <= 24 and int(tail) < 60:
            values.add(f"t{int(head) % 24}:{tail}")
        return values, ()
    if grouped and len(set(seps)) == 1 and len(tail) == 3:
        return {_canon("".join(runs))}, ()
    if grouped and seps[-1] not in seps[:-1] and len(set(seps[:-1])) == 1:
        return {_canon("".join(runs[:-1]), tail)}, ()
    return set(), tuple(frozenset({_canon(r)}) for r in runs)


def numbers_in(text: str) -> list[Number]:
    """Numbers written with digits, and Roman ordinals, in order."""
    found: list[Number] = []
    skip = 0
    for blob in _BLOB.finditer(text):
        if blob.start() < skip:
            continue
        segments = (
            [(blob.start(), blob.group())]
            if blob.group().isdigit()
            else [(m.start() + blob.start(), m.group()) for m in _SEGMENT.finditer(blob.group())]
        )
        i = 0
        while i < len(segments):  # "12 300 000" is one number, "2026 12 000" two
            j = i + 1
            if segments[i][1].isdigit() and len(segments[i][1]) <= 3:
                while (
                    j < len(segments)
                    and _GROUP.fullmatch(segments[j][1])
                    and (j == i + 1 or segments[j - 1][1].isdigit())
                ):
                    j += 1
            digits = "".join(s for _, s in segments[i:j])
            values, parts = _readings(digits)
            end, bare = segments[j - 1][0] + len(segments[j - 1][1]), set()
            if j == len(segments):
                end, values, parts, bare = _tail(text, end, digits, values, parts)
                skip = end
            found.append(Number(segments[i][0], end, frozenset(values), parts, frozenset(bare)))
            i = j
    found.extend(
        Number(m.start(), m.end(), frozenset({str(roman_value(m.group(1)))}))
        for m in ROMAN.finditer(text)
        if m.group(2) and roman_value(m.group(1))
    )
    return sorted(found)


def _tail(text: str, end: int, digits: str, values: set[str], parts: tuple) -> tuple:
    """Extend a number with what follows it: a time, am/pm, a percent sign, a scale word.
    Returns the end, the values, the parts and, for a scaled number, its bare values."""
    if text[end : end + 1] not in _TAIL_STARTS:
        return end, values, parts, set()
    hour = int(digits) if digits.isdigit() and len(digits) <= 2 else 99
    time = _TIME.match(text, end) if hour <= 24 else None
    minutes = time and (time.group(1) or time.group(2) or "00")
    if time and minutes and int(minutes) < 60:
        end, values = time.end(), {f"t{hour % 24}:{minutes}"}
        if minutes == "00":
            values.add(str(hour))
        else:  # a duration: "5 h 29" backs "5 hours 29 minutes"
            parts = (frozenset({str(hour)}), frozenset({_canon(minutes)}))
    clock = _CLOCK.fullmatch(digits) if hour == 99 else None
    if clock and int(clock.group(1)) <= 12 and int(clock.group(2)) < 60:
        hour, minutes = int(clock.group(1)), clock.group(2)  # "6.30pm"
    ampm = _AMPM.match(text, end) if hour <= 12 else None
    if ampm:
        minutes, shifted = minutes or "00", hour % 12 + (12 if ampm.group(1) in "pP" else 0)
        end, values = ampm.end(), values | {f"t{hour % 12}:{minutes}", f"t{shifted}:{minutes}"}
    percent = _PERCENT.match(text, end)
    end = percent.end() if percent else end
    scale = _SCALE.match(text, end)
    bare: set[str] = set()
    if scale:
        word = (scale.group(1) or scale.group(2)).lower()
        exponents = _SCALES.get(word, _SCALES.get(word[:-1], (6,)))
        bare = {v for v in values if not v.startswith("t")}
        values = {_shift(v, e) for v in bare for e in exponents} or values
        end = scale.end()
    return end, values, parts, bare


def roman_value(numeral: str) -> int:
    """Value of a well-formed Roman numeral below 400; 0 otherwise, and for a lone L or C."""
    if numeral in ("L", "C") or not _VALID_ROMAN.fullmatch(numeral):
        return 0
    values = [{"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}[c] for c in numeral]
    return sum(-v if v < after else v for v, after in zip(values, [*values[1:], 0], strict=True))
