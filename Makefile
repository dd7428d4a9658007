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

$(STAMP): pyproject.toml deploy/constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, exactly this CPU wheel: any looser spec pulls GBs of CUDA packages.
	$(PY) -m pip install -q torch==2.13.0 || $(PY) -m pip install -q "torch>=2.2,<3"
	# The versions the suite passes with; the image and Modal install the same (pip -c).
	$(PY) -m pip install -q -c deploy/constraints.txt -e '.[dev]'
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

# Trains the caption-extents model from the seed into build/ (~25 min on 2 cores; the same
# weights every run on the same machine and torch build). It does not overwrite the committed
# model: score build/extents_v1.pt with benchmarks/extents_bench.py --weights, then copy it and
# build/METRICS.* over gpu_kernels/weights/ and training/ (see training/EXPERIMENTS.md).
# --libass-share 0: the v7 recipe (the committed weights, byte for byte); the default share adds
# libass captions over ../shared/footage (training/libass_seqs.py), not yet scored.
train: install
	@bash .ci/system-deps.sh
	$(PY) -m training.train --out build/extents_v1.pt --metrics build/METRICS --libass-share 0

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
