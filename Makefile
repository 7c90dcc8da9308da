# Two commands on a fresh machine with only Python 3.11 and make: `make demo`, `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL_STAMP := $(VENV)/.local-model

.PHONY: demo test lint format bench bench-results clean install model browser screenshot

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=python3 ...'"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[dev,ray]'
	@touch $(STAMP)

# The local model: llama.cpp built from source once per machine (~7 min on 2 cores), weights ~1.1 GB.
$(MODEL_STAMP): $(STAMP)
	$(BIN)/cap model install
	@touch $(MODEL_STAMP)

install: $(STAMP)

model: $(MODEL_STAMP)

# The demo runs live on the local model; if it cannot be installed here, it says why and replays a recording.
demo: $(STAMP)
	@$(MAKE) --no-print-directory model || echo "make demo: the local model could not be installed (see above); the demo replays its recorded transcript instead"
	$(BIN)/python demos/demo.py

# As root (CI) the browser comes from Debian's packages and its test is required; elsewhere it is skipped
# when Chromium is missing. The real-model and CPU-share tests run after the parallel part, one at a time.
test: $(MODEL_STAMP)
	@[ "$$(id -u)" != 0 ] || $(MAKE) --no-print-directory browser
	CAP_REQUIRE_BROWSER=$$([ "$$(id -u)" = 0 ] && echo 1 || echo 0) \
		$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not exclusive and not realmodel"
	$(BIN)/python -m pytest -q -m "exclusive or realmodel"

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
	$(BIN)/python benchmarks/bench_ray.py

# The paper's other experiments with the local model, recorded with transcripts (tests/test_results_replay.py
# replays them). MODEL=... picks another model (add BASE_URL=... for a server).
MODEL ?= local
bench-results: $(STAMP)
	for b in robocodegen control reasoning; do \
		$(BIN)/cap bench $$b --model $(MODEL) $(if $(BASE_URL),--base-url $(BASE_URL)) --out results/$$b \
			--transcript results/$$b/transcript.jsonl || exit 1; \
	done

# Debian's headless Chromium and its driver for the real-browser test of `cap ui` (tests/test_ui_browser.py);
# installed with apt-get when missing (as root, as on CI), never a browser build fetched by a tool.
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then \
		echo "chromium and chromedriver are installed"; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	else \
		echo "error: run 'sudo apt-get install chromium chromium-driver' (or 'sudo make browser')"; exit 2; \
	fi

# Refresh docs/ui.png (the README's screenshot of `cap ui`) from the browser test.
screenshot: $(STAMP) browser
	CAP_REQUIRE_BROWSER=1 CAP_SCREENSHOT_DIR=docs $(BIN)/python -m pytest -q -p no:randomly tests/test_ui_browser.py

clean:
	rm -rf $(VENV) demo_out .pytest_cache build *.egg-info
