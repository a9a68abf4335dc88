"""Config loading: shipped configs load, and every kind of mistake names file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_config
from summarizer.config import DEFAULT_DROP_LINE_PATTERNS, JobConfig, load_config
from summarizer.errors import ConfigError
from summarizer.routing import route

REPO = Path(__file__).resolve().parents[1]


def summarizer_of(config: JobConfig, language: str):
    """The summarisation model an article in ``language`` is routed to (None: none)."""
    return route(config, language).summarizer


def translator_of(config: JobConfig, language: str):
    """The translation model an article in ``language`` is routed to (None: none)."""
    return route(config, language).translator


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "configs").glob("*.yaml")))
def test_shipped_configs_load(name: str) -> None:
    config = load_config(REPO / "configs" / name)
    assert config.source == (REPO / "configs" / name).resolve()
    assert config.inputs.paths == ((REPO / "examples").resolve(),)


def test_default_config_names_pinned_safetensors_revisions() -> None:
    config = load_config(REPO / "configs" / "default.yaml")
    summarizer, translator = summarizer_of(config, "fr").spec, translator_of(config, "fr").spec
    assert summarizer.name == "moussaKam/barthez-orangesum-abstract"
    assert translator.name == "Helsinki-NLP/opus-mt-fr-en"
    for revision in (summarizer.revision, translator.revision):
        assert revision and len(revision) == 40
    assert config.cleaning.drop_line_patterns == DEFAULT_DROP_LINE_PATTERNS
    assert config.summarization.generation == {
        "num_beams": 4,
        "max_new_tokens": 128,
        "no_repeat_ngram_size": 3,
    }


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path / "c.yaml", ""))
    assert config.summarization.long_input == "chunk"
    assert config.translation.target_language == "en"
    assert config.runtime == JobConfig().runtime


def test_relative_paths_resolve_against_config_folder(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "models" / "m").mkdir(parents=True)
    config = load_config(
        write_config(
            tmp_path / "conf" / "c.yaml",
            """\
            inputs: {paths: [../in, /abs/x]}
            outputs: {dir: ../out}
            translation: {model: ../models/m}
            """,
        )
    )
    assert config.inputs.paths == (tmp_path / "in", Path("/abs/x"))
    assert config.outputs.dir == tmp_path / "out"
    assert config.translation.model == str(tmp_path / "models" / "m")
    assert summarizer_of(config, "fr").spec.name == "moussaKam/barthez-orangesum-abstract"


def test_single_string_accepted_for_a_list(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path / "c.yaml", "inputs: {paths: here}\n"))
    assert config.inputs.paths == (tmp_path / "here",)


def test_with_overrides(tmp_path: Path) -> None:
    config = JobConfig().with_overrides(input_paths=[tmp_path], output_dir=tmp_path / "o")
    assert config.inputs.paths == (tmp_path,)
    assert config.outputs.dir == tmp_path / "o"


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "summarization:\n  generation: {num_beam: 4}\n",
            "summarization.generation.num_beam: unknown key; did you mean 'num_beams'?",
        ),
        ("sumarization: {}\n", "sumarization: unknown key; did you mean 'summarization'?"),
        ("runtime: {devise: cpu}\n", "runtime.devise: unknown key; did you mean 'device'?"),
        ("runtime: {device: tpu}\n", "runtime.device: must be one of 'auto', 'cpu', 'cuda'"),
        ("runtime: {batch_tokens: 0}\n", "runtime.batch_tokens: must be greater than 0"),
        ("runtime: {batch_tokens: lots}\n", "runtime.batch_tokens: must be a whole number"),
        ("runtime: {threads: 2.5}\n", "runtime.threads: must be a whole number"),
        ("runtime: {max_batch_size: true}\n", "runtime.max_batch_size: must be a whole number"),
        ("runtime: [cpu]\n", "runtime: must be a mapping, not a list"),
        ("runtime: {executor: spark}\n", "runtime.executor: must be one of 'local', 'ray'"),
        ("ray: {summarization_actors: 0}\n", "ray.summarization_actors: must be 1 or more"),
        ("ray: {gpus_per_actor: -1}\n", "ray.gpus_per_actor: must be 0 or more"),
        ("ray: {address: head-node}\n", "ray.address: must be 'auto', 'local', 'HOST:PORT' or 'ray://HOST:PORT'"),
        ("ray: {actors: 4}\n", "ray.actors: unknown key"),
        ("summarization: {long_input: drop}\n", "summarization.long_input: must be one of"),
        (
            "summarization:\n  generation: {num_beams: 2.5}\n",
            "summarization.generation.num_beams: must be a whole number",
        ),
        (
            "translation:\n  generation: {do_sample: 'yes'}\n",
            "translation.generation.do_sample: must be true or false",
        ),
        (
            "translation:\n  generation: {repetition_penalty: -1}\n",
            "translation.generation.repetition_penalty: must be 0 or more",
        ),
        (
            "summarization:\n  generation: {max_new_tokens: 0}\n",
            "summarization.generation.max_new_tokens: must be at least 1",
        ),
        (
            "translation:\n  generation: {do_sample: true, temperature: 0}\n",
            "translation.generation.temperature: must be greater than 0",
        ),
        (
            "translation:\n  generation: {top_p: 1.5}\n",
            "translation.generation.top_p: must be in (0, 1]",
        ),
        (
            "translation:\n  generation: {repetition_penalty: 0}\n",
            "translation.generation.repetition_penalty: must be greater than 0",
        ),
        (
            "quality:\n  faithfulness_retry_generation: {repetition_penalty: 0}\n",
            "quality.faithfulness_retry_generation.repetition_penalty: must be greater than 0",
        ),
        (
            "translation:\n  generation: {num_beams: 0}\n",
            "translation.generation.num_beams: must be at least 1",
        ),
        (
            "translation:\n  generation: {min_new_tokens: 9, max_new_tokens: 3}\n",
            "translation.generation.min_new_tokens: 9 is more than max_new_tokens 3",
        ),
        (
            "summarization: {max_input_tokens: 100, generation: {max_new_tokens: 80}}\n",
            "summarization.generation.max_new_tokens: 80 is more than half",
        ),
        (
            "translation: {pack_tokens: 300, max_input_tokens: 100}\n",
            "translation.pack_tokens: 300 is more than translation.max_input_tokens",
        ),
        ("translation: {target_language: English}\n", "translation.target_language: must be a language code"),
        ("inputs: {extensions: [txt]}\n", "inputs.extensions: 'txt' is not an extension"),
        ("inputs: {paths: [3]}\n", "inputs.paths[0]: must be a path string"),
        ("cleaning: {drop_line_patterns: ['(unclosed']}\n", "cleaning.drop_line_patterns[0]: invalid regex"),
        ("translation: {model: ./no/such/folder}\n", "translation.model: local model folder"),
        ("translation: {model: 'not a model id'}\n", "neither a hub id"),
        ("translation: {model: ''}\n", "translation.model: must be a hub id"),
        ("- a\n- b\n", "the top level must be a mapping of sections, not a list"),
        (
            "translation: {model: org/a, models: {de: org/b}}\n",
            "translation.models: give either translation.model (one model) or translation.models",
        ),
        ("translation: {models: {default: org/b}}\n", "translation.models.default: translation models are per source language"),
        ("summarization: {models: {French: org/b}}\n", "summarization.models.French: must be a language code"),
        ("summarization: {models: {fr: {revision: abc}}}\n", "summarization.models.fr.model: required key missing"),
        ("summarization: {models: {fr: {model: org/a, revison: abc}}}\n", "summarization.models.fr.revison: unknown key; did you mean 'revision'?"),
        ("summarization: {models: [org/a]}\n", "summarization.models: must be a mapping such as {fr: org/model}"),
        (
            "summarization: {models: {fr: {model: org/a, generation: {max_new_tokens: 0}}}}\n",
            "summarization.models.fr.generation.max_new_tokens: must be at least 1",
        ),
        ("translation: {target: en, target_language: de}\n", "translation.target: give target or its older name"),
        ("languages: {force: French}\n", "languages.force: must be a language code"),
        ("quality: {retry_generation: {num_beam: 2}}\n", "quality.retry_generation.num_beam: unknown key; did you mean 'num_beams'?"),
        ("quality: {max_char_run: 0}\n", "quality.max_char_run: must be greater than 0"),
        ("runtime: {device: cpu\n", "invalid YAML"),
        ("!!python/object/apply:os.system ['echo hi']\n", "invalid YAML"),
        ("summarization: !!python/name:os.system {}\n", "no Python tags"),
        ("runtime: {threads: 100000000}\n", "runtime.threads: must be at most"),
        ("inputs: {max_file_mb: .inf}\n", "inputs.max_file_mb: must be a finite number"),
        ("runtime: {time_budget_minutes: .inf}\n", "runtime.time_budget_minutes: must be a finite number"),
        ("runtime: {time_budget_minutes: 1.0e+300}\n", "runtime.time_budget_minutes: must be at most 10080"),
        ("inputs: {max_file_mb: 100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000}\n", "inputs.max_file_mb: must be a finite number"),
        ("languages: {min_confidence: 7}\n", "languages.min_confidence: must be greater than 0 and at most 1"),
        ("quality: {untranslated_confidence: 1.5}\n", "quality.untranslated_confidence: must be greater than 0 and at most 1"),
        ("quality: {length_ratio_min: 5, length_ratio_max: 2}\n", "quality.length_ratio_min: 5 is more than quality.length_ratio_max (2)"),
        ("ray: {cpus_per_actor: 1.0e+9}\n", "ray.cpus_per_actor: must be at most 1024"),
        ("translation:\n  generation: {num_beams: 100000}\n", "translation.generation.num_beams: must be at most 64"),
        ("translation:\n  generation: {temperature: .nan}\n", "translation.generation.temperature: must be a finite number"),
        ("runtime: {threads: 1}\nruntime: {device: cpu}\n", "line 2: invalid YAML (key 'runtime' is given twice)"),
        ("runtime: {threads: 1, threads: 2}\n", "invalid YAML (key 'threads' is given twice)"),
        ("language: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 16 levels deep"),
        ("language:\n" + "".join(" " * i + "-\n" for i in range(1, 240)), "language: must be a non-empty string"),
        ('inputs: {paths: ["a\\0b"]}\n', "inputs.paths[0]: must be a path without NUL bytes"),
        ('inputs: {paths: ["\\ud800"]}\n', "inputs.paths[0]: must be a path without NUL bytes, in valid Unicode"),
        ('language: "\\udc80"\n', "language: must be valid Unicode text"),
        ("summarization: {model: " + "a" * 5000 + "}\n", "summarization.model: 'aaaa"),
        ("translation: {model: ./" + "b" * 5000 + "}\n", "translation.model:"),
    ],
)
def test_config_errors_name_file_and_key(tmp_path: Path, yaml_text: str, expected: str) -> None:
    path = write_config(tmp_path / "bad.yaml", yaml_text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message


def alias_bomb(levels: int = 9) -> str:
    """A YAML value of a few hundred bytes that expands to 10**(levels + 1) items."""
    value = "&a0 [x, x, x, x, x, x, x, x, x, x]"
    for level in range(1, levels + 1):
        value = f"&a{level} [{value}, " + ", ".join([f"*a{level - 1}"] * 9) + "]"
    return value


@pytest.mark.parametrize(
    ("where", "key"),
    [
        ("runtime: {threads: BOMB}", "runtime.threads"),
        ("language: BOMB", "language"),
        ("summarization: {model: BOMB}", "summarization.model"),
        ("summarization: {generation: {num_beams: BOMB}}", "summarization.generation.num_beams"),
        ("inputs: {paths: BOMB}", "inputs.paths[0]"),
        ("cleaning: {drop_line_patterns: BOMB}", "cleaning.drop_line_patterns[0]"),
    ],
)
def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path, where: str, key: str) -> None:
    import time

    path = write_config(tmp_path / "bomb.yaml", where.replace("BOMB", alias_bomb()) + "\n")
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert time.monotonic() - started < 10  # minutes and gigabytes before the fix
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: ") and len(message) < 400


def test_an_oversized_or_special_config_file_is_refused(tmp_path: Path) -> None:
    import os

    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * 10_000, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"cannot read config file \(file is .* KB, over the size of a config file \(32 KB\)"):
        load_config(big)
    os.mkfifo(tmp_path / "fifo.yaml")
    with pytest.raises(ConfigError, match=r"not a regular file \(a FIFO\)"):
        load_config(tmp_path / "fifo.yaml")


def test_source_is_not_a_yaml_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="source: unknown key"):
        load_config(write_config(tmp_path / "c.yaml", "source: x\n"))


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_known_pickle_only_models_get_their_safetensors_revision(tmp_path: Path) -> None:
    config = load_config(
        write_config(
            tmp_path / "c.yaml",
            """\
            summarization: {model: moussaKam/barthez-orangesum-abstract}
            translation: {model: Helsinki-NLP/opus-mt-it-en}
            """,
        )
    )
    assert summarizer_of(config, "fr").spec.revision == "d297ebaa84d61a069a0cd6922271c4a47ba2554e"
    assert translator_of(config, "fr").spec.revision is None


def test_moving_revisions_are_warned_about(tmp_path: Path) -> None:
    from summarizer.config import revision_warnings

    config = load_config(
        write_config(
            tmp_path / "c.yaml",
            """\
            summarization: {model: org/a, revision: main}
            translation: {model: org/b}
            """,
        )
    )
    assert revision_warnings(config) == [
        "summarization.revision: 'main' can change under you; pin a commit hash "
        "(`summarizer fetch` prints it)",
        "translation.revision: no revision (the moving main branch) can change under you; "
        "pin a commit hash (`summarizer fetch` prints it)",
    ]
    assert revision_warnings(load_config(REPO / "configs" / "default.yaml")) == []


def test_language_model_maps(tmp_path: Path) -> None:
    config = load_config(
        write_config(
            tmp_path / "c.yaml",
            """\
            summarization:
              generation: {num_beams: 2}
              models:
                fr: moussaKam/barthez-orangesum-abstract
                default: {model: csebuetnlp/mT5_multilingual_XLSum, revision: abc, generation: {num_beams: 1}}
            translation:
              target: en
              models: {fr: Helsinki-NLP/opus-mt-fr-en, de: {model: Helsinki-NLP/opus-mt-de-en, revision: def}}
            """,
        )
    )
    assert config.target_language == "en"
    assert summarizer_of(config, "fr").spec.revision == "d297ebaa84d61a069a0cd6922271c4a47ba2554e"
    assert summarizer_of(config, "de").spec.name == "csebuetnlp/mT5_multilingual_XLSum"
    assert dict(summarizer_of(config, "de").generation) == {"num_beams": 1}
    assert translator_of(config, "de").spec.revision == "def"
    assert translator_of(config, "it") is None
    assert translator_of(config, "en") is None


def test_old_single_model_keys_map_to_the_job_language(tmp_path: Path) -> None:
    config = load_config(
        write_config(
            tmp_path / "c.yaml",
            """\
            language: fr
            summarization: {model: org/summ, revision: a}
            translation: {model: org/trans, target_language: en}
            """,
        )
    )
    assert set(config.summarizers()) == {"fr"} and summarizer_of(config, "fr").spec.name == "org/summ"
    assert translator_of(config, "fr").spec.name == "org/trans"
    assert summarizer_of(config, "de") is None


@pytest.mark.parametrize("section", ["translation.generation", "runtime"])
def test_a_key_with_line_breaks_is_named_on_one_line(tmp_path: Path, section: str) -> None:
    outer, _, inner = section.partition(".")
    body = "    ? '\n\n      x'\n    : null\n" if inner else "  ? '\n\n    x'\n  : null\n"
    path = tmp_path / "job.yaml"
    path.write_text(f"{outer}:\n" + (f"  {inner}:\n" if inner else "") + body, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message and "unknown key" in message and "\\n" in message
