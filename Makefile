# Two commands on a fresh machine with only Python 3.11 and make: `make demo`, `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench bench-results clean install

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=python3 ...'"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python demos/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not exclusive"
	$(BIN)/python -m pytest -q -m exclusive

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_llm.py
	$(BIN)/python benchmarks/bench_sandbox.py
	$(BIN)/python benchmarks/bench_sim.py
	$(BIN)/python benchmarks/bench_humaneval.py
	$(BIN)/python benchmarks/bench_control.py

# The paper's other experiments with the local model, recorded with transcripts (tests/test_results_replay.py
# replays them). MODEL=... picks another model (add BASE_URL=... for a server).
MODEL ?= local
bench-results: $(STAMP)
	for b in robocodegen control reasoning; do \
		$(BIN)/cap bench $$b --model $(MODEL) $(if $(BASE_URL),--base-url $(BASE_URL)) --out results/$$b \
			--transcript results/$$b/transcript.jsonl || exit 1; \
	done

clean:
	rm -rf $(VENV) demo_out .pytest_cache build *.egg-info
