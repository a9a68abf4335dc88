"""End to end through ``main([...])`` on temporary folders with the tiny local models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_config, written_earlier
from summarizer.cli import main

ORIGINALS = {"2026-11-28/velo.txt", "eau.md"}
OUTPUTS = {
    "2026-11-28/velo.summary.fr.txt",
    "2026-11-28/velo.summary.en.txt",
    "2026-11-28/velo.translation.en.txt",
    "2026-11-28/velo.meta.json",
    "eau.summary.fr.txt",
    "eau.summary.en.txt",
    "eau.translation.en.txt",
    "eau.meta.json",
}


def files(folder: Path) -> set[str]:
    """Every file under ``folder`` except the run lock (which stays, empty, by design)."""
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != ".summarizer.lock"
    }


def mtimes(folder: Path) -> dict[str, int]:
    return {name: (folder / name).stat().st_mtime_ns for name in files(folder)}


def meta(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def no_models(monkeypatch):
    """Fail the test if any model engine is even created."""
    from summarizer.models import seq2seq

    def refuse(*args, **kwargs):
        raise AssertionError("a model engine was created")

    monkeypatch.setattr(seq2seq.Seq2SeqEngine, "__init__", refuse)


def test_run_writes_every_output_next_to_the_originals(job_config, articles, capsys) -> None:
    assert main(["run", "-c", str(job_config)]) == 0
    assert files(articles) == ORIGINALS | OUTPUTS
    velo = meta(articles / "2026-11-28" / "velo.meta.json")
    assert velo["status"] == "ok"
    assert velo["key"] == "2026-11-28/velo.txt"
    assert len(velo["input_sha256"]) == 64 and len(velo["fingerprint"]) == 64
    assert velo["title"] == "Lyon veut doubler ses pistes cyclables"
    assert velo["title_translation"]
    assert velo["dropped_lines"] == 1
    assert velo["outputs"] == ["velo.summary.fr.txt", "velo.summary.en.txt", "velo.translation.en.txt"]
    assert set(velo["models"]) == {"summarization", "translation"}
    assert velo["models"]["translation"]["device"] == "cpu"
    assert set(velo["tasks"]) == {"summary", "translation", "summary_translation"}
    for task in velo["tasks"].values():
        assert task["segments"] >= 1
        assert task["input_tokens"] > 0 and task["generated_tokens"] > 0
        assert task["truncated_tokens"] == 0
    assert "error" not in velo
    assert meta(articles / "eau.meta.json")["dropped_lines"] == 1
    for name in OUTPUTS - {"2026-11-28/velo.meta.json", "eau.meta.json"}:
        text = (articles / name).read_text(encoding="utf-8")
        assert text.strip() and text.endswith("\n") and not text.endswith("\n\n")
    translation = (articles / "2026-11-28" / "velo.translation.en.txt").read_text(encoding="utf-8")
    assert translation.split("\n\n")[0] == velo["title_translation"]
    assert len(translation.strip().split("\n\n")) == 1 + 3  # title + the 3 kept paragraphs
    assert "2 found, 2 done, 0 skipped, 0 failed" in capsys.readouterr().err


def test_second_run_skips_everything_and_loads_no_model(job_config, articles, capsys, monkeypatch) -> None:
    assert main(["run", "-c", str(job_config)]) == 0
    before = mtimes(articles)
    capsys.readouterr()
    from summarizer.models import seq2seq

    monkeypatch.setattr(seq2seq.Seq2SeqEngine, "__init__", lambda *a, **k: pytest.fail("model"))
    assert main(["run", "-c", str(job_config)]) == 0
    assert mtimes(articles) == before
    assert "2 found, 0 done, 2 skipped, 0 failed" in capsys.readouterr().err


def test_an_edited_article_is_redone_alone(job_config, articles, capsys) -> None:
    assert main(["run", "-c", str(job_config)]) == 0
    before = mtimes(articles)
    velo = articles / "2026-11-28" / "velo.txt"
    velo.write_text(velo.read_text(encoding="utf-8") + "Un nouveau paragraphe.\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["run", "-c", str(job_config)]) == 0
    after = mtimes(articles)
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {name for name in files(articles) if name.startswith("2026-11-28/velo")}
    assert "2 found, 1 done, 1 skipped, 0 failed" in capsys.readouterr().err


def test_a_deleted_output_file_gets_the_article_redone(job_config, articles) -> None:
    assert main(["run", "-c", str(job_config)]) == 0
    (articles / "eau.summary.en.txt").unlink()
    assert main(["run", "-c", str(job_config)]) == 0
    assert files(articles) == ORIGINALS | OUTPUTS


def test_a_changed_setting_redoes_everything_and_force_too(job_config, articles, capsys) -> None:
    assert main(["run", "-c", str(job_config)]) == 0
    text = job_config.read_text(encoding="utf-8").replace("max_new_tokens: 12, min", "max_new_tokens: 9, min")
    job_config.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["run", "-c", str(job_config)]) == 0
    assert "2 done, 0 skipped" in capsys.readouterr().err
    assert main(["run", "-c", str(job_config), "--force"]) == 0
    assert "2 done, 0 skipped" in capsys.readouterr().err


def test_runtime_settings_do_not_redo_work(job_config, articles, capsys) -> None:
    assert main(["run", "-c", str(job_config)]) == 0
    text = job_config.read_text(encoding="utf-8").replace("batch_tokens: 2048", "batch_tokens: 512")
    job_config.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["run", "-c", str(job_config)]) == 0
    assert "0 done, 2 skipped" in capsys.readouterr().err


def test_dry_run_lists_work_and_writes_nothing(job_config, articles, capsys, no_models) -> None:
    assert main(["run", "-c", str(job_config), "--dry-run"]) == 0
    assert files(articles) == ORIGINALS
    out = capsys.readouterr().out
    assert "would process  2026-11-28/velo.txt" in out
    assert "would process  eau.md" in out
    assert "dry run: 2 to process, 0 already done" in out


def test_limit_leaves_the_rest_for_the_next_run(job_config, articles, capsys) -> None:
    assert main(["run", "-c", str(job_config), "--limit", "1"]) == 0
    assert len(files(articles) - ORIGINALS) == 4
    assert "1 done, 0 skipped, 0 failed, 1 left for the next run" in capsys.readouterr().err
    assert main(["run", "-c", str(job_config), "--limit", "1"]) == 0
    assert files(articles) == ORIGINALS | OUTPUTS


def test_output_dir_mirrors_the_input_tree(job_config, articles, tmp_path) -> None:
    out = tmp_path / "out"
    assert main(["run", "-c", str(job_config), "--output-dir", str(out)]) == 0
    assert files(articles) == ORIGINALS
    assert files(out) == OUTPUTS


def test_input_override_and_python_dash_m(job_config, articles, tmp_path) -> None:
    single = articles / "eau.md"
    assert main(["run", "-c", str(job_config), "--input", str(single)]) == 0
    assert files(articles) == ORIGINALS | {n for n in OUTPUTS if n.startswith("eau.")}
    result = subprocess.run(
        [sys.executable, "-m", "summarizer", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("summarizer ")


def test_bad_articles_are_recorded_and_the_run_goes_on(job_config, articles, capsys) -> None:
    (articles / "vide.txt").write_text("", encoding="utf-8")
    (articles / "binaire.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (articles / "pub.txt").write_text("Titre\nPublicité\nhttps://example.org/x\n", encoding="utf-8")
    assert main(["run", "-c", str(job_config)]) == 1
    assert meta(articles / "vide.meta.json")["error"] == "file is empty"
    assert "NUL bytes" in meta(articles / "binaire.meta.json")["error"]
    pub = meta(articles / "pub.meta.json")
    assert pub["status"] == "failed"
    assert pub["error"] == (
        "no body text (only a title line) left after cleaning (2 boilerplate lines dropped)"
    )
    assert not (articles / "pub.summary.fr.txt").exists()
    assert meta(articles / "eau.meta.json")["status"] == "ok"
    err = capsys.readouterr().err
    assert "failed: vide.txt: file is empty" in err
    assert "5 found, 2 done, 0 skipped, 3 failed" in err


def test_jsonl_gets_one_results_file_with_a_record_per_input_record(job_config, articles, capsys) -> None:
    feed = articles / "feed.jsonl"
    records = [
        {"id": "a", "title": "Grève jeudi", "text": "Les syndicats appellent à la grève.", "url": "u"},
        {"id": "b", "text": "Le conseil municipal a voté le budget."},
        {"id": "c"},
    ]
    feed.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    written_earlier(articles)
    assert main(["run", "-c", str(job_config)]) == 1
    results = [json.loads(line) for line in (articles / "feed.results.jsonl").read_text().splitlines()]
    assert [(r["id"], r["status"]) for r in results] == [("a", "ok"), ("b", "ok"), ("c", "failed")]
    assert results[0]["key"] == "feed.jsonl#a"
    assert results[0]["metadata"] == {"url": "u"}
    assert results[0]["summary"] and results[0]["translation"] and results[0]["summary_translation"]
    assert results[0]["tasks"]["translation"]["truncated_tokens"] == 0
    assert "missing 'text'" in results[2]["error"]
    assert not (articles / "feed.meta.json").exists()
    capsys.readouterr()
    assert main(["run", "-c", str(job_config)]) == 1
    assert "5 found, 0 done, 4 skipped, 1 failed" in capsys.readouterr().err
    again = [json.loads(line) for line in (articles / "feed.results.jsonl").read_text().splitlines()]
    assert again[:2] == results[:2]
    assert [r["id"] for r in again] == ["a", "b", "c"]


def test_a_20000_character_article_is_translated_completely(job_config, articles) -> None:
    from summarizer.models.tiny import FRENCH

    paragraphs = []
    while sum(len(p) + 1 for p in paragraphs) < 20_000:
        n = len(paragraphs)
        paragraphs.append(" ".join(FRENCH[(n + i) % len(FRENCH)] for i in range(5)))
    (articles / "long.txt").write_text("Un très long article\n" + "\n".join(paragraphs), encoding="utf-8")
    assert main(["run", "-c", str(job_config)]) == 0
    long_meta = meta(articles / "long.meta.json")
    assert long_meta["status"] == "ok"
    assert long_meta["tasks"]["translation"]["truncated_tokens"] == 0
    assert long_meta["tasks"]["summary"]["truncated_tokens"] == 0
    assert long_meta["tasks"]["summary"]["segments"] > 2  # chunked, then merged
    assert long_meta["tasks"]["translation"]["segments"] >= len(paragraphs) + 1
    translation = (articles / "long.translation.en.txt").read_text(encoding="utf-8")
    assert len(translation.strip().split("\n\n")) == len(paragraphs) + 1
    assert (articles / "long.summary.fr.txt").read_text(encoding="utf-8").strip()


def test_config_errors_exit_78_with_one_line(job_config, articles, capsys) -> None:
    text = job_config.read_text(encoding="utf-8").replace("max_new_tokens: 12,", "max_new_token: 12,")
    job_config.write_text(text, encoding="utf-8")
    assert main(["run", "-c", str(job_config)]) == 78
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"ERROR {job_config}: summarization.generation.max_new_token: unknown key" in err
    assert "did you mean 'max_new_tokens'?" in err
    assert files(articles) == ORIGINALS


def test_missing_config_exits_78(tmp_path, capsys) -> None:
    assert main(["run", "-c", str(tmp_path / "none.yaml")]) == 78
    assert "config file not found" in capsys.readouterr().err


def test_no_inputs_exits_78(tmp_path, capsys) -> None:
    config = write_config(tmp_path / "c.yaml", "runtime: {device: cpu}\n")
    assert main(["run", "-c", str(config)]) == 78
    assert "inputs.paths: no inputs; set it or pass --input" in capsys.readouterr().err


def test_bad_command_line_exits_2(job_config, capsys) -> None:
    assert main(["run", "-c", str(job_config), "--limit", "0"]) == 2
    assert main(["run"]) == 2
    assert main(["explode"]) == 2
    assert main(["--help"]) == 0


def test_missing_input_exits_66(job_config, tmp_path, capsys) -> None:
    assert main(["run", "-c", str(job_config), "--input", str(tmp_path / "nowhere")]) == 66
    assert "input path does not exist" in capsys.readouterr().err


def test_model_problem_stops_the_run_before_any_output(job_config, articles, tiny_models, tmp_path, capsys) -> None:
    import shutil

    import torch
    from safetensors.torch import load_file

    folder = tmp_path / "pickle-model"
    shutil.copytree(tiny_models["translator"], folder)
    torch.save(load_file(folder / "model.safetensors"), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    (articles / "vide.txt").write_text("", encoding="utf-8")
    text = job_config.read_text(encoding="utf-8").replace(str(tiny_models["translator"]), str(folder))
    job_config.write_text(text, encoding="utf-8")
    assert main(["run", "-c", str(job_config)]) == 78
    assert files(articles) == ORIGINALS | {"vide.txt"}
    err = capsys.readouterr().err
    assert f"ERROR translation.model: {folder}: no safetensors weights" in err


def test_hub_model_unavailable_offline_names_the_model(articles, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = write_config(
        tmp_path / "c.yaml",
        f"""\
        inputs: {{paths: [{articles}]}}
        runtime: {{device: cpu}}
        summarization: {{model: example-org/no-such-summariser, revision: abc}}
        """,
    )
    assert main(["run", "-c", str(config)]) == 78
    err = capsys.readouterr().err
    assert "summarization.model: example-org/no-such-summariser@abc: " in err
    assert files(articles) == ORIGINALS


def test_no_temporary_files_are_left(job_config, articles) -> None:
    assert main(["run", "-c", str(job_config)]) == 0
    assert not [n for n in os.listdir(articles) if n.endswith(".tmp")]


def test_a_run_with_nothing_new_does_not_import_torch(job_config, articles) -> None:
    assert main(["run", "-c", str(job_config)]) == 0
    code = (
        "import sys; from summarizer.cli import main; rc = main(['run', '-c', sys.argv[1]]); "
        "sys.exit(rc or (3 if 'torch' in sys.modules or 'transformers' in sys.modules else 0))"
    )
    result = subprocess.run([sys.executable, "-c", code, str(job_config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "0 done, 2 skipped" in result.stderr


def test_two_inputs_with_the_same_relative_paths_keep_their_own_results(job_config, tmp_path) -> None:
    for folder, title in (("d1", "Titre un"), ("d2", "Titre deux")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "a.txt").write_text(f"{title}\nLe conseil municipal a voté.\n", encoding="utf-8")
    assert main(["run", "-c", str(job_config), "--input", str(tmp_path / "d1"), str(tmp_path / "d2")]) == 0
    first, second = meta(tmp_path / "d1" / "a.meta.json"), meta(tmp_path / "d2" / "a.meta.json")
    assert (first["title"], first["key"]) == ("Titre un", "d1/a.txt")
    assert (second["title"], second["key"]) == ("Titre deux", "d2/a.txt")
    assert first["input_sha256"] != second["input_sha256"]


def test_a_text_file_and_a_jsonl_file_of_the_same_name_do_not_collide(job_config, articles) -> None:
    (articles / "eau.jsonl").write_text('{"id": "1", "text": "Le conseil a voté."}\n', encoding="utf-8")
    assert main(["run", "-c", str(job_config)]) == 0
    assert meta(articles / "eau.meta.json")["status"] == "ok"
    assert (articles / "eau.results.jsonl").exists()


def test_jsonl_results_are_matched_by_id_however_the_file_is_reached(job_config, articles, capsys) -> None:
    feed = articles / "2026-11-28" / "feed.jsonl"
    feed.write_text('{"id": "1", "text": "Le conseil a voté."}\n', encoding="utf-8")
    assert main(["run", "-c", str(job_config), "--input", str(feed)]) == 0
    capsys.readouterr()
    assert main(["run", "-c", str(job_config)]) == 0
    assert "2 done, 1 skipped" in capsys.readouterr().err  # velo and eau; the record is skipped
    (record,) = [json.loads(line) for line in (articles / "2026-11-28" / "feed.results.jsonl").open()]
    assert record["status"] == "ok"


def test_outputs_are_readable_by_others(job_config, articles) -> None:
    old = os.umask(0o022)
    try:
        assert main(["run", "-c", str(job_config)]) == 0
    finally:
        os.umask(old)
    for name in OUTPUTS:
        assert (articles / name).stat().st_mode & 0o777 == 0o644, name


def test_a_one_line_article_is_summarised(job_config, articles) -> None:
    from summarizer.models.tiny import FRENCH

    (articles / "ligne.txt").write_text(" ".join(FRENCH), encoding="utf-8")
    assert main(["run", "-c", str(job_config)]) == 0
    record = meta(articles / "ligne.meta.json")
    assert record["status"] == "ok" and record["title"] == ""
    assert (articles / "ligne.translation.en.txt").read_text(encoding="utf-8").strip()


def test_the_ray_executor_without_ray_installed_is_a_config_error(job_config, articles, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    assert main(["run", "-c", str(job_config), "--executor", "ray"]) == 78
    err = capsys.readouterr().err
    assert "runtime.executor: 'ray' needs Ray Data, which is not installed" in err
    assert "pip install 'summarizer[ray]'" in err
    assert files(articles) == ORIGINALS


def test_a_ray_cluster_that_does_not_answer_exits_69_before_writing(job_config, articles, capsys) -> None:
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.skip("this process already joined a Ray")
    assert main(["run", "-c", str(job_config), "--executor", "ray", "--ray-address", "127.0.0.1:1"]) == 69
    assert "ray.address: no Ray cluster answers at '127.0.0.1:1'" in capsys.readouterr().err
    assert files(articles) == ORIGINALS


def test_eval_without_its_extra_says_how_to_install_it(job_config, tmp_path, capsys, monkeypatch) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sacrebleu" else find_spec(name, *a))
    refs = tmp_path / "refs.jsonl"
    refs.write_text('{"id": "a", "text": "Un texte.", "summary": "Un résumé."}\n', encoding="utf-8")
    assert main(["eval", "-c", str(job_config), "--refs", str(refs)]) == 2
    assert "summarizer eval needs sacrebleu: install the eval extra" in capsys.readouterr().err
