"""What a run with nothing new costs, per done article, as the history grows.

Builds N done articles of each format: a template folder (txt, md, html and a
JSONL feed) is processed once by the real job with two tiny random-weight models
(the "fake engine": generation is not what is measured), then copied, outputs
and meta files included and modification times kept, into N / template-size
dated folders, as a year of nights would leave them. Then a run over the whole
tree is timed (discovery, the lock's walk, the skip checks, the report; no
reports folder): the fastest of three runs, after the tree's writes are flushed
and one warm-up run. The milliseconds per done article are printed for each
format and size.

    python benchmarks/noop_scale.py                       # 1k, 10k, 100k per format
    python benchmarks/noop_scale.py --sizes 1000,10000 --formats mixed
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from summarizer import RunOptions, load_config, run_job
from summarizer.cli import configure_logging
from summarizer.io.layout import is_output_file
from summarizer.models.tiny import build_tiny_marian, build_tiny_t5

PER_FORMAT = 25
"""Articles of each format in the template folder (the JSONL feed holds as many records)."""

TEXT = """\
{title}
La métropole a présenté {day} un plan qui prévoit de doubler son réseau cyclable d’ici à 2030 ; il coûtera {n} millions d’euros.
« Nous voulons que chacun puisse aller au travail à vélo », a expliqué la vice-présidente, citée par le communiqué.
Les premiers travaux commenceront au printemps sur les quais, selon le calendrier publié par la ville.
"""
PAGE = """<html><head><title>{title}</title></head><body><nav>Accueil | Politique</nav><article>
<h1>{title}</h1><p>La métropole a présenté {day} un plan qui prévoit de doubler son réseau cyclable d’ici à 2030.</p>
<p>« Nous voulons que chacun puisse aller au travail à vélo », a expliqué la vice-présidente, {n} fois.</p>
</article><footer>Mentions légales</footer></body></html>"""


def write_template(folder: Path) -> None:
    """``PER_FORMAT`` articles of each format, all different."""
    folder.mkdir(parents=True)
    records = []
    for number in range(PER_FORMAT):
        values = {"title": f"Lyon veut doubler ses pistes cyclables ({number})", "day": "mardi", "n": 180 + number}
        (folder / f"velo-{number:02d}.txt").write_text(TEXT.format(**values), encoding="utf-8")
        (folder / f"eau-{number:02d}.md").write_text("# " + TEXT.format(**values), encoding="utf-8")
        (folder / f"page-{number:02d}.html").write_text(PAGE.format(**values), encoding="utf-8")
        records.append({"id": f"r{number}", "title": values["title"], "text": TEXT.format(**values).split("\n", 1)[1]})
    (folder / "feed.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def write_config(path: Path, models: Path, inputs: Path) -> Path:
    path.write_text(
        f"""\
inputs: {{paths: [{json.dumps(str(inputs))}]}}
runtime: {{device: cpu}}
languages: {{force: fr}}
summarization:
  model: {json.dumps(str(models / "t5"))}
  generation: {{max_new_tokens: 8, min_new_tokens: 2}}
translation:
  model: {json.dumps(str(models / "marian"))}
  generation: {{max_new_tokens: 8}}
""",
        encoding="utf-8",
    )
    return path


SUFFIXES = {"txt": (".txt",), "md": (".md",), "html": (".html",), "jsonl": (".jsonl",)}


def template_files(template: Path, fmt: str) -> list[Path]:
    """The template's inputs of ``fmt`` (``mixed``: all) with their outputs and meta files."""
    suffixes = sum(SUFFIXES.values(), ()) if fmt == "mixed" else SUFFIXES[fmt]
    stems = {p.name.rsplit(".", 1)[0] for p in template.iterdir() if p.suffix in suffixes and not is_output_file(p.name)}
    return [p for p in template.iterdir() if p.is_file() and p.name.split(".", 1)[0] in stems]


def build_tree(root: Path, files: list[Path], per_folder: int, count: int) -> int:
    """Copies of ``files`` (times kept) into dated folders until ``count`` articles; returns how many."""
    made = 0
    for day in range((count + per_folder - 1) // per_folder):
        folder = root / f"{2025 + day // 365}-day-{day % 365:03d}-{day:05d}"
        folder.mkdir(parents=True)
        for path in files:
            shutil.copy2(path, folder / path.name)
        made += per_folder
    return made


def measure(config: Path, repeats: int = 3) -> tuple[float, dict[str, int]]:
    """The fastest of ``repeats`` runs, after the tree's writes are flushed to disk and
    one warm-up run (the file system caches, the Python caches): a night does not come
    right after half a million files were written."""
    os.sync()
    run_job(load_config(config), RunOptions())
    best, counts = float("inf"), {}
    for _ in range(repeats):
        started = time.perf_counter()
        report = run_job(load_config(config), RunOptions())
        best, counts = min(best, time.perf_counter() - started), report.counts
    return best, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--formats", default="txt,md,html,jsonl,mixed")
    parser.add_argument("--work", type=Path, help="build the trees here (default: a temporary folder)")
    args = parser.parse_args()
    configure_logging(quiet=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    formats = [f.strip() for f in args.formats.split(",")]
    work = Path(tempfile.mkdtemp(prefix="noop-scale-", dir=args.work))
    try:
        models = work / "models"
        build_tiny_t5(models / "t5", max_input_tokens=512)
        build_tiny_marian(models / "marian", max_positions=512)
        template = work / "template"
        write_template(template)
        started = time.perf_counter()
        run_job(load_config(write_config(work / "template.yaml", models, template)), RunOptions())
        print(f"template: {4 * PER_FORMAT} articles processed once in {time.perf_counter() - started:.1f}s")
        print(f"{'format':8} {'done articles':>13} {'seconds':>8} {'ms/article':>11}")
        for fmt in formats:
            files = template_files(template, fmt)
            per_folder = PER_FORMAT * (4 if fmt == "mixed" else 1)
            for size in sizes:
                tree = work / f"tree-{fmt}-{size}"
                made = build_tree(tree, files, per_folder, size)
                seconds, counts = measure(write_config(work / f"{fmt}-{size}.yaml", models, tree))
                assert counts["skipped"] == made and counts["new"] == 0, counts
                print(f"{fmt:8} {made:>13,} {seconds:>8.2f} {seconds / made * 1000:>11.3f}", flush=True)
                shutil.rmtree(tree)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
