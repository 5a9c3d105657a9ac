# Fresh machine: `make demo` (the offline study demo on the tiny models: sweep + report), `make notebooks` (the
# notebooks run on the demo results) and `make test` (the test suite).
# Each creates .venv and installs what they need on first use (CPU torch, the package with its offline extras,
# espeak-ng and sox from apt when missing).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-v1

.PHONY: install test demo notebooks bench clean

$(STAMP): pyproject.toml scripts/install.sh
	bash scripts/install.sh $(PY) $(VENV)
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	bash scripts/run_tests.sh $(BIN)/python

demo: $(STAMP)
	$(BIN)/llasa-search sweep experiments/configs/demo.yaml --out demo-out/sweep
	$(BIN)/llasa-search report demo-out/sweep --out demo-out/report

# Runs the three notebooks on the demo results (demo-out/sweep) and saves executed copies in demo-out/notebooks;
# figures land in demo-out/sweep/notebook-figures. Interactive: `pip install jupyterlab && jupyter lab notebooks/`.
notebooks: demo
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 MPLBACKEND=Agg $(BIN)/python notebooks/run_notebooks.py --out demo-out/notebooks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_generation.py

clean:
	rm -rf $(VENV) demo-out
