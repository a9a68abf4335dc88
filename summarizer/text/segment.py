"""Paragraphs -> sentences -> chunks that fit a token budget.

Pure functions: the token counter (the model's own tokenizer, special tokens
included) is passed in. No text is ever dropped: every character of the input
other than the whitespace at a split point ends up in exactly one chunk, in
order. A sentence longer than the budget is split at clause punctuation, then
between words, and only as a last resort inside a word.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, Sequence

import pysbd

TokenCounter = Callable[[str], int]
"""Number of model input tokens for a text, special tokens included."""

# Languages pysbd has rules for; others fall back to its English rules.
PYSBD_LANGUAGES = frozenset(
    "am ar bg da de el en es fa fr hi hy it ja kk mr my nl pl ru sk ur zh".split()
)

# Split after a comma, semicolon or colon, or before a spaced dash.
_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+|\s+(?=[—–-]\s)")


class SentenceSplitter:
    """Sentence splitter for one language (pysbd's rule-based segmenter)."""

    def __init__(self, language: str) -> None:
        self.language = language if language in PYSBD_LANGUAGES else "en"
        self._segmenter = pysbd.Segmenter(language=self.language, clean=False)

    def split(self, paragraph: str) -> list[str]:
        """The sentences of ``paragraph``, stripped; together they hold all of its text.

        pysbd's time grows with the square of its input, so a long paragraph is first
        cut into windows of about ``WINDOW_CHARS`` at a sentence end (else a space)."""
        if not paragraph.strip():
            return []
        pieces = [piece for window in _windows(paragraph) for piece in self._segmenter.segment(window)]
        return align_pieces(paragraph, pieces)


#: Longest text given to pysbd at once (about a tenth of a second of its time).
WINDOW_CHARS = 2000
_SENTENCE_END = re.compile(r"(?<!\b[A-Z])[.!?…][»\"')\]]*\s+")  # not after an initial ("M. Dupont")


def _windows(text: str) -> list[str]:
    """``text`` cut into consecutive windows of at most ``WINDOW_CHARS``, each ending
    after the last sentence end it holds, else at its last space (else anywhere)."""
    windows = []
    while len(text) > WINDOW_CHARS:
        head = text[:WINDOW_CHARS]
        ends = [match.end() for match in _SENTENCE_END.finditer(head)]
        cut = ends[-1] if ends else head.rfind(" ") + 1 or WINDOW_CHARS
        windows.append(text[:cut])
        text = text[cut:]
    return [*windows, text]


def align_pieces(text: str, pieces: Iterable[str]) -> list[str]:
    """Cut ``text`` where each of ``pieces`` starts, so that nothing is lost.

    A splitter may skip or alter characters; anything between two pieces goes
    with the earlier one, and if a piece cannot be found the text stays whole.
    """
    starts: list[int] = []
    position = 0
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        index = text.find(piece, position)
        if index < 0:
            return [text.strip()]
        starts.append(index)
        position = index + len(piece)
    if not starts:
        return [text.strip()] if text.strip() else []
    bounds = [0, *starts[1:], len(text)]
    parts = (text[a:b].strip() for a, b in zip(bounds, bounds[1:]))
    return [p for p in parts if p]


def split_paragraphs(text: str) -> list[str]:
    """Non-empty lines of ``text``, stripped."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def fit_units(text: str, max_tokens: int, count: TokenCounter) -> list[str]:
    """Split one sentence into pieces of at most ``max_tokens`` tokens each.

    Tries clause punctuation first, then word boundaries, then characters.
    """
    if count(text) <= max_tokens:
        return [text]
    for splitter in (_CLAUSE_BREAK.split, str.split):
        pieces = [p for p in splitter(text) if p and p.strip()]
        if len(pieces) > 1:
            units = [u for piece in pieces for u in fit_units(piece, max_tokens, count)]
            return pack_units([(u, " ") for u in units], count, max_tokens)
    return _split_characters(text, max_tokens, count)


def _split_characters(text: str, max_tokens: int, count: TokenCounter) -> list[str]:
    pieces = []
    rest = text
    while rest:
        cut = _longest_prefix(rest, max_tokens, count)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    return pieces


def _longest_prefix(text: str, max_tokens: int, count: TokenCounter) -> int:
    """Length of the longest prefix of ``text`` within ``max_tokens`` (at least 1).

    Probes prefixes of doubling length, then bisects, so the work stays
    proportional to the prefix found rather than to the whole text.
    """
    good, bad = 0, -1
    probe = max(16, max_tokens * 4)
    while bad < 0:
        if probe >= len(text):
            if count(text) <= max_tokens:
                return len(text)
            bad = len(text)
        elif count(text[:probe]) <= max_tokens:
            good, probe = probe, probe * 2
        else:
            bad = probe
    while bad - good > 1:
        middle = (good + bad) // 2
        if count(text[:middle]) <= max_tokens:
            good = middle
        else:
            bad = middle
    return max(good, 1)


def pack_units(
    units: Sequence[tuple[str, str]],
    count: TokenCounter,
    max_tokens: int,
    pack_tokens: int | None = None,
) -> list[str]:
    """Greedily pack consecutive ``(text, joiner)`` units into chunks.

    A unit's joiner (" " inside a paragraph, "\\n" between paragraphs) is put
    before it when it follows another unit in the same chunk. Chunks are packed
    up to ``pack_tokens`` (default ``max_tokens``), estimated from the units'
    own counts, and each chunk is checked against ``max_tokens`` exactly.
    """
    limit = max_tokens if pack_tokens is None else min(pack_tokens, max_tokens)
    overhead = count("")
    chunks: list[str] = []
    current: list[tuple[str, str]] = []
    current_tokens = overhead
    for text, joiner in units:
        tokens = count(text) - overhead
        if current and current_tokens + tokens > limit:
            chunks.extend(_join_checked(current, count, max_tokens))
            current, current_tokens = [], overhead
        current.append((text, joiner))
        current_tokens += tokens
    if current:
        chunks.extend(_join_checked(current, count, max_tokens))
    return chunks


def _join_checked(units: list[tuple[str, str]], count: TokenCounter, max_tokens: int) -> list[str]:
    text = units[0][0] + "".join(joiner + unit for unit, joiner in units[1:])
    if len(units) == 1 or count(text) <= max_tokens:
        return [text]
    half = len(units) // 2
    return _join_checked(units[:half], count, max_tokens) + _join_checked(
        units[half:], count, max_tokens
    )


def chunk_paragraphs(
    paragraphs: Sequence[str],
    splitter: SentenceSplitter,
    count: TokenCounter,
    max_tokens: int,
    pack_tokens: int | None = None,
) -> list[str]:
    """Chunks of at most ``max_tokens`` tokens covering all ``paragraphs`` in order.

    Sentences of one paragraph are joined by a space, and a chunk spanning two
    paragraphs keeps the line break between them.
    """
    if count("") >= max_tokens:
        raise ValueError(f"a budget of {max_tokens} tokens leaves no room for text")
    units: list[tuple[str, str]] = []
    for paragraph in paragraphs:
        for index, sentence in enumerate(splitter.split(paragraph)):
            joiner = " " if index else "\n"
            units.extend((piece, joiner) for piece in fit_units(sentence, max_tokens, count))
    return pack_units(units, count, max_tokens, pack_tokens)


def truncate_to_tokens(text: str, max_tokens: int, count: TokenCounter) -> tuple[str, int]:
    """The longest lead of ``text`` within ``max_tokens`` and the number of tokens dropped.

    The cut is moved back to a word boundary when one is close.
    """
    total = count(text)
    if total <= max_tokens:
        return text, 0
    kept = text[: _longest_prefix(text, max_tokens, count)]
    boundary = kept.rfind(" ")
    if boundary > len(kept) * 0.8:
        kept = kept[:boundary]
    kept = kept.rstrip()
    return kept, max(total - count(kept), 1)
