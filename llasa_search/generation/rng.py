"""Counter-based randomness: the random numbers behind the token at position p of a candidate with seed s
are a pure function hash(s, p[, column]). So a candidate's tokens do not depend on which other candidates
share its batch, on batch order, or on how generation was split into steps: (seed, lineage) regenerates it.
"""
from __future__ import annotations

import torch

from ..seeds import M32 as _M32, SAMPLER_VERSION, derive_seed, mix32_int  # noqa: F401  (re-exported)


def mix32(x: torch.Tensor) -> torch.Tensor:
    """32-bit integer finaliser ('lowbias32') on int64 tensors holding values in [0, 2^32).
    Products may wrap in int64; masking keeps the low 32 bits, which is what a uint32 multiply gives."""
    x = x ^ (x >> 16)
    x = (x * 0x7FEB352D) & _M32
    x = x ^ (x >> 15)
    x = (x * 0x846CA68B) & _M32
    return x ^ (x >> 16)


def uniforms(seeds: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """(B,) seeds and positions -> (B,) float64 uniforms in (0, 1), deterministic per (seed, position)."""
    h = mix32((seeds & _M32) ^ mix32((positions * 0x9E3779B1) & _M32))
    return uniform_from_hashes(h, mix32(h ^ 0x5BD1E995))


def uniform_from_hashes(h: torch.Tensor, h2: torch.Tensor) -> torch.Tensor:
    """Two 32-bit hashes -> 52 random bits -> u in [2^-53, 1 - 2^-53], exact in float64 (never 0 or 1)."""
    return ((h >> 6).to(torch.float64) * (1 << 26) + (h2 >> 6).to(torch.float64) + 0.5) / float(1 << 52)


_COLUMN_KEYS: dict = {}


def _column_keys(width: int, device) -> torch.Tensor:
    key = (width, str(device))
    if key not in _COLUMN_KEYS:
        _COLUMN_KEYS[key] = mix32(torch.arange(width, device=device, dtype=torch.int64) + 0x5BD1E995)
    return _COLUMN_KEYS[key]


def gumbel_noise(seeds: torch.Tensor, positions: torch.Tensor, width: int | None,
                 columns: torch.Tensor | None = None) -> torch.Tensor:
    """(B,) seeds and positions -> (B, width) float32 Gumbel(0, 1) noise, deterministic per (seed, position, column);
    or, given `columns` (B, C) column ids, the same noise at just those columns."""
    row = mix32((seeds & _M32) ^ mix32((positions * 0x9E3779B1) & _M32))
    if columns is None:
        keys = _column_keys(width, seeds.device)[None, :]
    else:
        keys = mix32(columns + 0x5BD1E995)
    return gumbel_from_bits(mix32(row[:, None] ^ keys) >> 9)


def gumbel_from_bits(bits: torch.Tensor) -> torch.Tensor:
    """23 random bits -> Gumbel(0, 1) in float32. u = (bits + 0.5) / 2^23 lies in [2^-24, 1 - 2^-24], both exact in
    float32, so the noise is always finite. (With 24 bits the top value rounded u to 1.0: infinite noise, which
    turned an excluded -inf logit into NaN and let argmax pick it, for ~0.4% of draws over 65,537 columns.)"""
    u = (bits.to(torch.float32) + 0.5) * (1.0 / (1 << 23))
    return -torch.log(-torch.log(u))
