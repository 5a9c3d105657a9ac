"""`dvts`: diverse verifier tree search: `beam` run as `subtrees` independent subtrees per utterance (each keeping
`beam_width` beams, default 1), which keeps candidates diverse where one wide beam would collapse onto a single
prefix. The final choice is made over all subtrees' finished candidates.

Budget: a step forks at most subtrees * beam_width * expansions children; `budget_tokens` as in `beam` (at most
one step of the live rows over the budget)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..errors import ConfigError
from .beam import BeamConfig, BeamSearch
from .registry import register


@dataclass
class DVTSConfig(BeamConfig):
    subtrees: int = 4
    beam_width: int = 1

    def validate(self):
        super().validate()
        if self.subtrees < 1:
            raise ConfigError(f"subtrees must be >= 1 (got {self.subtrees})")

    def tree_settings(self):
        return dataclasses.replace(super().tree_settings(), subtrees=self.subtrees)


@register("dvts")
class DVTS(BeamSearch):
    config_class = DVTSConfig
    budget_options = ("subtrees", "expansions", "beam_width")   # per step: subtrees * beam_width * expansions
