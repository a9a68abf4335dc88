"""A night with an instruct (decoder-only) model as summariser and translator, and models
named as a GGUF file (converted once by ``fetch``)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from conftest import ARTICLE_EAU, ARTICLE_VELO, edit_config, write_config, written_earlier

from summarizer.cli import main
from summarizer.models import gguf
from summarizer.models.tiny import build_tiny_chat_llm

LONG = "\n\n".join(
    f"Paragraphe {n}. Le conseil municipal a voté le budget de la ville mardi soir. "
    "Les syndicats appellent à une nouvelle journée de grève jeudi prochain." for n in range(1, 9)
)


@pytest.fixture(scope="module")
def llm(tmp_path_factory) -> Path:
    return build_tiny_chat_llm(tmp_path_factory.mktemp("llm") / "smollm2-like", max_positions=1024)


@pytest.fixture
def night(tmp_path: Path, llm: Path) -> Path:
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    (feed / "eau.md").write_text(ARTICLE_EAU, encoding="utf-8")
    (feed / "long.txt").write_text("Un long article\n" + LONG, encoding="utf-8")
    written_earlier(feed)
    return write_config(
        tmp_path / "job.yaml",
        f"""\
        inputs: {{paths: [feed]}}
        languages: {{force: fr}}
        runtime: {{device: cpu}}
        hub: {{cache_dir: cache}}
        summarization:
          model: {llm}
          max_input_tokens: 60
          generation: {{max_new_tokens: 6}}
        translation:
          model: {llm}
          max_input_tokens: 40
          pack_tokens: 30
          generation: {{max_new_tokens: 6}}
        """,
    )


def meta(feed: Path, stem: str) -> dict:
    return json.loads(next(feed.glob(f"{stem}.*meta.json")).read_text(encoding="utf-8"))


def test_a_night_with_an_instruct_model_for_both_tasks(night, capsys) -> None:
    assert main(["run", "-c", str(night)]) == 0, capsys.readouterr().err
    feed = night.parent / "feed"
    velo = meta(feed, "velo")
    summary, translation = velo["models"]["summarization"], velo["models"]["translation"]
    assert summary["engine"] == "transformers" and "chat template, prompt " in summary["framing"]
    assert len(summary["prompt"]) == 12 and translation["prompt"] != summary["prompt"]
    assert velo["tasks"]["summary"]["capped_segments"] == velo["tasks"]["summary"]["segments"]  # random weights never stop
    long = meta(feed, "long")
    assert long["tasks"]["summary"]["segments"] > 1  # chunked, the chunk summaries summarised
    translated = next(feed.glob("long.*en.txt")).read_text(encoding="utf-8")
    assert translated.count("\n\n") == LONG.count("\n\n") + 1  # title and every paragraph kept
    assert main(["run", "-c", str(night)]) == 0
    assert "0 done, 3 skipped" in capsys.readouterr().err


def test_a_prompt_change_redoes_the_articles(night, capsys) -> None:
    assert main(["run", "-c", str(night)]) == 0
    before = meta(night.parent / "feed", "velo")
    edit_config(night, {"summarization": {"prompt": {"user": "Résume en une phrase : {text}"}}})
    assert main(["run", "-c", str(night)]) == 0
    assert "3 done, 0 skipped" in capsys.readouterr().err
    after = meta(night.parent / "feed", "velo")
    assert after["models"]["summarization"]["prompt"] != before["models"]["summarization"]["prompt"]
    assert after["models"]["translation"]["prompt"] == before["models"]["translation"]["prompt"]


def test_check_shows_the_prompt_and_refuses_a_bad_one(night, capsys) -> None:
    assert main(["check", "-c", str(night)]) == 0
    out = capsys.readouterr().out
    assert "fr -> fr: llama, chat template, prompt " in out and "fr -> en: llama, chat template, prompt " in out
    edit_config(night, {"translation": {"prompt": {"user": "Traduis : {texte}"}}})
    assert main(["check", "-c", str(night)]) == 78
    err = capsys.readouterr().err
    assert "translation.prompt.user: has an unknown placeholder {texte}" in err and "Traceback" not in err


def test_a_base_model_runs_with_a_plain_prompt_template(night, tmp_path, capsys) -> None:
    base = build_tiny_chat_llm(tmp_path / "base", chat_template=None, max_positions=1024)
    edit_config(night, {"summarization": {"model": str(base)}})
    assert main(["check", "-c", str(night)]) == 78
    assert "set summarization.prompt.template" in capsys.readouterr().err
    edit_config(night, {"summarization": {"prompt": {"template": "Article : {text}\nRésumé :"}}})
    assert main(["run", "-c", str(night)]) == 0
    assert "plain prompt" in meta(night.parent / "feed", "velo")["models"]["summarization"]["framing"]


def test_inspect_shows_the_prompt_as_tokens(night, capsys) -> None:
    assert main(["inspect", "-c", str(night), str(night.parent / "feed" / "velo.txt")]) == 0
    out = capsys.readouterr().out
    assert "framing: llama, chat template, prompt " in out and "<|im_start|>" in out


# ----------------------------------------------------------------- GGUF files


def test_a_gguf_file_is_converted_once_by_fetch_then_run(night, fake_gguf, capsys) -> None:
    path, conversions = fake_gguf
    edit_config(night, {"summarization": {"model": "models/tiny.Q4.gguf"}})
    assert main(["check", "-c", str(night)]) == 78
    assert "not converted from GGUF yet; run `summarizer fetch -c CONFIG` once" in capsys.readouterr().err
    assert main(["fetch", "-c", str(night)]) == 0
    assert main(["fetch", "-c", str(night)]) == 0
    assert len(conversions) == 1  # once
    (folder,) = [p for p in (night.parent / "cache" / "summarizer" / "converted").iterdir() if not p.name.startswith(".")]
    source = json.loads((folder / "summarizer-source.json").read_text(encoding="utf-8"))
    assert source["gguf"] == str(path) and len(source["sha256"]) == 64
    assert folder.name.startswith("gguf-tiny.Q4-") and source["sha256"].startswith(folder.name[-12:])
    assert main(["check", "-c", str(night)]) == 0
    assert main(["run", "-c", str(night)]) == 0
    described = meta(night.parent / "feed", "velo")["models"]["summarization"]
    assert described["name"] == str(path)
    manifest = (folder / "summarizer-manifest.json").read_bytes()
    assert described["conversion_sha256"] == hashlib.sha256(manifest).hexdigest()  # the weights it ran


def test_a_changed_gguf_file_needs_a_new_conversion_and_redoes_the_articles(night, fake_gguf, capsys) -> None:
    path, _ = fake_gguf
    edit_config(night, {"summarization": {"model": "models/tiny.Q4.gguf"}})
    assert main(["fetch", "-c", str(night)]) == 0
    assert main(["run", "-c", str(night)]) == 0
    path.write_bytes(b"GGUF tiny model v2")
    capsys.readouterr()
    assert main(["run", "-c", str(night)]) == 78  # the old conversion is not this file's
    assert "not converted from GGUF yet" in capsys.readouterr().err
    assert main(["fetch", "-c", str(night)]) == 0
    assert main(["run", "-c", str(night)]) == 0
    assert "3 done, 0 skipped" in capsys.readouterr().err


def test_a_missing_gguf_file_is_a_config_error(night, capsys) -> None:
    edit_config(night, {"translation": {"model": "models/missing.gguf"}})
    assert main(["check", "-c", str(night)]) == 78
    err = capsys.readouterr().err
    assert "translation.model: GGUF file" in err and "does not exist" in err and "Traceback" not in err


def test_the_instruct_config_passes_check_once_its_model_is_in_the_cache(tmp_path, llm, capsys) -> None:
    import yaml

    repo = Path(__file__).resolve().parents[1]
    snapshot = tmp_path / "cache" / "models--Qwen--Qwen2.5-1.5B-Instruct" / "snapshots" / ("c0" * 20)
    blobs = snapshot.parents[1] / "blobs"
    blobs.mkdir(parents=True)
    snapshot.mkdir(parents=True)
    for entry in llm.iterdir():  # a tiny stand-in, laid out as the hub cache holds a model: links to blobs
        shutil.copy(entry, blobs / entry.name)
        (snapshot / entry.name).symlink_to(blobs / entry.name)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("c0" * 20, encoding="utf-8")
    config = yaml.safe_load((repo / "configs" / "instruct.yaml").read_text(encoding="utf-8"))
    config["inputs"]["paths"] = [str(repo / "examples")]
    config["reports"]["dir"] = str(tmp_path / "reports")
    config["hub"] = {"cache_dir": str(tmp_path / "cache")}
    config["summarization"]["max_input_tokens"] = 400  # the stand-in's context is 1024 tokens
    copy = tmp_path / "instruct.yaml"
    copy.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert main(["check", "-c", str(copy)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "fr -> fr: llama, chat template, prompt " in out and "fr -> en: llama, chat template, prompt " in out
    from summarizer.models.factory import decoder_only
    from summarizer.models.loading import ModelSpec

    # the cache's config.json is a link to its blob: read through it, the instruct engine is chosen
    assert decoder_only(ModelSpec("Qwen/Qwen2.5-1.5B-Instruct", cache_dir=str(tmp_path / "cache")))


def test_check_on_the_instruct_config_with_an_empty_cache_names_the_model_only(tmp_path, capsys) -> None:
    import yaml

    repo = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((repo / "configs" / "instruct.yaml").read_text(encoding="utf-8"))
    config["inputs"]["paths"] = [str(repo / "examples")]
    config["reports"]["dir"] = str(tmp_path / "reports")
    config["hub"] = {"cache_dir": str(tmp_path / "empty-cache")}
    copy = tmp_path / "instruct.yaml"
    copy.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert main(["check", "-c", str(copy)]) == 78
    err = capsys.readouterr().err
    assert "Qwen/Qwen2.5-1.5B-Instruct" in err and "summarizer fetch" in err
    assert "no summarization model is an instruct model" not in err  # it is one: it is not here yet
    assert "Traceback" not in err


def test_check_warns_about_a_prompt_no_instruct_model_reads(tmp_path, tiny_models, capsys) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    config = write_config(
        tmp_path / "job.yaml",
        f"""\
        inputs: {{paths: [feed]}}
        summarization:
          model: {tiny_models["summarizer"]}
          prompt: {{system: "Résume l'article."}}
        translation: {{model: {tiny_models["translator"]}}}
        """,
    )
    assert main(["check", "-c", str(config)]) == 0
    assert "summarization.prompt is set but no summarization model is an instruct model" in capsys.readouterr().err


def test_a_damaged_gguf_file_is_one_line_naming_its_key_once(night, capsys) -> None:
    if gguf.missing_packages():
        pytest.skip("reading a GGUF file needs the gguf extra")
    damaged = night.parent / "damaged.gguf"
    damaged.write_bytes(b"GGUF" + b"\x00" * 8)
    edit_config(night, {"translation": {"model": str(damaged)}})
    assert main(["fetch", "-c", str(night)]) == 78
    (line,) = [line for line in capsys.readouterr().err.splitlines() if "ERROR" in line]
    assert "could not be converted from GGUF" in line and line.count("translation.model") == 1
    assert "Traceback" not in line


def test_an_instruct_model_under_ctranslate2_runs_on_transformers_with_a_warning(llm, caplog) -> None:
    import logging

    from summarizer.config import RuntimeConfig
    from summarizer.models.factory import build_engine
    from summarizer.models.loading import ModelSpec

    spec = ModelSpec(str(llm), config_key="summarization.model")
    with caplog.at_level(logging.INFO):
        assert build_engine(spec, RuntimeConfig(engine="ctranslate2"), role="summarization").backend == "transformers"
        assert build_engine(spec, RuntimeConfig(engine="auto"), role="summarization").backend == "transformers"
    levels = [r.levelno for r in caplog.records if "runs on the transformers engine" in r.getMessage()]
    assert levels == [logging.WARNING, logging.INFO]
