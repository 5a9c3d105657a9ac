"""`best_of_n`: N complete samples per utterance, generated as one batch that shares each prompt's prefill,
chosen by one or more outcome verifiers. Without a verifier, `selection: first` must be given explicitly (the
first sample is kept, and the result says so); otherwise that is an error.

Budget: N candidates; generated tokens = the sum of the N candidates' lengths. With `budget_tokens`, candidates
are drawn in waves of `n` (all utterances of the batch together) until each utterance has spent its token budget.
The decision is taken at chunk boundaries inside a wave (chunks shrink near the end), so an utterance overshoots
its budget by less than one token per live row; a budget is a target here, so it may spend more than the
`n` samples drawn without one. A wave cut by the budget is unfinished: its candidates compete only if no wave
completed (its finishers are the short ones, which would bias the choice toward short audio); if none of them
finished either, the best unfinished one is returned, flagged `budget_exhausted`."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from .base import Strategy, StrategyConfig, budget_spent, derive_seed, max_length_for, request_seed
from .finalize import Finals, finalize_results
from .registry import register
from .selection import SelectionRule
from .stepping import run_to_end
from .verifier_checks import check_can_judge


@dataclass
class BestOfNConfig(StrategyConfig):
    n: int = 8
    verifiers: tuple[str, ...] = ()       # outcome verifiers that choose (none: needs `selection: first`)
    selection: dict | str | None = None   # see selection.py (weighted / lexicographic / threshold / first)

    def validate(self):
        if self.n < 1:
            raise ConfigError(f"best_of_n: n must be >= 1 (got {self.n})")
        self.verifiers = tuple([self.verifiers] if isinstance(self.verifiers, str) else self.verifiers)
        rule = SelectionRule.from_any(self.selection)
        if not self.verifiers and rule.rule != "first" and self.n > 1:
            raise ConfigError("best_of_n needs a verifier to choose among its n samples: give `verifiers` "
                              "(e.g. -o verifiers=whisper), or `selection: first` to keep the first sample")


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
        check_can_judge(ctx, cfg.verifiers, requests, role="verifier that chooses")
        roots = ctx.backend.prefill(
            [r.prompt_ids for r in requests], [request_seed(seed, r.request_id) for r in requests],
            request_ids=[r.request_id for r in requests],
            max_lengths=[max_length_for(r, cfg, ctx.engine.max_length) for r in requests])
        waves = {r.request_id: [] for r in requests}  # request_id -> [[states of one wave]]
        wave = 0
        while True:
            batch = []
            for req, root in zip(requests, roots):
                if wave and (cfg.budget_tokens is None or budget_spent(ctx, cfg, req.request_id)):
                    continue
                seeds = [derive_seed(root.seed, root.length, wave * cfg.n + i) for i in range(cfg.n)]
                kids = ctx.backend.fork(root, cfg.n, seeds)
                waves[req.request_id].append(kids)
                batch += kids
            if not batch:
                break
            run_to_end(ctx, batch, config=cfg)
            wave += 1
        ctx.backend.release(roots)
        finals, exhausted = {}, set()
        for rid, drawn in waves.items():
            complete = [s for w in drawn if all(s.finished for s in w) for s in w]
            if len(complete) < sum(len(w) for w in drawn):
                exhausted.add(rid)
            every = [s for w in drawn for s in w]
            finals[rid] = complete or [s for s in every if s.finished] or every
        return finalize_results(ctx, self, requests, seed, Finals(
            states=finals, verifiers=list(cfg.verifiers), rule=cfg.selection, exhausted=exhausted))
