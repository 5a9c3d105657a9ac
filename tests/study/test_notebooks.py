"""The notebooks run top to bottom (nbclient, the venv's python3 kernel) on demo results made by the sweep test's
fixture, are stored without outputs, and match notebooks/build_notebooks.py."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from .test_search_executor import run_demo_sweep

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[2]
NB_DIR = REPO / "notebooks"
NOTEBOOKS = ["quickstart.ipynb", "scaling_study.ipynb", "verifier_analysis.ipynb"]
pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed (demo prompts)")


@pytest.fixture(scope="module")
def notebook_env(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    _, results = run_demo_sweep(base)          # reuses the sweep test's results when they ran in this session
    env = {"LLASA_RESULTS": str(results), "LLASA_N_BOOT": "200", "LLASA_SEARCH_CACHE": str(base / "nb-cache"),
           "LLASA_FIGURES": str(base / "nb-figures"), "LLASA_MAX_NEW_TOKENS": "75", "LLASA_N": "3",
           "MPLBACKEND": "Agg", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return env


def test_notebooks_stored_without_outputs_and_built_from_the_script():
    sys.path.insert(0, str(NB_DIR))
    try:
        import build_notebooks
    finally:
        sys.path.remove(str(NB_DIR))
    for name in NOTEBOOKS:
        nb = nbformat.read(NB_DIR / name, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{name} is stored with outputs"
        assert nbformat.writes(nb) == nbformat.writes(build_notebooks.build(name)), \
            f"{name} differs from notebooks/build_notebooks.py: edit the script and rerun it"


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, notebook_env, monkeypatch):
    for k, v in notebook_env.items():
        monkeypatch.setenv(k, v)   # the kernel inherits this process's environment
    nb = nbformat.read(NB_DIR / name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(NB_DIR)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    if name == "quickstart.ipynb":
        assert any("audio/wav" in str(o.get("data", {}).get("text/html", "")) or "<audio" in
                   str(o.get("data", {}).get("text/html", "")) for o in outputs)
    else:
        assert any("image/png" in o.get("data", {}) for o in outputs)
