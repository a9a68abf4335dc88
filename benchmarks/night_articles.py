"""The night benchmark's inputs: the article set, the models and the project's configs.

``build_article_set`` writes N articles into a fresh folder: the given articles
(by default the samples in examples/: a .txt, a .md and a .jsonl feed) repeated
in rounds with small variations (numbers, places, weekdays, sentence order), so
no two are identical. Round 0 holds the originals; every round holds one of each.
``night_models`` gives the random-like models (``convert``: for CTranslate2),
``project_config`` a copy of a config pointed at them; ``notes`` what the table means.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from summarizer.config import DEFAULT_DROP_LINE_PATTERNS
from summarizer.io.readers import discover, read_source
from summarizer.records import Article
from summarizer.text.clean import CleanArticle, LineFilter, clean_input
from summarizer.text.segment import SentenceSplitter

EXTENSIONS = (".txt", ".md", ".jsonl", ".html", ".htm")
SAMPLES = Path(__file__).resolve().parent.parent / "examples"
CONFIGS = Path(__file__).resolve().parent.parent / "configs"

_PLACES = ["Lyon", "Nantes", "Rennes", "Bordeaux", "Toulouse", "Lille", "Strasbourg", "Grenoble"]
_REGIONS = ["Bretagne", "Normandie", "Occitanie", "Bourgogne", "Provence"]
_DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class ArticleSet:
    """The folder of the articles and their keys, round by round (one of each base article)."""

    folder: Path
    keys: list[str]
    """Article keys (as ``discover``/``read_source`` name them), round 0 first."""
    base: int
    """Articles per round (the distinct articles the set is made of)."""
    unreadable: list[str]
    """Inputs that could not be read (left out)."""


def read_articles(paths: list[Path]) -> tuple[list[Article], list[str]]:
    """The articles under ``paths`` (summarizer's readers), and the reasons of those unreadable."""
    articles, problems = [], []
    for source in discover(paths, EXTENSIONS):
        for item in read_source(source):
            if isinstance(item, Article):
                articles.append(item)
            else:
                problems.append(f"{item.key}: {item.error}")
    return articles, problems


def cleaned(paths: list[Path], keys: set[str] | None = None) -> list[tuple[Article, CleanArticle]]:
    """Articles under ``paths`` (only ``keys`` when given) with their title and paragraphs, cleaned
    as the job cleans them, so every row gets the same sentences."""
    line_filter = LineFilter(DEFAULT_DROP_LINE_PATTERNS)
    articles, _ = read_articles(paths)
    return [(a, clean_input(a, line_filter)) for a in articles if keys is None or a.key in keys]


def build_article_set(folder: Path, count: int | None, inputs: list[Path] | None) -> ArticleSet:
    """Write ``count`` articles (default: each input once) into ``folder``."""
    base, unreadable = read_articles(inputs or [SAMPLES])
    if not base:
        raise SystemExit(f"no readable article in {', '.join(map(str, inputs or [SAMPLES]))}")
    count = count or len(base)
    folder.mkdir(parents=True, exist_ok=True)
    splitter = SentenceSplitter("fr")
    seen: set[str] = set()
    keys: list[str] = []
    for round_number in range(-(-count // len(base))):
        feeds: dict[str, list[str]] = {}
        for index, article in enumerate(base[: count - len(keys)]):
            text = _varied(article.text, round_number, index, splitter, article.title is None)
            title = article.title and _varied(article.title, round_number, index, splitter, False)
            while text in seen:  # the variations were not enough: mark the edition
                text += f" (édition {round_number + 1})"
            seen.add(text)
            stem = f"{Path(article.source.relative).stem}-{round_number:02d}"
            if article.source.kind == "jsonl":
                record = {**article.metadata, "id": f"{article.record_id}-{round_number:02d}",
                          "title": title, "text": text}
                feeds.setdefault(stem, []).append(json.dumps(record, ensure_ascii=False))
                keys.append(f"{stem}.jsonl#{record['id']}")
            else:
                suffix = article.source.path.suffix if article.source.kind == "text" else ".txt"
                body = text if title is None else f"{title}\n{text}"
                (folder / f"{stem}{suffix}").write_text(body + "\n", encoding="utf-8")
                keys.append(f"{stem}{suffix}")
        for stem, lines in feeds.items():
            (folder / f"{stem}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ArticleSet(folder, keys, min(len(base), count), unreadable)


def _varied(
    text: str, round_number: int, index: int, splitter: SentenceSplitter, titled: bool
) -> str:
    """``text`` for round ``round_number``: round 0 unchanged; then shifted numbers, other places
    and weekdays, and (odd rounds) each body paragraph's sentences rotated."""
    if round_number == 0:
        return text
    step = round_number * (index + 1)
    text = _NUMBER.sub(lambda m: str(int(m.group()) + step), text)
    for names in (_PLACES, _REGIONS, _DAYS):
        text = _rotate_names(text, names, round_number)
    if round_number % 2:
        lines = text.split("\n")
        first = 1 if titled else 0
        for number in range(first, len(lines)):
            sentences = splitter.split(lines[number])
            if len(sentences) > 1:
                shift = round_number % len(sentences) or 1
                lines[number] = " ".join(sentences[shift:] + sentences[:shift])
        text = "\n".join(lines)
    return text


def _rotate_names(text: str, names: list[str], shift: int) -> str:
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return pattern.sub(lambda m: names[(names.index(m.group()) + shift) % len(names)], text)


def night_models() -> dict[str, Path]:
    """The summariser and translator folders (random weights, real shapes; built once)."""
    from summarizer.bench.shapes import build_random_like

    return {role: build_random_like(name).resolve() for role, name in (("summarizer", "bart-base"), ("translator", "opus-mt-fr-en"))}


def convert(models: dict[str, Path]) -> dict[str, Path] | None:
    """Both models converted for CTranslate2, int8 (once; the project's cache, shared with
    fast-cpu), or None without CTranslate2."""
    try:
        import ctranslate2  # noqa: F401
    except ImportError:
        return None
    from summarizer.models.ct2_conversion import ensure_converted

    return {role: ensure_converted(folder, str(folder), None, "int8", f"night {role}")
            for role, folder in models.items()}


def generation(config: str, section: str, tokens: int) -> dict[str, Any]:
    """``section``'s generation settings in configs/<config>.yaml, at exactly ``tokens``."""
    import yaml

    data = yaml.safe_load((CONFIGS / f"{config}.yaml").read_text(encoding="utf-8"))
    settings = dict(data[section].get("generation") or {})
    return {**settings, "min_new_tokens": tokens, "max_new_tokens": tokens}


def project_config(
    name: str, target: Path, articles: Path, outputs: Path, models: dict[str, Path],
    device: str, lengths: dict[str, int], threads: int | None,
) -> Path:
    """A copy of configs/<name>.yaml at ``target``: the random-like models, the article set,
    outputs in ``outputs``, no reports, no quality retry, generation at exactly ``lengths``,
    and ``threads`` (None: the config's)."""
    import yaml

    data = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text(encoding="utf-8"))
    data["inputs"] = {**(data.get("inputs") or {}), "paths": [str(articles)]}
    data["outputs"] = {"dir": str(outputs)}
    data["reports"] = {"dir": None}
    data["quality"] = {**(data.get("quality") or {}), "retry": False}
    runtime = data.setdefault("runtime", {})
    runtime["device"] = device
    if threads:
        runtime["threads"] = threads
    if device == "cuda":
        runtime["dtype"] = "auto"
    for section, role in (("summarization", "summarizer"), ("translation", "translator")):
        part = data[section]
        part.pop("revision", None)
        part["model"] = str(models[role])
        part["generation"] = {**(part.get("generation") or {}),
                              "min_new_tokens": lengths[role], "max_new_tokens": lengths[role]}
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


def notes(
    articles: ArticleSet, rows: list[str], naive: int, busy: float, setup_seconds: float,
    device: str, threads: int,
) -> list[str]:
    """What the reader of the night benchmark's table should know."""
    lines = [
        *([f"the load average was {busy:.1f} at the start: other processes were using the CPUs. "
           "torch with one thread per core slows down many times over when a core is taken "
           "(every operation waits for the descheduled thread); compare rows from a quiet "
           "machine, or run with --threads 1"] if busy > 0.5 and device == "cpu" and threads > 1
          else []),
        ("timed: from reading the articles to the last file written; model loading is measured "
         f"apart ('load s', not timed) for every row; building and converting the models: "
         f"{setup_seconds:.1f}s in this run (cached after the first run)"),
        (f"articles: {len(articles.keys)}"
         + (f", {articles.base} distinct ones repeated with variations"
            if articles.base < len(articles.keys) else "")
         + (f"; unreadable, left out: {'; '.join(articles.unreadable)}"
            if articles.unreadable else "")),
        *([f"naive: measured on {naive} articles (the first of each distinct one), "
           "'night s' extrapolated from its articles/hour"] if "naive" in rows else []),
        ("model s: inside generate / translate_batch; other s: the rest (segmentation, "
         "tokenization, batching, quality checks; for the project also planning); read s: reading "
         "(and, for the project, language detection and fingerprints)"),
        *([("default, fast-cpu: quality.retry off (random weights trip the repetition checks, "
            "and the retries would add work the other rows do not do), no reports; the project "
            "packs short sentences up to translation.pack_tokens and splits inputs over "
            "max_input_tokens, so its segment counts differ")]
          if {"default", "fast-cpu"} & set(rows) else []),
        ("naive and expert-ct2 read with summarizer's readers and cleaning, so all rows translate "
         "the same sentences; the random summariser's summaries are gibberish, kept to real "
         "sentencepiece pieces so that the English summary's input is as long as a real one"),
    ]
    if device == "cuda":
        lines.append("peak GPU MB: torch allocations only (CTranslate2's are not counted)")
    return lines
