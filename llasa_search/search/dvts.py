"""`dvts`: diverse verifier tree search. The budget is split into `subtrees` independent beam searches per
utterance (each of width `beam_width`, default 1), which keeps candidates diverse where one wide beam would
collapse onto a single prefix. The final choice is made over all subtrees' finished candidates.

Budget: at most subtrees * beam_width * expansions children per step; `budget_tokens` as in `beam`."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from .beam import BeamConfig, complete_survivors, finish_tree
from .base import Strategy
from .registry import register
from .tree import tree_search


@dataclass
class DVTSConfig(BeamConfig):
    subtrees: int = 4
    beam_width: int = 1

    def validate(self):
        super().validate()
        if self.subtrees < 1:
            raise ConfigError(f"subtrees must be >= 1 (got {self.subtrees})")


@register("dvts")
class DVTS(Strategy):
    config_class = DVTSConfig
    budget_options = ("subtrees", "expansions", "beam_width")   # per step: subtrees * beam_width * expansions
    verifier_slots = ("prm_verifier", "final_verifiers*")

    def required_verifiers(self):
        return [self.config.prm_verifier, *self.config.final_verifiers]

    def search(self, ctx, requests, seed):
        outcome = tree_search(ctx, requests, seed, self.config.tree(groups=self.config.subtrees), self.config)
        complete_survivors(ctx, outcome)
        return finish_tree(ctx, self, requests, seed, outcome, self.config.final_verifiers, self.config.selection)
