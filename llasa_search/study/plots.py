"""Scaling curves and the verifier over-optimisation plot (matplotlib, Agg backend; PNG and PDF).

Scaling: metric against compute on a log2 axis, one line per (model, strategy), shaded 95% bootstrap CI over utterances.
x: "candidates", "generated_tokens", "forwarded_tokens" or "wall_s" (per utterance, averaged over utterances).
Over-optimisation: for a strategy searched with verifier A, A's score of the chosen output and a held-out evaluation
verifier B of the same kind (e.g. SIM by another speaker model), both against budget, and B against A: when search
keeps raising A while B flattens or falls, the search is fitting A's preferences rather than the quality A stands for.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .names import verifier_kind
from .stats import bootstrap_mean, bootstrap_ratio
from .tables import MetricSpec

X_AXES = {"candidates": "candidates per utterance", "generated_tokens": "generated speech tokens per utterance",
          "forwarded_tokens": "LM-forwarded tokens per utterance", "wall_s": "wall time per utterance (s)"}


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, base: Path, formats) -> list[Path]:
    base.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        p = base.with_suffix(f".{fmt}")
        fig.savefig(p, bbox_inches="tight", dpi=150)
        paths.append(p)
    return paths


def curve_points(sub: pd.DataFrame, spec: MetricSpec, x: str, n_boot: int = 2000) -> pd.DataFrame:
    """Per budget: mean x, metric mean and CI (per-utterance averages over seeds first)."""
    cols = [spec.column, x] + ([f"m:{spec.verifier}:ref_len"] if spec.how == "corpus" else [])
    pts = []
    for b, g in sub.groupby("budget"):
        pu = g.groupby("utt_id")[cols].mean()
        if spec.how == "corpus":
            m, lo, hi = bootstrap_ratio(pu[spec.column].to_numpy(), pu[f"m:{spec.verifier}:ref_len"].to_numpy(),
                                        n_boot)
        else:
            v = pu[spec.column].to_numpy(dtype=float)
            m, lo, hi = bootstrap_mean(v[np.isfinite(v)], n_boot)
        pts.append({"budget": b, "x": float(pu[x].mean()), "mean": m * spec.scale, "lo": lo * spec.scale,
                    "hi": hi * spec.scale, "n_utts": len(pu)})
    return pd.DataFrame(pts).sort_values("x") if pts else pd.DataFrame(columns=["budget", "x", "mean", "lo", "hi"])


def scaling_plot(df: pd.DataFrame, dataset: str, spec: MetricSpec, x: str, base: Path, formats=("png", "pdf"),
                 n_boot: int = 2000) -> list[Path]:
    if x not in X_AXES:
        raise ValueError(f"x axis {x!r} unknown; choose one of {list(X_AXES)}")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    sub = df[df["dataset"] == dataset]
    drawn = 0
    for (model, strategy), g in sub.groupby(["model", "strategy"], sort=False):
        pts = curve_points(g, spec, x, n_boot)
        pts = pts[np.isfinite(pts["x"]) & (pts["x"] > 0) & np.isfinite(pts["mean"])]
        if pts.empty:
            continue
        label = f"{model} / {strategy}" if sub["model"].nunique() > 1 else strategy
        (line,) = ax.plot(pts["x"], pts["mean"], marker="o", label=label)
        ax.fill_between(pts["x"], pts["lo"], pts["hi"], color=line.get_color(), alpha=0.2, linewidth=0)
        drawn += 1
    ax.set_xscale("log", base=2)
    ax.set_xlabel(X_AXES[x] + " (log2)")
    ax.set_ylabel(f"{spec.label}{' (%)' if spec.scale == 100 else ''} {'↑' if spec.higher_is_better else '↓'}")
    ax.set_title(f"{dataset}: {spec.label}")
    ax.grid(True, alpha=0.3)
    if drawn:
        ax.legend(fontsize=8)
    paths = _save(fig, base, formats)
    plt.close(fig)
    return paths


def overopt_pairs(df: pd.DataFrame, dataset: str) -> list[tuple[str, str, str, str]]:
    """(strategy, search verifier, held-out eval verifier, eval column) pairs of the same kind."""
    sub = df[df["dataset"] == dataset]
    evals = list(dict.fromkeys(c.split(":")[1] for c in sub.columns if c.startswith("m:") and sub[c].notna().any()))
    out = []
    for strategy, g in sub.groupby("strategy", sort=False):
        searched = [v for v in str(g["search_verifiers"].iloc[0]).split(",") if v]
        for sv in searched:
            if f"s:{sv}" not in g or g[f"s:{sv}"].isna().all():
                continue
            for ev in evals:
                if ev in searched or verifier_kind(ev) != verifier_kind(sv):
                    continue
                col = next((f"m:{ev}:{k}" for k in ("sim", "emotion_sim", "wer", "score") if f"m:{ev}:{k}" in g
                            and g[f"m:{ev}:{k}"].notna().any()), None)
                if col:
                    out.append((strategy, sv, ev, col))
    return out


def overopt_plot(df: pd.DataFrame, dataset: str, strategy: str, sv: str, ev: str, col: str, base: Path,
                 formats=("png", "pdf"), n_boot: int = 2000) -> list[Path]:
    plt = _plt()
    sub = df[(df["dataset"] == dataset) & (df["strategy"] == strategy)]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for model, g in sub.groupby("model", sort=False):
        a = curve_points(g, MetricSpec(sv, sv, f"s:{sv}"), "candidates", n_boot)
        b = curve_points(g, MetricSpec(ev, ev, col), "candidates", n_boot)
        for ax, pts, name in ((axes[0], a, f"search: {sv}"), (axes[1], b, f"held-out: {ev}")):
            (line,) = ax.plot(pts["x"], pts["mean"], marker="o", label=model)
            ax.fill_between(pts["x"], pts["lo"], pts["hi"], color=line.get_color(), alpha=0.2, linewidth=0)
            ax.set_xscale("log", base=2)
            ax.set_xlabel("candidates per utterance (log2)")
            ax.set_ylabel(name)
            ax.grid(True, alpha=0.3)
        m = a.merge(b, on="budget", suffixes=("_s", "_e"))
        axes[2].plot(m["mean_s"], m["mean_e"], marker="o", label=model)
        for r in m.itertuples():
            axes[2].annotate(str(r.budget), (r.mean_s, r.mean_e), fontsize=7, xytext=(3, 3), textcoords="offset points")
    axes[2].set_xlabel(f"search verifier {sv}")
    axes[2].set_ylabel(f"held-out {col.split(':', 1)[1]}")
    axes[2].set_title("labels: budget")
    axes[2].grid(True, alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{dataset} / {strategy}: search verifier vs held-out evaluation verifier")
    paths = _save(fig, base, formats)
    plt.close(fig)
    return paths
