"""The decode loop of one extend: n tokens for a fixed batch, entirely on the device (gpt-fast style).

Sampling, END detection, length caps, min_new_tokens and the repetition-penalty mask are tensor ops; a row that
finishes keeps its slot (its later samples are ignored and its positions are masked waste), so shapes never
change inside the loop and nothing is read back to the host until `run` returns, except one check every
EARLY_EXIT_EVERY tokens of a long extend, so a batch whose rows have all finished stops instead of running on masked.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from .kv import cache_over, pack
from .sampling import SamplingConfig, draw

if TYPE_CHECKING:
    from .backend import TransformersBackend
    from .state import GenState


EARLY_EXIT_EVERY = 64  # tokens; a 1 s search step (50 tokens) never pays this sync


class DecodeLoop:
    def __init__(self, backend: "TransformersBackend", rows: list["GenState"], steps: int, cfg: SamplingConfig):
        self.backend, self.cfg, self.steps = backend, cfg, steps
        self.steps_run = 0  # forwards actually run (< steps when every row finished early)
        dev = backend.device
        lengths = [s.length for s in rows]
        self.buf, self.lmax = pack(backend.model, [s.kv for s in rows], steps, backend.dtype, dev)
        self.lengths = torch.tensor(lengths, dtype=torch.int64, device=dev)
        self.seeds = torch.tensor([s.seed for s in rows], dtype=torch.int64, device=dev)
        # A row may sample at most `limit` tokens here (its max_length), and END is blocked while fewer than
        # min_new_tokens speech tokens were generated.
        self.limit = torch.tensor([min(steps, s.max_length - s.length) for s in rows], dtype=torch.int64, device=dev)
        self.generated = torch.tensor([s.num_generated for s in rows], dtype=torch.int64, device=dev)
        self.logits = torch.stack([s.next_logits for s in rows]).to(dev)
        self.seen = backend.seen_mask(rows) if cfg.repetition_penalty != 1.0 else None
        # Additive attention mask over the whole buffer: left padding excluded. A 4D mask is used as given by
        # transformers (a 2D one would be checked with `.all()`, a host sync per token).
        cols = torch.arange(self.lmax + steps, device=dev)
        keep = cols[None, :] >= (self.lmax - self.lengths)[:, None]
        neg = torch.finfo(backend.dtype).min
        self.mask = torch.where(keep, 0.0, neg).to(backend.dtype)[:, None, None, :]

    def _eager_step(self, logits, end_blocked, pos, t):
        """Sample, then forward the sampled tokens over a cache that grows by one column."""
        if t == 0:
            self.cache = cache_over(self.buf, self.lmax)
        picked = draw(logits, self.cfg, self.seen, end_blocked, self.seeds, pos)
        ids = self.backend.index_to_id[picked][:, None]
        return picked, self.backend.forward_rows(ids, self.cache, self.mask[..., :self.lmax + t + 1], pos[:, None])

    def _compiled_step(self):
        """The same step through the static cache and the compiled function (generation/compiled.py)."""
        from .compiled import compiled_step, static_cache

        fn = compiled_step(self.backend, self.cfg)
        column = torch.tensor(self.lmax, dtype=torch.int64, device=self.backend.device)
        cache = static_cache(self.buf, column)
        first_visible = self.lmax - self.lengths

        def step(logits, end_blocked, pos, t):
            column.fill_(self.lmax + t)
            return fn(logits, end_blocked, self.seen, self.seeds, pos, cache, first_visible, column)
        return step

    def run(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> (tokens (B, steps) as indices into [codes..., END], tokens sampled per row (B,), last logits (B, V))."""
        b, cfg, end_index = self.backend, self.cfg, self.logits.shape[-1] - 1
        batch = self.logits.shape[0]
        tokens = torch.zeros(batch, self.steps, dtype=torch.int64, device=b.device)
        counts = torch.zeros(batch, dtype=torch.int64, device=b.device)
        alive = torch.ones(batch, dtype=torch.bool, device=b.device)
        logits = self.logits
        step = self._compiled_step() if cfg.compile else self._eager_step
        for t in range(self.steps):
            pos = self.lengths + t
            end_blocked = (self.generated + t) < cfg.min_new_tokens if cfg.min_new_tokens else None
            picked, next_logits = step(logits, end_blocked, pos, t)
            tokens[:, t] = picked
            counts += alive
            alive = alive & (picked != end_index) & (t + 1 < self.limit)
            if self.seen is not None:
                self.seen.scatter_(1, picked[:, None], True)
            logits = next_logits
            self.steps_run = t + 1
            if self.steps_run % EARLY_EXIT_EVERY == 0 and self.steps_run < self.steps and not bool(alive.any()):
                break
        return tokens, counts, logits
