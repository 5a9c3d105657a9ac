"""Where the notebooks find results and put figures, whatever folder Jupyter started in.

    LLASA_RESULTS   results folder of `llasa-search sweep`; default demo-out/sweep (what `make demo` writes)
    LLASA_FIGURES   where figures go; default <results>/notebook-figures (next to the results they show)

A relative path is taken from the repository root (the folder holding pyproject.toml above the current folder),
so the README's `LLASA_RESULTS=demo-out/sweep` works from notebooks/ as from the root; an absolute path is used as is.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import MissingFileError

DEFAULT_RESULTS = "demo-out/sweep"


def repo_root(start: str | os.PathLike | None = None) -> Path:
    """The nearest folder at or above `start` (default: the current folder) with this project's pyproject.toml;
    `start` itself when there is none (an installed package used from elsewhere)."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "llasa_search").is_dir():
            return folder
    return here


def resolve(path: str | os.PathLike, start: str | os.PathLike | None = None) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else repo_root(start) / p


def results_folder(start: str | os.PathLike | None = None) -> Path:
    given = os.environ.get("LLASA_RESULTS") or DEFAULT_RESULTS
    folder = resolve(given, start)
    if not folder.is_dir():
        raise MissingFileError(f"results folder {folder} does not exist (LLASA_RESULTS={given!r}, relative paths are "
                               f"taken from {repo_root(start)}): run `make demo` first, or set LLASA_RESULTS to a "
                               f"folder written by `llasa-search sweep`")
    return folder


def figures_folder(results: Path, start: str | os.PathLike | None = None) -> Path:
    given = os.environ.get("LLASA_FIGURES")
    folder = resolve(given, start) if given else results / "notebook-figures"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


__all__ = ["DEFAULT_RESULTS", "repo_root", "resolve", "results_folder", "figures_folder"]
