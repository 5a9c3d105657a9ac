"""The optional compiled decode step (`compile: true`, `--compile`), gpt-fast style.

Eager decoding attends over a cache that grows by one column per token, so every shape changes every token. Here
the cache is static: each layer's keys and values are the whole preallocated packed buffer (B, H, capacity, D), a
new token is written at a column held in a device tensor (`index_copy_`), and the attention mask hides columns a
row must not see (left padding and columns not yet written). One token step (sampling + LM forward) then has the
same shapes for a whole extend, and `torch.compile` traces it once; batch size and capacity are marked dynamic, so
later extends of other sizes reuse the same graph instead of recompiling.

The tokens are those of eager decoding: attention to masked columns gets weight exactly 0, and the compiled
kernels differ from eager ones only by float rounding (~1e-6 in the logits), which the counter-based Gumbel sampler
absorbs (tests/core/test_compiled_decode.py checks token identity in fp32 on CPU).
"""
from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from transformers.cache_utils import Cache, DynamicLayer

from ..errors import ConfigError
from .sampling import SamplingConfig, draw

if TYPE_CHECKING:
    from .backend import TransformersBackend


def check_compile_toolchain(device) -> None:
    """Raise ConfigError when `compile` cannot work here: inductor builds C++ kernels on CPU (a compiler is needed),
    and this torch must support torch.compile."""
    if not hasattr(torch, "compile"):
        raise ConfigError("compile needs torch >= 2.0; upgrade torch or drop --compile / compile: true")
    if torch.device(device).type != "cpu":   # GPUs compile with triton
        return
    if not (os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")):
        raise ConfigError("compile on CPU needs a C++ compiler (torch.compile builds C++ kernels): install one "
                          "(Debian/Ubuntu: apt-get install g++) or drop --compile / compile: true")
    header = Path(sysconfig.get_path("include")) / "Python.h"
    if not header.exists():
        raise ConfigError(f"compile on CPU needs Python's C headers ({header} is missing): install them "
                          "(Debian/Ubuntu: apt-get install python3-dev) or drop --compile / compile: true")


class StaticSlotLayer(DynamicLayer):
    """A cache layer whose keys/values are a whole preallocated buffer; `update` writes at `column` (a 0-dim int64
    tensor shared by all layers and advanced by the decode loop)."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, column: torch.Tensor):
        super().__init__()
        self.keys, self.values, self.column = keys, values, column
        self.device = keys.device
        self.is_initialized = True

    def update(self, key_states, value_states, *args, **kwargs):
        index = self.column.view(1)
        self.keys.index_copy_(2, index, key_states)
        self.values.index_copy_(2, index, value_states)
        return self.keys, self.values

    def get_seq_length(self) -> int:  # only used by transformers when no position_ids are given (never here)
        raise NotImplementedError("StaticSlotLayer needs explicit position_ids")


def static_cache(buf: torch.Tensor, column: torch.Tensor) -> Cache:
    return Cache(layers=[StaticSlotLayer(buf[i, 0], buf[i, 1], column) for i in range(buf.shape[0])])


class CompiledStep:
    """One backend's compiled token step: (logits, end_blocked, seen, seeds, positions, cache, first visible column
    per row, write column) -> (picked indices, next logits)."""

    def __init__(self, backend: "TransformersBackend", cfg: SamplingConfig):
        check_compile_toolchain(backend.device)
        self.backend, self.cfg = backend, cfg
        self.neg = torch.finfo(backend.dtype).min
        self.fn = torch.compile(self._step, dynamic=True, fullgraph=False)

    def _step(self, logits, end_blocked, seen, seeds, positions, cache, first_visible, column):
        b = self.backend
        picked = draw(logits, self.cfg, seen, end_blocked, seeds, positions)
        cols = torch.arange(cache.layers[0].keys.shape[2], device=logits.device)
        visible = (cols[None, :] >= first_visible[:, None]) & (cols[None, :] <= column)
        mask = torch.where(visible, 0.0, self.neg).to(b.dtype)[:, None, None, :]
        ids = b.index_to_id[picked][:, None]
        return picked, b.forward_rows(ids, cache, mask, positions[:, None])

    def __call__(self, *args):
        return self.fn(*args)


def compiled_step(backend: "TransformersBackend", cfg: SamplingConfig) -> CompiledStep:
    """The backend's compiled step for this sampling config (compiled once per config, reused across extends)."""
    cache = backend.__dict__.setdefault("_compiled_steps", {})
    if cfg not in cache:
        cache[cfg] = CompiledStep(backend, cfg)
    return cache[cfg]
