"""Tables in the paper's layout: rows model x strategy x budget; per test set, WER/CER (mean of per-utterance WER, the
benchmark's figure, and corpus WER) and SIM; emotion similarity for emotion sets. 95% bootstrap CIs over utterances.
WER/CER are in percent; SIM and emotion similarity as they come (cosines).

Failed metrics follow the report's failure policy (failures.py); every number carries n_utts (utterances averaged)
and failed (outputs whose metric failed, counted over utterances x seeds; expected counts for best-of-n pool rows).

Outputs: table_long.csv (one number per row: model, strategy, budget, dataset, metric, mean, lo, hi, n_utts, failed),
table.csv (wide: "<dataset> <metric>" plus " lo"/" hi" columns), table.md, table.tex.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .aggregate import per_utterance
from .names import KINDS, verifier_kind
from .stats import bootstrap_mean, bootstrap_ratio

ROW_KEYS = ["model", "strategy", "budget_unit", "budget"]


@dataclass(frozen=True)
class MetricSpec:
    label: str               # column label, e.g. "WER", "CER corpus", "SIM", "SIM (sim_ecapa)"
    verifier: str
    column: str              # m:<verifier>:<metric>
    how: str = "mean"        # "mean" of per-utterance values, or "corpus" (sum errors / sum ref words)
    scale: float = 1.0
    higher_is_better: bool = True


def metric_specs(df: pd.DataFrame, dataset: str) -> list[MetricSpec]:
    """The metrics a dataset's rows carry, in table order: ASR, SIM, emotion, others."""
    sub = df[df["dataset"] == dataset]
    have = [c for c in sub.columns if c.startswith("m:") and sub[c].notna().any()]
    verifiers = list(dict.fromkeys(c.split(":")[1] for c in have))
    lang = str(sub["language"].iloc[0]) if len(sub) else "en"
    word = "CER" if lang.lower().startswith("zh") else "WER"
    by_kind: dict[str, list[str]] = {}
    for v in verifiers:
        by_kind.setdefault(verifier_kind(v), []).append(v)
    specs: list[MetricSpec] = []
    for kind in KINDS:
        vs = by_kind.get(kind, [])
        for v in vs:
            tag = f" ({v})" if len(vs) > 1 else ""
            if kind == "content" and f"m:{v}:wer" in have:
                specs.append(MetricSpec(f"{word}{tag}", v, f"m:{v}:wer", "mean", 100.0, False))
                if f"m:{v}:errors" in have and f"m:{v}:ref_len" in have:
                    specs.append(MetricSpec(f"{word} corpus{tag}", v, f"m:{v}:errors", "corpus", 100.0, False))
            elif kind == "speaker":   # similarities always name their model: two speaker models disagree
                col = f"m:{v}:sim" if f"m:{v}:sim" in have else f"m:{v}:score"
                specs.append(MetricSpec(f"SIM ({v})", v, col))
            elif kind == "emotion":
                col = next((f"m:{v}:{k}" for k in ("emotion_sim", "sim", "score") if f"m:{v}:{k}" in have), None)
                if col:
                    specs.append(MetricSpec(f"EmoSIM ({v})", v, col))
            elif f"m:{v}:score" in have:
                specs.append(MetricSpec(v, v, f"m:{v}:score"))
    return specs


