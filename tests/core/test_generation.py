"""Generation backend: what can be sampled, KV-cache correctness through fork/extend, mixed batches, stopping."""
from __future__ import annotations

import torch

from llasa_search.generation import TransformersBackend, SamplingConfig

NO_END = SamplingConfig(min_new_tokens=10_000)  # END masked: sequences keep going (cache tests need live states)


def restricted_index(vocab) -> torch.Tensor:
    first, k = vocab.first_speech_id, vocab.codebook_size
    return torch.cat([torch.arange(first, first + k), torch.tensor([vocab.speech_generation_end])])


@torch.inference_mode()
def full_forward_logits(lm, ids) -> torch.Tensor:
    """Logits for the next position from one plain forward over all ids (no cache), restricted to [codes, END]."""
    out = lm.model(input_ids=torch.tensor([ids]))
    return out.logits[0, -1, restricted_index(lm.vocab)].float()


def assert_cache_matches(lm, state, atol=1e-4):
    assert not state.finished and state.next_logits is not None
    expected = full_forward_logits(lm, state.ids)
    torch.testing.assert_close(state.next_logits.float(), expected, atol=atol, rtol=1e-4)
    # The KV views cover exactly the sequence.
    assert all(k.shape[2] == state.length == v.shape[2] for k, v in state.kv.layers())


def test_only_speech_tokens_and_end_are_sampled(lm, backend, prompt_ids):
    vocab = lm.vocab
    a, b = prompt_ids
    states = backend.prefill([a, b, a, b, a, b], seeds=[11, 12, 13, 14, 15, 16])
    # High temperature flattens the distribution: text tokens would show up if they could be sampled at all.
    backend.extend(states, 40, SamplingConfig(temperature=5.0))
    end_seen = 0
    for s in states:
        gen = s.generated_ids
        assert len(gen) >= 1
        for i, t in enumerate(gen):
            if t == vocab.speech_generation_end:
                assert i == len(gen) - 1 and s.finished and s.finish_reason == "end"
                end_seen += 1
            else:
                assert vocab.is_speech(t), t
        assert s.ids[:s.prompt_len] in (a, b)
    # With 6 x 40 tokens at temperature 5, the sampled codes spread over the codebook.
    codes = {c for s in states for c in vocab.ids_to_codes(s.generated_ids)}
    assert len(codes) > 100


def test_cache_after_prefill_fork_extend_matches_full_forward(lm, backend, prompt_ids):
    a, b = prompt_ids
    root_a, root_b = backend.prefill([a, b], seeds=[1, 2])
    assert_cache_matches(lm, root_a)
    assert_cache_matches(lm, root_b)
    a1, a2 = backend.fork(root_a, 2)
    (b1,) = backend.fork(root_b, 1)
    assert a1.seed != a2.seed
    backend.extend([a1, a2, b1], 6, NO_END)           # two prompts of different lengths in one batch
    backend.extend([a1], 3, NO_END)                   # a1 is now longer than a2
    assert a1.length == a2.length + 3
    a1x, a1y = backend.fork(a1, 2)
    b1x, b1y = backend.fork(b1, 2)
    # Mixed batch: different prompts, different lengths, siblings sharing a prefix.
    batch = [b1y, a1x, a2, b1x, a1y]
    backend.extend(batch, 4, NO_END)
    for s in batch:
        assert_cache_matches(lm, s)
    assert len({len(s.ids) for s in batch}) == 3
    # Parents and the roots stay valid after their children were extended (packing never writes into them),
    # and can themselves be extended again.
    for s in (root_a, root_b, a1, b1):
        assert_cache_matches(lm, s)
    backend.extend([root_b, a1], 5, NO_END)
    assert_cache_matches(lm, root_b)
    assert_cache_matches(lm, a1)
    assert_cache_matches(lm, a1x)  # a child still valid after its parent moved on


def test_different_prompts_in_one_prefill(lm, backend, prompt_ids):
    a, b = prompt_ids
    c = list(a)
    c[8] = c[8] + 1  # same length as a, one text token different
    states = backend.prefill([a, b, c, a], seeds=[0, 1, 2, 3], request_ids=["x", "y", "z", "x"])
    assert [s.ids for s in states] == [a, b, c, a]
    for s in states:
        assert_cache_matches(lm, s)
    # The identical prompt is prefilled once.
    assert backend.ledger.prefilled_tokens == len(a) + len(b) + len(c)
    assert backend.ledger.forwarded_tokens == len(a) + len(b) + len(c)
    assert backend.request_ledgers["x"].prefilled_tokens == len(a)


def test_stops_at_end(lm, backend, prompt_ids):
    a, _ = prompt_ids
    states = backend.prefill([a] * 8, seeds=list(range(100, 108)))
    backend.extend(states, 400)
    ended = [s for s in states if s.finish_reason == "end"]
    assert ended, "the tiny model's END boost should end some of 8 candidates within 400 tokens"
    for s in ended:
        assert s.finished and s.ids[-1] == lm.vocab.speech_generation_end
        assert lm.vocab.speech_generation_end not in s.ids[s.prompt_len:-1]
        assert s.kv is None and s.next_logits is None
    for s in states:
        if not s.finished:
            assert s.num_generated == 400
    # Finished states are left alone by later extends; they cannot be forked.
    before = [list(s.ids) for s in ended]
    backend.extend(ended, 5)
    assert [s.ids for s in ended] == before
    try:
        backend.fork(ended[0], 2)
    except ValueError:
        pass
    else:
        raise AssertionError("forking a finished state must fail")


def test_stops_at_max_length(lm, backend, prompt_ids):
    a, b = prompt_ids
    states = backend.prefill([a, b], seeds=[5, 6], max_lengths=[len(a) + 7, len(b) + 12])
    backend.extend(states, 50, NO_END)
    assert [s.finish_reason for s in states] == ["max_length", "max_length"]
    assert [s.length for s in states] == [len(a) + 7, len(b) + 12]
    assert all(lm.vocab.is_speech(t) for s in states for t in s.generated_ids)


def test_min_new_tokens_blocks_end(lm, backend, prompt_ids):
    a, _ = prompt_ids
    states = backend.prefill([a] * 8, seeds=list(range(100, 108)))  # same seeds as test_stops_at_end
    backend.extend(states, 120, SamplingConfig(min_new_tokens=120))
    assert all(not s.finished and s.num_generated == 120 for s in states)
    assert all(lm.vocab.speech_generation_end not in s.generated_ids for s in states)


def test_release_frees_and_rejects(backend, prompt_ids):
    a, _ = prompt_ids
    (s,) = backend.prefill([a], seeds=[0])
    backend.release([s])
    assert s.kv is None
    try:
        backend.extend([s], 3)
    except ValueError as exc:
        assert "released" in str(exc)
    else:
        raise AssertionError("extending a released state must fail")


def test_prompt_too_long_for_context(lm, prompt_ids):
    backend = TransformersBackend(lm.model, lm.vocab, max_length=40)
    a, _ = prompt_ids
    try:
        backend.prefill([a + a], seeds=[0])
    except ValueError as exc:
        assert "context" in str(exc)
    else:
        raise AssertionError("a prompt longer than the context must be rejected")
