"""Every exception the package raises on purpose.

The CLI maps these to exit codes in one place (``cli.EXIT_CODES``); anything
else reaching the CLI is a bug and is reported with a traceback.
"""

from __future__ import annotations


class SummarizerError(Exception):
    """Base class for errors that are meant to be shown to users as one line."""


class ConfigError(SummarizerError):
    """The YAML configuration (or a value overriding it) is invalid.

    The message always names the file and the key.
    """


class ModelLoadError(SummarizerError):
    """A configured model could not be resolved or loaded; the run stops before any output."""


class ArticleError(SummarizerError):
    """One article cannot be processed (unreadable, empty, generation error).

    It is recorded in that article's meta file and the run goes on.
    """


class LockHeldError(SummarizerError):
    """Another run holds the lock of this output location."""


class OutputWriteError(SummarizerError):
    """Results cannot be written (disk full, read-only, permissions); the run stops."""


class OutputPathError(OutputWriteError):
    """One output path cannot be written (a folder or a link in its place, a name
    too long): only the article it belongs to fails; the run goes on."""


class UsageError(SummarizerError):
    """The command line asks for something that cannot be done (exit 2)."""


class ServiceUnavailableError(SummarizerError):
    """A service the run needs cannot be reached or failed (a Ray cluster)."""
