"""Results store -> one tidy table (pandas) with a row per (utterance, config, seed) and the numbers reports need.

Columns: utt_id, seed, dataset, language, model, strategy, strategy_kind, budget_unit, budget, candidates,
generated_tokens, forwarded_tokens, wall_s, from_pool; "m:<verifier>:<metric>" for every numeric evaluation metric
(ASR verifiers add m:<v>:errors = substitutions + deletions + insertions); "s:<verifier>" for search scores.

best_of_n pools (records with pool: true) are expanded into one row per n in pool_budgets, holding the EXACT expected
metrics of best-of-n over all n-subsets of the pool (bestofn.py); the selector's order is the strategy's search
verifiers, lexicographically, as the executor chose. Their compute is scaled from the pool: candidates = n,
generated_tokens and wall_s = n / N of the pool's (marked from_pool = True).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .bestofn import selection_weights
from .names import verifier_kind
from .store import ResultStore


def load_records(results_dir: str | Path) -> list[dict]:
    return ResultStore(results_dir).records()


def _num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def flat_metrics(metrics: dict) -> dict[str, float]:
    out = {}
    for v, m in (metrics or {}).items():
        if not isinstance(m, dict):
            if _num(m):
                out[f"m:{v}:score"] = float(m)
            continue
        for k, x in m.items():
            if _num(x):
                out[f"m:{v}:{k}"] = float(x)
        if verifier_kind(v) == "asr" and all(_num(m.get(k)) for k in ("substitutions", "deletions", "insertions")):
            out[f"m:{v}:errors"] = float(m["substitutions"] + m["deletions"] + m["insertions"])
    return out


def _wall(rec: dict) -> float:
    t = (rec.get("ledger") or {}).get("time_s") or {}
    if _num(t.get("total")):
        return float(t["total"])
    return float((rec.get("timing") or {}).get("wall_s", math.nan))


def _base_row(rec: dict) -> dict:
    led = rec.get("ledger") or {}
    item = rec.get("item") or {}
    return {"utt_id": rec["utt_id"], "seed": rec["seed"], "dataset": rec.get("dataset", ""),
            "language": item.get("language", "en"), "model": (rec.get("model") or {}).get("name", ""),
            "strategy": rec.get("strategy", ""), "strategy_kind": rec.get("strategy_kind", ""),
            "budget_unit": (rec.get("budget") or {}).get("unit", "candidates"),
            "budget": (rec.get("budget") or {}).get("value", 1),
            "candidates": float(led.get("candidates", math.nan)),
            "generated_tokens": float(led.get("generated_tokens", math.nan)),
            "forwarded_tokens": float(led.get("forwarded_tokens", math.nan)), "wall_s": _wall(rec),
            "from_pool": False, "search_verifiers": ",".join(rec.get("search_verifiers") or [])}


def lexicographic_scores(cands: list[dict], verifiers: list[str]) -> np.ndarray:
    """One score per candidate whose order equals the lexicographic order of the search verifiers' scores."""
    def key(c):
        return tuple((-math.inf if (x := c["search_scores"].get(v)) is None or (isinstance(x, float) and math.isnan(x))
                      else x) for v in verifiers)
    keys = [key(c) for c in cands]
    uniq = sorted(set(keys))
    rank = {k: i for i, k in enumerate(uniq)}
    return np.array([rank[k] for k in keys], dtype=float)


def expand_pool(rec: dict, ties: str = "random") -> list[dict]:
    cands = rec.get("candidates") or []
    N = len(cands)
    if N == 0:
        raise ValueError(f"pool record {rec['utt_id']}/{rec['config_name']} has no candidates")
    sv = list(rec.get("search_verifiers") or [])
    s = lexicographic_scores(cands, sv) if sv else np.zeros(N)
    per_cand = [flat_metrics(c.get("metrics") or {}) for c in cands]
    for c, pc in zip(cands, per_cand):
        for v, x in (c.get("search_scores") or {}).items():
            if _num(x):
                pc[f"s:{v}"] = float(x)
    cols = sorted(set().union(*per_cand))
    base = _base_row(rec)
    rows = []
    for n in sorted(set(rec.get("pool_budgets") or [N])):
        if n > N:
            continue
        w = selection_weights(s, n, ties)
        row = dict(base)
        row.update(budget=n, candidates=float(n), generated_tokens=base["generated_tokens"] * n / N,
                   wall_s=base["wall_s"] * n / N, from_pool=True)
        for col in cols:
            vals = np.array([pc.get(col, math.nan) for pc in per_cand])
            nz = w > 0
            row[col] = float(np.dot(w[nz], vals[nz]))
        rows.append(row)
    return rows


def records_frame(records: list[dict], ties: str = "random") -> pd.DataFrame:
    rows = []
    for rec in records:
        if rec.get("pool") and rec.get("candidates"):
            rows.extend(expand_pool(rec, ties))
            continue
        row = _base_row(rec)
        row.update(flat_metrics(rec.get("metrics") or {}))
        for v, x in (rec.get("search_scores") or {}).items():
            if _num(x):
                row[f"s:{v}"] = float(x)
        rows.append(row)
    return pd.DataFrame(rows)


def per_utterance(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Average over seeds within each utterance (the bootstrap resamples utterances)."""
    keys = ["dataset", "model", "strategy", "budget_unit", "budget", "utt_id"]
    return df.groupby(keys, sort=False)[cols].mean().reset_index()
