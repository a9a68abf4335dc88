"""``summarizer check``: validate, find every model locally, print the plan."""

from __future__ import annotations

import argparse
import logging
import os
from collections import defaultdict
from typing import Any

from ..config import JobConfig, revision_warnings
from ..errors import EXIT_CONFIG, EXIT_OK, ConfigError, ModelLoadError
from ..io.readers import reader_library_problems, require_input_paths
from ..models.base import BaseEngine
from ..models.factory import engine_backend, engine_for_use, require_convertible
from ..models.loading import ModelSpec, from_pretrained, hub_cache, is_gguf_spec, locate_model, model_config_json
from ..planning import make_plan
from ..sharing import foreign_writers_problem
from ..routing import configured_uses, route, routed_languages
from .common import load_job_config, offline, require_inputs

logger = logging.getLogger("summarizer")


def check_command(args: argparse.Namespace) -> int:
    """``summarizer check``: validate, resolve models locally, print the plan."""
    offline()
    config = load_job_config(args)
    require_inputs(config, args)
    for warning in revision_warnings(config):
        logger.warning("%s", warning)
    require_input_paths(config.inputs.paths, config.inputs.extensions)
    plan = make_plan(config)
    print(f"config          {config.source}")
    print(f"fingerprint     {plan.fingerprint[:16]}")
    for path in config.inputs.paths:
        print(f"input           {path}")
    print(
        f"articles        {plan.found} found, {len(plan.todo)} new or changed, "
        f"{len(plan.skipped)} already done"
    )
    print(f"outputs         {config.outputs.dir or 'next to each article'}")
    print(f"reports         {config.reports.dir or 'none'}")
    print(f"model cache     {hub_cache(config.hub.cache_dir)} (hub.cache_dir; runs never download)")
    print(f"languages       {_describe_languages(config)}")
    problems = reader_library_problems()
    foreign = foreign_writers_problem(plan.foreign, config)
    if foreign:
        problems.append(foreign)
    print(f"readers         {'BROKEN: see below' if problems else 'text, Markdown, JSONL, HTML'}")
    framings, framing_problems = _framings(config)
    conversions: dict[ModelSpec, tuple[str | None, str | None]] = {}
    for key, use in configured_uses(config):
        try:
            print(f"{key}\n                {_describe_local_model(use.spec)}")
        except (ModelLoadError, ConfigError) as exc:
            print(f"{key}\n                NOT AVAILABLE")
            problems.append(str(exc))
            continue
        for line in framings.get(key, []):
            print(f"                {line}")
        if use.spec not in conversions:
            conversions[use.spec] = _ctranslate2_state(config, use.spec)
        line, problem = conversions[use.spec]
        if line:
            print(f"                {line}")
        if problem and problem not in problems:
            problems.append(problem)
    problems += [problem for problem in framing_problems if problem not in problems]
    try:
        print(f"device          {_describe_device(config)}")
    except ConfigError as exc:
        problems.append(str(exc))
    print(f"executor        {_describe_executor(config)}")
    if config.runtime.executor == "ray":
        from ..executors.ray_cluster import require_ray

        try:
            require_ray(config)
        except ConfigError as exc:
            problems.append(str(exc))
    for problem in problems:
        logger.error("%s", problem)
    return EXIT_CONFIG if problems else EXIT_OK


def _describe_executor(config: JobConfig) -> str:
    if config.runtime.executor == "local":
        return "local (this process)"
    settings = config.ray
    environment = os.environ.get("RAY_ADDRESS")
    address = settings.address or (f"$RAY_ADDRESS ({environment})" if environment else "a private local Ray")
    return (
        f"ray at {address}; {settings.summarization_actors} summarisation + "
        f"{settings.translation_actors} translation workers, {settings.cpus_per_actor:g} CPU and "
        f"{settings.gpus_per_actor:g} GPU each, {settings.batch_articles} articles per batch"
    )


def _describe_languages(config: JobConfig) -> str:
    if config.languages.force:
        return f"every article is {config.languages.force} (languages.force)"
    sources = sorted(set(config.summarizers()) - {"default"} | set(config.translators()))
    default = " (+ any language for the default summariser)" if "default" in config.summarizers() else ""
    return f"detected; models for {', '.join(sources)}{default}; target {config.target_language}"


