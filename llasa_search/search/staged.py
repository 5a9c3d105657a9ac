"""`staged`: the paper's "Partial PRM (spk sim) + ORM (WER)".

Phase 1: step-level beam search (tree.py) guided by `prm_verifier` (e.g. speaker similarity) over the first
`prm_seconds` of speech (or `prm_steps` steps). Phase 2: exactly `n_final` final candidates are judged by
`orm_verifier` (e.g. whisper: score -WER): phase-1 finishers count toward them (best PRM value first), the rest
are completions drawn from the surviving prefixes (best prefixes first, round-robin; fresh samples from the prompt
if no prefix is left) and run to the end. Phase 1 decodes live prefixes for the PRM as beam does
(`partial_window_s` / `partial_context_s`). Without `orm_verifier` this is "Partial PRM (spk sim)" alone and the PRM
verifier judges the complete candidates; with `prm_seconds: null` the PRM guides the whole utterance ("PRM
(emotion sim)").

Budget: phase 1 as `beam` (decided at step boundaries), then the completions, stopped at the chunk boundary where
the utterance has spent its budget (chunks shrink near the end): at most one step of the live rows over the
budget. If the budget cuts completions, the finished candidates compete (fewer than n_final); if none finished,
the best prefix is returned flagged `budget_exhausted`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConfigError
from ..prompts import SPEECH_TOKENS_PER_SECOND
from .base import Strategy
from .partial_window import TreeConfig
from .registry import register
from .selection import SelectionRule
from .tree import AGGREGATES, TreeSettings, draw_finals, finish_tree, tree_search
from .verifier_checks import check_can_judge


_DEFAULT_PRM_SECONDS = 2.0


@dataclass
class StagedConfig(TreeConfig):
    prm_verifier: str = "sim_resemblyzer"
    orm_verifier: str | None = None
    prm_seconds: float | None = _DEFAULT_PRM_SECONDS
    prm_steps: int | None = None
    beam_width: int = 2
    expansions: int = 4
    step_tokens: int = 50
    aggregate: str = "last"
    n_final: int = 4
    min_score_seconds: float | None = None
    selection: dict | str | None = None

    def validate(self):
        super().validate()
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
        if self.min_score_seconds is not None and self.min_score_seconds < 0:
            raise ConfigError("min_score_seconds must be >= 0 (or null for the PRM's own)")
        SelectionRule.from_any(self.selection)

    def max_steps(self) -> int | None:
        if self.prm_steps is not None:
            return self.prm_steps
        if self.prm_seconds is None:
            return None
        return max(1, math.ceil(self.prm_seconds * SPEECH_TOKENS_PER_SECOND / self.step_tokens))

    def tree_settings(self) -> TreeSettings:
        return TreeSettings(self.prm_verifier, self.beam_width, self.expansions, self.step_tokens, self.aggregate,
                            1, self.max_steps(), min_score_seconds=self.min_score_seconds, keep_root=True,
                            window=self.decode_window())


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
        check_can_judge(ctx, [cfg.orm_verifier] if cfg.orm_verifier else [], requests, role="ORM")
        outcome = tree_search(ctx, requests, seed, cfg.tree_settings(), cfg)
        finals = draw_finals(ctx, outcome, requests, cfg.n_final, cfg)
        final = [cfg.orm_verifier] if cfg.orm_verifier else [cfg.prm_verifier]
        return finish_tree(ctx, self, requests, seed, outcome, final, cfg.selection, finals=finals)
