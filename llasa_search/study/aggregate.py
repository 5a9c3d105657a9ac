"""Results store -> one tidy table (pandas) with a row per (utterance, config, seed) and the numbers reports need.

Columns: utt_id, seed, dataset, language, model, strategy, strategy_kind, budget_unit, budget, candidates,
generated_tokens, forwarded_tokens, wall_s, flops (the search's total FLOPs), from_pool; "m:<verifier>:<metric>" for every numeric evaluation metric
(ASR verifiers add m:<v>:errors = substitutions + deletions + insertions); "s:<verifier>" for search scores.

best_of_n pools (records with pool: true) are expanded into one row per n in pool_budgets, holding the EXACT expected
metrics of best-of-n over all n-subsets of the pool (bestofn.py); the selector's order is the strategy's search
verifiers, lexicographically, as the executor chose. Their compute is scaled from the pool: candidates = n,
generated_tokens and wall_s = n / N of the pool's (marked from_pool = True).

Failed metrics follow a named policy (failures.py: worst by default, drop, error); "f:<verifier>" is 1.0 where the
verifier failed on the row's output (for pool rows: the probability that the chosen candidate's metric failed), so
tables count failures instead of silently averaging fewer utterances. A pool row's metric is the expectation over
the candidates that have it (under drop: given that the chosen candidate did not fail).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .bestofn import selection_weights
from .failures import (DEFAULT_POLICY, FailedMetricError, check_policy, describe, finite, is_failed,
                       worst_value)
from .names import verifier_kind


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
        if verifier_kind(v) == "content" and all(_num(m.get(k)) for k in ("substitutions", "deletions", "insertions")):
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
            "flops": float((led.get("flops") or {}).get("total", math.nan)),
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


class _Scorer:
    """Metrics of one output as frame columns, with the failure policy applied (failures.py)."""

    def __init__(self, records: list[dict], policy: str):
        self.policy = check_policy(policy)
        self.reported: dict[str, set[str]] = {}     # verifier -> metric keys it gives when it works
        for rec in records:
            for out in [rec, *(rec.get("candidates") or [])]:
                for v, m in (out.get("metrics") or {}).items():
                    if not is_failed(m, verifier_kind(v)):
                        self.reported.setdefault(v, set()).update(k.split(":", 2)[2] for k in flat_metrics({v: m}))

    def metrics(self, rec: dict, metrics: dict) -> dict[str, float]:
        item = rec.get("item") or {}
        out: dict[str, float] = {}
        for v in dict.fromkeys([*(rec.get("evaluation_verifiers") or []), *(metrics or {})]):
            m, kind = (metrics or {}).get(v), verifier_kind(v)
            failed = m is None or is_failed(m, kind)
            out[f"f:{v}"] = float(failed)
            if not failed:
                out.update(flat_metrics({v: m}))
                continue
            if self.policy == "error":
                raise FailedMetricError(describe(rec, v, m) + "; choose --failure-policy worst or drop to report it")
            if self.policy == "worst":
                keys = self.reported.get(v) or ({"wer", "errors", "ref_len"} if kind == "content" else {"score"})
                for k in keys:
                    w = worst_value(kind, k, m, item.get("text", ""), item.get("language", "en"))
                    if w is not None:
                        out[f"m:{v}:{k}"] = w
        return out

    def search_scores(self, scores: dict) -> dict[str, float]:
        out = {}
        for v, x in (scores or {}).items():
            if _num(x):
                w = worst_value(verifier_kind(v), "score", {}, "", "en") if self.policy == "worst" else None
                out[f"s:{v}"] = float(x) if finite(x) else (w if w is not None else math.nan)
        return out


def expand_pool(rec: dict, ties: str = "random", scorer: _Scorer | None = None) -> list[dict]:
    cands = rec.get("candidates") or []
    N = len(cands)
    if N == 0:
        raise ValueError(f"pool record {rec['utt_id']}/{rec['config_name']} has no candidates")
    scorer = scorer or _Scorer([rec], DEFAULT_POLICY)
    sv = list(rec.get("search_verifiers") or [])
    s = lexicographic_scores(cands, sv) if sv else np.zeros(N)
    per_cand = [{**scorer.metrics(rec, c.get("metrics") or {}), **scorer.search_scores(c.get("search_scores"))}
                for c in cands]
    cols = sorted(set().union(*per_cand))
    base = _base_row(rec)
    rows = []
    for n in sorted(set(rec.get("pool_budgets") or [N])):
        if n > N:
            continue
        w = selection_weights(s, n, ties)
        row = dict(base)
        row.update(budget=n, candidates=float(n), generated_tokens=base["generated_tokens"] * n / N,
                   wall_s=base["wall_s"] * n / N, flops=base["flops"] * n / N, from_pool=True)
        for col in cols:
            row[col] = _expected_given_present(w, np.array([pc.get(col, math.nan) for pc in per_cand]))
        rows.append(row)
    return rows


def _expected_given_present(w: np.ndarray, vals: np.ndarray) -> float:
    """Expected value of the chosen candidate's column, given that it has one (NaN: failed under `drop`, or a metric
    without a worst value): what averaging the seeds that have it estimates for separate runs. Without this, one
    failed candidate of N made the utterance's row NaN at every n where it can be chosen (all n, since n=1 picks
    any), dropping the utterance instead of that candidate. NaN when no candidate that can be chosen has it."""
    ok = (w > 0) & ~np.isnan(vals)
    total = float(w[ok].sum())
    return float(np.dot(w[ok], vals[ok]) / total) if total > 0 else math.nan


def records_frame(records: list[dict], ties: str = "random", failure_policy: str = DEFAULT_POLICY) -> pd.DataFrame:
    """One row per record (pools: per n), failed metrics handled by `failure_policy` (failures.py)."""
    scorer = _Scorer(records, failure_policy)
    rows = []
    for rec in records:
        if rec.get("pool") and rec.get("candidates"):
            rows.extend(expand_pool(rec, ties, scorer))
            continue
        row = _base_row(rec)
        row.update(scorer.metrics(rec, rec.get("metrics") or {}))
        row.update(scorer.search_scores(rec.get("search_scores")))
        rows.append(row)
    return pd.DataFrame(rows)


def per_utterance(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Average over seeds within each utterance (the bootstrap resamples utterances)."""
    keys = ["dataset", "model", "strategy", "budget_unit", "budget", "utt_id"]
    return df.groupby(keys, sort=False)[cols].mean().reset_index()


__all__ = ["records_frame", "flat_metrics", "expand_pool", "per_utterance", "lexicographic_scores",
           "FailedMetricError"]
