"""Bootstrap confidence intervals over utterances (percentile method, fixed seed: reports are reproducible)."""
from __future__ import annotations

import numpy as np

DEFAULT_BOOT = 2000


def _idx(n: int, n_boot: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def bootstrap_mean(values, n_boot: int = DEFAULT_BOOT, ci: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(mean, lo, hi) of the mean of `values` (rows = utterances; extra axes are kept: a (U, K) matrix gives K CIs)."""
    v = np.asarray(values, dtype=float)
    if v.shape[0] == 0:
        nan = np.full(v.shape[1:], np.nan) if v.ndim > 1 else np.nan
        return nan, nan, nan
    mean = v.mean(axis=0)
    if v.shape[0] == 1:
        return mean, mean, mean
    boots = v[_idx(v.shape[0], n_boot, seed)].mean(axis=1)
    a = (1 - ci) / 2
    return mean, np.quantile(boots, a, axis=0), np.quantile(boots, 1 - a, axis=0)


def bootstrap_ratio(num, den, n_boot: int = DEFAULT_BOOT, ci: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(sum(num)/sum(den), lo, hi), resampling utterances (corpus WER = total errors / total reference words)."""
    n = np.asarray(num, dtype=float)
    d = np.asarray(den, dtype=float)
    if n.size == 0 or d.sum() == 0:
        return np.nan, np.nan, np.nan
    ratio = n.sum() / d.sum()
    if n.size == 1:
        return ratio, ratio, ratio
    idx = _idx(n.size, n_boot, seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        boots = n[idx].sum(axis=1) / d[idx].sum(axis=1)
    a = (1 - ci) / 2
    return ratio, float(np.nanquantile(boots, a)), float(np.nanquantile(boots, 1 - a))
