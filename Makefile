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

.PHONY: install test lint demo bench bench-export clean coco voc yolo masks all validate

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
	$(BIN)/glas-convert validate "$(OUT)" --source "$(GLAS)"

clean:
	rm -rf $(VENV) $(DEMO_DIR) build *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
