"""The token sampler: settings (SamplingConfig: temperature, top-p, top-k, ...) and the logits pipeline over the
speech vocabulary (codes + END). Every strategy draws its tokens with it; the `sampling` strategy (one sample, no
search) is search/sampling.py."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from .rng import gumbel_noise, uniforms


@dataclass(frozen=True)
class SamplingConfig:
    """Defaults are the official recipe, and this is the one place that says why: the model card's snippet calls
    `generate(do_sample=True, top_p=1, temperature=0.8)`, which inherits transformers' default `top_k=50` (Llasa's
    generation_config sets no top_k). So the official samples come from the 50 most likely tokens at temperature 0.8.

    Deviation: only [codes..., END] can be sampled, so top-k ranks the 50 best speech tokens (+ END); the official
    call ranks the whole vocabulary, where a text or special token in the top 50 takes a slot and, if drawn, is fed
    back to the LM and later dropped from the output by `extract_speech_ids`. The measured effect (mass and top-50
    slots taken by other tokens) is printed by `benchmarks/bench_generation.py --vocab-mass` and given in the README."""

    temperature: float = 0.8
    top_p: float = 1.0
    top_k: int = 50  # 0 = off
    repetition_penalty: float = 1.0  # 1.0 = off; the fine-tuning example uses 1.2
    min_new_tokens: int = 0  # END is masked until a candidate has this many speech tokens
    # "gumbel": argmax(logits + hashed Gumbel noise). A token changes only if float noise (batched vs single-row
    # matmuls differ by ~1e-6) reorders the top two perturbed logits: ~1e-6 per token, so an utterance's tokens do
    # not depend on its batch. Costs ~1 ms per row per step on a CPU (65,537 hashes), nothing on a GPU.
    # "cdf": inverse-CDF with one uniform per row: cheapest, but the cumulative sum over 65,537 probabilities
    # carries the float noise, so ~1 token in 1,000 can differ between batch layouts.
    sampler: str = "gumbel"
    # Forward every row alone and unpadded (prefill and decode), so an utterance's tokens cannot depend on its batch
    # mates in bf16/fp16 either. Costs throughput (batch-1 forwards): see benchmarks/bench_generation.py.
    deterministic: bool = False
    # Static KV cache + torch.compile of the token step (generation/compiled.py). Same tokens as eager; pays a
    # one-off compile (seconds to a minute) to cut per-token overhead. Needs a C++ compiler on CPU (inductor).
    compile: bool = False

    def __post_init__(self):
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0 (got {self.temperature}); use a small value like 0.1 for near-greedy")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1] (got {self.top_p})")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (got {self.top_k})")
        if not self.repetition_penalty > 0:
            raise ValueError(f"repetition_penalty must be > 0 (got {self.repetition_penalty})")
        if self.min_new_tokens < 0:
            raise ValueError("min_new_tokens must be >= 0")
        if self.sampler not in ("gumbel", "cdf"):
            raise ValueError(f"sampler must be 'gumbel' or 'cdf' (got '{self.sampler}')")

    def to_dict(self) -> dict:
        return asdict(self)


def _penalise_and_scale(logits: torch.Tensor, cfg: SamplingConfig, seen: torch.Tensor | None,
                        end_blocked: torch.Tensor | None) -> torch.Tensor:
    """Repetition penalty, temperature, END blocking: a new tensor (the input is never modified)."""
    x = logits
    if cfg.repetition_penalty != 1.0 and seen is not None:
        penalised = torch.where(x > 0, x / cfg.repetition_penalty, x * cfg.repetition_penalty)
        x = torch.where(seen, penalised, x)
    x = x / cfg.temperature  # the copy every later step may write into
    if end_blocked is not None:  # (B,) bool; a tensor op, not a branch on its values (that would be a host sync)
        x[:, -1].masked_fill_(end_blocked, float("-inf"))
    return x


def _top_p_drop(sorted_x: torch.Tensor, top_p: float) -> torch.Tensor:
    """Over logits sorted in descending order: drop a token when the mass of the tokens with a strictly larger logit
    already reaches top_p (the top token always stays). Tokens with equal logits are kept or dropped together, so
    the result does not depend on how a sort orders ties (transformers' warper leaves that to the sort)."""
    probs = sorted_x.softmax(-1)
    before = probs.cumsum(-1) - probs
    neg = -sorted_x.contiguous()  # ascending: each value's first position is its tie group's start
    group_start = torch.searchsorted(neg, neg, right=False)
    return before.gather(-1, group_start) >= top_p


def process_logits(logits: torch.Tensor, cfg: SamplingConfig, seen: torch.Tensor | None,
                   end_blocked: torch.Tensor | None) -> torch.Tensor:
    """(B, V) float32 logits over [codes..., END] -> filtered, temperature-scaled logits (-inf = excluded).
    Order as in transformers: repetition penalty, temperature, top-k, top-p (END blocking commutes with these)."""
    x = _penalise_and_scale(logits, cfg, seen, end_blocked)
    if cfg.top_k and cfg.top_k < x.shape[-1]:
        kth = torch.topk(x, cfg.top_k, dim=-1).values[:, -1:]
        x.masked_fill_(x < kth, float("-inf"))
    if cfg.top_p < 1.0:
        sorted_x, order = torch.sort(x, dim=-1, descending=True)
        drop = torch.zeros_like(sorted_x, dtype=torch.bool).scatter(-1, order, _top_p_drop(sorted_x, cfg.top_p))
        x.masked_fill_(drop, float("-inf"))
    return x


def sample(filtered: torch.Tensor, seeds: torch.Tensor, positions: torch.Tensor, method: str = "gumbel",
           columns: torch.Tensor | None = None) -> torch.Tensor:
    """An exact draw from softmax(filtered) per row, its randomness a function of (seed, position) only.
    Excluded tokens (-inf) can never be picked by either method. With `columns` (B, C), `filtered` holds only those
    vocabulary columns (ascending per row, every column outside them excluded) and the picked column ids are
    returned: the same draw as over the whole row, since both methods only ever look at the non-excluded columns."""
    if method == "gumbel":
        width = filtered.shape[-1] if columns is None else None
        picked = torch.argmax(filtered + gumbel_noise(seeds, positions, width, columns), dim=-1)
    else:
        cdf = filtered.softmax(-1).double().cumsum(-1)
        u = uniforms(seeds, positions) * cdf[:, -1]
        # The first column whose cumulative mass reaches u * total: always a column with mass (0 < u < 1).
        picked = torch.searchsorted(cdf, u[:, None], right=False)[:, 0].clamp_(max=filtered.shape[-1] - 1)
    return picked if columns is None else columns.gather(1, picked[:, None])[:, 0]


# The top-k fast path ranks this many extra tokens, so logits tied with the k-th best (common in bf16) are kept,
# as the full-width filter keeps them; only more than TIE_MARGIN tokens tied at the boundary would differ.
TIE_MARGIN = 16


def draw(logits: torch.Tensor, cfg: SamplingConfig, seen: torch.Tensor | None, end_blocked: torch.Tensor | None,
         seeds: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """process_logits + sample, the decode loop's per-token call. With top_k on, only the top k (+ ties) columns are
    filtered and given noise, not all 65,537: the same token as the full-width path (the noise of a column is a
    function of its id), at a fraction of the elementwise work per row and token."""
    width = logits.shape[-1]
    if not cfg.top_k or cfg.top_k + TIE_MARGIN >= width:
        return sample(process_logits(logits, cfg, seen, end_blocked), seeds, positions, cfg.sampler)
    x = _penalise_and_scale(logits, cfg, seen, end_blocked)
    vals, cols = torch.topk(x, cfg.top_k + TIE_MARGIN, dim=-1)  # sorted, descending
    vals = vals.masked_fill(vals < vals[:, cfg.top_k - 1:cfg.top_k], float("-inf"))
    if cfg.top_p < 1.0:
        vals = vals.masked_fill(_top_p_drop(vals, cfg.top_p), float("-inf"))
    cols, order = cols.sort(dim=-1)  # ascending ids: ties in the draw resolve as over the whole row
    return sample(vals.gather(1, order), seeds, positions, cfg.sampler, columns=cols)
