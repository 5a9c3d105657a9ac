# Fresh machine: `make demo` (the offline study demo on the tiny models: sweep + report) and `make test` (the test suite).
# Both create .venv and install what they need on first use (CPU torch, the package with its offline extras,
# espeak-ng and sox from apt when missing).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-v1

.PHONY: install test demo bench clean

$(STAMP): pyproject.toml scripts/install.sh
	bash scripts/install.sh $(PY) $(VENV)
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	bash scripts/run_tests.sh $(BIN)/python

demo: $(STAMP)
	$(BIN)/llasa-search sweep experiments/configs/demo.yaml --out demo-out/sweep
	$(BIN)/llasa-search report demo-out/sweep --out demo-out/report

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_generation.py

clean:
	rm -rf $(VENV) demo-out
