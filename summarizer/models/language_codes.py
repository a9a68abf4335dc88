"""Language codes: an ISO 639-1 language to the token a model's tokenizer has for it.

Each family writes languages its own way (NLLB ``fra_Latn``, M2M100 ``__fr__``, mBART
``fr_XX``, MADLAD ``<2fr>``, Marian ``>>fra<<``). ``pick_code`` decides with langcodes'
tables (the IANA registry's aliases, ISO 639-3 macrolanguages, CLDR's language distances),
not a hand list, in this order:

1. a code of the same language (``fra`` is ``fr``, ``pes`` is ``fa``, ``zsm`` is ``ms``);
2. else a code of an individual language of that macrolanguage (``ps``: ``pbt``,
   ``qu``: ``quy``, ``no``: ``nob``);
3. else the code of the macrolanguage the language belongs to (``nb``: ``no``).

Within a step the closest code by CLDR's distance wins (``zho_Hans`` before ``zho_Hant``,
``pes`` before ``prs``, ``nob`` before ``nno``), then the language's own three-letter code
(``aka`` before ``twi``), then the bare code (``>>fr<<`` before ``>>fr_BE<<``); a tie is
no code.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Iterable

#: How each family's language-code tokens look; group 1 is the language tag.
CODE_PATTERNS = {
    "nllb": r"([a-z]{3}_[A-Z][a-z]{3})",
    "m2m100": r"__([a-z]{2,3}(?:_[A-Za-z]+)?)__",
    "mbart50": r"([a-z]{2})_[A-Z]{2}",
    "mbart25": r"([a-z]{2})_[A-Z]{2}",
    "madlad": r"<2([a-z]{2,3}(?:[_-][A-Za-z0-9]+)*)>",
    "marian-multi": r">>([a-z]{2,3}(?:_[A-Za-z]+)*)<<",
}


def code_tag(family: str, code: str) -> str:
    """The language tag inside one of ``family``'s code tokens (``__fr__`` -> ``fr``)."""
    return re.fullmatch(CODE_PATTERNS[family], code).group(1)  # type: ignore[union-attr]


def pick_code(family: str, codes: Iterable[str], language: str) -> str | None:
    """The code of ``codes`` (tokens of ``family``) for ``language`` (ISO 639-1, e.g.
    ``fr``); None when none fits or two fit equally (see the module's docstring)."""
    from langcodes.data_dicts import MACROLANGUAGES

    wanted = standard(language)[0]
    macro = MACROLANGUAGES.get(wanted)
    ranked = []
    for code in codes:
        tag = code_tag(family, code)
        spoken = standard(tag)[0]
        step = 0 if spoken == wanted else 1 if MACROLANGUAGES.get(spoken) == wanted else 2 if spoken == macro else None
        if step is not None:
            ranked.append(((step, _distance(language, tag), *_own_code_first(language, tag)), code))
    ranked.sort()
    if not ranked or (len(ranked) > 1 and ranked[0][0] == ranked[1][0]):
        return None
    return ranked[0][1]


def _distance(language: str, tag: str) -> int:
    """CLDR's distance from ``language`` to ``tag`` (0: the same; scripts and regions count)."""
    import langcodes

    try:
        return int(langcodes.tag_distance(language, tag.replace("_", "-")))
    except (ValueError, LookupError):
        return 1000


def _own_code_first(language: str, tag: str) -> tuple[bool, bool]:
    """Sort keys: the language's own code (``aka`` for ``ak``, not ``twi``), then the bare
    code (``fr`` before ``fr_BE``)."""
    import langcodes

    try:
        alpha3 = langcodes.Language.get(language).to_alpha3()
    except (ValueError, LookupError):
        alpha3 = language
    return tag.split("_")[0] not in (language, alpha3), tag not in (language, alpha3)


@functools.lru_cache(maxsize=4096)
def standard(tag: str) -> tuple[str, str | None]:
    """(language, script) of a code's tag, the language as ISO 639-1 where one exists
    (``fra_Latn`` -> (``fr``, ``Latn``), ``arb`` -> (``ar``, None))."""
    import langcodes

    try:
        parsed = langcodes.Language.get(langcodes.standardize_tag(tag.replace("_", "-"), macro=True))
    except (ValueError, LookupError):
        return tag, None
    return str(parsed.language or tag), parsed.script


def individual_language(tag: Any) -> str | None:
    """``tag`` as an ISO 639-1 code when it names one language (``fr``, ``fra``), else None
    (group codes such as ``roa`` or ``mul``)."""
    if not isinstance(tag, str) or not re.fullmatch(r"[a-z]{2,3}", tag):
        return None
    language = standard(tag)[0]
    return language if len(language) == 2 else None
