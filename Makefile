# Set-up and the two jobs of the README. Everything installs into .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SERIAL ?= PV5S260100000013

.PHONY: run test lint bench clean lock

$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock -e '.[dev]'   # the locked set: records say they ran on it
	touch $@

run: $(BIN)/.installed  ## the EOL plan on a golden unit on the simulated bench, with its certificate
	$(BIN)/station run eol --serial $(SERIAL) --out results

test: $(BIN)/.installed  ## lint, then the whole test suite: in parallel on both cores (4 workers, the long tests first: the real-time tests mostly wait), then the paced browser tests on their own
	$(BIN)/ruff check .
	$(BIN)/mypy   # the packages of [tool.mypy] in pyproject.toml
	$(BIN)/python -m pytest -n 4 --dist loadgroup -q -m "not paced"
	$(BIN)/python -m pytest -q -m paced

bench: $(BIN)/.installed  ## benchmarks, figures as a table and JSON
	$(BIN)/python -m benchmarks

lock: $(BIN)/.installed  ## requirements.lock: the dev environment's resolved dependency set (after a pyproject.toml change)
	{ echo "# The resolved dependency set of the dev environment (pip install -e '.[dev]'); regenerate: make lock."; \
	  echo "# Install exactly this set: pip install -r requirements.lock -e . (records say whether they ran on it)."; \
	  $(BIN)/pip freeze --exclude-editable; } > requirements.lock

clean:
	rm -rf $(VENV) results
