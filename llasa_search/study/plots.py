"""Scaling curves and the verifier over-optimisation plot (matplotlib, Agg backend; PNG and PDF).

Scaling: metric against compute on a log2 axis, one line per (model, strategy), 95% bootstrap CIs over utterances
drawn as error bars (strategies nudged apart sideways so bars do not hide each other; a strategy with one budget
still shows its interval). x: "candidates" is the nominal budget in candidates (best-of-n pools: n); the token,
wall-time and FLOPs axes are measured per utterance (mean over utterances), and their labels say so.
Over-optimisation (strategies that search only): for a strategy searched with verifier A, A's score of the chosen
output and a held-out evaluation verifier B of the same kind (e.g. SIM by another speaker model), both against the
nominal budget, and B against A: when search keeps raising A while B flattens or falls, the search is fitting A's
preferences rather than the quality A stands for.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .names import verifier_kind
from .stats import bootstrap_mean, bootstrap_ratio
from .tables import MetricSpec

X_AXES = {"candidates": "budget: candidates per utterance (nominal)",
          "generated_tokens": "measured: generated speech tokens per utterance (mean)",
          "forwarded_tokens": "measured: LM-forwarded tokens per utterance (mean)",
          "wall_s": "measured: search wall time per utterance (s, mean)",
          "flops": "measured: FLOPs per utterance (LM + codec + search verifiers, mean)"}
NOMINAL = "candidates"     # plotted at the nominal budget, not the ledger's count
DODGE = 0.035              # sideways nudge between strategies, in log2 units of x


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
    """Per budget: x (the nominal budget for x="candidates", else the mean measured x), metric mean and CI
    (per-utterance averages over seeds first)."""
    xcol = "budget" if x == NOMINAL else x
    cols = list(dict.fromkeys([spec.column, xcol] + ([f"m:{spec.verifier}:ref_len"] if spec.how == "corpus" else [])))
    pts = []
    for b, g in sub.groupby("budget"):
        pu = g.groupby("utt_id")[cols].mean()
        if spec.how == "corpus":   # utterances without a count (dropped failures) left out, as tables.py does
            err, ref = pu[spec.column].to_numpy(dtype=float), pu[f"m:{spec.verifier}:ref_len"].to_numpy(dtype=float)
            ok = ~(np.isnan(err) | np.isnan(ref))
            m, lo, hi = bootstrap_ratio(err[ok], ref[ok], n_boot)
        else:
            v = pu[spec.column].to_numpy(dtype=float)
            m, lo, hi = bootstrap_mean(v[np.isfinite(v)], n_boot)
        pts.append({"budget": b, "x": float(pu[xcol].mean()), "mean": m * spec.scale, "lo": lo * spec.scale,
                    "hi": hi * spec.scale, "n_utts": len(pu)})
    return pd.DataFrame(pts).sort_values("x") if pts else pd.DataFrame(columns=["budget", "x", "mean", "lo", "hi"])


def _errorbar(ax, pts: pd.DataFrame, label: str, shift: float = 0.0):
    """Means joined by a line, 95% CIs as capped error bars; x nudged by 2**shift (log axes)."""
    x = pts["x"].to_numpy(dtype=float) * 2.0 ** shift
    m = pts["mean"].to_numpy(dtype=float)
    err = np.vstack([np.clip(m - pts["lo"].to_numpy(dtype=float), 0, None),
                     np.clip(pts["hi"].to_numpy(dtype=float) - m, 0, None)])
    err = np.where(np.isfinite(err), err, 0.0)
    return ax.errorbar(x, m, yerr=err, marker="o", markersize=4, capsize=3, linewidth=1.4, elinewidth=1,
                       label=label)


def _plain_ticks(ax) -> None:
    """Plain tick labels: no offset text (it overlapped the axis label) and budgets as numbers, not 2^k."""
    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    for axis in (ax.xaxis, ax.yaxis):
        fmt = ScalarFormatter(useOffset=False)
        fmt.set_scientific(False)
        axis.set_major_formatter(fmt)
    if ax.get_xscale() == "log":
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def scaling_plot(df: pd.DataFrame, dataset: str, spec: MetricSpec, x: str, base: Path, formats=("png", "pdf"),
                 n_boot: int = 2000) -> list[Path]:
    if x not in X_AXES:
        raise ConfigError(f"x axis {x!r} unknown; choose one of {list(X_AXES)}")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.2, 4.0), layout="constrained")
    sub = df[df["dataset"] == dataset]
    groups = list(sub.groupby(["model", "strategy"], sort=False))
    drawn = 0
    for k, ((model, strategy), g) in enumerate(groups):
        pts = curve_points(g, spec, x, n_boot)
        pts = pts[np.isfinite(pts["x"]) & (pts["x"] > 0) & np.isfinite(pts["mean"])]
        if pts.empty:
            continue
        label = f"{model} / {strategy}" if sub["model"].nunique() > 1 else strategy
        _errorbar(ax, pts, label, DODGE * (k - (len(groups) - 1) / 2))
        drawn += 1
    ax.set_xscale("log", base=2)
    _plain_ticks(ax)
    ax.set_xlabel(X_AXES[x] + ", log scale")
    ax.set_ylabel(f"{spec.label}{' (%)' if spec.scale == 100 else ''} {'↑' if spec.higher_is_better else '↓'}")
    ax.set_title(f"{dataset}: {spec.label}, mean and 95% CI over utterances", fontsize=10)
    ax.grid(True, alpha=0.3)
    if drawn:   # outside the axes: a legend inside hid error bars
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    paths = _save(fig, base, formats)
    plt.close(fig)
    return paths


def overopt_pairs(df: pd.DataFrame, dataset: str) -> list[tuple[str, str, str, str]]:
    """(strategy, search verifier, held-out eval verifier, eval column) pairs of the same kind, for strategies
    that search (sampling only measures its one sample: nothing to over-optimise)."""
    sub = df[df["dataset"] == dataset]
    evals = list(dict.fromkeys(c.split(":")[1] for c in sub.columns if c.startswith("m:") and sub[c].notna().any()))
    out = []
    for strategy, g in sub.groupby("strategy", sort=False):
        if "strategy_kind" in g and (g["strategy_kind"] == "sampling").all():
            continue
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
    fig = overopt_figure(df, dataset, strategy, sv, ev, col, n_boot)
    paths = _save(fig, base, formats)
    _plt().close(fig)
    return paths


def overopt_figure(df: pd.DataFrame, dataset: str, strategy: str, sv: str, ev: str, col: str, n_boot: int = 2000):
    plt = _plt()
    from matplotlib.ticker import MaxNLocator
    sub = df[(df["dataset"] == dataset) & (df["strategy"] == strategy)]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), layout="constrained")
    metric = col.split(":", 2)[2]
    models = list(dict.fromkeys(sub["model"]))
    for k, (model, g) in enumerate(sub.groupby("model", sort=False)):
        a = curve_points(g, MetricSpec(sv, sv, f"s:{sv}"), NOMINAL, n_boot)
        b = curve_points(g, MetricSpec(ev, ev, col), NOMINAL, n_boot)
        shift = DODGE * (k - (len(models) - 1) / 2)
        for ax, pts in ((axes[0], a), (axes[1], b)):
            _errorbar(ax, pts, model, shift)
        m = a.merge(b, on="budget", suffixes=("_s", "_e"))
        axes[2].plot(m["mean_s"], m["mean_e"], marker="o", label=model)
        for r in m.itertuples():
            axes[2].annotate(f"{r.budget:g}", (r.mean_s, r.mean_e), fontsize=8, xytext=(4, 4),
                             textcoords="offset points")
    for ax, name in ((axes[0], f"search: {sv} score"), (axes[1], f"held-out: {ev} {metric}")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("budget (candidates, nominal)")
        ax.set_ylabel(name)
        ax.set_title("mean and 95% CI over utterances", fontsize=9)
    axes[2].set_xlabel(f"search: {sv} score")
    axes[2].set_ylabel(f"held-out: {ev} {metric}")
    axes[2].set_title("means; point labels: budget", fontsize=9)
    for ax in axes:
        _plain_ticks(ax)
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.grid(True, alpha=0.3)
    axes[2].xaxis.set_major_locator(MaxNLocator(4))
    axes[2].margins(0.12)          # room for the budget labels at the ends
    if len(models) > 1:
        axes[2].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.suptitle(f"{dataset} / {strategy}: does the held-out verifier agree with the search verifier?", fontsize=11)
    return fig
