# The two commands a new user needs: `make demo` and `make test`. Both set everything up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= demo-out
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: install demo test bench train clean system-deps

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, exactly this CPU wheel: any looser spec pulls GBs of CUDA packages.
	$(PY) -m pip install -q torch==2.13.0 || $(PY) -m pip install -q "torch>=2.2,<3"
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# CJK fonts render the test fixtures' Chinese captions; redis/postgres serve the integration tests.
system-deps:
	@bash .ci/system-deps.sh

demo: install
	$(VENV)/bin/captionacc run examples/sample.mp4 --out $(OUT)
	@echo "Captions: $(OUT)/captions.srt  $(OUT)/captions.vtt  $(OUT)/captions.db"

test: install system-deps
	$(PY) -m pytest -q tests

bench: install system-deps
	$(PY) benchmarks/run_all.py $(BENCH_ARGS)

# Trains gpu_kernels/weights/extents_v1.pt and writes training/METRICS.{md,json} from the seed
# (not bit-for-bit: libx264 in the renderer is still not fully deterministic, see training/EXPERIMENTS.md).
train: install
	@bash .ci/system-deps.sh --train
	$(PY) -m training.train --out gpu_kernels/weights/extents_v1.pt

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
