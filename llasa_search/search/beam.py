"""`beam`: step-level beam search guided by a process-reward verifier that can judge partial audio.

A step is `step_tokens` speech tokens (50 = 1 s). Keep `beam_width` states, expand each into `expansions`
children per step, decode and score the partial audio, keep the best by aggregated step score
(last / min / mean / prod); finished candidates are kept. The final choice among finished candidates uses
`final_verifiers` on the complete audio (an outcome reward), or the aggregated process reward if none.

Budget: beam_width * expansions children per step, each step_tokens long, so generated tokens match
best_of_n with N = beam_width * expansions; plus one partial decode and verifier call per child per step.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from .base import Strategy, StrategyConfig
from .finalize import finalize_results
from .registry import register
from .tree import AGGREGATES, TreeSettings, tree_search


@dataclass
class BeamConfig(StrategyConfig):
    prm_verifier: str = "sim_resemblyzer"
    beam_width: int = 2
    expansions: int = 4
    step_tokens: int = 50
    aggregate: str = "last"
    lookahead: int = 0
    max_steps: int | None = None
    final_verifiers: tuple[str, ...] = ()
    selection: dict | str | None = None

    def validate(self):
        for name in ("beam_width", "expansions", "step_tokens"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1 (got {getattr(self, name)})")
        if self.aggregate not in AGGREGATES:
            raise ConfigError(f"aggregate must be one of {AGGREGATES} (got '{self.aggregate}')")
        if self.lookahead < 0:
            raise ConfigError("lookahead must be >= 0")
        if isinstance(self.final_verifiers, str):
            self.final_verifiers = (self.final_verifiers,)
        self.final_verifiers = tuple(self.final_verifiers)

    def tree(self, groups: int = 1) -> TreeSettings:
        return TreeSettings(self.prm_verifier, self.beam_width, self.expansions, self.step_tokens,
                            self.aggregate, groups, self.max_steps, self.lookahead)


def finish_tree(ctx, strategy, requests, seed, outcome, final_verifiers, selection):
    finals = {r.request_id: outcome.finished[r.request_id] + outcome.survivors[r.request_id] for r in requests}
    preset = {uid: {"prm_value": v} for uid, v in outcome.values.items()}
    choose_by = list(final_verifiers) or ["prm_value"]
    return finalize_results(ctx, strategy, requests, finals, list(final_verifiers), seed, selection,
                            extra_traces=outcome.partial_traces, histories=outcome.histories,
                            preset_scores=preset, choose_by=choose_by)


@register("beam")
class BeamSearch(Strategy):
    config_class = BeamConfig

    def required_verifiers(self):
        return [self.config.prm_verifier, *self.config.final_verifiers]

    def search(self, ctx, requests, seed):
        outcome = tree_search(ctx, requests, seed, self.config.tree(groups=1), self.config)
        return finish_tree(ctx, self, requests, seed, outcome, self.config.final_verifiers, self.config.selection)
