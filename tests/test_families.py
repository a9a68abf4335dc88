"""Model families: every model is fed the way it was trained, or refused.

Tiny random models of each family (tests/model_families.py: the real tokenizer
class, the real checkpoint's config and generation_config conventions) go through
the public engine on both backends: the exact input ids (language tag or prefix),
the first output token forced, and what is refused and why.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import model_families as mf
import pytest
from conftest import requests

from summarizer.config import RuntimeConfig
from summarizer.errors import ConfigError
from summarizer.models.factory import build_engine
from summarizer.models.families import (
    Direction,
    ModelFamily,
    code_for,
    frame,
    unsupported_model,
)
from summarizer.models.loading import FramingChoice, ModelSpec

needs_ct2 = pytest.mark.skipif(importlib.util.find_spec("ctranslate2") is None, reason="ctranslate2 not installed")
BACKENDS = ["transformers", pytest.param("ctranslate2", marks=needs_ct2)]
FR_EN = Direction("fr", "en")
SPEC = ModelSpec("org/model", "abc", config_key="translation.models.fr")


@pytest.fixture(scope="module")
def families(tmp_path_factory) -> dict[str, Path]:
    """One tiny model of each family, built once."""
    root = tmp_path_factory.mktemp("families")
    names = ("nllb", "m2m100", "mbart50", "t5_prefixed", "madlad", "marian_multi", "decoder_only", "encoder_only")
    return {name: getattr(mf, f"build_tiny_{name}")(root / name) for name in names}


@pytest.fixture(autouse=True)
def ct2_cache(tmp_path_factory, monkeypatch) -> None:
    monkeypatch.setenv("SUMMARIZER_CT2_CACHE", str(tmp_path_factory.getbasetemp() / "ct2-families"))


def engine(folder: Path, backend: str = "transformers", role: str = "translation", **generation):
    return build_engine(
        ModelSpec(str(folder), config_key=f"{role}.model"),
        RuntimeConfig(device="cpu"),
        role=role,
        generation={"num_beams": 1, "max_new_tokens": 4, **generation},
        backend=backend,
    )


# -- codes: ISO 639-1 to each family's own ------------------------------------------------

NLLB = ModelFamily(
    "nllb",
    ("arb_Arab", "ary_Arab", "aka_Latn", "twi_Latn", "deu_Latn", "eng_Latn", "fra_Latn", "zho_Hans", "zho_Hant"),
    True,
    "forced_bos",
)


@pytest.mark.parametrize(
    ("family", "language", "code"),
    [
        (NLLB, "fr", "fra_Latn"),
        (NLLB, "de", "deu_Latn"),
        (NLLB, "ar", "arb_Arab"),  # the standard Arabic, not Moroccan (ary)
        (NLLB, "zh", "zho_Hans"),  # the usual script
        (NLLB, "ak", "aka_Latn"),  # its own three-letter code, not Twi
        (NLLB, "it", None),
        (ModelFamily("m2m100", ("__de__", "__en__", "__fr__")), "fr", "__fr__"),
        (ModelFamily("mbart50", ("de_DE", "en_XX", "fr_XX")), "en", "en_XX"),
        (ModelFamily("madlad", ("<2de>", "<2en>", "<2fr>")), "en", "<2en>"),
        (ModelFamily("marian-multi", (">>deu<<", ">>eng<<", ">>fra<<")), "en", ">>eng<<"),
    ],
)
def test_each_language_maps_to_the_family_code(family, language, code) -> None:
    assert code_for(family, language) == code


def test_a_language_the_model_has_no_code_for_is_refused_naming_both() -> None:
    with pytest.raises(ConfigError) as caught:
        frame(NLLB, "translation", Direction("it", "en"), SPEC)
    message = str(caught.value)
    assert message.startswith("translation.models.fr: org/model@abc has no nllb code for the source language 'it'")
    assert "translation.models.fr.source_code" in message and "\n" not in message


def test_an_override_must_be_a_code_the_tokenizer_knows() -> None:
    choice = FramingChoice(target_code="eng_latn")
    with pytest.raises(ConfigError, match=r"translation.models.fr.target_code: .*no code 'eng_latn'; did you mean 'eng_Latn'"):
        frame(NLLB, "translation", Direction("fr", "en", choice), SPEC)
    assert frame(NLLB, "translation", Direction("fr", "en", FramingChoice(target_code="deu_Latn")), SPEC).forced_first == "deu_Latn"


def test_a_code_for_a_model_that_takes_none_is_refused() -> None:
    plain = ModelFamily("bart")
    with pytest.raises(ConfigError, match="translation.models.fr.source_code: org/model@abc takes no source language code"):
        frame(plain, "translation", Direction("fr", "en", FramingChoice(source_code="fra_Latn")), SPEC)


def test_task_prefixes_come_from_the_model_config() -> None:
    t5 = ModelFamily("t5", task_prefixes=(("summarization", "summarize: "), ("translation_en_to_de", "translate English to German: ")))
    assert frame(t5, "summarization", Direction("fr", "fr"), SPEC).text_prefix == "summarize: "
    assert frame(t5, "translation", Direction("en", "de"), SPEC).text_prefix == "translate English to German: "
    with pytest.raises(ConfigError, match=r"prefixes for en->de only, none for fr->en; .*set translation.models.fr.prefix"):
        frame(t5, "translation", FR_EN, SPEC)
    assert frame(t5, "translation", Direction("fr", "en", FramingChoice(prefix="")), SPEC).text_prefix == ""


def test_a_marian_model_declaring_its_pair_is_refused_for_another() -> None:
    marian = ModelFamily("marian", pair=("fr", "en"))
    assert frame(marian, "translation", FR_EN, SPEC).text_prefix == ""
    with pytest.raises(ConfigError, match="translates fr into en .*, not de into en"):
        frame(marian, "translation", Direction("de", "en"), SPEC)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"model_type": "llama", "architectures": ["LlamaForCausalLM"]}, None),  # driven through a prompt
        ({"model_type": "qwen2"}, None),
        ({"model_type": "bert", "architectures": ["BertForMaskedLM"]}, "an encoder-only model"),
        ({"model_type": "t5", "architectures": ["T5EncoderModel"]}, "an encoder without a text-generating head"),
        ({"model_type": "vision-encoder-decoder"}, "a speech or vision model"),
        ({"model_type": "whisper"}, "a speech or vision model"),
        ({"model_type": "marian", "architectures": ["MarianMTModel"]}, None),
        ({"model_type": "m2m_100", "architectures": ["M2M100ForConditionalGeneration"]}, None),
    ],
)
def test_models_the_job_cannot_drive_are_named(config, expected) -> None:
    problem = unsupported_model(config)
    assert problem is None if expected is None else problem.startswith(expected)


# -- the engines feed each family as its card says --------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("name", "first_input", "forced"),
    [("nllb", "fra_Latn", "eng_Latn"), ("m2m100", "__fr__", "__en__"), ("mbart50", "fr_XX", "en_XX")],
)
def test_language_tagged_families_tag_the_source_and_force_the_target(families, backend, name, first_input, forced, monkeypatch) -> None:
    e = engine(families[name], backend)
    tokenizer = e.tokenizer
    framing = e.framing(FR_EN)
    ids = e.token_ids(["Bonjour à tous."], framing)[0]
    assert ids[0] == tokenizer.convert_tokens_to_ids(first_input) and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.convert_ids_to_tokens(ids[1:-1]) == tokenizer.tokenize("Bonjour à tous.")
    german = e.token_ids(["Bonjour à tous."], e.framing(Direction("de", "en")))[0]
    assert german[1:] == ids[1:] and german[0] != ids[0]  # each request its own tag
    first_outputs = mf.first_generated_tokens(e, monkeypatch)
    results = e.run(requests(["Bonjour à tous.", "Le conseil municipal a voté le budget."]))
    assert all(r.error is None for r in results)
    assert set(first_outputs) == {forced}
    assert all(forced not in r.text for r in results)  # the code is not written into the output


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("name", "token"), [("madlad", "<2en>"), ("marian_multi", ">>eng<<")])
def test_target_token_families_write_it_before_the_text(families, backend, name, token) -> None:
    e = engine(families[name], backend)
    framing = e.framing(FR_EN)
    assert (framing.first_token, framing.text_prefix, framing.forced_first) == (token, "", None)
    ids = e.token_ids(["Bonjour à tous."], framing)[0]
    assert e.tokenizer.convert_ids_to_tokens(ids)[0] == token  # one token, first
    assert e.counter(FR_EN)("Bonjour à tous.") == len(ids)  # budgets count it
    assert e.counter(Direction("fr", "de"))("Bonjour à tous.") == len(ids)
    assert e.token_ids(["Bonjour à tous."], e.framing(Direction("fr", "de")))[0][0] != ids[0]
    assert all(r.error is None for r in e.run(requests(["Bonjour à tous."])))


@pytest.mark.parametrize("backend", BACKENDS)
def test_t5_gets_its_own_task_prefix(families, backend) -> None:
    summariser = engine(families["t5_prefixed"], backend, role="summarization")
    framing = summariser.framing(Direction("fr", "fr"))
    assert framing.text_prefix == "summarize: "
    ids = summariser.token_ids(["Bonjour à tous."], framing)[0]
    assert ids == summariser.tokenizer("summarize: Bonjour à tous.")["input_ids"]
    assert summariser.run(requests(["Bonjour à tous."], Direction("fr", "fr")))[0].error is None
    translator = engine(families["t5_prefixed"], backend)
    assert translator.framing(Direction("en", "de")).text_prefix == "translate English to German: "
    result = translator.run(requests(["Bonjour à tous."]))[0]  # fr->en: no prefix for it
    assert result.error.startswith("translation.model: ") and "none for fr->en" in result.error


def test_a_batch_never_mixes_framings(families, monkeypatch) -> None:
    e = engine(families["nllb"])
    e.load()
    firsts = []
    original = e._generate_batch

    def spy(indices, encoded, settings):
        firsts.append({encoded[i][0] for i in indices})
        return original(indices, encoded, settings)

    monkeypatch.setattr(e, "_generate_batch", spy)
    texts = ["Bonjour à tous.", "Le conseil municipal a voté le budget."] * 3
    mixed = [*requests(texts[:3]), *requests(texts[3:], Direction("de", "en"))]
    results = e.run(mixed)
    assert len(results) == 6 and all(r.error is None for r in results)
    assert len(firsts) == 2 and all(len(first) == 1 for first in firsts)


def test_a_request_the_model_cannot_frame_fails_alone(families) -> None:
    e = engine(families["nllb"])
    results = e.run([*requests(["Bonjour."]), *requests(["Ciao."], Direction("xx", "en"))])
    assert results[0].error is None
    assert "no nllb code for the source language 'xx'" in results[1].error


def test_an_engine_refuses_models_it_cannot_drive_before_loading_weights(families) -> None:
    with pytest.raises(ConfigError, match="translation.model: .*encoder-only"):
        engine(families["encoder_only"]).load()


def test_a_base_model_without_chat_template_is_refused_unless_given_a_plain_prompt(families) -> None:
    base = engine(families["decoder_only"])
    assert base.family.decoder_only and not base.family.chat
    with pytest.raises(ConfigError, match="translation.model: .*has no chat template.*translation.prompt.template"):
        base.framing(FR_EN)
    plain = Direction("fr", "en", FramingChoice(template="French: {text}\nEnglish:"))
    assert base.framing(plain).prompt == "French: \x00text\x00\nEnglish:"


@pytest.mark.parametrize("name", ["nllb", "marian_multi", "madlad"])
def test_a_translation_model_is_refused_as_summariser(families, name) -> None:
    with pytest.raises(ConfigError, match="summarization.model: .*a translation model"):
        engine(families[name], role="summarization").load()


def test_mbart25_starts_the_decoder_with_the_target_code() -> None:
    mbart25 = ModelFamily("mbart25", ("en_XX", "fr_XX", "ro_RO"), True, "decoder_start")
    framing = frame(mbart25, "translation", FR_EN, SPEC)
    assert (framing.source_code, framing.src_lang, framing.decoder_start, framing.forced_first) == (
        "fr_XX", "fr_XX", "en_XX", None,
    )


def test_a_language_gets_its_plain_code_before_regional_variants() -> None:
    romance = ModelFamily(
        "marian-multi", (">>es<<", ">>es_AR<<", ">>fr<<", ">>fr_BE<<", ">>fr_CA<<", ">>ro<<"), target_by="text"
    )
    assert [code_for(romance, language) for language in ("fr", "es", "ro")] == [">>fr<<", ">>es<<", ">>ro<<"]


def test_a_macrolanguage_gets_the_language_its_news_is_written_in() -> None:
    nllb = ModelFamily("nllb", ("nno_Latn", "nob_Latn", "pes_Arab", "prs_Arab"), True, "forced_bos")
    assert (code_for(nllb, "fa"), code_for(nllb, "no"), code_for(nllb, "nb")) == ("pes_Arab", "nob_Latn", "nob_Latn")
