"""A model's family comes from its own files, whatever its tokenizer class is called; what a
checkpoint forces is the framing's, shown and applied alike everywhere; language codes come
from the language tables' own data.

- A re-saved NLLB, M2M100 or mBART-50 (a generic ``PreTrainedTokenizerFast`` /
  ``TokenizersBackend`` tokenizer) is fed exactly as the original: the same ids in, the
  same forced token, on both engines, and is refused as a summariser like the original.
- A multilingual model type whose tokenizer has no language codes is refused, never fed bare.
- A multi-target Marian with ``separate_vocabs: true`` gets its ``>>eng<<``.
- A checkpoint forcing its own first token (bart-large-cnn's ``<s>``): the transformers
  engine, CTranslate2 and ``inspect`` agree.
- Language codes the models have reach them (``ps`` -> ``pbt_Arab``, ``nb`` -> ``__no__``),
  checked for every ISO 639-1 language against the real NLLB-200 and M2M100 code lists.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import model_families as mf
import pytest
from conftest import ARTICLE_VELO, requests, write_config, written_earlier
from model_families.language_codes import M2M100_CODES, NLLB_200_CODES
from model_families.resaved import resave_generic, resave_m2m100_generic, without_language_codes

from summarizer.cli import main
from summarizer.config import RuntimeConfig
from summarizer.errors import ConfigError
from summarizer.models.factory import build_engine
from summarizer.models.families import Direction, ModelFamily, code_for
from summarizer.models.loading import ModelSpec

needs_ct2 = pytest.mark.skipif(importlib.util.find_spec("ctranslate2") is None, reason="ctranslate2 not installed")
BACKENDS = ["transformers", pytest.param("ctranslate2", marks=needs_ct2)]
FR_EN = Direction("fr", "en")
TEXTS = ["Bonjour à tous.", "Le conseil municipal a voté le budget de la ville mardi soir."]
GENERIC_CLASSES = ("PreTrainedTokenizerFast", "TokenizersBackend")
TARGETS = {"nllb": "eng_Latn", "m2m100": "__en__", "mbart50": "en_XX"}


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("originals")
    return {name: getattr(mf, f"build_tiny_{name}")(root / name) for name in TARGETS}


@pytest.fixture(scope="module")
def resaved(originals, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Each original re-saved with each generic tokenizer class."""
    root = tmp_path_factory.mktemp("resaved")
    folders = {}
    for name, original in originals.items():
        for cls in GENERIC_CLASSES:
            build = resave_m2m100_generic if name == "m2m100" else resave_generic
            folders[(name, cls)] = build(original, root / f"{name}-{cls}", cls)
    return folders


@pytest.fixture(autouse=True)
def ct2_cache(tmp_path_factory, monkeypatch) -> None:
    monkeypatch.setenv("SUMMARIZER_CT2_CACHE", str(tmp_path_factory.getbasetemp() / "ct2-detection"))


def engine(folder: Path, backend: str = "transformers", role: str = "translation"):
    return build_engine(
        ModelSpec(str(folder), config_key=f"{role}.model"),
        RuntimeConfig(device="cpu"),
        role=role,
        generation={"num_beams": 1, "max_new_tokens": 4},
        backend=backend,
    )


# -- 14: the family from the model type and the vocabulary ----------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cls", GENERIC_CLASSES)
@pytest.mark.parametrize("name", list(TARGETS))
def test_a_resaved_tokenizer_is_fed_exactly_as_the_original(originals, resaved, name, cls, backend, monkeypatch) -> None:
    original, copy = engine(originals[name], backend), engine(resaved[(name, cls)], backend)
    assert type(copy.tokenizer).__name__ == "TokenizersBackend"  # what AutoTokenizer makes of it
    for direction in (FR_EN, Direction("de", "en")):
        framing = copy.framing(direction)
        assert framing.describe() == original.framing(direction).describe()
        assert copy.token_ids(TEXTS, framing) == original.token_ids(TEXTS, original.framing(direction))
    assert copy.framing(FR_EN).forced_first == TARGETS[name]
    first = mf.first_generated_tokens(copy, monkeypatch)
    results = copy.run(requests(TEXTS, FR_EN))
    assert all(r.error is None for r in results) and set(first) == {TARGETS[name]}


