"""``summarizer demo``: a first success without a network.

It builds two small random-weight models (a T5 summariser and a Marian
translator, what the tests use), writes a config that points at them, and runs
the job on the sample articles. Everything goes into one folder (``demo/`` by
default): the models, the config, the outputs, the report and the digest. The
text is gibberish, since the weights are random; the files, meta records,
report and digest are what a real night writes.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from ..config import load_config
from ..errors import UsageError
from ..io.files import atomic_write_text
from ..io.readers import require_input_paths
from ..options import RunOptions
from .common import offline
from .running import run_and_report

logger = logging.getLogger("summarizer")

_BUILT = ".built"


def demo_command(args: argparse.Namespace) -> int:
    """``summarizer demo``."""
    offline()
    folder = args.dir.absolute()
    inputs = [path.absolute() for path in args.input or [Path("examples")]]
    try:
        require_input_paths(inputs, (".txt", ".md", ".jsonl", ".html", ".htm"))
    except Exception as exc:  # noqa: BLE001 - InputPathError: say how to point elsewhere
        raise UsageError(f"{exc}; run the demo from the project folder, or give --input FOLDER") from None
    models = build_demo_models(folder / "models")
    config_path = folder / "demo.yaml"
    atomic_write_text(config_path, demo_config(models, inputs))
    print(f"demo: two small random-weight models in {folder / 'models'}")
    print(f"demo: config {config_path}")
    code = run_and_report(load_config(config_path), RunOptions(force=True))
    print(f"demo: outputs in {folder / 'outputs'}, report and digest in {folder / 'reports'}")
    print(
        "demo: the text is gibberish because the models have random weights; the files, meta "
        "records, report and digest are what a real night writes. With the hub reachable, "
        "`make run` does the same with the real models."
    )
    return code


def build_demo_models(folder: Path) -> dict[str, Path]:
    """The demo's summariser and translator (built once; a few seconds)."""
    from ..models.tiny import build_tiny_marian, build_tiny_t5

    paths = {"summarizer": folder / "t5", "translator": folder / "marian"}
    if not (folder / _BUILT).is_file():
        logger.info("building the demo's random-weight models in %s", folder)
        build_tiny_t5(paths["summarizer"], max_input_tokens=512)
        build_tiny_marian(paths["translator"], max_positions=512)
        (folder / _BUILT).write_text("built\n", encoding="utf-8")
    return paths


def demo_config(models: dict[str, Path], inputs: list[Path]) -> str:
    """The demo's config: the sample articles in, everything else in the demo folder."""
    paths = json.dumps([str(path) for path in inputs])
    return f"""\
# Written by `summarizer demo`: random-weight models, so the text is gibberish.
inputs: {{paths: {paths}}}
outputs: {{dir: outputs}}
reports: {{dir: reports}}
runtime: {{device: cpu}}
summarization:
  model: {json.dumps(str(models["summarizer"]))}
  generation: {{max_new_tokens: 24, min_new_tokens: 8}}
translation:
  model: {json.dumps(str(models["translator"]))}
  generation: {{max_new_tokens: 24}}
"""
