# reportgen — `make demo` and `make test` set everything up on a fresh Debian machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
OUT    ?= out
# The demo data is seeded and fixed in time, so the demo reports are the same on every machine.
DEMO_MONTH   ?= 2026-09
DEMO_QUARTER ?= 2026-Q3
PYTEST_ARGS ?=
# The demo MQR's PDF engine: weasyprint, or chromium (the system's headless Chromium)
PDF_ENGINE   ?= weasyprint

.PHONY: demo test system-runtime system-test env lint clean

system-runtime:
	@scripts/bootstrap-system.sh runtime

system-test:
	@scripts/bootstrap-system.sh test

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e ".[dev]"
	@rm -f $(VENV)/.installed-* && touch $@

env: $(STAMP)
	@# byte-compile the package as a wheel install would, so each command starts from .pyc
	@$(PY) -m compileall -q reportgen > /dev/null

## demo: build the environment, generate demo data, render the demo reports into out/
demo: system-runtime env
	@$(PY) -m reportgen.cli demo --out $(OUT)/demo --end-month $(DEMO_MONTH) > /dev/null
	@echo "Demo data:    $(OUT)/demo/ (13 months to $(DEMO_MONTH))"
	@echo "Demo reports:"
	@REPORTGEN_PDF_ENGINE=$(PDF_ENGINE) $(PY) -m reportgen.cli run configs/monthly_quality_report.yaml --period $(DEMO_MONTH) --out $(OUT)
	@$(PY) -m reportgen.cli run configs/qbr.yaml --period $(DEMO_QUARTER) --out $(OUT)
	@$(PY) -m reportgen.cli run configs/mqr_by_queue.yaml --period $(DEMO_MONTH) --out $(OUT)/by-queue

## test: build the environment and run the whole suite (exit code 5, no tests, is not a failure)
test: system-test env
	@$(PY) -m pytest -q -n 2 $(PYTEST_ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$status

## lint: ruff, the pipeline's import layers (import-linter, see docs/architecture.md), no import cycle, mypy (strict on plan/, data/, text/)
lint: env
	@$(VENV)/bin/ruff check reportgen tests benchmarks
	@$(VENV)/bin/lint-imports
	@$(PY) scripts/check_import_cycles.py
	@$(VENV)/bin/mypy

clean:
	rm -rf $(OUT) .pytest_cache
