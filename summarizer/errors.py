"""Every exception the package raises on purpose, and the exit code of each.

The CLI turns an error that stops a command into its exit code with
``exit_code_for``; anything else reaching the CLI is a bug (exit 70) and is
reported with a traceback.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ARTICLES_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_INPUT = 66
EXIT_UNAVAILABLE = 69
EXIT_BUG = 70
EXIT_TEMPFAIL = 75
EXIT_CONFIG = 78
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class SummarizerError(Exception):
    """Base class for errors that are meant to be shown to users as one line."""


class ConfigError(SummarizerError):
    """The YAML configuration (or a value overriding it) is invalid.

    The message always names the file and the key.
    """


class ModelLoadError(SummarizerError):
    """A configured model could not be resolved or loaded; the run stops before any output."""


class InputPathError(SummarizerError):
    """An input path given in the config or on the command line cannot be read as input:
    it does not exist, is not valid UTF-8, or is a file of a kind the job does not read."""


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


#: What each exit code means, in a few words (README, "Exit codes", says more).
EXIT_MEANINGS: dict[int, str] = {
    EXIT_OK: "all done, or nothing to do",
    EXIT_ARTICLES_FAILED: "finished, but some articles failed",
    EXIT_USAGE: "bad command line",
    EXIT_NO_INPUT: "an input path cannot be read",
    EXIT_UNAVAILABLE: "a service cannot be reached",
    EXIT_BUG: "internal error (a bug)",
    EXIT_TEMPFAIL: "stopped or could not go on; the rest waits for the next run",
    EXIT_CONFIG: "bad config, or a model not available",
    EXIT_INTERRUPTED: "stopped by SIGINT",
    EXIT_TERMINATED: "stopped by SIGTERM",
}


def exit_meaning(code: int | None) -> str:
    """What exit ``code`` means."""
    if code is None:
        return "did not finish"
    return EXIT_MEANINGS.get(code, f"stopped by signal {code - 128}" if code > 128 else "unknown")


#: Exit code for each kind of error that stops a command (first match wins).
EXIT_CODES: tuple[tuple[type[SummarizerError], int], ...] = (
    (ConfigError, EXIT_CONFIG),
    (ModelLoadError, EXIT_CONFIG),
    (InputPathError, EXIT_NO_INPUT),
    (LockHeldError, EXIT_TEMPFAIL),
    (OutputWriteError, EXIT_TEMPFAIL),
    (UsageError, EXIT_USAGE),
    (ServiceUnavailableError, EXIT_UNAVAILABLE),
)


def exit_code_for(error: SummarizerError) -> int:
    """The exit code of an error that stopped a command."""
    return next((code for kind, code in EXIT_CODES if isinstance(error, kind)), EXIT_BUG)
