"""Runs the notebooks top to bottom (nbclient, the python3 kernel of this environment) and saves executed copies.

    python notebooks/run_notebooks.py [--out demo-out/notebooks] [NAME.ipynb ...]     # `make notebooks` runs this

They read LLASA_RESULTS (default demo-out/sweep, what `make demo` writes) and save figures next to the results
(llasa_search/study/notebook_paths.py). To work in them interactively instead: `jupyter lab notebooks/` with
JupyterLab installed (`pip install jupyterlab`).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbclient
import nbformat

HERE = Path(__file__).resolve().parent
NOTEBOOKS = ("quickstart.ipynb", "scaling_study.ipynb", "verifier_analysis.ipynb")


def run(name: str, out_dir: Path | None = None, timeout: int = 600) -> nbformat.NotebookNode:
    """Execute notebooks/<name> in notebooks/ (as Jupyter would); save the executed copy to out_dir if given.
    Raises nbclient's CellExecutionError naming the failing cell."""
    nb = nbformat.read(HERE / name, as_version=4)
    nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(HERE)}}).execute()
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(out_dir / name))
    return nb


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", default=list(NOTEBOOKS))
    p.add_argument("--out", default="demo-out/notebooks", help="folder for the executed copies")
    args = p.parse_args(argv)
    for name in args.names:
        run(name, Path(args.out))
        print(f"ran {name} -> {Path(args.out) / name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
