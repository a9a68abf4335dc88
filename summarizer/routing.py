"""Which models serve an article: the one place where routing is decided.

An article in language L gets L's summariser (or the ``default`` one) and L's
translator; an article already in the target language needs no translator (its
summary is its own English summary); an article whose language lacks a model is
skipped, with the reason. Planning, processing, ``inspect``, ``eval``,
``check``, ``fetch`` and the writers all ask ``route``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import JobConfig, ModelChoice
from .models.families import Direction
from .models.loading import FramingChoice, ModelSpec, ModelUse, Role
from .models.resolution import effective_spec


@dataclass(frozen=True)
class Route:
    """What is done with an article in ``language``."""

    language: str
    summarizer: ModelUse | None
    translator: ModelUse | None
    """None for an article already in the target language, or without a translator."""
    in_target_language: bool
    """The article is in the language everything is translated into: summarised only."""
    target_language: str
    """What translations are written in (``translation.target``)."""
    skip_reason: str | None = None
    """Why the article cannot be processed (no model for its language), else None."""

    @property
    def uses(self) -> tuple[ModelUse, ...]:
        """The models the article needs."""
        return tuple(use for use in (self.summarizer, self.translator) if use is not None)

    def directions(self) -> tuple[tuple[ModelUse, Direction], ...]:
        """Each model the article needs, with what its requests ask: a summary stays in the
        article's language, a translation goes into the target language."""
        pairs = ((self.summarizer, self.language), (self.translator, self.target_language))
        return tuple((use, Direction(self.language, target, use.framing)) for use, target in pairs if use is not None)

    def model_group(self) -> tuple[str, str]:
        """A sort key that puts articles needing the same models together."""
        return (
            self.summarizer.spec.name if self.summarizer else "~",
            self.translator.spec.name if self.translator else "",
        )


def _use(config: JobConfig, role: Role, entry: str, choice: ModelChoice, resolved: bool = True) -> ModelUse:
    section = getattr(config, role)
    key = f"{role}.models.{entry}" if section.models else f"{role}.model"
    spec = ModelSpec(
        name=choice.model,
        revision=choice.revision,
        max_input_tokens=config.summarization.max_input_tokens if role == "summarization" else None,
        config_key=key,
        allow_pickle=choice.allow_pickle_weights,
        convert_pickle=bool(choice.convert_pickle_weights),
        cache_dir=str(config.hub.cache_dir) if config.hub.cache_dir else None,
    )
    if resolved:
        spec = effective_spec(spec)  # what fetch used, if it had to fall back
    generation = {**section.generation, **choice.generation}
    prompt = section.prompt
    framing = FramingChoice(
        choice.source_code,
        choice.target_code,
        choice.prefix,
        entry=key,
        system=prompt.system,
        user=prompt.user,
        template=prompt.template,
    )
    return ModelUse(role, spec, tuple(sorted(generation.items())), framing)


def route(config: JobConfig, language: str) -> Route:
    """The models an article in ``language`` gets, or why it is skipped."""
    summarizers = config.summarizers()
    entry = language if language in summarizers else "default"
    summarizer = _use(config, "summarization", entry, summarizers[entry]) if entry in summarizers else None
    in_target = language == config.target_language
    choice = None if in_target else config.translators().get(language)
    translator = _use(config, "translation", language, choice) if choice else None
    missing = []
    if summarizer is None:
        missing.append("summarization")
    if translator is None and not in_target:
        missing.append("translation")
    reason = None
    if missing:
        reason = (
            f"no {' or '.join(missing)} model for language {language!r} "
            f"(add one under {missing[0]}.models)"
        )
    return Route(language, summarizer, translator, in_target, config.target_language, reason)


class RouteCache:
    """``route`` once per language, for one plan (planning, the skip rules and the
    writer all read the same decision)."""

    def __init__(self, config: JobConfig) -> None:
        self.config = config
        self._routes: dict[str, Route] = {}

    def route(self, language: str) -> Route:
        if language not in self._routes:
            self._routes[language] = route(self.config, language)
        return self._routes[language]


def configured_uses(config: JobConfig, resolved: bool = True) -> list[tuple[str, ModelUse]]:
    """Every configured model with the config entry naming it (``summarization.models.fr``);
    ``resolved=False``: as configured, ignoring what ``fetch`` had to use instead."""
    uses = []
    for entry, choice in config.summarizers().items():
        use = _use(config, "summarization", entry, choice, resolved)
        uses.append((use.spec.config_key, use))
    for entry, choice in config.translators().items():
        use = _use(config, "translation", entry, choice, resolved)
        uses.append((use.spec.config_key, use))
    return uses


def routed_languages(config: JobConfig) -> list[str]:
    """Every language the configuration names a model for, and the target language."""
    languages = {config.target_language} | set(config.summarizers()) | set(config.translators())
    return sorted(languages)
