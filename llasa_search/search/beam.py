"""`beam`: step-level beam search guided by a process-reward verifier that can judge partial audio.

A step is `step_tokens` speech tokens (50 = 1 s). `beam_width` is the number of beams kept; each kept beam forks
`expansions` children per step (search-and-learn calls our `expansions` its `beam_width`, and keeps
n / beam_width beams: see tree.py). Children are decoded, scored by `prm_verifier`, and the best (aggregated
step scores: last / min / mean / prod) keep the beams; a child that finishes competes on its final score and, if
it wins, holds its beam for good. The search runs until every beam holds a finished candidate. The final choice
among them uses `final_verifiers` on the complete audio (an outcome reward), or the aggregated process reward.
`min_score_seconds` (default: the PRM's own) is the shortest partial audio the PRM is asked to judge.
`partial_window_s` / `partial_context_s` (5 s / 1 s): how much of a live candidate is decoded for a speaker or
emotion PRM (partial_window.py; 0 = prompt + whole prefix).

Budget. Without `budget_tokens`: a step forks live beams x expansions children, so a search costs about what
best_of_n(n = beam_width * expansions) costs. With `budget_tokens` the decision is taken at step boundaries: once
the utterance has spent its budget no further step starts, so it spends at most its budget plus one step of its
live rows (live children x step_tokens x (1 + lookahead)); the first step always runs. If the budget ends the
search, the best finished candidate wins; if none finished, the best live prefix is returned, its trace and the
result flagged `budget_exhausted`. `max_steps` stops branching: the kept beams are then completed without
branching (within the budget).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from .base import Strategy
from .partial_window import TreeConfig
from .registry import register
from .selection import SelectionRule
from .tree import AGGREGATES, TreeSettings, complete_survivors, finish_tree, tree_search
from .verifier_checks import check_can_judge


@dataclass
class BeamConfig(TreeConfig):
    prm_verifier: str = "sim_resemblyzer"
    beam_width: int = 2              # beams kept
    expansions: int = 4              # children per kept beam per step
    step_tokens: int = 50
    aggregate: str = "last"
    lookahead: int = 0
    max_steps: int | None = None
    min_score_seconds: float | None = None
    final_verifiers: tuple[str, ...] = ()
    selection: dict | str | None = None

    def validate(self):
        super().validate()
        for name in ("beam_width", "expansions", "step_tokens"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1 (got {getattr(self, name)})")
        if self.aggregate not in AGGREGATES:
            raise ConfigError(f"aggregate must be one of {AGGREGATES} (got '{self.aggregate}')")
        if self.lookahead < 0:
            raise ConfigError("lookahead must be >= 0")
        if self.min_score_seconds is not None and self.min_score_seconds < 0:
            raise ConfigError("min_score_seconds must be >= 0 (or null for the PRM's own)")
        if isinstance(self.final_verifiers, str):
            self.final_verifiers = (self.final_verifiers,)
        self.final_verifiers = tuple(self.final_verifiers)
        SelectionRule.from_any(self.selection)

    def tree_settings(self) -> TreeSettings:
        return TreeSettings(self.prm_verifier, self.beam_width, self.expansions, self.step_tokens,
                            self.aggregate, 1, self.max_steps, self.lookahead, self.min_score_seconds,
                            window=self.decode_window())


@register("beam")
class BeamSearch(Strategy):
    config_class = BeamConfig
    budget_options = ("expansions", "beam_width")   # candidates per step = beam_width * expansions
    verifier_slots = ("prm_verifier", "final_verifiers*")

    def required_verifiers(self):
        return [self.config.prm_verifier, *self.config.final_verifiers]

    def search(self, ctx, requests, seed):
        check_can_judge(ctx, self.config.final_verifiers, requests, role="final verifier")
        outcome = tree_search(ctx, requests, seed, self.config.tree_settings(), self.config)
        complete_survivors(ctx, outcome, self.config)
        return finish_tree(ctx, self, requests, seed, outcome, self.config.final_verifiers, self.config.selection)
