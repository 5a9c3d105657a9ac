"""KV storage for search. A batch's keys and values for all layers live in one tensor
(layers, 2, B, H, capacity, D), left-padded; a state holds a `KVRef`: its row and filled columns in such a buffer.

Children of a fork hold the same ref as their parent (no copy). Packing states for a decode step copies them into
a new buffer with one gather per source buffer (not one copy per row and layer): rows that came out of the same
buffer share its right edge, so they move by the same column shift. Packing never writes into a source buffer, so
siblings stay valid whatever happens to each other. Decoding writes new tokens into preallocated columns in place.

Columns left of a row's own data hold finite filler (zeros, or a batch mate's data) and are masked by attention.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from transformers.cache_utils import Cache, DynamicLayer


@dataclass(frozen=True, eq=False)
class KVRef:
    """Row `row` of `buf`, columns [start, end): the keys/values of one state's whole sequence."""

    buf: torch.Tensor  # (layers, 2, B, H, capacity, D)
    row: int
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start

    def layers(self) -> tuple:
        """Per-layer (keys, values) views, each (1, H, length, D): for tests and debugging."""
        part = self.buf[:, :, self.row:self.row + 1, :, self.start:self.end]
        return tuple((part[i, 0], part[i, 1]) for i in range(part.shape[0]))


class SlotLayer(DynamicLayer):
    """A cache layer over preallocated (B, H, capacity, D) buffers; `length` columns are filled."""

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


def kv_shape(model) -> tuple[int, int, int]:
    cfg = model.config
    heads = getattr(cfg, "num_key_value_heads", None) or cfg.num_attention_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    return cfg.num_hidden_layers, heads, head_dim


def new_buffer(model, batch: int, capacity: int, dtype, device) -> torch.Tensor:
    """Zeros, so masked filler columns are always finite (a NaN would survive the attention mask)."""
    layers, heads, head_dim = kv_shape(model)
    return torch.zeros(layers, 2, batch, heads, capacity, head_dim, dtype=dtype, device=device)


def cache_over(buf: torch.Tensor, length: int) -> Cache:
    """A transformers cache whose layers write into `buf` (filled up to column `length`)."""
    return Cache(layers=[SlotLayer(buf[i, 0], buf[i, 1], length) for i in range(buf.shape[0])])


def _source_groups(refs: Sequence[KVRef]):
    """Rows grouped by (source buffer, right edge), so each group is one gather: yields (rows, first ref, widest
    length in the group, source row indices)."""
    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(refs):
        groups.setdefault((id(r.buf), r.end), []).append(i)
    for rows in groups.values():
        first = refs[rows[0]]
        width = max(refs[i].length for i in rows)
        yield rows, first, width, torch.tensor([refs[i].row for i in rows], device=first.buf.device)


def pack(model, refs: Sequence[KVRef], extra: int, dtype, device) -> tuple[torch.Tensor, int]:
    """Left-pad states' caches into one new buffer with room for `extra` columns. Returns the buffer and the padded
    prefix length Lmax (row i's data sits in columns [Lmax - L_i, Lmax)). One gather per (source buffer, right edge)."""
    lmax = max(r.length for r in refs)
    out = new_buffer(model, len(refs), lmax + extra, dtype, device)
    for rows, first, width, src in _source_groups(refs):
        dst = torch.tensor(rows, device=device)
        out[:, :, dst, :, lmax - width:lmax] = first.buf[:, :, src, :, first.end - width:first.end].to(device, dtype)
    return out, lmax


def tight_copies(refs: Sequence[KVRef]) -> list[KVRef]:
    """New refs holding just these states' data (one gather per source buffer), so a big shared buffer can be freed."""
    out: list[KVRef | None] = [None] * len(refs)
    for rows, first, width, src in _source_groups(refs):
        buf = first.buf[:, :, src, :, first.end - width:first.end].contiguous()
        for new_row, i in enumerate(rows):
            out[i] = KVRef(buf, new_row, width - refs[i].length, width)
    return out
