"""Per-candidate seeds: reproducibility, regeneration from lineage, independence from batching and step size."""
from __future__ import annotations

import torch

from llasa_search.generation import TransformersBackend, SamplingConfig
from llasa_search.generation.rng import derive_seed, uniforms

NO_END = SamplingConfig(min_new_tokens=10_000)


def fresh(lm, sampling=None):
    return TransformersBackend(lm.model, lm.vocab, sampling or SamplingConfig(), max_length=lm.max_length)


def test_same_seed_same_tokens_different_seed_different_tokens(lm, prompt_ids):
    a, _ = prompt_ids
    runs = []
    for _ in range(2):
        backend = fresh(lm)
        states = backend.prefill([a, a, a], seeds=[42, 42, 43])
        backend.extend(states, 30, NO_END)
        runs.append([s.generated_ids for s in states])
    assert runs[0] == runs[1]            # across backends
    assert runs[0][0] == runs[0][1]      # same seed in one batch
    assert runs[0][0] != runs[0][2]      # another seed


def test_regenerate_from_lineage(lm, prompt_ids):
    """Regeneration replays one sampling config over the recorded (seed, span) segments: the lineage records
    seeds, not configs, so the whole candidate is generated with the same config here."""
    a, b = prompt_ids
    cfg = SamplingConfig(min_new_tokens=25)  # END possible only in the grandchildren's span
    backend = fresh(lm, cfg)
    root_a, root_b = backend.prefill([a, b], seeds=[7, 8])
    backend.extend([root_a, root_b], 10)
    kids = backend.fork(root_a, 3)
    assert [k.seed for k in kids] == [derive_seed(7, root_a.length, i) for i in range(3)]
    backend.extend(kids + [root_b], 15)
    grandkids = backend.fork(kids[1], 3, seeds=[1234, 99, 5])  # explicit seeds
    backend.extend(grandkids, 20)
    for s in [root_b, kids[2], *grandkids]:
        segs = s.segments
        assert segs[0].start == s.prompt_len and segs[-1].end == s.length
        again = fresh(lm, cfg).regenerate(s.ids[:s.prompt_len], s.lineage())
        assert again.ids == s.ids
        assert again.finish_reason == s.finish_reason
        if not s.finished:
            torch.testing.assert_close(again.next_logits, s.next_logits, atol=1e-4, rtol=1e-4)
    # Lineage of a twice-forked candidate: root seed, child seed, grandchild seed, in order.
    g = grandkids[0]
    assert [seg.seed for seg in g.segments] == [7, kids[1].seed, 1234]
    assert [(seg.start, seg.end) for seg in g.segments] == [
        (len(a), len(a) + 10), (len(a) + 10, len(a) + 25), (len(a) + 25, g.length)]
    # A different seed in the lineage gives a different candidate.
    other = [dict(seg) for seg in g.lineage()]
    other[-1]["seed"] += 1
    assert fresh(lm, cfg).regenerate(a, other).ids != g.ids


def test_regenerate_a_finished_candidate(lm, prompt_ids):
    a, _ = prompt_ids
    backend = fresh(lm)
    states = backend.prefill([a] * 4, seeds=[4, 5, 6, 7])
    backend.extend(states, 60)
    done = [s for s in states if s.finish_reason == "end"]
    assert done, "seed 4 ends within 60 tokens on the tiny model"
    kids = backend.fork(next(s for s in states if not s.finished), 3)
    backend.extend(kids, 150)
    done += [k for k in kids if k.finished]
    for s in done:
        again = fresh(lm).regenerate(a, s.lineage())
        assert again.ids == s.ids and again.finished and again.finish_reason == s.finish_reason


def test_regenerate_rejects_a_gap(lm, prompt_ids):
    a, _ = prompt_ids
    try:
        fresh(lm).regenerate(a, [{"seed": 1, "start": len(a) + 2, "end": len(a) + 5}])
    except ValueError as exc:
        assert "gap" in str(exc)
    else:
        raise AssertionError("a lineage that does not start at the prompt's end must be rejected")


def test_tokens_independent_of_batch_and_step_size(lm, prompt_ids):
    a, b = prompt_ids
    alone = fresh(lm)
    (s,) = alone.prefill([a], seeds=[2024])
    alone.extend([s], 40, NO_END)

    batched = fresh(lm)
    states = batched.prefill([b, a, b, a], seeds=[1, 2024, 3, 5])
    for _ in range(4):
        batched.extend(states, 10, NO_END)
    assert states[1].ids == s.ids
    assert states[3].ids != s.ids

    # Also in a batch with a longer, already advanced state of another prompt, at 1-token steps for a while.
    mixed = fresh(lm)
    other, t = mixed.prefill([b, a], seeds=[9, 2024])
    mixed.extend([other], 17, NO_END)
    for _ in range(5):
        mixed.extend([t, other], 1, NO_END)
    mixed.extend([other, t], 35, NO_END)
    assert t.ids == s.ids


def test_uniforms_are_a_function_of_seed_and_position():
    seeds = torch.tensor([0, 1, 2**32 - 1, 12345, 12345], dtype=torch.int64)
    pos = torch.tensor([0, 0, 7, 100, 101], dtype=torch.int64)
    u = uniforms(seeds, pos)
    assert u.dtype == torch.float64 and bool(((u > 0) & (u < 1)).all())
    assert torch.equal(u, uniforms(seeds.flip(0), pos.flip(0)).flip(0))
    assert len(set(u.tolist())) == 5
    many = uniforms(torch.arange(200_000, dtype=torch.int64), torch.full((200_000,), 3, dtype=torch.int64))
    assert abs(float(many.mean()) - 0.5) < 0.005
    hist = torch.histc(many.float(), bins=10, min=0, max=1) / many.numel()
    assert float((hist - 0.1).abs().max()) < 0.005
