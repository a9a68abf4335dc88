"""What kind of model a ``config.json`` describes, and whether the job can drive it.

Read from the config alone (``model_type``, ``architectures``, ``is_encoder_decoder``),
against transformers' own auto-class mappings, so a model can be refused before any
of it is loaded.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import ConfigError
from .loading import ModelSpec

#: Architecture name endings of checkpoints that cannot generate text.
_NOT_GENERATIVE = ("EncoderModel", "ForSequenceClassification", "ForTokenClassification", "ForQuestionAnswering")


def is_decoder_only(config: Mapping[str, Any]) -> bool:
    """Whether ``config.json`` is a decoder-only (causal) text model's, which the job
    drives through a prompt."""
    from transformers.models.auto import modeling_auto as auto

    model_type = str(config.get("model_type") or "")
    if model_type in auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES or config.get("is_encoder_decoder"):
        return False
    architectures = [str(a) for a in config.get("architectures") or []]
    if architectures:
        return any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in architectures)
    return model_type in auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES


def unsupported_model(config: Mapping[str, Any]) -> str | None:
    """Why the job cannot drive the model of this ``config.json``, or None. Reads the
    config only, so a run can refuse the model before anything is loaded."""
    from transformers.models.auto import modeling_auto as auto

    model_type = str(config.get("model_type") or "")
    architectures = [str(a) for a in config.get("architectures") or []]
    other_modalities = set()
    for name in ("SPEECH_SEQ_2_SEQ", "MULTIMODAL_LM", "IMAGE_TEXT_TO_TEXT", "CTC"):
        other_modalities |= set(getattr(auto, f"MODEL_FOR_{name}_MAPPING_NAMES", {}))
    described = f"model type {model_type!r}" + (f", {architectures[0]}" if architectures else "")
    if model_type in auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES and model_type not in other_modalities:
        if architectures and all(a.endswith(_NOT_GENERATIVE) for a in architectures):
            return f"an encoder without a text-generating head ({described}); choose a sequence-to-sequence checkpoint"
        return None
    if model_type in other_modalities or "vision" in model_type or "speech" in model_type:
        return f"a speech or vision model ({described}); the job needs a text-to-text model"
    if is_decoder_only(config):
        return None
    if model_type in auto.MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return f"an encoder-only model ({described}): it cannot generate text"
    return f"not a text-generating model ({described}); choose a sequence-to-sequence or instruct model"


def refuse_unsupported(config: Mapping[str, Any], spec: ModelSpec) -> None:
    """ConfigError naming ``spec``'s key when the job cannot drive its model (``config.json``
    alone decides: nothing else is loaded)."""
    problem = unsupported_model(config)
    if problem:
        raise ConfigError(f"{spec.config_key}: {spec.label()}: {problem}")
