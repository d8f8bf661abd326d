# One command to run, one to test. The virtual environment is made on first use from the lock file.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres lint bench bench-reminders bench-updates bench-latency bench-replies bench-ask lock migrate clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ehcp-bot run

migrate: $(STAMP)
	$(BIN)/ehcp-bot migrate

test: $(STAMP)
	$(BIN)/python -m pytest -q $(ARGS)

# The suite again on a throwaway PostgreSQL server (apt-get install postgresql); the browser
# tests run on SQLite only (the pages are the same).
test-postgres: $(STAMP)
	$(BIN)/python -m tests.postgres_server --deselect tests/test_sandbox_browser.py --deselect tests/test_pages_browser.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m bench.delivery $(ARGS)

bench-updates: $(STAMP)
	$(BIN)/python -m bench.updates --no-latency $(ARGS)

bench-latency: $(STAMP)
	$(BIN)/python -m bench.updates --no-throughput --no-echo $(ARGS)

bench-replies: $(STAMP)
	$(BIN)/python -m bench.replies $(ARGS)

bench-reminders: $(STAMP)
	$(BIN)/python -m bench.reminders $(ARGS)

# "Ask anything": recall@1 and @3, the share of unanswerable questions declined, answer time and
# memory, on bench/ask_eval.yaml (ARGS="--misses" lists what it gets wrong, "--tune" the thresholds).
bench-ask: $(STAMP)
	$(BIN)/python -m bench.ask $(ARGS)

# Re-pin after changing dependencies in pyproject.toml (needs network to PyPI).
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV)
