"""`staged`: the paper's "Partial PRM (spk sim) + ORM (WER)".

Phase 1: step-level beam search guided by `prm_verifier` (e.g. speaker similarity) over the first
`prm_seconds` of speech (or `prm_steps` steps). Phase 2: `n_final` completions are drawn from the surviving
prefixes (best prefixes first, round-robin) and run to the end; `orm_verifier` (e.g. whisper: score -WER)
chooses among them. Without `orm_verifier` this is "Partial PRM (spk sim)" alone and the PRM verifier judges
the complete candidates; with `prm_seconds: null` the PRM guides the whole utterance ("PRM (emotion sim)").

Budget: phase 1 as `beam` for its steps, then n_final completions. With `budget_tokens`, phase 1 stops early once
the utterance has spent its budget; the n_final completions always run (they are what the ORM chooses among).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConfigError
from .base import Strategy, StrategyConfig
from .beam import finish_tree
from .registry import register
from .stepping import run_to_end
from .tree import AGGREGATES, TreeSettings, tree_search


_DEFAULT_PRM_SECONDS = 2.0


@dataclass
class StagedConfig(StrategyConfig):
    prm_verifier: str = "sim_resemblyzer"
    orm_verifier: str | None = None
    prm_seconds: float | None = _DEFAULT_PRM_SECONDS
    prm_steps: int | None = None
    beam_width: int = 2
    expansions: int = 4
    step_tokens: int = 50
    aggregate: str = "last"
    n_final: int = 4
    selection: dict | str | None = None

    def validate(self):
        for name in ("beam_width", "expansions", "step_tokens", "n_final"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1 (got {getattr(self, name)})")
        if self.aggregate not in AGGREGATES:
            raise ConfigError(f"aggregate must be one of {AGGREGATES} (got '{self.aggregate}')")
        if self.prm_steps is not None:
            if self.prm_steps < 1:
                raise ConfigError(f"prm_steps must be >= 1 (got {self.prm_steps})")
            # prm_steps given alone overrides the default prm_seconds; both given explicitly is an error
            if self.prm_seconds is not None and self.prm_seconds != _DEFAULT_PRM_SECONDS:
                raise ConfigError("give prm_seconds or prm_steps, not both")
            self.prm_seconds = None
        if self.prm_seconds is not None and self.prm_seconds <= 0:
            raise ConfigError("prm_seconds must be > 0 (or null for the whole utterance)")

    def max_steps(self) -> int | None:
        if self.prm_steps is not None:
            return self.prm_steps
        if self.prm_seconds is None:
            return None
        return max(1, math.ceil(self.prm_seconds * 50 / self.step_tokens))


@register("staged")
class Staged(Strategy):
    config_class = StagedConfig
    budget_options = ("expansions", "beam_width")   # the prefix search, as beam
    verifier_slots = ("prm_verifier", "orm_verifier")

    @classmethod
    def candidate_options(cls, budget, opts, required=True):
        """Prefix search as beam from the budget, and n_final = budget // 2 completions (half the budget for the
        ORM's completions) unless n_final is given; n_final = budget when the prefix options are all fixed."""
        set_by = {}
        if "n_final" not in opts:
            free = any(o not in opts for o in cls.budget_options)
            opts["n_final"] = set_by["n_final"] = max(1, budget // 2) if free else budget
        return {**set_by, **super().candidate_options(budget, opts, required=required and not set_by)}

    def required_verifiers(self):
        return [self.config.prm_verifier] + ([self.config.orm_verifier] if self.config.orm_verifier else [])

    def search(self, ctx, requests, seed):
        cfg = self.config
        # keep_prefixes: early finishers must not starve phase 2 of the prefixes its completions grow from
        tree = TreeSettings(cfg.prm_verifier, cfg.beam_width, cfg.expansions, cfg.step_tokens, cfg.aggregate,
                            1, cfg.max_steps(), keep_prefixes=True)
        outcome = tree_search(ctx, requests, seed, tree, cfg)
        completions = []
        for req in requests:
            prefixes = sorted(outcome.survivors[req.request_id], key=lambda st: -outcome.values[st.uid])
            done = outcome.finished[req.request_id]
            need = max(0, cfg.n_final - len(done))
            if prefixes and need:
                counts = [need // len(prefixes) + (1 if i < need % len(prefixes) else 0) for i in range(len(prefixes))]
                kids = []
                for prefix, count in zip(prefixes, counts):
                    if count:
                        kids += ctx.backend.fork(prefix, count)
                        history = outcome.histories.get(prefix.uid, [])
                        for k in kids[-count:]:
                            outcome.histories[k.uid] = list(history)
                            outcome.values[k.uid] = outcome.values[prefix.uid]
                ctx.backend.release(prefixes)
                completions += kids
                outcome.finished[req.request_id] = done + kids
            outcome.survivors[req.request_id] = []
        run_to_end(ctx, completions)
        final = [cfg.orm_verifier] if cfg.orm_verifier else [cfg.prm_verifier]
        return finish_tree(ctx, self, requests, seed, outcome, final, cfg.selection)
