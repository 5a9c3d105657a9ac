"""Seed derivation on plain integers (no torch), and the random stream's version: a child's seed is a pure function of its parent's seed, the fork
position and its index, so strategies can derive seeds without importing the generation backend."""
from __future__ import annotations

M32 = 0xFFFFFFFF

# Which random stream a (seed, lineage) names (generation/rng.py): recorded in traces and in sweep config hashes, so
# a lineage is never regenerated, nor a results folder resumed, under another stream. 2: 23-bit Gumbel noise (1 had
# 24 bits and could give infinite noise; its CDF uniforms could round to 1.0).
SAMPLER_VERSION = 2


def mix32_int(x: int) -> int:
    """32-bit integer finaliser ('lowbias32'); generation.rng.mix32 is the same function on int64 tensors."""
    x &= M32
    x ^= x >> 16
    x = (x * 0x7FEB352D) & M32
    x ^= x >> 15
    x = (x * 0x846CA68B) & M32
    return x ^ (x >> 16)


def derive_seed(parent_seed: int, position: int, child_index: int) -> int:
    """Seed of the child_index-th child forked at `position` from a candidate with `parent_seed`."""
    return mix32_int(parent_seed ^ mix32_int(position * 0x9E3779B1 ^ mix32_int(child_index + 0x632BE5AB)))
