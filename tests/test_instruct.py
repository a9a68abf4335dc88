"""The instruct-model engine on a tiny Llama laid out like SmolLM2-135M-Instruct.

Random weights: these tests check what goes in (the chat template, the prompt, left
padding), where generation stops and how it is counted, and the budgets; the real
model's behaviour is tried in test_real_weights.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import requests

from summarizer.config import RuntimeConfig
from summarizer.errors import ConfigError
from summarizer.models import causal
from summarizer.models.causal import CausalEngine, _until_stop
from summarizer.models.factory import build_engine
from summarizer.models.families import Direction
from summarizer.models.loading import FramingChoice, ModelSpec
from summarizer.models.prompts import TEXT_MARKER, prompt_parts
from summarizer.models.tiny import build_tiny_chat_llm
from summarizer.stopping import StopSignal

FR_FR = Direction("fr", "fr")
FR_EN = Direction("fr", "en")
STOP_SOON = {"sequence_bias": {(2,): 80.0}, "min_new_tokens": 3}  # <|im_end|> right after 3 tokens
QWEN3_LIKE = (
    "{% for m in messages %}{{'<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{'<|im_start|>assistant\\n'}}"
    "{% if enable_thinking is defined and enable_thinking is false %}{{'<think>\\n\\n</think>\\n\\n'}}{% endif %}"
    "{% endif %}"
)
NO_SYSTEM_ROLE = (
    "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
    "{% endif %}{{'<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{'<|im_start|>assistant\\n'}}{% endif %}"
)


@pytest.fixture(scope="module")
def llm(tmp_path_factory) -> Path:
    return build_tiny_chat_llm(tmp_path_factory.mktemp("llm") / "smollm2-like")


def engine(folder: Path, role: str = "summarization", **kwargs) -> CausalEngine:
    generation = kwargs.pop("generation", {"max_new_tokens": 8} if role == "summarization" else {})
    cap = (1.5, 16) if role == "translation" else None
    built = build_engine(
        ModelSpec(str(folder), config_key=f"{role}.model"),
        kwargs.pop("runtime", RuntimeConfig(device="cpu")),
        role=role,
        generation=generation,
        relative_cap=cap,
        **kwargs,
    )
    assert isinstance(built, CausalEngine)
    return built


def decoded(engine: CausalEngine, ids: list[int]) -> str:
    return engine.tokenizer.decode(ids)


def test_the_factory_gives_a_decoder_only_model_the_instruct_engine_even_when_ctranslate2_is_asked(llm) -> None:
    assert isinstance(engine(llm, runtime=RuntimeConfig(device="cpu", engine="ctranslate2")), CausalEngine)


def test_the_article_goes_into_the_chat_template_with_a_french_prompt_for_a_french_summary(llm) -> None:
    summariser = engine(llm)
    framing = summariser.framing(FR_FR)
    assert framing.chat and framing.prompt_id and "chat template" in framing.describe()
    text = decoded(summariser, summariser.token_ids(["Le conseil municipal a voté."], framing)[0])
    assert text.startswith("<|im_start|>system\nTu es un journaliste")
    assert "<|im_start|>user\nRésume l'article suivant" in text and "Le conseil municipal a voté.<|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n")  # the model writes the reply next


def test_a_translation_prompt_names_both_languages_in_the_language_of_the_output(llm) -> None:
    translator = engine(llm, role="translation")
    text = decoded(translator, translator.token_ids(["Bonjour."], translator.framing(FR_EN))[0])
    assert "Translate this French text into English" in text and "\nBonjour.<|im_end|>" in text
    into_french = translator.framing(Direction("en", "fr"))
    assert "Traduis ce texte en français" in decoded(translator, translator.token_ids(["Hi."], into_french)[0])


def test_the_configured_prompt_replaces_the_default(llm) -> None:
    summariser = engine(llm)
    choice = FramingChoice(system="", user="Résumé de {source_language} en {target} : {text}")
    framing = summariser.framing(Direction("fr", "fr", choice))
    text = decoded(summariser, summariser.token_ids(["Texte."], framing)[0])
    assert "<|im_start|>user\nRésumé de French en fr : Texte.<|im_end|>" in text
    assert "Tu es un journaliste" not in text  # "" is no system message (SmolLM2's template adds its own)
    assert framing.prompt_id != summariser.framing(FR_FR).prompt_id


def test_thinking_is_switched_off_where_the_template_has_the_switch(tmp_path) -> None:
    qwen3 = engine(build_tiny_chat_llm(tmp_path / "qwen3", chat_template=QWEN3_LIKE))
    text = decoded(qwen3, qwen3.token_ids(["Texte."], qwen3.framing(FR_FR))[0])
    assert text.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_a_template_without_a_system_role_gets_the_instructions_in_the_user_turn(tmp_path) -> None:
    strict = engine(build_tiny_chat_llm(tmp_path / "strict", chat_template=NO_SYSTEM_ROLE))
    text = decoded(strict, strict.token_ids(["Texte."], strict.framing(FR_FR))[0])
    assert text.startswith("<|im_start|>user\nTu es un journaliste") and "Texte.<|im_end|>" in text


def test_budgets_count_the_article_not_the_prompt(llm) -> None:
    summariser = engine(llm)
    framing = summariser.framing(FR_FR)
    overhead = summariser.prompt_tokens(framing)
    count = summariser.counter(FR_FR)
    assert overhead > 50
    assert count("Le conseil municipal a voté.") == len(summariser.token_ids(["Le conseil municipal a voté."], framing)[0]) - overhead
    # the model's context (2048) less the output cap and the room kept for the prompt
    assert summariser.max_input_tokens == 2048 - causal.PROMPT_ALLOWANCE - 8


def test_a_batch_counts_each_rows_prompt_and_output_cap(llm, monkeypatch) -> None:
    summariser = engine(llm, runtime=RuntimeConfig(device="cpu", batch_tokens=1000))
    sizes = []
    original = CausalEngine._generate_batch
    monkeypatch.setattr(CausalEngine, "_generate_batch", lambda self, i, e, s: sizes.append(len(i)) or original(self, i, e, s))
    summariser.run(requests(["Une phrase courte."] * 6, FR_FR))
    row = len(summariser.token_ids(["Une phrase courte."], summariser.framing(FR_FR))[0]) + 8
    assert sizes == [1000 // row] * (6 // (1000 // row)) + ([6 % (1000 // row)] if 6 % (1000 // row) else [])


def test_rows_are_padded_on_the_left_and_only_the_reply_is_decoded(llm, monkeypatch) -> None:
    summariser = engine(llm)
    seen = {}
    original = summariser.tokenizer.batch_decode

    def spy_generate(model_generate):
        def generate(**kwargs):
            seen["input_ids"] = kwargs["input_ids"].tolist()
            seen["mask"] = kwargs["attention_mask"].tolist()
            return model_generate(**kwargs)

        return generate

    summariser.load()
    monkeypatch.setattr(summariser.model, "generate", spy_generate(summariser.model.generate))
    monkeypatch.setattr(summariser.tokenizer, "batch_decode", lambda rows, **kw: seen.setdefault("decoded", rows) and original(rows, **kw))
    results = summariser.run(requests(["Un texte nettement plus long que l'autre, vraiment.", "Court."], FR_FR))
    short = min(seen["mask"], key=sum)
    assert short[0] == 0 and short[-1] == 1  # padding first, the prompt flush against the reply
    assert all(len(reply) <= 8 for reply in seen["decoded"])  # the reply, not the prompt
    assert [r.generated_tokens for r in results] == [8, 8] and all(r.capped for r in results)


def test_generation_stops_at_the_end_of_turn_token_and_counts_up_to_it(llm) -> None:
    summariser = engine(llm)
    reply_end = summariser.prompt_parts(summariser.framing(FR_FR)).reply_end
    assert reply_end == "<|im_end|>\n" and summariser.text_tokens.first_control(reply_end) == 2  # <|im_end|>
    results = summariser.run(requests(["Le conseil a voté.", "Une enquête a été ouverte par le parquet."], FR_FR), overrides=STOP_SOON)
    assert [(r.generated_tokens, r.capped) for r in results] == [(4, False), (4, False)]  # 3 tokens and the end


def test_the_count_stops_at_the_first_end_id_even_when_the_pad_token_is_the_end_token() -> None:
    end = frozenset({2, 7})
    assert _until_stop([5, 6, 2, 2, 2], end) == ([5, 6], True)
    assert _until_stop([5, 7, 9], end) == ([5], True)
    assert _until_stop([5, 6], end) == ([5, 6], False)


def test_the_reply_loses_its_preamble(llm, monkeypatch) -> None:
    summariser = engine(llm)
    summariser.load()
    monkeypatch.setattr(summariser.tokenizer, "batch_decode", lambda rows, **kw: ["Voici le résumé :\n« Le maire a voté. »"] * len(rows))
    assert [r.text for r in summariser.run(requests(["Texte."], FR_FR))] == ["Le maire a voté."]


def test_an_input_over_the_limit_is_refused_not_truncated(llm) -> None:
    summariser = build_engine(
        ModelSpec(str(llm), max_input_tokens=5, config_key="summarization.model"),
        RuntimeConfig(device="cpu"),
        role="summarization",
        generation={"max_new_tokens": 4},
    )
    short, long = summariser.run(requests(["Oui.", "Le conseil municipal a voté le budget de la ville mardi soir."], FR_FR))
    assert short.error is None and "exceeds the limit of 5" in long.error


def test_a_stop_request_ends_generation_at_the_next_step(llm, monkeypatch) -> None:
    stop = StopSignal()
    summariser = engine(llm, stop=stop, generation={"max_new_tokens": 200})
    summariser.load()
    steps = []
    forward = summariser.model.forward

    def forward_then_stop(*args, **kwargs):
        steps.append(1)
        if len(steps) == 2:
            stop.request("SIGTERM", 143)
        return forward(*args, **kwargs)

    monkeypatch.setattr(summariser.model, "forward", forward_then_stop)
    assert all(r.interrupted for r in summariser.run(requests(["Texte.", "Autre."], FR_FR)))
    assert len(steps) < 5  # not the 200 steps the cap allows


def test_int8_on_cpu_runs_the_instruct_model(llm) -> None:
    summariser = engine(llm, runtime=RuntimeConfig(device="cpu", quantize="int8"))
    (result,) = summariser.run(requests(["Le conseil a voté."], FR_FR))
    assert result.error is None and summariser.describe()["dtype"] == "float32+int8"


def test_seq2seq_settings_do_not_apply_to_an_instruct_model(llm) -> None:
    summariser = engine(llm)
    with pytest.raises(ConfigError, match="summarization.source_code: .* instruct .*delete the line"):
        summariser.framing(Direction("fr", "fr", FramingChoice(source_code="fra_Latn")))


def test_a_plain_template_for_a_base_model_is_cut_where_the_text_goes() -> None:
    parts = prompt_parts(None, "", f"Article : {TEXT_MARKER}\nRésumé :", chat=False, where="summarization.model: m")
    assert (parts.before, parts.after) == ("Article : ", "\nRésumé :")


def test_a_literal_placeholder_in_a_prompt_is_kept_and_the_text_goes_where_it_belongs(llm) -> None:
    summariser = engine(llm)
    framing = summariser.framing(Direction("fr", "fr", FramingChoice(user="Écrivez {{text}} ici : {text}")))
    text = decoded(summariser, summariser.token_ids(["Le maire a voté."], framing)[0])
    assert "Écrivez {text} ici : Le maire a voté.<|im_end|>" in text


def test_repetition_settings_see_the_reply_not_the_article_in_the_prompt(llm, monkeypatch) -> None:
    summariser = engine(llm)
    summariser.load()
    article = "Le conseil municipal a voté le budget."
    word = summariser.tokenizer("conseil", add_special_tokens=False)["input_ids"][0]
    assert word in summariser.token_ids([article], summariser.framing(FR_FR))[0]  # in the prompt
    replies = []
    decode = summariser.tokenizer.batch_decode
    monkeypatch.setattr(summariser.tokenizer, "batch_decode", lambda rows, **kw: replies.extend(rows) or decode(rows, **kw))
    # the model is pushed to write that word; a retry's settings forbid any repeat (1-grams)
    strict = {"sequence_bias": {(word,): 60.0}, "max_new_tokens": 3, "no_repeat_ngram_size": 1, "repetition_penalty": 1.3}
    summariser.run(requests([article], FR_FR), overrides=strict)
    assert replies[0][0] == word  # allowed once: the article's words are not repeats
    assert replies[0].count(word) == 1  # but not twice in the reply


def test_a_prompt_longer_than_the_room_kept_for_it_is_refused(llm) -> None:
    summariser = engine(llm)
    long = FramingChoice(system="Consigne. " * 400)
    with pytest.raises(ConfigError, match="summarization.prompt: the prompt takes .* tokens .* shorten it"):
        summariser.framing(Direction("fr", "fr", long))
