"""KV storage for search: each state keeps per-layer (1, H, L, D) key/value views; a batch of states is
packed into preallocated, left-padded buffers for decoding, and unpacked back into views afterwards.

Children of a fork hold the same tensors as their parent (no copy). Packing never writes into a state's
tensors, so siblings stay valid whatever happens to each other. Decoding writes new tokens into
preallocated columns in place, instead of concatenating the whole cache at every token.
"""
from __future__ import annotations

from typing import Sequence

import torch
from transformers.cache_utils import Cache, DynamicLayer

StateKV = tuple  # tuple over layers of (keys, values), each (1, H, L, D)


class SlotLayer(DynamicLayer):
    """A cache layer over a preallocated (B, H, capacity, D) buffer; `length` columns are filled."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, length: int):
        super().__init__()
        self.buf_k, self.buf_v, self.length = keys, values, length
        self.device = keys.device
        self.is_initialized = True
        self._refresh()

    def _refresh(self):
        self.keys = self.buf_k[:, :, : self.length]
        self.values = self.buf_v[:, :, : self.length]

    def update(self, key_states, value_states, *args, **kwargs):
        n = key_states.shape[-2]
        end = self.length + n
        if end > self.buf_k.shape[2]:
            raise RuntimeError(f"KV buffer overflow: {end} > capacity {self.buf_k.shape[2]}")
        self.buf_k[:, :, self.length:end] = key_states
        self.buf_v[:, :, self.length:end] = value_states
        self.length = end
        self._refresh()
        return self.keys, self.values

    def get_seq_length(self) -> int:
        return self.length

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        self.buf_k = self.buf_k.index_select(0, indices)
        self.buf_v = self.buf_v.index_select(0, indices)
        self._refresh()


def kv_shape(model) -> tuple[int, int, int]:
    cfg = model.config
    heads = getattr(cfg, "num_key_value_heads", None) or cfg.num_attention_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    return cfg.num_hidden_layers, heads, head_dim


def empty_cache(model, batch: int, capacity: int, dtype, device) -> Cache:
    layers, heads, head_dim = kv_shape(model)
    return Cache(layers=[
        SlotLayer(torch.empty(batch, heads, capacity, head_dim, dtype=dtype, device=device),
                  torch.empty(batch, heads, capacity, head_dim, dtype=dtype, device=device), 0)
        for _ in range(layers)
    ])


def pack(model, kvs: Sequence[StateKV], lengths: Sequence[int], extra: int, dtype, device) -> tuple[Cache, int]:
    """Left-pad states' caches into one buffer with room for `extra` new columns.
    Returns the cache and the padded prefix length Lmax (row i's data sits in columns [Lmax - L_i, Lmax))."""
    batch, lmax = len(kvs), max(lengths)
    cache = empty_cache(model, batch, lmax + extra, dtype, device)
    for layer_idx, layer in enumerate(cache.layers):
        if lmax:
            layer.buf_k[:, :, :lmax].zero_()
            layer.buf_v[:, :, :lmax].zero_()
        for row, (kv, length) in enumerate(zip(kvs, lengths)):
            if length:
                k, v = kv[layer_idx]
                layer.buf_k[row, :, lmax - length:lmax] = k[0]
                layer.buf_v[row, :, lmax - length:lmax] = v[0]
        layer.length = lmax
        layer._refresh()
    return cache, lmax


def unpack_row(cache: Cache, row: int, start: int) -> StateKV:
    """Views of one row's filled columns from `start` on (no copy)."""
    return tuple(
        (layer.buf_k[row:row + 1, :, start:layer.length], layer.buf_v[row:row + 1, :, start:layer.length])
        for layer in cache.layers
    )
