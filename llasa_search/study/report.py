"""make_report(results_dir, out_dir): tables (Markdown, CSV, LaTeX), plots (PNG, PDF) and the HTML listening report
(index.html, utt/<dataset>/<utterance>.html, worst.html; see html/site.py) from a results folder.

Files: table.md / table.csv / table_long.csv / table.tex; scaling/<dataset>__<metric>__<x>.{png,pdf} for every metric
and x axis; overopt/<dataset>__<strategy>__<search verifier>__vs__<eval verifier>.{png,pdf}; data.csv (the tidy
per-utterance table everything is computed from); README.md listing them, the store's health and the settings.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path

from ..errors import ConfigError, ResultsError
from .aggregate import records_frame
from .atomic import atomic_write_text
from .failures import DEFAULT_POLICY, POLICY_TEXT
from .plots import X_AXES, overopt_pairs, overopt_plot, scaling_plot
from .store import ResultStore, StoreCorruptionWarning
from .tables import compute_table, metric_specs, to_markdown, write_tables


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9.=-]+", "_", s).strip("_")


def make_report(results_dir, out_dir, x_axes=("candidates", "generated_tokens", "wall_s"), ties: str = "random",
                n_boot: int = 2000, formats=("png", "pdf"), failure_policy: str = DEFAULT_POLICY, html: bool = True,
                audio: str = "copy") -> dict:
    bad = [x for x in x_axes if x not in X_AXES]
    if bad:
        raise ConfigError(f"unknown x axis {bad}; choose from {list(X_AXES)}")
    results_dir, out = Path(results_dir), Path(out_dir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StoreCorruptionWarning)
        store = ResultStore(results_dir)
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=2)
    records = store.records()
    if not records:
        raise ResultsError(f"{results_dir} holds no valid records: run a sweep into it first "
                         f"(store check: {store.report.summary()})")
    df = records_frame(records, ties, failure_policy)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "data.csv", df.to_csv(index=False))
    long = compute_table(df, n_boot=n_boot)
    paths = {"tables": write_tables(long, out), "scaling": [], "overopt": []}
    for ds in dict.fromkeys(df["dataset"]):
        for spec in metric_specs(df, ds):
            for x in x_axes:
                base = out / "scaling" / f"{_slug(ds)}__{_slug(spec.label)}__{x}"
                paths["scaling"] += scaling_plot(df, ds, spec, x, base, formats, n_boot)
        for strategy, sv, ev, col in overopt_pairs(df, ds):
            base = out / "overopt" / f"{_slug(ds)}__{_slug(strategy)}__{_slug(sv)}__vs__{_slug(ev)}"
            paths["overopt"] += overopt_plot(df, ds, strategy, sv, ev, col, base, formats, n_boot)
    lines = [f"# Report for {results_dir}", "", f"Store: {store.report.summary()}", "",
             f"Best-of-n pools: exact expected best-of-n over all subsets (ties: {ties}).", "",
             f"Failed metrics (failure policy `{failure_policy}`): {POLICY_TEXT[failure_policy]}", "", "## Table", "",
             to_markdown(long), "## Figures", ""]
    lines += [f"- {p.relative_to(out)}" for p in paths["scaling"] + paths["overopt"] if p.suffix == ".png"]
    if not paths["overopt"]:
        lines.append("- (no over-optimisation plot: no evaluation verifier of the same kind as a search verifier "
                     "is held out from the search)")
    if html:
        from .html import write_site

        summary = [f"Results: {results_dir}", f"Store: {store.report.summary()}",
                   f"Failed metrics (failure policy {failure_policy}): {POLICY_TEXT[failure_policy]}",
                   f"Audio: {'copied into audio/' if audio == 'copy' else 'linked from the results folder'}."]
        figures = [p for p in paths["scaling"] + paths["overopt"] if p.suffix == ".png"]
        paths["html"] = write_site(results_dir, out, records, long, figures, summary, audio)
        lines[2:2] = ["Open index.html for the listening report (tables, figures, every utterance's audio).", ""]
    atomic_write_text(out / "README.md", "\n".join(lines) + "\n")
    paths["readme"] = out / "README.md"
    paths["data"] = out / "data.csv"
    paths["long"] = long
    return paths
