"""`sampling`: one sample per utterance, the no-search baseline. All utterances decode as one batch.
(The strategy; the token sampler every strategy draws with is generation/sampling.py's SamplingConfig.)

Budget: with `budget_tokens` the sample stops at the chunk boundary where the utterance has spent its budget
(chunks shrink near the end, so it overshoots by less than one token); a sample cut short is returned
unfinished, flagged `budget_exhausted`."""
from __future__ import annotations

from dataclasses import dataclass

from .base import Strategy, StrategyConfig, max_length_for, request_seed
from .finalize import Finals, finalize_results
from .registry import register
from .stepping import run_to_end


@dataclass
class SamplingStrategyConfig(StrategyConfig):
    """Verifiers listed in `score_with` only measure the sample (recorded in the trace); they choose nothing."""

    score_with: tuple[str, ...] = ()


@register("sampling")
class SamplingStrategy(Strategy):
    config_class = SamplingStrategyConfig
    budget_units = ("candidates",)   # one sample: nothing to spend a compute budget on
    verifier_slots = ("score_with*",)

    def required_verifiers(self):
        return list(self.config.score_with)

    def search(self, ctx, requests, seed):
        backend = ctx.backend
        roots = backend.prefill([r.prompt_ids for r in requests], [request_seed(seed, r.request_id) for r in requests],
                                request_ids=[r.request_id for r in requests],
                                max_lengths=[max_length_for(r, self.config, ctx.engine.max_length) for r in requests])
        cut = run_to_end(ctx, roots, config=self.config)
        by_request = {r.request_id: [s] for r, s in zip(requests, roots)}
        return finalize_results(ctx, self, requests, seed, Finals(
            states=by_request, verifiers=list(self.config.score_with),
            exhausted={s.request_id for s in cut}))
