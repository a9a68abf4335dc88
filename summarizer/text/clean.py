"""Cleaning scraped article text: boilerplate lines out, whitespace normalised.

Quotes (curly quotes, « ») and all other characters are kept as they are.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

# Zero-width characters and the soft hyphen carry no text but split tokens.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_LINE_BREAKS = re.compile(r"\r\n|[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")
_SPACES = re.compile(r"[^\S\n]+")


@dataclass(frozen=True)
class CleanArticle:
    """An article as the models will see it."""

    title: str
    """The title on one line (may be empty)."""
    paragraphs: tuple[str, ...]
    """Body paragraphs, each one line, none empty."""
    dropped_lines: tuple[str, ...]
    """Lines removed as boilerplate, for the meta file and ``inspect``."""

    @property
    def body(self) -> str:
        """Paragraphs joined by newlines."""
        return "\n".join(self.paragraphs)


class LineFilter:
    """Decides which lines are boilerplate, from the configured regexes."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self._patterns = [re.compile(p, re.IGNORECASE) for p in patterns]

    def drops(self, line: str) -> bool:
        """True when the (stripped) line fully matches one of the patterns."""
        return any(p.fullmatch(line) for p in self._patterns)


def normalise(text: str) -> str:
    """NFC, Unix line ends, no control or zero-width characters, single spaces, stripped lines."""
    text = unicodedata.normalize("NFC", text)
    text = _LINE_BREAKS.sub("\n", text).translate(_INVISIBLE)
    text = _CONTROL.sub("", text)
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def clean_article(title: str, body: str, line_filter: LineFilter) -> CleanArticle:
    """Normalise the title and body and drop boilerplate lines from the body.

    Each remaining non-empty line of the body is a paragraph: scraped text marks
    paragraphs with single newlines as often as with blank lines.
    """
    clean_title = " ".join(normalise(title).split())
    kept: list[str] = []
    dropped: list[str] = []
    for line in normalise(body).split("\n"):
        if not line:
            continue
        (dropped if line_filter.drops(line) else kept).append(line)
    return CleanArticle(title=clean_title, paragraphs=tuple(kept), dropped_lines=tuple(dropped))