def compute_table(df: pd.DataFrame, n_boot: int = 2000, ci: float = 0.95, seed: int = 0) -> pd.DataFrame:
    rows = []
    datasets = list(dict.fromkeys(df["dataset"]))
    for ds in datasets:
        specs = metric_specs(df, ds)
        cols = sorted({s.column for s in specs} | {f"m:{s.verifier}:ref_len" for s in specs if s.how == "corpus"})
        sub = df[df["dataset"] == ds]
        fcols = [c for c in dict.fromkeys(f"f:{s.verifier}" for s in specs) if c in sub]
        failed = sub.groupby(ROW_KEYS, sort=False)[fcols].sum() if fcols else None
        outputs = sub.groupby(ROW_KEYS, sort=False).size()
        pu = per_utterance(sub, cols)
        for key, g in pu.groupby(ROW_KEYS, sort=False):
            for s in specs:
                vals = g[s.column].to_numpy(dtype=float)
                if s.how == "corpus":
                    ref = g[f"m:{s.verifier}:ref_len"].to_numpy(dtype=float)
                    ok = ~(np.isnan(vals) | np.isnan(ref))
                    m, lo, hi = bootstrap_ratio(vals[ok], ref[ok], n_boot, ci, seed)
                else:
                    ok = np.isfinite(vals)
                    m, lo, hi = bootstrap_mean(vals[ok], n_boot, ci, seed)
                n_failed = float(failed.loc[key, f"f:{s.verifier}"]) if failed is not None and \
                    f"f:{s.verifier}" in failed else 0.0
                rows.append(dict(zip(ROW_KEYS, key), dataset=ds, metric=s.label, verifier=s.verifier, how=s.how,
                                 mean=float(m) * s.scale, lo=float(lo) * s.scale, hi=float(hi) * s.scale,
                                 n_utts=int(ok.sum()), failed=round(n_failed, 3), outputs=int(outputs.loc[key]),
                                 higher_is_better=s.higher_is_better))
    return pd.DataFrame(rows)


def _row_order(long: pd.DataFrame) -> list[tuple]:
    keys = list(dict.fromkeys(map(tuple, long[ROW_KEYS].itertuples(index=False, name=None))))
    models = list(dict.fromkeys(k[0] for k in keys))
    strategies = list(dict.fromkeys(k[1] for k in keys))
    return sorted(keys, key=lambda k: (models.index(k[0]), strategies.index(k[1]), k[2], k[3]))


def _columns(long: pd.DataFrame) -> list[tuple[str, str]]:
    return list(dict.fromkeys(zip(long["dataset"], long["metric"])))


def wide_table(long: pd.DataFrame) -> pd.DataFrame:
    idx = {(r.model, r.strategy, r.budget_unit, r.budget, r.dataset, r.metric): r for r in long.itertuples()}
    out = []
    for key in _row_order(long):
        row = dict(zip(ROW_KEYS, key))
        for ds, met in _columns(long):
            r = idx.get((*key, ds, met))
            row[f"{ds} {met}"] = r.mean if r is not None else np.nan
            row[f"{ds} {met} lo"] = r.lo if r is not None else np.nan
            row[f"{ds} {met} hi"] = r.hi if r is not None else np.nan
            row[f"{ds} {met} n"] = r.n_utts if r is not None else 0
            row[f"{ds} {met} failed"] = getattr(r, "failed", 0.0) if r is not None else 0.0
        out.append(row)
    return pd.DataFrame(out)


def _fmt(m, lo, hi, digits) -> str:
    """Every cell the same way: "mean [lo, hi]" (a single utterance's interval is [mean, mean])."""
    if m is None or not np.isfinite(m):
        return "-"
    if np.isfinite(lo) and np.isfinite(hi):
        return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"
    return f"{m:.{digits}f}"


def budget_label(value, unit: str) -> str:
    """"1 candidate", "4 candidates", "600 generated tokens"."""
    name = str(unit).replace("_", " ")
    if float(value) == 1 and name.endswith("s"):
        name = name[:-1]
    return f"{value:g} {name}" if isinstance(value, float) else f"{value} {name}"


def _num_text(x: float) -> str:
    return f"{x:g}" if float(x).is_integer() else f"{x:.2f}"


def failures_text(long: pd.DataFrame) -> dict[tuple, str]:
    """Row key -> "demo pocketsphinx: 1 of 3" for each (dataset, verifier) with failures, "0" when none."""
    out: dict[tuple, str] = {}
    if "failed" not in long:
        return out
    for key, g in long.groupby(ROW_KEYS, sort=False):
        parts = []
        for (ds, v), h in g.groupby(["dataset", "verifier"], sort=False):
            k = float(h["failed"].max())
            if k > 0:
                parts.append(f"{ds} {v}: {_num_text(k)} of {int(h['outputs'].max())}")
        out[key] = "; ".join(parts) or "0"
    return out


