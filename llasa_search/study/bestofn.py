"""Best-of-n curves from one pool of N candidates per utterance, without rerunning for each n.

For a pool of N candidates with search scores s and evaluation values v, best-of-n picks the candidate with the highest
s among n drawn without replacement. Its expected v over all C(N, n) subsets is exact and needs no enumeration (the
same combinatorics as the unbiased pass@k estimator): sort the pool by s ascending in a strict order; the candidate of
rank r (1 = lowest) is the subset's best in C(r-1, n-1) of the C(N, n) subsets, so

    E[v of best-of-n] = sum_r  v_(r) * C(r-1, n-1) / C(N, n).

One sort (O(N log N)), then O(N) per n. Ties in s:
- ties="random" (default): the selector breaks ties uniformly at random. A tie group at ranks a..b is the subset's best
  with probability sum_{r=a..b} C(r-1, n-1)/C(N, n), and then each member is equally likely, so the group's weight is
  shared equally among its members.
- ties="first": the lowest candidate index wins ties (what an argmax over the candidate list does).
NaN scores count as the worst score. The expected best search score itself is the same sum with v = s.
"""
from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np
from scipy.special import gammaln


def _log_comb(a: np.ndarray, b: int) -> np.ndarray:
    return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)


def _clean_scores(scores) -> np.ndarray:
    s = np.asarray(scores, dtype=float).reshape(-1)
    return np.where(np.isnan(s), -np.inf, s)


def selection_weights(scores: Sequence[float], n: int, ties: str = "random") -> np.ndarray:
    """Probability that each candidate is the one best-of-n selects, over all n-subsets (sums to 1)."""
    s = _clean_scores(scores)
    N = s.size
    if not 1 <= n <= N:
        raise ValueError(f"n must be between 1 and the pool size {N}, got {n}")
    if ties not in ("random", "first"):
        raise ValueError(f"ties must be 'random' or 'first', got {ties!r}")
    idx = np.arange(N)
    order = np.lexsort((-idx, s))            # ascending score; among equals the lowest index ranks highest
    ranks = np.arange(1, N + 1)              # rank of order[k] is k + 1
    p = np.zeros(N)
    ok = ranks >= n
    p[ok] = np.exp(_log_comb(ranks[ok] - 1.0, n - 1) - _log_comb(np.array(float(N)), n))
    if ties == "random":
        ss = s[order]
        k = 0
        while k < N:
            j = k
            while j + 1 < N and ss[j + 1] == ss[k]:
                j += 1
            if j > k:
                p[k:j + 1] = p[k:j + 1].mean()
            k = j + 1
    w = np.empty(N)
    w[order] = p
    return w / w.sum()


def expected_best_of_n(scores: Sequence[float], values: Sequence[float] | None = None, ns: Sequence[int] | None = None,
                       ties: str = "random") -> np.ndarray:
    """Expected value (values default to the scores) of the best-of-n choice, for each n in ns (default 1..N)."""
    s = _clean_scores(scores)
    v = s if values is None else np.asarray(values, dtype=float).reshape(-1)
    if v.size != s.size:
        raise ValueError(f"{s.size} scores but {v.size} values: give one value per candidate")
    ns = list(range(1, s.size + 1)) if ns is None else list(ns)
    out = []
    for n in ns:
        w = selection_weights(s, int(n), ties)
        nz = w > 0
        out.append(float(np.dot(w[nz], v[nz])))   # zero-weight candidates may have inf/nan values: skip them
    return np.array(out)


def brute_force_best_of_n(scores: Sequence[float], values: Sequence[float], n: int, ties: str = "random") -> float:
    """Reference implementation: enumerate every n-subset (for tests; exponential)."""
    s = _clean_scores(scores)
    v = np.asarray(values, dtype=float)
    tot, cnt = 0.0, 0
    for sub in itertools.combinations(range(s.size), n):
        best = max(s[i] for i in sub)
        tied = [i for i in sub if s[i] == best]
        tot += v[tied[0]] if ties == "first" else float(np.mean([v[i] for i in tied]))
        cnt += 1
    return tot / cnt


def pool_curve_matrix(pools: Sequence[tuple[Sequence[float], Sequence[float]]], ns: Sequence[int],
                      ties: str = "random") -> np.ndarray:
    """(U, len(ns)) expected values, one row per utterance pool (scores, values). n above a pool's size -> error."""
    rows = []
    for u, (s, v) in enumerate(pools):
        if max(ns) > len(s):
            raise ValueError(f"pool {u} has {len(s)} candidates, fewer than the largest n requested ({max(ns)})")
        rows.append(expected_best_of_n(s, v, ns, ties))
    return np.array(rows).reshape(len(rows), len(ns))


def best_of_n_curve(pools, ns, ties: str = "random", n_boot: int = 2000, ci: float = 0.95, seed: int = 0):
    """Mean over utterances of the expected best-of-n value, with bootstrap CIs over utterances.

    Returns a dict of arrays: n, mean, lo, hi (each of length len(ns))."""
    from .stats import bootstrap_mean

    m = pool_curve_matrix(pools, ns, ties)
    mean, lo, hi = bootstrap_mean(m, n_boot=n_boot, ci=ci, seed=seed)
    return {"n": np.asarray(ns), "mean": np.asarray(mean), "lo": np.asarray(lo), "hi": np.asarray(hi)}
