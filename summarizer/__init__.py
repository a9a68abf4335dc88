"""summarizer: nightly summaries and translations of French news articles.

Public API::

    from summarizer import load_config, run_job, RunOptions
    report = run_job(load_config("configs/default.yaml"), RunOptions(limit=10))

Importing the package loads neither torch nor transformers.
"""

from ._version import __version__
from .config import JobConfig, load_config
from .options import RunOptions
from .pipeline import run_job
from .reporting.report import JobReport

__all__ = ["JobConfig", "JobReport", "RunOptions", "__version__", "load_config", "run_job"]
