"""Budget units and compute costs: the one place where what a search spends is defined.

Units a budget can be given in:
  candidates        complete candidates (full-utterance equivalents); each strategy maps this onto its options
                    (`Strategy.options_for_budget`).
  generated_tokens  speech tokens sampled (and END), per utterance.
  forwarded_tokens  token positions pushed through the LM (prompt prefill + decode), per utterance.
  flops             everything a search computes, per utterance: LM + codec + search verifiers (formulas below).
"""
from __future__ import annotations

CANDIDATES = "candidates"
COMPUTE_UNITS = ("generated_tokens", "forwarded_tokens")   # capped inside a strategy (`budget_tokens`)
BUDGET_UNITS = (CANDIDATES, *COMPUTE_UNITS)
