"""Model families through ``main``: one NLLB model for several languages, framing in the
fingerprint, ``check`` refusing what the job cannot drive, ``inspect`` showing what goes
in, a revision left from another model, CTranslate2 load failures."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import model_families as mf
import pytest
from conftest import ARTICLE_VELO, DELETE, edit_config, write_config, written_earlier

from summarizer.cli import main

GERMAN = """\
Streik bei der Bahn am Donnerstag
Die Gewerkschaften rufen für Donnerstag zu einem weiteren Streiktag auf. Der Regionalverkehr dürfte nach Angaben der Bahn stark beeinträchtigt sein.
Die Verhandlungen über die Löhne sollen in der kommenden Woche fortgesetzt werden, teilte ein Sprecher mit.
"""
OPUS_PIN = "d1e0695bb7088571b5fdc25e950f415ad45c8ff1"  # configs/default.yaml's opus-mt-fr-en revision


@pytest.fixture(scope="module")
def nllb(tmp_path_factory) -> Path:
    return mf.build_tiny_nllb(tmp_path_factory.mktemp("nllb") / "nllb")


@pytest.fixture
def night(tmp_path: Path, tiny_models, nllb) -> Path:
    """French and German articles; one NLLB model translates both."""
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    (feed / "bahn.txt").write_text(GERMAN, encoding="utf-8")
    written_earlier(feed)
    return write_config(
        tmp_path / "job.yaml",
        f"""\
        inputs: {{paths: [feed]}}
        runtime: {{device: cpu}}
        summarization:
          generation: {{max_new_tokens: 6, min_new_tokens: 2}}
          models: {{default: {tiny_models["summarizer"]}}}
        translation:
          target: en
          generation: {{max_new_tokens: 6, num_beams: 1}}
          models: {{fr: {nllb}, de: {nllb}}}
        """,
    )


def spy_on_batches(monkeypatch) -> list[tuple[str, set[str], set[str]]]:
    """(model folder, first input tokens, forced first output tokens) of every transformers batch."""
    from summarizer.models import seq2seq

    seen = []
    original = seq2seq.Seq2SeqEngine._generate_batch

    def spy(self, indices, encoded, settings):
        firsts = {self.tokenizer.convert_ids_to_tokens(encoded[i][0]) for i in indices}
        forced = settings.forced_bos_token_id
        seen.append((Path(self.spec.name).name, firsts, {self.tokenizer.convert_ids_to_tokens(forced)} if forced is not None else set()))
        return original(self, indices, encoded, settings)

    monkeypatch.setattr(seq2seq.Seq2SeqEngine, "_generate_batch", spy)
    return seen


def meta(folder: Path, name: str) -> dict:
    return json.loads((folder / f"{name}.meta.json").read_text(encoding="utf-8"))


def test_one_nllb_model_tags_each_article_with_its_own_language_and_loads_once(night, monkeypatch, capsys) -> None:
    batches = spy_on_batches(monkeypatch)
    assert main(["run", "-c", str(night)]) == 0
    err = capsys.readouterr().err
    feed = night.parent / "feed"
    assert (meta(feed, "velo")["language"], meta(feed, "bahn")["language"]) == ("fr", "de")
    translated = [(firsts, forced) for name, firsts, forced in batches if name == "nllb"]
    assert {code for firsts, _ in translated for code in firsts} == {"fra_Latn", "deu_Latn"}
    assert all(len(firsts) == 1 for firsts, _ in translated)  # no batch mixes two framings
    assert all(forced == {"eng_Latn"} for _, forced in translated)
    assert err.count("nllb on cpu") == 1  # loaded once for both languages
    framing = meta(feed, "bahn")["models"]["translation"]["framing"]
    assert framing == "nllb, source tagged deu_Latn, first output token forced to eng_Latn"
    for name in ("velo", "bahn"):
        english = (feed / f"{name}.translation.en.txt").read_text(encoding="utf-8")
        assert "eng_Latn" not in english and "fra_Latn" not in english


def test_changing_a_code_or_a_prefix_redoes_only_those_articles(night, nllb, capsys) -> None:
    assert main(["run", "-c", str(night)]) == 0
    feed = night.parent / "feed"
    before = {name: meta(feed, name)["fingerprint"] for name in ("velo", "bahn")}
    edit_config(night, {"translation": {"models": {"de": {"model": str(nllb), "target_code": "eng_Latn"}}}})
    capsys.readouterr()
    assert main(["run", "-c", str(night)]) == 0
    assert "1 done, 1 skipped" in capsys.readouterr().err
    assert meta(feed, "velo")["fingerprint"] == before["velo"]
    assert meta(feed, "bahn")["fingerprint"] != before["bahn"]
    edit_config(night, {"translation": {"models": {"fr": {"model": str(nllb), "prefix": "Texte : "}}}})
    assert main(["run", "-c", str(night)]) == 0
    assert "1 done, 1 skipped" in capsys.readouterr().err
    assert meta(feed, "velo")["fingerprint"] != before["velo"]


def test_check_shows_how_each_language_is_fed(night, capsys) -> None:
    assert main(["check", "-c", str(night)]) == 0
    out = capsys.readouterr().out
    assert "fr -> en: nllb, source tagged fra_Latn, first output token forced to eng_Latn" in out
    assert "de -> en: nllb, source tagged deu_Latn, first output token forced to eng_Latn" in out


def test_inspect_shows_the_framed_input_and_the_forced_output(night, capsys) -> None:
    assert main(["inspect", "-c", str(night), str(night.parent / "feed" / "bahn.txt")]) == 0
    out = capsys.readouterr().out
    assert "framing: nllb, source tagged deu_Latn, first output token forced to eng_Latn (de -> en)" in out
    assert "first input as tokens (" in out and "): deu_Latn ▁" in out and "</s>" in out
    assert "output forced to start with: eng_Latn" in out


@pytest.mark.parametrize(
    ("section", "builder", "expected"),
    [
        ("summarization", "build_tiny_decoder_only", "has no chat template (a base model, not an instruct one)"),
        ("translation", "build_tiny_encoder_only", "an encoder-only model"),
    ],
)
def test_check_refuses_a_model_the_job_cannot_drive(night, tmp_path, capsys, section, builder, expected) -> None:
    folder = getattr(mf, builder)(tmp_path / builder)
    edit_config(night, {section: {"models": {"default" if section == "summarization" else "fr": str(folder)}}})
    assert main(["check", "-c", str(night)]) == 78
    errors = [line for line in capsys.readouterr().err.splitlines() if " ERROR " in line]
    assert any(f"{section}.models." in line and expected in line for line in errors), errors
    assert main(["run", "-c", str(night)]) == 78  # and no night starts with it
    assert not list((night.parent / "feed").glob("*.meta.json"))


def test_check_refuses_a_language_the_model_has_no_code_for(night, nllb, capsys) -> None:
    edit_config(night, {"translation": {"models": {"la": str(nllb)}}})
    assert main(["check", "-c", str(night)]) == 78
    errors = [line for line in capsys.readouterr().err.splitlines() if " ERROR " in line]
    assert len(errors) == 1
    assert "translation.models.la: " in errors[0] and "no nllb code for the source language 'la'" in errors[0]
    assert "set translation.models.la.source_code" in errors[0]


def test_check_refuses_an_override_the_tokenizer_does_not_know(night, nllb, capsys) -> None:
    edit_config(night, {"translation": {"models": {"de": {"model": str(nllb), "source_code": "ger_Latn"}}}})
    assert main(["check", "-c", str(night)]) == 78
    assert "translation.models.de.source_code: the tokenizer of" in capsys.readouterr().err


def test_run_refuses_before_any_output_a_model_that_can_frame_none_of_its_articles(night, nllb, capsys) -> None:
    edit_config(night, {"translation": {"models": {"de": {"model": str(nllb), "source_code": "ger_Latn"}}}})
    assert main(["run", "-c", str(night)]) == 78
    errors = [line for line in capsys.readouterr().err.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "translation.models.de.source_code: the tokenizer of" in errors[0], errors
    assert not list((night.parent / "feed").glob("*.meta.json"))  # nothing summarised for nothing


def test_articles_a_night_skips_never_stop_it_whatever_their_model_could_frame(tmp_path, tiny_models, capsys) -> None:
    """A Danish article with no translator is skipped; that the default summariser has no
    code for Danish does not matter, and does not stop the night."""
    mbart = mf.build_tiny_mbart50(tmp_path / "mbart50")
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "dk.txt").write_text(
        "Byrådet i København stemte\nByrådet i København vedtog tirsdag et budget på 520 millioner kroner "
        "til offentlig transport og nye cykelstier i hele byen.\n",
        encoding="utf-8",
    )
    written_earlier(feed)
    config = write_config(
        tmp_path / "job.yaml",
        f"""\
        inputs: {{paths: [feed]}}
        runtime: {{device: cpu}}
        summarization: {{models: {{default: {mbart}}}, generation: {{max_new_tokens: 6}}}}
        translation: {{model: {tiny_models["translator"]}}}
        """,
    )
    assert main(["run", "-c", str(config)]) == 0
    assert meta(feed, "dk")["status"] == "skipped"


@pytest.mark.skipif(importlib.util.find_spec("ctranslate2") is None, reason="ctranslate2 not installed")
def test_check_refuses_a_model_ctranslate2_does_not_convert_when_it_is_the_engine(night, monkeypatch, capsys) -> None:
    from summarizer.models import ct2_conversion

    monkeypatch.setattr(ct2_conversion, "SUPPORTED_MODEL_TYPES", frozenset({"m2m_100"}))  # not the tiny summariser's type
    edit_config(night, {"runtime": {"engine": "ctranslate2"}})
    assert main(["check", "-c", str(night)]) == 78
    errors = [line for line in capsys.readouterr().err.splitlines() if " ERROR " in line]
    assert len(errors) == 1, errors
    assert "runtime.engine: ctranslate2 does not support summarization.models.default (model type" in errors[0]
    edit_config(night, {"runtime": {"engine": "auto"}})  # auto runs it on transformers instead
    assert main(["check", "-c", str(night)]) == 0


@pytest.mark.skipif(importlib.util.find_spec("ctranslate2") is None, reason="ctranslate2 not installed")
def test_run_refuses_a_translator_ctranslate2_does_not_convert_before_any_summary(night, tmp_path, monkeypatch, capsys) -> None:
    from summarizer import processing
    from summarizer.models import ct2_conversion

    monkeypatch.setenv("SUMMARIZER_CT2_CACHE", str(tmp_path / "ct2"))
    monkeypatch.setattr(ct2_conversion, "SUPPORTED_MODEL_TYPES", frozenset({"t5"}))  # the summariser's, not NLLB's
    batches = []
    monkeypatch.setattr(processing, "summarise", lambda documents, *args: batches.append(documents) or [])
    edit_config(night, {"runtime": {"engine": "ctranslate2"}})
    assert main(["run", "-c", str(night)]) == 78
    err = capsys.readouterr().err
    assert "runtime.engine: ctranslate2 does not support translation.models." in err
    assert batches == []  # refused before the night's summaries, not after


@pytest.mark.skipif(importlib.util.find_spec("ctranslate2") is None, reason="ctranslate2 not installed")
def test_a_failed_ctranslate2_conversion_names_the_model(night, tiny_models, tmp_path, monkeypatch, capsys) -> None:
    import ctranslate2

    class Refusing:
        def __init__(self, *args, **kwargs):
            raise ValueError("No conversion is registered for the model configuration TinyConfig")

    monkeypatch.setenv("SUMMARIZER_CT2_CACHE", str(tmp_path / "ct2"))
    monkeypatch.setattr(ctranslate2.converters, "TransformersConverter", Refusing)
    edit_config(night, {"runtime": {"engine": "ctranslate2"}})
    assert main(["run", "-c", str(night)]) == 78
    errors = [line for line in capsys.readouterr().err.splitlines() if " ERROR " in line]
    assert any(
        f"summarization.models.default: {tiny_models['summarizer']}: CTranslate2 conversion failed (ValueError: No" in line
        and "set runtime.engine: transformers" in line
        for line in errors
    ), errors
    assert "Traceback" not in "\n".join(errors)


def test_transformers_keys_point_to_the_job_own(night, capsys) -> None:
    edit_config(night, {"translation": {"src_lang": "fra_Latn"}})
    assert main(["check", "-c", str(night)]) == 78
    err = capsys.readouterr().err
    assert "translation.src_lang: unknown key: the source code is each article's own language's code" in err
    edit_config(night, {"translation": {"src_lang": DELETE, "generation": {"forced_bos_token_id": 2}}})
    assert main(["check", "-c", str(night)]) == 78
    err = capsys.readouterr().err
    assert "translation.generation.forced_bos_token_id: unknown key: the job forces the target language's code" in err


def test_a_revision_left_from_another_model_is_named(tmp_path, tiny_models, capsys) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    config = write_config(
        tmp_path / "job.yaml",
        f"""\
        inputs: {{paths: [in]}}
        hub: {{cache_dir: cache}}
        summarization: {{model: {tiny_models["summarizer"]}}}
        translation:
          model: facebook/nllb-200-distilled-600M
          revision: {OPUS_PIN}
        """,
    )
    expected = f"translation.revision: {OPUS_PIN} is a revision of Helsinki-NLP/opus-mt-fr-en, not of facebook/nllb-200-distilled-600M"
    for command in ("check", "run", "fetch"):
        assert main([command, "-c", str(config)]) == 78, command
        err = capsys.readouterr().err
        assert expected in err and "delete the translation.revision line" in err, command


def test_a_commit_the_cache_holds_for_another_model_is_named(tmp_path, tiny_models, capsys) -> None:
    commit = "ab" * 20
    (tmp_path / "cache" / "models--org--first" / "snapshots" / commit).mkdir(parents=True)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    config = write_config(
        tmp_path / "job.yaml",
        f"""\
        inputs: {{paths: [in]}}
        hub: {{cache_dir: cache}}
        summarization: {{model: {tiny_models["summarizer"]}}}
        translation:
          models: {{fr: {{model: org/second, revision: "{commit}"}}}}
        """,
    )
    assert main(["check", "-c", str(config)]) == 78
    assert f"translation.models.fr.revision: {commit} is a revision of org/first, not of org/second" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("ctranslate2") is None, reason="ctranslate2 not installed")
def test_a_model_ctranslate2_cannot_load_is_a_model_error(night, tmp_path, monkeypatch, capsys) -> None:
    import ctranslate2

    def refuse(*args, **kwargs):
        raise RuntimeError("Unsupported model spec 'TransformerSpec' version 99")

    monkeypatch.setenv("SUMMARIZER_CT2_CACHE", str(tmp_path / "ct2"))
    monkeypatch.setattr(ctranslate2, "Translator", refuse)
    edit_config(night, {"runtime": {"engine": "ctranslate2"}})
    assert main(["run", "-c", str(night)]) == 78
    err = capsys.readouterr().err
    assert "CTranslate2 cannot load its conversion (RuntimeError: Unsupported model spec" in err
    assert "set runtime.engine: transformers" in err and "Traceback" not in err


@pytest.mark.skipif(importlib.util.find_spec("ctranslate2") is None, reason="ctranslate2 not installed")
def test_nllb_on_ctranslate2_forces_the_target_as_prefix(night, tmp_path, monkeypatch) -> None:
    import ctranslate2

    prefixes = []
    real = ctranslate2.Translator

    class Spy:
        def __init__(self, *args, **kwargs):
            self.inner = real(*args, **kwargs)

        def translate_batch(self, batch, **options):
            if Path(self.path).name.startswith("nllb-"):  # the conversion's folder
                prefixes.extend(zip([row[0] for row in batch], options.get("target_prefix", [[]] * len(batch))))
            return self.inner.translate_batch(batch, **options)

    def make(path, *args, **kwargs):
        spy = Spy(path, *args, **kwargs)
        spy.path = path
        return spy

    monkeypatch.setenv("SUMMARIZER_CT2_CACHE", str(tmp_path / "ct2"))
    monkeypatch.setattr(ctranslate2, "Translator", make)
    edit_config(night, {"runtime": {"engine": "ctranslate2"}})
    assert main(["run", "-c", str(night)]) == 0
    assert {first for first, _ in prefixes} == {"fra_Latn", "deu_Latn"}
    assert all(prefix == ["eng_Latn"] for _, prefix in prefixes)


def test_check_frames_a_default_summariser_through_the_languages_it_serves(night, tmp_path, capsys) -> None:
    mbart = mf.build_tiny_mbart50(tmp_path / "mbart50")  # tags its source: "default" is no language
    edit_config(night, {"summarization": {"models": {"default": str(mbart)}}})
    assert main(["check", "-c", str(night)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "fr -> fr: mbart50, source tagged fr_XX" in out and "default -> default" not in out
