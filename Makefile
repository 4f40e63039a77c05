# Every target works on a fresh machine with only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo
# Inputs for the CI conversion targets: make coco GLAS=path/to/release OUT=path/to/out
GLAS ?=
OUT ?=
ARGS ?=

.PHONY: install test lint demo bench bench-export interop clean coco voc yolo masks all validate

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check glas_convert tests bench
	$(BIN)/ruff format --check glas_convert tests bench

test: install lint
	$(BIN)/pytest -q

demo: install
	rm -rf $(DEMO_DIR)
	$(BIN)/glas-convert synth $(DEMO_DIR)/glas-synth --count 12 --seed 0
	$(BIN)/glas-convert info $(DEMO_DIR)/glas-synth
	$(BIN)/glas-convert all $(DEMO_DIR)/glas-synth $(DEMO_DIR)/out --workers 2
	$(BIN)/glas-convert validate $(DEMO_DIR)/out --source $(DEMO_DIR)/glas-synth

bench: install
	$(BIN)/python bench/bench_contours.py
	$(BIN)/python bench/bench_export.py

bench-export: install
	$(BIN)/python bench/bench_export.py

# make coco GLAS=path/to/release OUT=path/to/out [ARGS="--workers 4 ..."]
coco voc yolo masks all: install
	@test -n "$(GLAS)" -a -n "$(OUT)" || { echo "usage: make $@ GLAS=path/to/release OUT=path/to/out"; exit 2; }
	$(BIN)/glas-convert $@ "$(GLAS)" "$(OUT)" $(ARGS)

# make validate GLAS=path/to/release OUT=path/to/out
validate: install
	@test -n "$(GLAS)" -a -n "$(OUT)" || { echo "usage: make $@ GLAS=path/to/release OUT=path/to/out"; exit 2; }
	$(BIN)/glas-convert validate "$(OUT)" --source "$(GLAS)" $(ARGS)

# Interop with the real consumers (torch, torchvision, datumaro, ultralytics, pycocotools):
# heavy, so its own venv and not part of `make test`. On x86_64 with Python 3.11, pip takes
# torch 2.14.1 and torchvision 0.29.1 from this machine's disk; on aarch64 it uses 2.9.1/0.24.1.
INTEROP_VENV := .venv-interop
INTEROP_STAMP := $(INTEROP_VENV)/.installed
TORCH_PINS := $(if $(filter aarch64 arm64,$(shell uname -m)),torch==2.9.1 torchvision==0.24.1,torch==2.14.1 torchvision==0.29.1)

$(INTEROP_STAMP): pyproject.toml
	test -x $(INTEROP_VENV)/bin/python || $(PYTHON) -m venv $(INTEROP_VENV)
	$(INTEROP_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(INTEROP_VENV)/bin/python -m pip install --quiet $(TORCH_PINS)
	$(INTEROP_VENV)/bin/python -m pip install --quiet $(TORCH_PINS) datumaro ultralytics pycocotools
	$(INTEROP_VENV)/bin/python -m pip install --quiet -e .
	touch $(INTEROP_STAMP)

interop: $(INTEROP_STAMP)
	$(INTEROP_VENV)/bin/python bench/interop.py

clean:
	rm -rf $(VENV) $(INTEROP_VENV) $(DEMO_DIR) build *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
