"""What an engine's backend really generates first (both engines), for the family tests."""

from __future__ import annotations

from typing import Any


def first_generated_tokens(engine: Any, monkeypatch: Any) -> list[str]:
    """Spy on the backend of the (loaded) ``engine``: the first token each output starts
    with after the decoder start, filled in as the engine generates."""
    seen: list[str] = []
    engine.load()
    if engine.backend == "transformers":
        original = engine._model.generate

        def spy(**kwargs):
            output = original(**kwargs)
            seen.extend(engine.tokenizer.convert_ids_to_tokens([int(row[1]) for row in output]))
            return output

        monkeypatch.setattr(engine._model, "generate", spy)
    else:
        translator = engine._translator

        def spy_batch(batch, **kwargs):
            results = translator.translate_batch(batch, **kwargs)
            start = 0 if engine._start is None else len(engine._start)
            seen.extend(result.hypotheses[0][start] for result in results)
            return results

        monkeypatch.setattr(engine, "_translator", type("T", (), {"translate_batch": staticmethod(spy_batch)})())
    return seen
