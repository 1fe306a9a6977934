# Two commands: `make demo` (set up + main job) and `make test` (set up + tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup bench clean system-deps sandbox-deps

# The venv is (re)installed only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[browser,graders]"
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP) sandbox-deps
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/course demo

system-deps:
	@bash .ci/system-deps

sandbox-deps:
	@bash .ci/system-deps sandbox

test: $(STAMP) system-deps
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -n auto

bench: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build site