@pytest.mark.parametrize("name", ["nllb", "m2m100"])
def test_a_resaved_translation_model_is_refused_as_summariser(resaved, name) -> None:
    with pytest.raises(ConfigError, match=f"summarization.model: .*a translation model \\({name}\\)"):
        engine(resaved[(name, "PreTrainedTokenizerFast")], role="summarization").load()


def night(tmp_path: Path, tiny_models, summariser: Path, translator: Path) -> Path:
    feed = tmp_path / "feed"
    feed.mkdir(exist_ok=True)
    (feed / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    written_earlier(feed)
    return write_config(
        tmp_path / "job.yaml",
        f"""\
        inputs: {{paths: [feed]}}
        runtime: {{device: cpu}}
        summarization: {{model: {summariser}, generation: {{max_new_tokens: 6}}}}
        translation: {{models: {{fr: {translator}}}, generation: {{max_new_tokens: 6, num_beams: 1}}}}
        """,
    )


def test_check_feeds_a_resaved_nllb_as_nllb_and_refuses_it_as_summariser(tmp_path, tiny_models, resaved, capsys) -> None:
    nllb = resaved[("nllb", "PreTrainedTokenizerFast")]
    config = night(tmp_path, tiny_models, tiny_models["summarizer"], nllb)
    assert main(["check", "-c", str(config)]) == 0
    assert "fr -> en: nllb, source tagged fra_Latn, first output token forced to eng_Latn" in capsys.readouterr().out
    config = night(tmp_path, tiny_models, nllb, tiny_models["translator"])
    assert main(["check", "-c", str(config)]) == 78
    errors = [line for line in capsys.readouterr().err.splitlines() if " ERROR " in line]
    assert any("summarization.model: " in line and "a translation model (nllb)" in line for line in errors), errors


def test_check_refuses_a_multilingual_model_whose_tokenizer_has_no_language_codes(tmp_path, tiny_models, resaved, capsys) -> None:
    bare = without_language_codes(resaved[("nllb", "PreTrainedTokenizerFast")], tmp_path / "bare")
    config = night(tmp_path, tiny_models, tiny_models["summarizer"], bare)
    assert main(["check", "-c", str(config)]) == 78
    errors = [line for line in capsys.readouterr().err.splitlines() if " ERROR " in line]
    assert len(errors) == 1, errors
    assert f"translation.models.fr: {bare}: a multilingual model (model_type m2m_100)" in errors[0]
    assert "no language-code tokens" in errors[0] and "tokenizer" in errors[0]


# -- 15: multi-target Marian with separate vocabularies ----------------------------------------


def test_a_multi_target_marian_with_separate_vocabularies_gets_its_target_token(tmp_path) -> None:
    e = engine(mf.build_tiny_marian_separate_vocabs(tmp_path / "marian"))
    framing = e.framing(FR_EN)
    assert (framing.family, framing.first_token) == ("marian-multi", ">>eng<<")
    ids = e.token_ids(["Bonjour à tous."], framing)[0]
    assert ids[0] == e.tokenizer.convert_tokens_to_ids(">>eng<<") == e.tokenizer.get_vocab()[">>eng<<"]
    assert e.token_ids(["Bonjour à tous."], e.framing(Direction("fr", "de")))[0][0] == e.tokenizer.get_vocab()[">>deu<<"]
    assert all(r.error is None for r in e.run(requests(["Bonjour à tous."])))


# -- 16: what a checkpoint forces is the framing's, on every engine and in inspect ------------


@pytest.fixture(scope="module", params=["generation_config.json", "config.json"])
def bart_cnn(request, tmp_path_factory) -> Path:
    return mf.build_tiny_bart_cnn(tmp_path_factory.mktemp("bart") / "bart", forced_in=request.param)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_checkpoint_forced_token_is_forced_by_both_engines(bart_cnn, backend, monkeypatch) -> None:
    e = engine(bart_cnn, backend, role="summarization")
    framing = e.framing(Direction("fr", "fr"))
    assert framing.forced_first == "<s>"
    assert framing.describe() == "bart, first output token forced to <s> (the model's forced_bos_token_id)"
    first = mf.first_generated_tokens(e, monkeypatch)
    results = e.run(requests(TEXTS, Direction("fr", "fr")))
    assert all(r.error is None for r in results) and set(first) == {"<s>"}


def test_inspect_shows_the_token_a_checkpoint_forces(bart_cnn, tmp_path, tiny_models, capsys) -> None:
    config = night(tmp_path, tiny_models, bart_cnn, tiny_models["translator"])
    assert main(["inspect", "-c", str(config), str(tmp_path / "feed" / "velo.txt")]) == 0
    summary = capsys.readouterr().out.split("summarization", 1)[1].split("translation ", 1)[0]
    assert "framing: bart, first output token forced to <s> (the model's forced_bos_token_id) (fr -> fr)" in summary
    assert "output forced to start with: <s>" in summary


def test_a_family_forcing_its_target_overrides_the_checkpoint_token(originals, tmp_path, monkeypatch) -> None:
    """A fine-tune that saved forced_bos_token_id (here German's code): the target is forced."""
    import json
    import shutil

    folder = tmp_path / "nllb"
    shutil.copytree(originals["nllb"], folder)
    path = folder / "generation_config.json"
    generation = json.loads(path.read_text(encoding="utf-8"))
    e = engine(folder)
    generation["forced_bos_token_id"] = e.tokenizer.convert_tokens_to_ids("deu_Latn")
    path.write_text(json.dumps(generation), encoding="utf-8")
    e = engine(folder)
    assert e.framing(FR_EN).forced_first == "eng_Latn"
    first = mf.first_generated_tokens(e, monkeypatch)
    e.run(requests(TEXTS, FR_EN))
    assert set(first) == {"eng_Latn"}


# -- 18: language codes from the language tables ------------------------------------------------

NLLB = ModelFamily("nllb", NLLB_200_CODES, True, "forced_bos")
M2M100 = ModelFamily("m2m100", M2M100_CODES, True, "forced_bos")


@pytest.mark.parametrize(
    ("family", "language", "code"),
    [
        (NLLB, "ps", "pbt_Arab"),  # Pashto: NLLB has Southern Pashto, a member of the macrolanguage
        (NLLB, "qu", "quy_Latn"),  # Quechua: Ayacucho Quechua
        (NLLB, "nb", "nob_Latn"),
        (NLLB, "no", "nob_Latn"),  # Norwegian: Bokmål, the closer of its two members in CLDR's data
        (NLLB, "fa", "pes_Arab"),  # Persian: Iranian Persian, not Dari
        (NLLB, "ar", "arb_Arab"),
        (NLLB, "zh", "zho_Hans"),
        (NLLB, "ms", "zsm_Latn"),
        (M2M100, "nb", "__no__"),  # Bokmål: M2M100's Norwegian
        (M2M100, "nn", "__no__"),
        (M2M100, "ps", "__ps__"),
        (M2M100, "tl", "__tl__"),
        (M2M100, "qu", None),
    ],
)
def test_languages_reach_the_code_the_model_has_for_them(family, language, code) -> None:
    assert code_for(family, language) == code


@pytest.mark.parametrize(("name", "language", "code"), [("nllb", "ps", "pbt_Arab"), ("nllb", "qu", "quy_Latn"), ("m2m100", "nb", "__no__")])
def test_an_article_in_such_a_language_is_tagged_with_it(originals, name, language, code) -> None:
    e = engine(originals[name])
    framing = e.framing(Direction(language, "en"))
    assert framing.source_code == code
    assert e.token_ids(["Bonjour."], framing)[0][0] == e.tokenizer.convert_tokens_to_ids(code)


def test_every_iso_639_1_language_maps_as_the_tables_say() -> None:
    from model_families.language_codes import ISO_639_1_EXPECTED, iso_639_1_languages

    assert set(ISO_639_1_EXPECTED) == set(iso_639_1_languages())
    found = {language: (code_for(NLLB, language), code_for(M2M100, language)) for language in ISO_639_1_EXPECTED}
    assert found == ISO_639_1_EXPECTED
