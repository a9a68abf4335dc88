"""The night, end to end: N articles in, all files out, for each way of running the models.

    python benchmarks/night.py [--articles N] [--input PATH ...] [--device cpu|cuda]
        [--rows naive,expert-ct2,default,fast-cpu] [--format table|markdown|json]

Random-weight models of the real shapes (opus-mt-fr-en, a BART-base summariser;
built once under the bench cache), so it runs offline. Every summary is exactly
S tokens and every translation segment exactly T tokens, so rows compare. Rows,
in one process, on the same articles: ``naive`` (one generate call per sentence,
float32, default.yaml's beams; on a subset, extrapolated), ``expert-ct2``
(CTranslate2 int8 driven as its documentation shows, one translate_batch per
article and task, greedy), ``default`` and ``fast-cpu`` (``run_job`` on copies of
the two configs). Timed: from reading the articles to the last file written;
model loading (and building, conversion) is measured apart and not timed.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from night_articles import ArticleSet, build_article_set, cleaned, convert, generation
from night_articles import night_models, notes, project_config

ROWS = ("naive", "expert-ct2", "default", "fast-cpu")
LENGTHS = {"summarizer": 64, "translator": 32}
"""Tokens generated per summary and per translation segment, in every row."""
TARGETS = (("fast-cpu", "expert-ct2", 1.3), ("default", "naive", 10.0))


@dataclass
class Row:
    """One way of running the night, measured."""

    name: str
    what: str = ""
    articles: int = 0
    segments: int = 0
    """Model inputs: summaries plus translation segments."""
    seconds: float = 0.0
    model_seconds: float = 0.0
    read_seconds: float = 0.0
    write_seconds: float = 0.0
    load_seconds: float = 0.0
    generated_tokens: int = 0
    peak_gpu_mb: float | None = None
    skipped: str | None = None
    """Why the row could not run here."""
    problem: str | None = None
    """Something that went wrong in a row that ran."""

    @property
    def per_hour(self) -> float:
        return 3600 * self.articles / self.seconds if self.seconds else 0.0

    def add(self, other: Row) -> Row:
        """This row and ``other`` (the naive row's two halves) together."""
        for name in ("articles", "segments", "seconds", "model_seconds", "read_seconds",
                     "write_seconds", "load_seconds", "generated_tokens"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.peak_gpu_mb is not None:
            self.peak_gpu_mb = max(self.peak_gpu_mb or 0.0, other.peak_gpu_mb)
        return self


@dataclass
class Night:
    """What every row shares."""

    articles: ArticleSet
    models: dict[str, Path]
    """summarizer / translator folders."""
    work: Path
    device: str
    threads: int = 1
    threads_set: bool = False
    """--threads given: the project rows get it as runtime.threads too."""
    setup_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def out(self, name: str) -> Path:
        folder = self.work / f"out-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def peak_mb(self, reset: bool = False) -> float | None:
        """Peak GPU memory allocated by torch since the last reset (None on the CPU)."""
        if self.device != "cuda":
            return None
        import torch

        if reset:
            torch.cuda.reset_peak_memory_stats()
        return torch.cuda.max_memory_allocated() / 2**20


@contextmanager
def _clock(row: Row, name: str) -> Iterator[None]:
    """Adds the seconds spent inside the ``with`` block to the row's field ``name``."""
    started = time.perf_counter()
    yield
    setattr(row, name, getattr(row, name) + time.perf_counter() - started)


def script_night(
    night: Night, row: Row, keys: set[str] | None,
    summarise: Callable[[str], str], translate: Callable[[list[str]], list[str]],
) -> Row:
    """What a script does with ``summarise`` and ``translate``, article after article:
    read, summarise, translate the title and body sentences and the summary's, write."""
    from summarizer.text.segment import SentenceSplitter, split_paragraphs

    night.peak_mb(reset=True)
    out = night.out(row.name)
    started = time.perf_counter()
    with _clock(row, "read_seconds"):
        articles = cleaned([night.articles.folder], keys)
    splitter = SentenceSplitter("fr")
    for article, clean in articles:
        sentences = [s for p in (clean.title, *clean.paragraphs) for s in splitter.split(p)]
        summary = summarise("\n".join((clean.title, *clean.paragraphs)))
        translated = translate(sentences)
        summary_en = translate([s for p in split_paragraphs(summary) for s in splitter.split(p)])
        with _clock(row, "write_seconds"):
            stem = out / article.key.replace("/", "_").replace("#", ".")
            for suffix, text in (("summary.fr", summary), ("summary.en", " ".join(summary_en)),
                                 ("translation.en", "\n".join(translated))):
                Path(f"{stem}.{suffix}.txt").write_text(text + "\n", encoding="utf-8")
    row.seconds, row.articles = time.perf_counter() - started, len(articles)
    row.peak_gpu_mb = night.peak_mb()
    return row


def naive_row(night: Night, keys: list[str]) -> Row:
    """What a first script does: ``generate`` on one sentence at a time, float32."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    row = Row("naive", "model.generate per sentence, float32, default.yaml's generation")
    with _clock(row, "load_seconds"):
        loaded = {}
        for role, folder in night.models.items():
            model = AutoModelForSeq2SeqLM.from_pretrained(folder, dtype=torch.float32)
            loaded[role] = (AutoTokenizer.from_pretrained(folder), model.to(night.device).eval())
    settings = {"summarizer": generation("default", "summarization", LENGTHS["summarizer"]),
                "translator": generation("default", "translation", LENGTHS["translator"])}

    def generate(role: str, text: str) -> str:
        tokenizer, model = loaded[role]
        inputs = tokenizer(text, return_tensors="pt", truncation=True).to(night.device)
        with _clock(row, "model_seconds"), torch.inference_mode():
            output = model.generate(**inputs, **settings[role])
        row.generated_tokens += output.shape[1] - 1
        row.segments += 1
        return tokenizer.decode(output[0], skip_special_tokens=True).strip()

    return script_night(night, row, set(keys), lambda text: generate("summarizer", text),
                        lambda texts: [generate("translator", text) for text in texts])


def expert_row(night: Night, converted: dict[str, Path] | None) -> Row:
    """CTranslate2 as its documentation shows: per article, one translate_batch per task."""
    compute = "int8" if night.device == "cpu" else "int8_float16"
    row = Row("expert-ct2", f"CTranslate2 {compute}, one translate_batch per article and task, "
              "fast-cpu.yaml's generation")
    if converted is None:
        row.skipped = "ctranslate2 is not installed"
        return row
    import ctranslate2
    from transformers import AutoTokenizer

    if night.device == "cuda" and ctranslate2.get_cuda_device_count() == 0:
        row.skipped = "this CTranslate2 build sees no CUDA device"
        return row
    with _clock(row, "load_seconds"):
        loaded = {
            role: (AutoTokenizer.from_pretrained(night.models[role]),
                   ctranslate2.Translator(str(path), device=night.device, compute_type=compute,
                                          intra_threads=night.threads))
            for role, path in converted.items()
        }
    names = {"num_beams": "beam_size", "no_repeat_ngram_size": "no_repeat_ngram_size",
             "min_new_tokens": "min_decoding_length", "max_new_tokens": "max_decoding_length"}
    sections = {"summarizer": "summarization", "translator": "translation"}
    options = {role: {names[k]: v for k, v in generation("fast-cpu", section, LENGTHS[role]).items()
                      if k in names}
               for role, section in sections.items()}

    def translate(role: str, texts: list[str]) -> list[str]:
        if not texts:
            return []
        tokenizer, translator = loaded[role]
        encoded = tokenizer(texts, truncation=True)["input_ids"]
        batch = [tokenizer.convert_ids_to_tokens(ids) for ids in encoded]
        with _clock(row, "model_seconds"):
            results = translator.translate_batch(batch, **options[role])
        hypotheses = [r.hypotheses[0] for r in results]
        row.generated_tokens += sum(len(h) for h in hypotheses)
        row.segments += len(hypotheses)
        ids = [tokenizer.convert_tokens_to_ids(h) for h in hypotheses]
        return [tokenizer.decode(i, skip_special_tokens=True).strip() for i in ids]

    return script_night(night, row, None, lambda text: translate("summarizer", [text])[0],
                        lambda texts: translate("translator", texts))


def project_row(night: Night, name: str) -> Row:
    """The project itself: ``run_job`` on a copy of configs/<name>.yaml; model loading not timed."""
    from summarizer import RunOptions, load_config, run_job

    path = project_config(name, night.work / f"{name}.yaml", night.articles.folder, night.out(name),
                          night.models, night.device, LENGTHS,
                          night.threads if night.threads_set else None)
    config = load_config(path)
    row = Row(name)
    night.peak_mb(reset=True)
    started = time.perf_counter()
    report = run_job(config, RunOptions(force=True))
    stages = report.stats.stage_seconds
    row.load_seconds = stages.get("load_models", 0.0)
    row.seconds = time.perf_counter() - started - row.load_seconds
    row.model_seconds, row.generated_tokens = report.stats.generate_seconds, report.stats.generated_tokens
    row.read_seconds, row.write_seconds = stages.get("read", 0.0), stages.get("write", 0.0)
    row.articles, row.peak_gpu_mb = len(report.done), night.peak_mb()
    row.segments = sum(usage.stats.segments for usage in report.stats.models.values())
    engines = sorted({f"{d.get('engine')} {d.get('dtype')}" for d in
                      (usage.description for usage in report.stats.models.values())})
    beams = config.summarization.generation.get("num_beams", 1)
    search = f"{beams} beams" if beams > 1 else "greedy"
    spent = ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
    generate = ", ".join(f"{k.split('.')[0]} {u.stats.generate_seconds:.1f}"
                         for k, u in report.models.items())
    row.what = (f"run_job, configs/{name}.yaml: {', '.join(engines)}, {search}; stage_seconds: "
                f"{spent}; generate seconds: {generate}")
    if len(report.results) != len(report.done):
        row.problem = f"{len(report.results) - len(report.done)} articles not done: " + "; ".join(
            f"{r.key}: {r.error}" for r in report.results if r.status != "ok")[:300]
    return row


def run_rows(night: Night, rows: list[str], naive_keys: list[str]) -> list[Row]:
    """Each requested row once; the naive row half first and half last, so that a machine that
    changes speed during the run does not skew the ratios."""
    import torch

    if night.device == "cuda" and not torch.cuda.is_available():
        return [Row(name, skipped="no CUDA device here") for name in rows]
    measured: dict[str, Row] = {}
    half = max(1, len(naive_keys) // 2)
    converted = convert(night.models) if "expert-ct2" in rows else None
    order = [n for n in ("expert-ct2", "fast-cpu", "default") if n in rows]
    if "naive" in rows:
        order = ["naive-first", *order, "naive"]
    for name in order:
        logging.getLogger("night").info("row %s", name)
        if name == "naive-first":
            measured["naive"] = naive_row(night, naive_keys[:half])
        elif name == "naive":
            if naive_keys[half:]:
                measured["naive"].add(naive_row(night, naive_keys[half:]))
        elif name == "expert-ct2":
            measured[name] = expert_row(night, converted)
        else:
            measured[name] = project_row(night, name)
        gc.collect()
    return [measured[name] for name in rows]


def ratio(rows: list[Row], name: str, base: str) -> float | None:
    found = {r.name: r for r in rows if not r.skipped and r.per_hour}
    return found[name].per_hour / found[base].per_hour if name in found and base in found else None


def records(rows: list[Row], night: Night) -> list[dict[str, Any]]:
    """One record per row, as printed."""
    total, out = len(night.articles.keys), []
    for row in rows:
        if row.skipped:
            out.append({"row": row.name, "skipped": row.skipped, "what": row.what})
            continue
        other = row.seconds - row.model_seconds - row.read_seconds - row.write_seconds
        x_expert, x_naive = ratio(rows, row.name, "expert-ct2"), ratio(rows, row.name, "naive")
        out.append({
            "row": row.name,
            "articles": row.articles if row.articles == total else f"{row.articles} of {total}",
            "seconds": round(row.seconds, 1), "articles/hour": round(row.per_hour),
            "night s": round(total * 3600 / row.per_hour, 1) if row.per_hour else None,
            "x expert-ct2": None if x_expert is None else round(x_expert, 2),
            "x naive": None if x_naive is None else round(x_naive, 1),
            "model s": round(row.model_seconds, 1), "read s": round(row.read_seconds, 2),
            "write s": round(row.write_seconds, 2), "other s": round(other, 2),
            "segments": row.segments, "generated tokens": row.generated_tokens,
            "load s (untimed)": round(row.load_seconds, 1),
            "peak GPU MB": None if row.peak_gpu_mb is None else round(row.peak_gpu_mb),
            "problem": row.problem, "what": row.what,
        })
    return out


def targets(rows: list[Row]) -> list[dict[str, Any]]:
    """Each target: the measured ratio, whether it is met, or why it could not be measured."""
    status = {r.name: r.skipped for r in rows}
    result = []
    for name, base, wanted in TARGETS:
        measured = ratio(rows, name, base)
        why = next((f"{n} {'skipped: ' + str(status[n]) if n in status else 'not run'}"
                    for n in (name, base) if status.get(n, "not run")), None)
        result.append({"target": f"{name} >= {wanted}x {base}",
                       "measured": None if measured is None else round(measured, 2),
                       "met": None if measured is None else measured >= wanted,
                       "why not measured": None if measured is not None else why})
    return result


def render(rows: list[Row], night: Night, fmt: str) -> str:
    """The table (aligned or Markdown) with the rows' descriptions, targets and notes; or JSON."""
    table, goals = records(rows, night), targets(rows)
    head = (f"night benchmark: {len(night.articles.keys)} articles, device {night.device}, "
            f"{night.threads} threads; every summary {LENGTHS['summarizer']} tokens, every "
            f"translation segment {LENGTHS['translator']} tokens")
    if fmt == "json":
        return json.dumps({"header": head, "setup_seconds": round(night.setup_seconds, 1),
                           "rows": table, "targets": goals, "notes": night.notes}, indent=2)
    columns = [c for c in next((list(r) for r in table if "skipped" not in r), ["row"])
               if c not in ("problem", "what") and (c != "peak GPU MB" or night.device == "cuda")]
    lines = [["-" if r[c] is None else str(r[c]) for c in columns]
             for r in table if "skipped" not in r]
    skipped = [(r["row"], f"skipped: {r['skipped']}") for r in table if "skipped" in r]
    if fmt == "markdown":
        body = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
        body += ["| " + " | ".join(line) + " |" for line in lines]
        body += [f"| {name} | {why} |" + " |" * (len(columns) - 2) for name, why in skipped]
    else:
        widths = [max(len(c), *(len(line[i]) for line in lines)) for i, c in enumerate(columns)]
        body = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()]
        body += ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip()
                 for line in lines]
        body += [f"{name.ljust(widths[0])}  {why}" for name, why in skipped]
    out = [head, "", *body, ""]
    out += [f"- {r['row']}: {r['what']}"
            + (f" (problem: {r['problem']})" if r.get("problem") else "") for r in table]
    out += ["", "targets:"]
    for goal in goals:
        verdict = (f"cannot be checked: {goal['why not measured']}" if goal["met"] is None
                   else f"{goal['measured']}x, {'met' if goal['met'] else 'NOT met'}")
        out.append(f"- {goal['target']}: {verdict}")
    return "\n".join([*out, "", "notes:", *[f"- {note}" for note in night.notes]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, help="articles in the night (default 24 from the "
                        "samples; with --input: each input article once)")
    parser.add_argument("--input", type=Path, nargs="+", help="your articles (files or folders)")
    parser.add_argument("--naive-articles", type=int, help="articles the naive row runs on "
                        "(default: the first of each distinct article, at most 4)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, of {ROWS}")
    parser.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    parser.add_argument("--threads", type=int, help="CPU threads for every row (default: torch's, "
                        "one per core, as the project's runtime.threads: null)")
    parser.add_argument("--keep", type=Path, help="work in this folder, kept (default: a temp one)")
    args = parser.parse_args(argv)
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    if unknown := sorted(set(rows) - set(ROWS)):
        parser.error(f"unknown rows {', '.join(unknown)}; known: {', '.join(ROWS)}")
    busy = os.getloadavg()[0]
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_VERBOSITY="error",
                      HF_HUB_DISABLE_PROGRESS_BARS="1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("summarizer").setLevel(logging.ERROR)
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="night-") as temp:
        work = args.keep.absolute() if args.keep else Path(temp)
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        count = args.articles or (None if args.input else 24)
        articles = build_article_set(work / "articles", count, args.input)
        started = time.perf_counter()
        night = Night(articles, night_models(), work, args.device, torch.get_num_threads(),
                      bool(args.threads))
        import py3langid.langid  # noqa: F401 - imports are not timed, for any row

        if "expert-ct2" in rows or "fast-cpu" in rows:
            convert(night.models)  # fast-cpu's own conversion is this one (same cache key)
        night.setup_seconds = time.perf_counter() - started
        naive = min(args.naive_articles or min(articles.base, 4), len(articles.keys))
        measured = run_rows(night, rows, articles.keys[:naive])
        night.notes += notes(articles, rows, naive, busy, night.setup_seconds, night.device,
                             night.threads)
        print(render(measured, night, args.format))
    print(f"\nwall time, model building included: {time.perf_counter() - wall:.0f}s",
          file=sys.stderr if args.format == "json" else sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
