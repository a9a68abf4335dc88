"""`check` and `inspect`: what a run would do, before it runs."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import edit_config, write_config

from summarizer.cli import main


def test_check_prints_the_plan_and_generates_nothing(job_config, articles, capsys) -> None:
    assert main(["check", "-c", str(job_config)]) == 0
    out = capsys.readouterr().out
    assert "articles        2 found, 2 new or changed, 0 already done" in out
    assert "model cache     " in out and "(hub.cache_dir; runs never download)" in out
    assert "(local folder)" in out and "device          cpu (float32)" in out
    assert not list(articles.rglob("*.meta.json"))


def test_check_fails_78_for_a_model_not_available_locally(tmp_path, articles, capsys) -> None:
    config = write_config(
        tmp_path / "c.yaml",
        f"""\
        inputs: {{paths: [{articles}]}}
        runtime: {{device: cpu}}
        translation: {{model: example-org/not-cached, revision: main}}
        """,
    )
    assert main(["check", "-c", str(config)]) == 78
    captured = capsys.readouterr()
    assert "translation.model\n                NOT AVAILABLE" in captured.out
    assert "translation.model: example-org/not-cached@main: not available locally" in captured.err
    assert "summarizer fetch -c CONFIG" in captured.err
    assert "translation.revision: 'main' can change under you; pin a commit hash" in captured.err


def test_trust_remote_code_cannot_be_turned_on(tmp_path, capsys) -> None:
    config = write_config(tmp_path / "c.yaml", "translation: {trust_remote_code: true}\n")
    assert main(["check", "-c", str(config)]) == 78
    assert "translation.trust_remote_code: not supported: code shipped with a hub model is never run" in capsys.readouterr().err


def test_inspect_usage_errors_exit_2(job_config, articles, capsys) -> None:
    assert main(["inspect", "-c", str(job_config), str(articles)]) == 2
    feed = articles / "feed.jsonl"
    feed.write_text('{"id": "1", "text": "Le conseil a voté."}\n', encoding="utf-8")
    assert main(["inspect", "-c", str(job_config), str(feed), "--id", "zz"]) == 2
    assert "no record with id 'zz'" in capsys.readouterr().err


needs_ct2 = pytest.mark.skipif(importlib.util.find_spec("ctranslate2") is None, reason="ctranslate2 not installed")


@needs_ct2
def test_check_says_whether_the_ctranslate2_conversion_is_there_and_loads(job_config, tmp_path, monkeypatch, capsys) -> None:
    """Issue 28 item 17: not only the model's type; fetch makes the conversion."""
    monkeypatch.setenv("SUMMARIZER_CT2_CACHE", str(tmp_path / "ct2"))
    edit_config(job_config, {"runtime": {"engine": "ctranslate2"}})
    assert main(["check", "-c", str(job_config)]) == 0
    out = capsys.readouterr().out
    assert out.count("CTranslate2: not converted yet; `summarizer fetch` converts it") == 2
    assert main(["fetch", "-c", str(job_config)]) == 0
    assert capsys.readouterr().out.count("converted for CTranslate2 in ") == 2
    assert main(["check", "-c", str(job_config)]) == 0
    out = capsys.readouterr().out
    assert out.count("CTranslate2: converted in ") == 2 and out.count("(default), loads") == 2


@needs_ct2
def test_a_conversion_that_does_not_load_is_refused_by_check_under_ctranslate2_and_noted_under_auto(
    job_config, tmp_path, monkeypatch, capsys
) -> None:
    import ctranslate2

    monkeypatch.setenv("SUMMARIZER_CT2_CACHE", str(tmp_path / "ct2"))
    edit_config(job_config, {"runtime": {"engine": "ctranslate2"}})
    assert main(["fetch", "-c", str(job_config)]) == 0

    def broken(*args, **kwargs):
        raise RuntimeError("Unsupported model binary version")

    monkeypatch.setattr(ctranslate2, "Translator", broken)
    capsys.readouterr()
    assert main(["check", "-c", str(job_config)]) == 78
    captured = capsys.readouterr()
    assert "CTranslate2: CANNOT BE USED (see below)" in captured.out
    assert "CTranslate2 cannot load its conversion (RuntimeError: Unsupported model binary version)" in captured.err
    edit_config(job_config, {"runtime": {"engine": "auto"}})
    assert main(["check", "-c", str(job_config)]) == 0
    assert "runtime.engine: auto runs it on transformers" in capsys.readouterr().out


@needs_ct2
def test_fetch_names_a_model_ctranslate2_fails_to_convert(job_config, tmp_path, monkeypatch, capsys) -> None:
    import ctranslate2

    def refuse(self, output_dir, **kwargs):
        raise ValueError("No conversion is registered for the model configuration")

    monkeypatch.setenv("SUMMARIZER_CT2_CACHE", str(tmp_path / "ct2"))
    monkeypatch.setattr(ctranslate2.converters.TransformersConverter, "convert", refuse)
    edit_config(job_config, {"runtime": {"engine": "ctranslate2"}})
    assert main(["fetch", "-c", str(job_config)]) == 78
    err = capsys.readouterr().err
    assert "translation.model: " in err and "CTranslate2 conversion failed (ValueError: No conversion is registered" in err
    assert not [p for p in (tmp_path / "ct2").iterdir() if not p.name.startswith(".")]  # nothing half-made


@needs_ct2
def test_check_refuses_ctranslate2_when_it_is_not_installed(job_config, monkeypatch, capsys) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # import ctranslate2 raises ImportError
    edit_config(job_config, {"runtime": {"engine": "ctranslate2"}})
    assert main(["check", "-c", str(job_config)]) == 78
    assert "runtime.engine: ctranslate2 is not installed" in capsys.readouterr().err


@needs_ct2
def test_under_auto_a_model_ctranslate2_fails_to_convert_is_a_note_of_fetch_and_runs_on_transformers(
    job_config, tmp_path, monkeypatch, capsys
) -> None:
    import json

    import ctranslate2

    def refuse(self, output_dir, **kwargs):
        raise ValueError("No conversion is registered for the model configuration")

    monkeypatch.setenv("SUMMARIZER_CT2_CACHE", str(tmp_path / "ct2"))
    monkeypatch.setattr(ctranslate2.converters.TransformersConverter, "convert", refuse)
    edit_config(job_config, {"runtime": {"engine": "auto"}})
    assert main(["fetch", "-c", str(job_config)]) == 0
    assert capsys.readouterr().out.count("runtime.engine: auto runs it on transformers") == 2
    monkeypatch.undo()
    monkeypatch.setenv("SUMMARIZER_CT2_CACHE", str(tmp_path / "ct2"))
    assert main(["fetch", "-c", str(job_config)]) == 0
    assert main(["run", "-c", str(job_config)]) == 0
    meta = json.loads(next(job_config.parent.rglob("*.meta.json")).read_text(encoding="utf-8"))
    described = meta["models"]["translation"]
    assert described["engine"] == "ctranslate2" and len(described["ctranslate2_conversion_sha256"]) == 64
