"""The notebooks run top to bottom (nbclient, the venv's python3 kernel, as `make notebooks` runs them) on demo
results made by the sweep test's fixture, are stored without outputs, and match notebooks/build_notebooks.py.
LLASA_RESULTS is given relative to the repository root (as the README writes it) while the kernel runs in notebooks/,
and figures land next to the results."""
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
def notebook_results(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    _, results = run_demo_sweep(base)          # reuses the sweep test's results when they ran in this session
    copy = base / "nb-results"                 # the notebooks add figures: keep the shared results unchanged
    if not copy.exists():
        shutil.copytree(results, copy)
    return copy


@pytest.fixture(scope="module")
def notebook_env(notebook_results):
    base = notebook_results.parent
    env = {"LLASA_RESULTS": os.path.relpath(notebook_results, REPO),   # relative to the repository root
           "LLASA_N_BOOT": "200", "LLASA_SEARCH_CACHE": str(base / "nb-cache"), "LLASA_MAX_NEW_TOKENS": "75",
           "LLASA_N": "3", "MPLBACKEND": "Agg", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return env


def _run_notebooks():
    sys.path.insert(0, str(NB_DIR))
    try:
        import run_notebooks
    finally:
        sys.path.remove(str(NB_DIR))
    return run_notebooks


def test_default_results_folder_is_where_make_demo_writes():
    from llasa_search.study.notebook_paths import DEFAULT_RESULTS

    assert f"--out {DEFAULT_RESULTS}" in (REPO / "Makefile").read_text()
    assert "notebooks:" in (REPO / "Makefile").read_text()


def test_relative_results_paths_resolve_from_the_repo_root(monkeypatch, tmp_path):
    from llasa_search.errors import MissingFileError
    from llasa_search.study.notebook_paths import resolve, results_folder

    assert resolve("demo-out/sweep", start=NB_DIR) == REPO / "demo-out" / "sweep"
    assert resolve(tmp_path, start=NB_DIR) == tmp_path
    monkeypatch.setenv("LLASA_RESULTS", "no/such/results")
    with pytest.raises(MissingFileError, match="make demo"):
        results_folder(start=NB_DIR)


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
def test_notebook_runs(name, notebook_env, notebook_results, monkeypatch, tmp_path):
    for k, v in notebook_env.items():
        monkeypatch.setenv(k, v)   # the kernel inherits this process's environment
    nb = _run_notebooks().run(name, tmp_path, timeout=180)
    assert (tmp_path / name).is_file()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    if name == "quickstart.ipynb":
        assert any("audio/wav" in str(o.get("data", {}).get("text/html", "")) or "<audio" in
                   str(o.get("data", {}).get("text/html", "")) for o in outputs)
    else:
        assert any("image/png" in o.get("data", {}) for o in outputs)
        assert list((notebook_results / "notebook-figures").rglob("*.png")), "figures are saved next to the results"
