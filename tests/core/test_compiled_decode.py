"""`compile: true` (issue 10.1): a static KV cache and torch.compile of the token step give the tokens of eager
decoding in fp32 on CPU, compile once for extends of different batch sizes and lengths, and keep the host syncs per
extend constant. Slow: the first compile takes ~20-40 s on a CPU."""
from __future__ import annotations

import pytest
import torch

from llasa_search.errors import ConfigError
from llasa_search.generation import SamplingConfig, TransformersBackend
from llasa_search.generation.syncs import HostSyncCounter

pytestmark = pytest.mark.slow

CFG = SamplingConfig(repetition_penalty=1.2, min_new_tokens=4)


def _search_like_run(lm, prompt_ids, cfg):
    """Two prompts of different lengths, forks, uneven steps (rows finish mid-step and are masked): every state."""
    backend = TransformersBackend(lm.model, lm.vocab, cfg, max_length=len(prompt_ids[1]) + 40)
    roots = backend.prefill(list(prompt_ids), [5, 6])
    backend.extend(roots, 7)
    kids = [k for r in roots if not r.finished for k in backend.fork(r, 3)]
    for n in (11, 40):
        backend.extend(kids, n)
    return roots + kids


def test_compiled_tokens_equal_eager_tokens_and_compile_once(lm, prompt_ids):
    from torch._dynamo.utils import counters

    eager = _search_like_run(lm, prompt_ids, CFG)
    before = counters["stats"]["unique_graphs"]
    compiled = _search_like_run(lm, prompt_ids, SamplingConfig(**{**CFG.to_dict(), "compile": True}))
    assert any(s.finished for s in compiled)
    assert [s.ids for s in compiled] == [s.ids for s in eager]
    assert [s.finish_reason for s in compiled] == [s.finish_reason for s in eager]
    # Extends of 2 and 6 rows, 7/11/40 tokens, different capacities: one graph (plus at most one for the first
    # step's different input kinds), not one per shape.
    assert counters["stats"]["unique_graphs"] - before <= 2, counters["stats"]


def test_compiled_extend_host_syncs_do_not_grow_with_tokens(lm, prompt_ids):
    cfg = SamplingConfig(compile=True)
    calls = []
    for n in (10, 50):
        backend = TransformersBackend(lm.model, lm.vocab, cfg, max_length=lm.max_length)
        kids = [k for r in backend.prefill(list(prompt_ids), [1, 2]) for k in backend.fork(r, 2)]
        backend.extend(kids, 2)  # compiled outside the count
        with HostSyncCounter() as counter:
            backend.extend(kids, n)
        calls.append(counter.calls)
    assert len(calls[0]) == len(calls[1]) <= 2, calls


def test_compile_without_a_cpu_compiler_is_a_clear_error(monkeypatch):
    from llasa_search.generation import compiled

    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setattr(compiled.shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="C\\+\\+ compiler"):
        compiled.check_compile_toolchain("cpu")
    compiled.check_compile_toolchain(torch.device("cuda"))  # GPUs compile with triton: no C++ compiler needed


def test_compile_without_python_headers_is_a_clear_error(monkeypatch, tmp_path):
    from llasa_search.generation import compiled

    monkeypatch.setattr(compiled.sysconfig, "get_path", lambda name, *a, **k: str(tmp_path))
    with pytest.raises(ConfigError, match="python3-dev"):
        compiled.check_compile_toolchain("cpu")
