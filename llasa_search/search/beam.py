"""`beam`: step-level beam search guided by a process-reward verifier that can judge partial audio.

A step is `step_tokens` speech tokens (50 = 1 s). Keep `beam_width` states, expand each into `expansions`
children per step, decode and score the partial audio, keep the best by aggregated step score
(last / min / mean / prod); finished candidates are kept. The final choice among finished candidates uses
`final_verifiers` on the complete audio (an outcome reward), or the aggregated process reward if none.

Budget: at most beam_width * expansions children per step, each step_tokens long, plus one partial decode and
verifier call per child per step. A search stops once beam_width candidates have finished, so it usually
generates fewer tokens than best_of_n with N = beam_width * expansions: compare strategies at the ledger's
measured tokens, not at N. With `budget_tokens` (or `max_steps`) branching stops when the utterance has spent its
budget, and the kept beams are completed without further branching (overshoot: the rest of those beams).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from .base import Strategy, StrategyConfig
from .finalize import finalize_results
from .registry import register
from .stepping import run_to_end
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


def complete_survivors(ctx, outcome) -> None:
    """Run the unfinished survivors of a stopped search to the end, without branching."""
    run_to_end(ctx, [st for states in outcome.survivors.values() for st in states])


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
    budget_options = ("expansions", "beam_width")   # candidates per step = beam_width * expansions
    verifier_slots = ("prm_verifier", "final_verifiers*")

    def required_verifiers(self):
        return [self.config.prm_verifier, *self.config.final_verifiers]

    def search(self, ctx, requests, seed):
        outcome = tree_search(ctx, requests, seed, self.config.tree(groups=1), self.config)
        complete_survivors(ctx, outcome)
        return finish_tree(ctx, self, requests, seed, outcome, self.config.final_verifiers, self.config.selection)