def _digits(metric: str) -> int:
    return 2 if metric.startswith(("WER", "CER")) else 3


def _header(metric: str, higher: bool) -> str:
    return f"{metric} {'↑' if higher else '↓'}"


def to_markdown(long: pd.DataFrame) -> str:
    wide = wide_table(long)
    cols = _columns(long)
    hib = {(r.dataset, r.metric): r.higher_is_better for r in long.itertuples()}
    fails = failures_text(long)
    head = ["Model", "Strategy", "Budget", "n"] + [f"{ds} {_header(m, hib[(ds, m)])}" for ds, m in cols] + ["Failed"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in wide.to_dict("records"):
        key = tuple(r[k] for k in ROW_KEYS)
        n = max(int(r[f"{ds} {m} n"]) for ds, m in cols) if cols else 0
        cells = [str(r["model"]), str(r["strategy"]), budget_label(r["budget"], r["budget_unit"]), str(n)]
        for ds, m in cols:
            cells.append(_fmt(r[f"{ds} {m}"], r[f"{ds} {m} lo"], r[f"{ds} {m} hi"], _digits(m)))
        cells.append(fails.get(key, "0"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\nCells: mean [95% bootstrap CI over utterances]; n: utterances. WER/CER in %: the plain " \
        "column is the mean of per-utterance WER (Seed-TTS-eval's figure), 'corpus' is total errors / total reference " \
        "words. Failed: outputs (utterances x seeds) whose metric failed, counted in the means as the failure policy " \
        "says (see README.md).\n"


def _tex(s: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#"), ("$", r"\$")):
        s = s.replace(a, b)
    return s


def to_latex(long: pd.DataFrame) -> str:
    wide = wide_table(long)
    cols = _columns(long)
    datasets = list(dict.fromkeys(ds for ds, _ in cols))
    hib = {(r.dataset, r.metric): r.higher_is_better for r in long.itertuples()}
    spec = "lll" + "".join("c" * sum(1 for d, _ in cols if d == ds) for ds in datasets)
    out = [r"\begin{tabular}{" + spec + "}", r"\toprule"]
    top = ["", "", ""] + [r"\multicolumn{%d}{c}{%s}" % (sum(1 for d, _ in cols if d == ds), _tex(ds)) for ds in datasets]
    out.append(" & ".join(top) + r" \\")
    sub = ["Model", "Strategy", "Budget"] + [_tex(m) + (r" $\uparrow$" if hib[(ds, m)] else r" $\downarrow$")
                                             for ds, m in cols]
    out += [" & ".join(sub) + r" \\", r"\midrule"]
    for r in wide.to_dict("records"):
        cells = [_tex(str(r["model"])), _tex(str(r["strategy"])), _tex(budget_label(r["budget"], r["budget_unit"]))]
        for ds, m in cols:
            v, lo, hi = r[f"{ds} {m}"], r[f"{ds} {m} lo"], r[f"{ds} {m} hi"]
            d = _digits(m)
            if not np.isfinite(v):
                cells.append("--")
            else:
                cells.append(f"{v:.{d}f}" + (r"\,{\scriptsize[%.*f, %.*f]}" % (d, lo, d, hi) if np.isfinite(lo) else ""))
        out.append(" & ".join(cells) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(out) + "\n"


def write_tables(long: pd.DataFrame, out_dir: str | Path) -> dict[str, Path]:
    from .atomic import atomic_write_text

    out = Path(out_dir)
    paths = {"long_csv": out / "table_long.csv", "csv": out / "table.csv", "md": out / "table.md",
             "tex": out / "table.tex"}
    atomic_write_text(paths["long_csv"], long.to_csv(index=False))
    atomic_write_text(paths["csv"], wide_table(long).to_csv(index=False))
    atomic_write_text(paths["md"], to_markdown(long))
    atomic_write_text(paths["tex"], to_latex(long))
    return paths
