"""Choosing among candidates with one or several verifiers. All rules live here.

Scores are "higher is better" (a content verifier's score is -WER). A failed scoring has a non-finite or
worst score and always ranks below any candidate that was scored.

Rules:
- single verifier: argmax of its score.
- `weighted` (default for several verifiers): min-max normalise each verifier's scores over the candidates of
  one utterance to [0, 1], then sum with `weights` (default 1 each). Normalising makes WER and cosine comparable.
- `lexicographic`: order = [v1, v2, ...]; best by v1, ties (within `tolerance`) broken by v2, ...
- `threshold`: keep candidates whose scores meet `constraints` {verifier: minimum score} (e.g. {"whisper": -0.05}
  means WER <= 5 %), then argmax `objective`; if none qualifies, take the candidate closest to qualifying.
- `first`: no verifier chooses; the first candidate is kept (best_of_n without verifiers needs this explicitly).
Ties left after a rule are broken by each candidate's random key (`tie_key`, from its seed), never by position,
so neither length nor the order in which candidates finished decides; the choice stays deterministic.
When no candidate has any score, finalize.py chooses by that key alone and flags the result.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import ConfigError
from .base import derive_seed

RULES = ("weighted", "lexicographic", "threshold", "first")
_TIE_INDEX = 0x7FFFFFFE  # a child index no fork uses


def tie_key(state) -> int:
    """A candidate's random tie-break key: a pure function of its seed and length (batch-independent)."""
    return derive_seed(state.seed, state.length, _TIE_INDEX)


@dataclass
class SelectionRule:
    rule: str = "weighted"
    weights: dict = field(default_factory=dict)
    order: list = field(default_factory=list)
    tolerance: float = 0.0
    constraints: dict = field(default_factory=dict)
    objective: str | None = None

    def __post_init__(self):
        if self.rule not in RULES:
            raise ConfigError(f"unknown selection rule '{self.rule}'; use one of {RULES}")
        if self.rule == "threshold" and (not self.constraints or not self.objective):
            raise ConfigError("the threshold rule needs `constraints` {verifier: min score} and an `objective`")

    @classmethod
    def from_any(cls, value) -> "SelectionRule":
        if value is None:
            return cls()
        if isinstance(value, SelectionRule):
            return value
        if isinstance(value, str):
            return cls(rule=value)
        try:
            return cls(**value)
        except TypeError as exc:
            raise ConfigError(f"bad selection {value!r}: {exc}; fields: rule, weights, order, tolerance, "
                              "constraints, objective") from exc

    def choose(self, scores: list[dict], verifiers: list[str], tie_keys: list[int] | None = None) -> int:
        """Index of the chosen candidate given per-candidate {verifier: score}; ties go to the highest
        `tie_keys` entry (default: the earliest candidate)."""
        if not scores:
            raise ValueError("no candidates to choose from")
        keys = list(tie_keys) if tie_keys is not None else [-i for i in range(len(scores))]
        if self.rule == "first" or not verifiers:
            return 0
        if len(verifiers) == 1:
            return _argmax([_finite(s.get(verifiers[0])) for s in scores], keys)
        if self.rule == "lexicographic":
            order = self.order or verifiers
            pool = list(range(len(scores)))
            for name in order:
                vals = {i: _finite(scores[i].get(name)) for i in pool}
                best = max(vals.values())
                pool = [i for i in pool if vals[i] >= best - self.tolerance]
                if len(pool) == 1:
                    break
            return max(pool, key=lambda i: keys[i])
        if self.rule == "threshold":
            ok = [i for i, s in enumerate(scores)
                  if all(_finite(s.get(v)) >= m for v, m in self.constraints.items())]
            if ok:
                return ok[_argmax([_finite(scores[i].get(self.objective)) for i in ok], [keys[i] for i in ok])]
            shortfall = [sum(max(0.0, m - _finite(s.get(v))) for v, m in self.constraints.items()) for s in scores]
            return _argmax([-x for x in shortfall], keys)
        combined = weighted_scores(scores, verifiers, self.weights)
        return _argmax(combined, keys)


def weighted_scores(scores: list[dict], verifiers: list[str], weights: dict | None = None) -> list[float]:
    total = [0.0] * len(scores)
    for name in verifiers:
        w = (weights or {}).get(name, 1.0)
        vals = [_finite(s.get(name)) for s in scores]
        finite = [v for v in vals if v > -math.inf]
        lo, hi = (min(finite), max(finite)) if finite else (0.0, 0.0)
        for i, v in enumerate(vals):
            norm = -1.0 if v == -math.inf else (1.0 if hi == lo else (v - lo) / (hi - lo))
            total[i] += w * norm
    return total


def _finite(x) -> float:
    if x is None:
        return -math.inf
    x = float(x)
    return x if math.isfinite(x) else -math.inf


def _argmax(vals: list[float], keys: list[int]) -> int:
    return max(range(len(vals)), key=lambda i: (vals[i], keys[i]))
