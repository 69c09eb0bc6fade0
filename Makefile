# inkworm: `make demo` and `make test` work from nothing on Debian 12 (they install what is missing).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.bootstrapped
SHELL  := /bin/bash

.PHONY: setup demo test lint bench fuzz record-graphs readme-media looks clean

$(STAMP): pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh
	touch $@

setup: $(STAMP)

demo: setup
	$(VENV)/bin/inkworm summary graphs/bowtie.dot --mode naive
	$(VENV)/bin/inkworm render graphs/bowtie.dot --mode naive -o renders/bowtie-naive.mp4
	@echo "demo: the bowtie, naive probe, is at renders/bowtie-naive.mp4"

# The README's stills (the moment a-f is etched; naive | fixed) and short GIF, kept small.
readme-media: setup
	$(VENV)/bin/inkworm render graphs/bowtie.dot --mode naive --format png --at connect:f:a \
		-o docs/bowtie-naive-a-f.png
	$(VENV)/bin/inkworm render graphs/bowtie.dot --mode naive --format gif --pace 0.5 \
		-o docs/bowtie-naive.gif
	$(VENV)/bin/inkworm render graphs/bowtie.dot --mode naive --compare graphs/bowtie.dot \
		--compare-mode fixed --format png --at final -q m -o docs/naive-vs-fixed.png

# docs/looks.png: the contact sheet of every size, theme and slide (scripts/looks.py).
looks: setup
	$(PY) scripts/looks.py docs/looks.png

lint: setup
	$(VENV)/bin/ruff check src tests scenes bench scripts
	$(VENV)/bin/mypy

test: setup lint
	$(PY) -m pytest -q

# bench compiles our modules' bytecode first, as the dependencies' (and an installed
# wheel's) is: with PYTHONDONTWRITEBYTECODE set, every run compiled them again (0.25 s)
bench: setup
	$(PY) -m compileall -q src >/dev/null
	$(PY) bench/run.py

fuzz: setup
	INKWORM_FUZZ_EXAMPLES=5000 $(PY) -m pytest -q tests -k fuzz

# Re-record the committed real-BEAM traces (for users without Elixir).
record-graphs: setup
	$(VENV)/bin/inkworm record graphs/bowtie.dot --mode naive -o graphs/bowtie-naive.beam.jsonl
	$(VENV)/bin/inkworm record graphs/bowtie.dot --mode fixed -o graphs/bowtie-fixed.beam.jsonl
	$(VENV)/bin/inkworm record graphs/ring_chords.dot --strategy parallel --mode fixed \
		-o graphs/ring_chords-parallel.beam.jsonl

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
