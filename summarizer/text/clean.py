"""Cleaning scraped article text: boilerplate lines out, whitespace normalised.

Quotes (curly quotes, « ») and all other characters are kept as they are.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

from ..records import Article

# Zero-width characters and the soft hyphen carry no text but split tokens.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_LINE_BREAKS = re.compile(r"\r\n|[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")
_SPACES = re.compile(r"[^\S\n]+")

#: A text that is a single line of at least this many words is body, not a title.
ONE_LINE_ARTICLE_WORDS = 20

#: The chat markup of the common templates (ChatML, Llama 3, Gemma, Mistral, Llama 2),
#: with the role a turn opens with. An article keeps it as text (``models.tokens``), but
#: an article of nothing else has no text to summarise.
_CHAT_MARKUP = re.compile(
    r"(?:<\|[a-z0-9_]{1,40}\|>|<(?:start|end)_of_turn>|\[/?(?:INST|SYSTEM_PROMPT|AVAILABLE_TOOLS)\]|<</?SYS>>|</?s>|<(?:bos|eos|pad)>)"
    r"(?:[ \t]*(?:system|user|assistant|model|developer)\b)?",
    re.IGNORECASE,
)


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

    @property
    def has_text(self) -> bool:
        """Whether the body holds any word or figure once chat markup is set aside."""
        return any(_has_word(_CHAT_MARKUP.sub(" ", paragraph)) for paragraph in self.paragraphs)

    @property
    def titled(self) -> tuple[str, ...]:
        """The title (when there is one), then the paragraphs: the article as the summariser
        reads it, and the source the faithfulness checks compare outputs with."""
        return (self.title, *self.paragraphs) if self.title else self.paragraphs


def has_chat_markup(text: str) -> bool:
    """Whether ``text`` holds chat markup (``_CHAT_MARKUP``): text a model may take for
    its instructions, or a sign that it did."""
    return _CHAT_MARKUP.search(text) is not None


def _has_word(text: str) -> bool:
    return any(char.isalnum() for char in text)


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


def clean_article(
    title: str | None, text: str, line_filter: LineFilter, *, markdown: bool = False
) -> CleanArticle:
    """Normalise the text, drop boilerplate lines, and find the title.

    ``title`` None means the title is the first line left after cleaning (.txt
    and .md files; Markdown ``#`` marks are removed from it). Each remaining
    non-empty line is a paragraph: scraped text marks paragraphs with single
    newlines as often as with blank lines. A text that is one long line is all
    body: a title is a single short line followed by more text.
    """
    kept: list[str] = []
    dropped: list[str] = []
    for line in normalise(text).split("\n"):
        if line:
            (dropped if line_filter.drops(line) else kept).append(line)
    if title is None:
        if len(kept) == 1 and len(kept[0].split()) >= ONE_LINE_ARTICLE_WORDS:
            title = ""
        elif kept:
            title = kept.pop(0)
            if markdown:
                title = title.lstrip("#").strip()
        else:
            title = ""
    clean_title = " ".join(normalise(title).split())
    return CleanArticle(title=clean_title, paragraphs=tuple(kept), dropped_lines=tuple(dropped))


def clean_input(article: Article, line_filter: LineFilter) -> CleanArticle:
    """``article`` as the models will see it (Markdown ``#`` marks come off a
    ``.md`` file's title)."""
    markdown = article.source.path.suffix.lower() == ".md"
    return clean_article(article.title, article.text, line_filter, markdown=markdown)
