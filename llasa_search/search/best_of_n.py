"""`best_of_n`: N complete samples per utterance, generated as one batch that shares each prompt's prefill,
chosen by one or more outcome verifiers.

Budget: N candidates; generated tokens = the sum of the N candidates' lengths. With `budget_tokens`, candidates
are drawn in waves of `n` (all utterances of the batch together) until each utterance has spent its token budget;
a wave already started is finished, so an utterance overshoots by less than one wave."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigError
from ..generation.rng import derive_seed
from .base import Strategy, StrategyConfig, budget_spent, max_length_for, request_seed
from .finalize import finalize_results
from .registry import register
from .stepping import run_to_end


@dataclass
class BestOfNConfig(StrategyConfig):
    n: int = 8
    verifiers: tuple[str, ...] = ()       # outcome verifiers that choose (empty: the first sample is kept)
    selection: dict | str | None = None   # see selection.py (weighted / lexicographic / threshold)

    def validate(self):
        if self.n < 1:
            raise ConfigError(f"best_of_n: n must be >= 1 (got {self.n})")
        self.verifiers = tuple([self.verifiers] if isinstance(self.verifiers, str) else self.verifiers)


@register("best_of_n")
class BestOfN(Strategy):
    config_class = BestOfNConfig
    budget_options = ("n",)
    compute_budget_defaults = {"n": 4}   # wave size under a compute budget
    verifier_slots = ("verifiers*",)
    pooled = True

    def required_verifiers(self):
        return list(self.config.verifiers)

    def search(self, ctx, requests, seed):
        cfg = self.config
        roots = ctx.backend.prefill(
            [r.prompt_ids for r in requests], [request_seed(seed, r.request_id) for r in requests],
            request_ids=[r.request_id for r in requests],
            max_lengths=[max_length_for(r, cfg, ctx.engine.max_length) for r in requests])
        children = {r.request_id: [] for r in requests}
        wave = 0
        while True:
            batch = []
            for req, root in zip(requests, roots):
                if wave and (cfg.budget_tokens is None or budget_spent(ctx, cfg, req.request_id)):
                    continue
                seeds = [derive_seed(root.seed, root.length, wave * cfg.n + i) for i in range(cfg.n)]
                kids = ctx.backend.fork(root, cfg.n, seeds)
                children[req.request_id] += kids
                batch += kids
            if not batch:
                break
            run_to_end(ctx, batch)
            wave += 1
        ctx.backend.release(roots)
        return finalize_results(ctx, self, requests, children, list(cfg.verifiers), seed, cfg.selection)
