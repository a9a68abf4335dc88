# Two entry points, each doing its own set-up on a fresh Linux machine (Python 3.10+):
#   make run    download the models (summarizer fetch), then run the job on the
#               sample articles in examples/ with configs/default.yaml
#   make test   run the test suite (this is what CI runs, through .ci/run)
# torch is installed before the package: a bare "torch" requirement would pull a
# multi-GB CUDA build. On a CPU-only machine without a local torch wheel, use
#   make run TORCH_INDEX=https://download.pytorch.org/whl/cpu

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
# Optional extras installed with the package; `make install EXTRAS=test` for a lean deployment.
EXTRAS ?= test,ctranslate2,ray
CONFIG ?= configs/default.yaml
BIN := $(VENV)/bin

.PHONY: run test install clean docs

run: install
	$(BIN)/summarizer fetch -c $(CONFIG)
	$(BIN)/summarizer run -c $(CONFIG)

test: install
	$(BIN)/python -m pytest

docs:
	$(BIN)/python -m summarizer.config.reference > docs/configuration.md.tmp
	mv docs/configuration.md.tmp docs/configuration.md

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("summarizer needs Python 3.10 or newer" if sys.version_info < (3, 10) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info
