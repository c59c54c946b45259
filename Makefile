# Two commands do all set-up on a fresh machine (only python3 and make needed):
#   make demo   run the main job on the embedded defaults (local MLflow + the Domino emulator)
#   make test   create .venv, install, build the docs (strict: a broken link fails), run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: install test stress soak demo bench lint clean

$(STAMP): pyproject.toml emulator/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The runtime and its sibling, the Domino emulator (emulator/, with the models it serves: [predict]).
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e './emulator[predict]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	# Not --quiet: it hides the warnings that --strict turns into a failure.
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# make stress: the stress tests in a known time (README, "Reliability"); make soak: all of them.
stress: $(STAMP)
	$(BIN)/python -m pytest -q -m "stress and not soak" --durations=10

soak: $(STAMP)
	$(BIN)/python -m pytest -q -m "stress or soak" --durations=10

demo: $(STAMP)
	$(BIN)/python demo/run_demo.py $(DEMO_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

lint: $(STAMP)
	$(BIN)/zizmor --offline --no-progress action.yml actions .github/workflows
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions action.yml actions/*/action.yml
	$(BIN)/python tools/lock_action_requirements.py --check

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info src/*.egg-info emulator/build emulator/src/*.egg-info .demo site
