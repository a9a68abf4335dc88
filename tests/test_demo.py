"""`summarizer demo`: a first success without a network, on the sample articles."""

from __future__ import annotations

import json
from pathlib import Path

from summarizer.cli import main
from summarizer.io.layout import is_output_file

REPO = Path(__file__).resolve().parents[1]


def test_the_random_weight_demo_runs_the_job_on_every_example_without_a_network(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # as from a fresh clone: everything goes into ./demo
    before = sorted(p.name for p in (REPO / "examples").rglob("*"))
    assert main(["demo", "--random-weights", "--input", str(REPO / "examples")]) == 0
    out = capsys.readouterr().out
    assert "the text is gibberish because the models have random weights" in out
    outputs = tmp_path / "demo" / "outputs"
    assert f"demo: outputs in {outputs}" in out
    examples = sorted(p for p in (REPO / "examples").rglob("*") if p.is_file() and not is_output_file(p.name))
    assert examples
    for example in examples:
        relative = example.relative_to(REPO / "examples")
        stem = relative.with_suffix("")
        if example.suffix == ".jsonl":
            records = (outputs / f"{stem}.results.jsonl").read_text(encoding="utf-8").splitlines()
            assert records and all(json.loads(r)["status"] == "ok" for r in records)
        else:
            assert json.loads((outputs / f"{stem}.meta.json").read_text())["status"] == "ok", example
            assert (outputs / f"{stem}.summary.en.txt").read_text(encoding="utf-8").strip()
    assert list((tmp_path / "demo" / "reports").glob("digest-*.md"))
    assert sorted(p.name for p in (REPO / "examples").rglob("*")) == before  # the examples are untouched


def test_the_demo_says_where_to_run_it_from(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 2
    assert "run the demo from the project folder, or give --input FOLDER" in capsys.readouterr().err
