"""Reference-free faithfulness checks: figures, names and dates that the source does not back.

Pure functions of (generated text, source); each returns the offending values as written in the
generated text, in order, without duplicates. ``source`` may be the French article followed by its
English translation (joined by a newline): a number, name or date found in either part counts.

``number_mismatch``: a number written with digits must equal, by value, a number of the source.
Both conventions are read: ``1,8`` = ``1.8``; ``100 000`` (also with U+00A0, U+202F) = ``100,000``;
a lone ``1,500`` may be 1.5 or 1500 (``1,000`` is only 1000); ``12h30`` = ``12 h 30`` = ``12:30``
(``7 p.m.`` = ``19h``). Signs, ``%``, currencies and ordinal endings are ignored (``1er`` =
``1st``); Roman ordinals count (``XXe`` = 20); a number before a scale word stands for its
scaled value (``2,5 millions`` = ``2.5 million`` = ``2 500 000``, not ``2,5 milliards``), and in
the source also for itself. A group of a larger source number backs nothing alone (``100`` is
not in ``100 000``); a source time backs its hour and minutes (``5 h 29``: ``5 hours 29
minutes``). The source also supplies numbers spelt in French or English words (``trois``,
``quatre-vingt-dix``, ``une dizaine``, ``troisième``, ``twenty``, ``double``). Also accepted: a
dotted date whose parts are in the source (``27.05.2025``), a rounding of a more precise source
value (``2,5`` for ``2,47``, ``2,5 milliards`` for ``2,47 milliards``) and, after a hedge
(``près de``, ``plus de``, ``about``...), any value within 10%.

``unsupported_name``: a capitalised word of two letters or more must occur in the source, compared
without accents or case, hyphenated parts one by one, after an elision (``l’``, ``d’``). Exempt:
the first word of the text, of a line, of a sentence, of a quotation or after a colon; titles
(``M.``, ``Mme``, ``Mr``); weekdays, months, Roman ordinals; a short list of institutional words,
demonyms and units (``Président``, ``Council``, ``French``, ``MW``). A word differing from a
source word by a demonym-like ending is supported (``Maroc``/``marocain``, ``Lyon``/``lyonnais``),
by a plural or feminine ending only when the source also writes that word in lower case
(``Jeanne`` is not ``Jean``, ``Bernardin`` not ``Bernard``), and so is an acronym of the source or of the initials of consecutive source
words (``LFI``: ``La France insoumise``). Across languages (English text, French source, or the
reverse) a word is also supported through a short table of exonyms and acronyms (``Moscow`` =
``Moscou``, ``ECB`` = ``BCE``), regular endings (``-ia``/``-ie``, ``-ity``/``-ité``), an acronym
with the same letters (``NATO``/``OTAN``) or transliteration (``Shoigu`` = ``Choïgou``).

``unsupported_date``: a weekday or month (French or English) whose day or month the source never
names in either language (``Tuesday`` is supported by ``mardi``, ``May`` by ``27/05``). English
``May`` and ``March`` count only when capitalised.

Names and dates are checked for French and English only: with another language on either side
they return nothing rather than guess. Numbers are checked in any language. No input makes these
functions raise, and their time grows linearly with the texts (the source is indexed once).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from ..flags import FAITHFULNESS_FLAGS, NUMBER_MISMATCH, UNSUPPORTED_DATE, UNSUPPORTED_NAME
from . import faithfulness_words as vocab
from .numbers import NUMERIC_DATE, ROMAN, Number, numbers_in, roman_value

VOCABULARY_LANGUAGES = frozenset({"fr", "en"})
"""Languages whose weekdays, months and naming conventions the checks know."""


# --- text ---------------------------------------------------------------------------------------

_LETTERS = r"[^\W\d_]+(?:[\u0300-\u036f]+[^\W\d_]*)*"  # letters, with combining accents
_WORD = re.compile(_LETTERS)
_WORD_SPLIT = re.compile(f"({_LETTERS})")
_COMPOUND = re.compile(rf"{_LETTERS}(?:[-\u2010\u2011]{_LETTERS})*")
_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_BREAK = re.compile(r"[!?…:;\n«“„\"]|\.(?![0-9])")


def _fold(text: str) -> str:
    """Without accents, lower case (compatibility forms decomposed)."""
    if text.isascii():
        return text.lower()
    return _MARKS.sub("", unicodedata.normalize("NFKD", text)).casefold()


def _languages(generated: str, source: str) -> tuple[str, str]:
    return tuple(str(code).lower().replace("_", "-").split("-")[0] for code in (generated, source))


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


# --- the source, indexed once -------------------------------------------------------------------


class _Source:
    """What a source text backs: folded words, numbers, day and month keys."""

    def __init__(self, text: str) -> None:
        self.numbers: set[str] = set()
        self._keys: dict[str, set[str]] = {}
        self._floats: list[tuple[float, int]] | None = None
        self._initials: tuple[str, list[int]] | None = None
        self._parts = _WORD_SPLIT.split(text)  # words at odd indices
        unique = set(self._parts[1::2])
        folds = self._folds = {raw: raw.lower() for raw in unique if raw.isascii()}
        self.words = set(folds.values())
        for raw in unique.difference(folds):
            folds[raw] = _fold(raw)
            self.words.update(_WORD.findall(folds[raw]))
        capitalised = [raw for raw in unique if raw[0].isupper()]
        self.common = set().union(*(_WORD.findall(folds[raw]) for raw in unique if not raw[0].isupper()))
        self.names = set().union(*(_WORD.findall(folds[raw]) for raw in capitalised))
        self.acronyms = {"".join(sorted(folds[raw])) for raw in capitalised if raw.isupper()}
        self.dates = {
            vocab.DATE_KEYS[w]
            for w in self.words.intersection(vocab.DATE_KEYS)
            if w not in vocab.CAPITALISED_ONLY or w in self.names
        }
        for m in NUMERIC_DATE.finditer(text):
            self.dates.update(
                f"m{int(g)}" for g in m.group(1, 2) if len(g) <= 2 and 0 < int(g) < 13
            )
        for number in numbers_in(text):  # "2 millions" backs "2"; "100 000" does not back "100"
            self.numbers.update(number.values, number.bare, *number.parts)
        for m in ROMAN.finditer(text):
            if (m.group(2) or len(m.group(1)) > 1) and roman_value(m.group(1)):
                self.numbers.add(str(roman_value(m.group(1))))
        spelt = [raw for raw, word in folds.items() if word in vocab.NUMBER_WORDS or word in vocab.TIME_WORDS]
        if spelt:
            self._read_number_words(text, spelt)

    def _read_number_words(self, text: str, spelt: list[str]) -> None:
        """Numbers spelt in words; adjacent words combine (``deux cent vingt et un`` = 221)."""
        total = current = last_end = 0
        active = False
        pattern = r"\b(?:%s)\b" % "|".join(map(re.escape, sorted(spelt, key=len, reverse=True)))
        for m in re.finditer(pattern, text):
            word, gap = self._folds[m.group()], text[last_end : m.start()].strip(" -\u00a0").lower()
            last_end = m.end()
            self.numbers.update(vocab.TIME_WORDS.get(word, ()))
            kind, value = vocab.NUMBER_WORDS.get(word, ("w", -1))
            joined = not gap or gap == "and" or gap == "et" and word in ("un", "une", "onze")
            if active and (not joined or kind == "w" or total + current > 10**18):
                self.numbers.add(str(total + current))
                total = current = 0
                active = False
            if value >= 0:
                self.numbers.add(str(value))
            if kind == "n":  # quatre-vingt(s) is 80
                current += 76 if value == 20 and current % 100 == 4 else value
            elif kind == "x":
                current = (current or 1) * value
            elif kind == "k":
                total, current = total + (current or 1) * value, 0
            active = active or kind != "w"
        if active:
            self.numbers.add(str(total + current))

    def backs_number(self, number: Number, before: str) -> bool:
        """``number`` is in the source; ``before``: the text before it, for a hedge."""
        if number.values & self.numbers or (
            not number.values and number.parts and all(part & self.numbers for part in number.parts)
        ):
            return True
        values = [v for v in number.values if not v.startswith("t")]
        hedged = values and bool(vocab.HEDGES.intersection(map(_fold, _WORD.findall(before)[-3:])))
        if number.bare:  # "2,5 milliards" rounds "2,47 milliards": the bare value's decimals count
            return any(self._close(bare, hedged, scaled) for bare in number.bare for scaled in values)
        return any(self._close(value, hedged) for value in values)

    def _close(self, value: str, hedged: bool, scaled: str | None = None) -> bool:
        """A rounding of a more precise source value, or within 10% after a hedge. ``scaled``:
        the value with its scale word applied, when ``value`` is the number as written."""
        decimals = len(value.partition(".")[2])
        if not hedged and not decimals:
            return False
        if self._floats is None:
            self._floats = [
                (float(v), len(v.partition(".")[2])) for v in self.numbers if not v.startswith("t")
            ]
        target = float(scaled or value)
        factor = target / float(value) if scaled and float(value) else 1.0
        tolerance = 0.1 * abs(target) if hedged else factor * 0.5 / 10.0 ** min(decimals, 300)
        return any(
            abs(s - target) <= tolerance * 1.000001 and (hedged or places > decimals or factor > 1)
            for s, places in self._floats
        )

    def backs_word(self, word: str, cross: tuple[str, str] | None) -> bool:
        """``word`` (folded) or a derivation is in the source; ``cross``: (generated, source)
        languages when they differ."""
        if _derived(word, self.words, self.common):
            return True
        if cross is None:
            return False
        lexicon, endings = (
            (vocab.EXONYMS, vocab.ENDINGS_EN_FR) if cross[0] == "en" else (vocab.EXONYMS_FR, vocab.ENDINGS_FR_EN)
        )
        forms = (word, word[:-1]) if word.endswith("s") else (word,)  # plurals translate too
        candidates = [
            *(translation for form in forms for translation in lexicon.get(form, ())),
            *(
                f[: len(f) - len(a)] + b
                for f in forms
                for a, b in endings
                if f.endswith(a) and len(f) > len(a) + 2
            ),
        ]
        if any(all(_derived(p, self.words, self.common) for p in c.split("-") if p) for c in candidates):
            return True
        if cross[1] not in self._keys:
            self._keys[cross[1]] = {_transliterated(w, cross[1]) for w in self.names if len(w) > 3}
        return len(word) > 3 and _transliterated(word, cross[0]) in self._keys[cross[1]]

    def backs_acronym(self, piece: str, cross: bool) -> bool:
        """An acronym of the source, or the initials of consecutive source words from a capitalised
        one (``UE``: ``Union européenne``); across languages, in any order (``NATO``/``OTAN``)."""
        letters = piece[:-1] if piece.endswith("s") else piece
        if len(letters) < 2 or not letters.isupper():
            return False
        target = sorted(_fold(letters)) if cross else list(_fold(letters))
        if cross and "".join(target) in self.acronyms:
            return True
        if self._initials is None:
            words = [
                w for w in self._parts[1::2] if w[0].isupper() or self._folds[w] not in vocab.LINK_WORDS
            ]
            self._initials = (
                "".join(self._folds[w][:1] or "?" for w in words),
                [i for i, w in enumerate(words) if w[0].isupper()],
            )
        initials, capitalised = self._initials
        if not cross:
            return any(initials.startswith("".join(target), i) for i in capitalised)
        return any(sorted(initials[i : i + len(target)]) == target for i in capitalised)


def _derived(word: str, words: set[str], common: set[str]) -> bool:
    """``word`` or a word differing from it by a derivational ending is in ``words``.

    ``common``: the words that also occur in lower case. Only a plural or a demonym-like
    ending (``-ais``, ``-ien``, ``-ique``...) derives from a word seen only capitalised, a
    name: ``Jeanne``, ``Martine``, ``Bernardin`` are other names than ``Jean``, ``Martin``,
    ``Bernard``; a feminine or other ending of a common word is the same word."""
    if word in words:
        return True
    if len(word) > 3 and word[-1] == "s" and word[:-1] in words:
        return True
    if len(word) < 4:
        return False
    for ending in ("e", "es"):  # the feminine of a demonym, a name too: Français -> Française
        base = word.removesuffix(ending)
        base = base[:-1] if base.endswith("nn") else base  # parisienne -> parisien
        if base != word and base.endswith(vocab.DEMONYM_ENDINGS) and base in words:
            return True
    stems = {word, word + word[-1], word.removesuffix("e")}  # lyon-n-ais, europ-een
    for ending in vocab.DERIVATIONS:
        backing = words if ending in vocab.NAME_DERIVATIONS else common
        if any(stem + ending in backing for stem in stems):
            return True
        stem = word.removesuffix(ending)
        undoubled = stem[:-1] if stem[-1:] == stem[-2:-1] else stem
        if len(stem) >= 4 and stem != word and {stem, stem + "e", undoubled} & backing:
            return True  # marocain -> maroc, marseillais -> marseille, lyonnais -> lyon
    return False


def _transliterated(word: str, language: str) -> str:
    for pattern, replacement in vocab.TRANSLITERATION[language]:
        word = pattern.sub(replacement, word)
    return word


@lru_cache(maxsize=8)
def _source(text: str) -> _Source:
    return _Source(text)


# --- checks -------------------------------------------------------------------------------------


def check_numbers(
    generated: str, source: str, *, generated_language: str = "fr", source_language: str = "fr"
) -> list[str]:
    """Numbers written with digits in ``generated`` that no number of ``source`` matches.

    Both decimal conventions are read whatever the languages (see the module docstring).
    """
    index = _source(source)
    return _unique(
        generated[number.start : number.end]
        for number in numbers_in(generated)
        if not index.backs_number(number, generated[max(0, number.start - 40) : number.start])
    )


def check_names(
    generated: str, source: str, *, generated_language: str = "fr", source_language: str = "fr"
) -> list[str]:
    """Capitalised words of ``generated`` that ``source`` lacks (hyphenated words whole)."""
    languages = _languages(generated_language, source_language)
    if not VOCABULARY_LANGUAGES.issuperset(languages):
        return []
    cross = None if languages[0] == languages[1] else languages
    index = _source(source)
    offending = []
    last_end, last_word = 0, ""
    for m in _COMPOUND.finditer(generated):
        gap, compound = generated[last_end : m.start()], m.group()
        initial = not last_end or _starts_sentence(gap, last_word)
        last_end, last_word = m.end(), compound
        if initial or not (compound[0].isupper() or compound[0].istitle()):
            continue
        for piece in filter(_is_name, _WORD.findall(compound)):
            folded = _WORD.findall(_fold(piece))
            if not all(index.backs_word(f, cross) for f in folded) and not (
                index.backs_acronym(piece, cross is not None)
            ):
                offending.append(compound)
                break
    return _unique(offending)


def _starts_sentence(gap: str, previous: str) -> bool:
    """The text ``gap`` after the word ``previous`` ends a sentence or opens a quotation."""
    if previous[:1].isupper() and (len(previous) == 1 or _fold(previous) in vocab.ABBREVIATIONS):
        gap = gap.replace(".", "", 1)  # M. Dupont, J. Dupont
    return bool(_BREAK.search(gap))


def _is_name(piece: str) -> bool:
    if len(piece) < 2 or not (piece[0].isupper() or piece[0].istitle()):
        return False
    if _fold(piece) in vocab.NOT_NAMES or _fold(piece) in vocab.DATE_KEYS:
        return False
    roman = ROMAN.fullmatch(piece)
    return not (roman and roman.group(2) and roman_value(roman.group(1)))


def check_dates(
    generated: str, source: str, *, generated_language: str = "fr", source_language: str = "fr"
) -> list[str]:
    """Weekdays and months in ``generated`` whose day or month ``source`` never names."""
    languages = _languages(generated_language, source_language)
    if not VOCABULARY_LANGUAGES.issuperset(languages):
        return []
    vocabulary, index = vocab.DATE_WORDS[languages[0]], _source(source)
    offending = []
    for word in _WORD.findall(generated):
        folded = _fold(word)
        key = vocabulary.get(folded)
        capitalised = folded not in vocab.CAPITALISED_ONLY or word[0].isupper()  # "may" is a verb
        if key and capitalised and key not in index.dates:
            offending.append(word)
    return _unique(offending)


def faithfulness_findings(
    generated: str,
    source: str,
    *,
    generated_language: str,
    source_language: str,
    checks: Iterable[str] = FAITHFULNESS_FLAGS,
) -> dict[str, list[str]]:
    """The non-empty findings of the ``checks`` asked for (each run only when asked), keyed
    by flag name, in the order number, name, date.

    ``source`` may be the article followed by its translation: what either names is backed.
    """
    languages = {"generated_language": generated_language, "source_language": source_language}
    asked = set(checks)
    findings = {
        flag: check(generated, source, **languages)
        for flag, check in (
            (NUMBER_MISMATCH, check_numbers), (UNSUPPORTED_NAME, check_names), (UNSUPPORTED_DATE, check_dates)
        )
        if flag in asked
    }
    return {flag: values for flag, values in findings.items() if values}