def _framings(config: JobConfig) -> tuple[dict[str, list[str]], list[str]]:
    """For each configured model, how it is fed each language it is routed (``routing``
    decides which; ``models.families`` how); and why any of them cannot be."""
    lines: dict[str, list[str]] = defaultdict(list)
    problems: dict[str, None] = {}
    engines: dict[Any, BaseEngine] = {}
    force = {config.languages.force} if config.languages.force else set()
    # "default" names the summariser of every other language, not a language: it is framed
    # through the languages it serves (the job's own at least).
    for language in sorted(set(routed_languages(config)) - {"default"} | {config.language} | force):
        routed = route(config, language)
        for use, direction in routed.directions():
            target = direction.target
            if use.engine_key not in engines:
                engines[use.engine_key] = engine_for_use(config, use, backend="transformers")  # as the run frames it
                problem = _ctranslate2_problem(config, use.spec, engines[use.engine_key])
                if problem:
                    problems[problem] = None
            try:
                framing = engines[use.engine_key].framing(direction)
            except ModelLoadError:
                continue  # reported as NOT AVAILABLE
            except ConfigError as exc:
                problems[str(exc)] = None
                lines[use.spec.config_key].append(f"{language} -> {target}: CANNOT BE FED (see below)")
                continue
            lines[use.spec.config_key].append(f"{language} -> {target}: {engines[use.engine_key].describe_framing(framing)}")
    _warn_unused_prompts(config, engines.values())
    return lines, list(problems)


def _ctranslate2_problem(config: JobConfig, spec: ModelSpec, engine: BaseEngine) -> str | None:
    """Why ``runtime.engine`` cannot run ``spec``'s model (``require_convertible``), or None."""
    try:
        folder, _ = locate_model(spec)
        require_convertible(config.runtime, spec, model_config_json(folder), engine.decoder_only)
    except ModelLoadError:
        return None  # reported as NOT AVAILABLE
    except ConfigError as exc:
        return str(exc)
    return None


def _ctranslate2_state(config: JobConfig, spec: ModelSpec) -> tuple[str | None, str | None]:
    """For a model the runs give to CTranslate2: (a line of the plan saying whether its
    conversion is there and loads, or that ``fetch`` makes it; why it cannot run, or None)."""
    from ..models.ct2_conversion import compute_type, conversion_state, converts, open_translator, quantization_of
    from ..models.ct2_conversion import require_ctranslate2
    from ..models.loading import resolve_device

    try:
        if engine_backend(spec, config.runtime) != "ctranslate2":
            return None, None
        require_ctranslate2()
        folder, _ = locate_model(spec)
        if not converts(model_config_json(folder)):
            return None, None  # refused on its own (require_convertible)
        target, problem = conversion_state(folder, spec.name, spec.revision, quantization_of(config.runtime))
        if not target.is_dir():
            return "CTranslate2: not converted yet; `summarizer fetch` converts it (else the first run does)", None
        if problem:
            return f"CTranslate2: its conversion {target} {problem}; `summarizer fetch` converts it again", None
        open_translator(target, config.runtime, resolve_device(config.runtime.device).type, f"{spec.config_key}: {spec.label()}")
    except (ModelLoadError, ConfigError) as exc:
        if config.runtime.engine == "auto":
            return f"CTranslate2: cannot be used ({exc}); runtime.engine: auto runs it on transformers", None
        return "CTranslate2: CANNOT BE USED (see below)", str(exc)
    return f"CTranslate2: converted in {target} ({compute_type(config.runtime)}), loads", None


def _warn_unused_prompts(config: JobConfig, engines: Any) -> None:
    """A section's prompt that no instruct model reads still counts in the fingerprint."""
    for section in ("summarization", "translation"):
        prompt = getattr(config, section).prompt
        if all(value is None for value in (prompt.system, prompt.user, prompt.template)):
            continue
        kinds = {_is_instruct(engine) for engine in engines if engine.role == section}
        if True not in kinds and None not in kinds:  # None: a model not available to tell
            logger.warning(
                "%s.prompt is set but no %s model is an instruct model: it changes no output (it is "
                "still part of the fingerprint, so setting or changing it redoes that section's articles)",
                section,
                section,
            )


def _is_instruct(engine: BaseEngine) -> bool | None:
    """Whether ``engine``'s model is an instruct model; None when it cannot be told (the
    model is not available here: that is reported on its own)."""
    try:
        return engine.family.decoder_only
    except (ConfigError, ModelLoadError):
        return None


def _describe_local_model(spec: ModelSpec) -> str:
    from transformers import AutoTokenizer

    folder, commit = locate_model(spec)
    from_pretrained(spec, AutoTokenizer.from_pretrained)
    origin = f"; {spec.origin}, as fetch found it (pin it in the config)" if spec.origin else ""
    if is_gguf_spec(spec):
        return f"{spec.name} (GGUF file, converted in {folder})"
    if spec.is_local:
        return f"{spec.name} (local folder{origin})"
    return f"{spec.name} revision {spec.revision or 'main'} = commit {commit} (in {folder}{origin})"


def _describe_device(config: JobConfig) -> str:
    import torch

    from ..models.loading import resolve_device, resolve_dtype

    device = resolve_device(config.runtime.device)
    dtype = str(resolve_dtype(config.runtime.dtype, device)).replace("torch.", "")
    threads = config.runtime.threads or torch.get_num_threads()
    return f"{device} ({dtype}), {threads} CPU threads"
