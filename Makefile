# The plain entry points. Everything runs inside .venv, made on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_TOOLS := .cache/npm/.axe-core-4.14.1-vnu-jar-26.9.27

.PHONY: demo reset test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## demo: set up, reset, make the checkout a workspace (`newsletter init`, once), compose the
## bundled sample digest, dry-run the send to example subscribers
demo: $(STAMP) reset
	@test -f newsletter.toml || $(BIN)/newsletter init .
	$(BIN)/newsletter compose
	$(BIN)/newsletter subscribers import examples/subscribers.csv
	$(BIN)/newsletter send --dry-run
	@echo
	@echo "Look at issues/ (the HTML and text of each edition, and sample-*.eml to open in a"
	@echo "mail client). To send for real to a local capture server:"
	@echo "  .venv/bin/newsletter smtp-sink &   # stores what it receives in smtp-sink.mbox"
	@echo "  .venv/bin/newsletter send"

## reset: the demo back to a fresh clone's state: its database, composed issues and the
## capture server's mbox removed (newsletter.toml is kept). Keep a real list elsewhere.
reset:
	rm -rf newsletter.db newsletter.db-* newsletter.db.* issues smtp-sink.mbox

# axe-core, which the browser tests inject into each page, and vnu.jar, the Nu Html
# Checker the validator tests run with Java (without them those tests are skipped).
# One npm command installs both: `npm install --no-save` removes what it was not named.
$(NPM_TOOLS):
	@if command -v npm >/dev/null; then npm install --prefix .cache/npm --no-save --no-audit \
	  --no-fund --loglevel=error axe-core@4.14.1 vnu-jar@26.9.27 && touch $@; else echo "npm \
	  not found: the browser accessibility and HTML validator tests will be skipped \
	  (apt-get install npm default-jre-headless)"; fi

## test: set up, lint, type-check and run the whole test suite
test: $(STAMP) $(NPM_TOOLS) lint
	$(BIN)/python -m pytest -n auto --dist loadfile  # a process a core, each test file whole in one

lint: $(STAMP)
	$(BIN)/ruff check newsletter tests bench scripts
	$(BIN)/ruff format --check newsletter tests bench scripts
	$(BIN)/mypy

## bench: the benchmarks at full size (each prints its numbers)
bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
