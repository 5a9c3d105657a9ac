"""Misuse of the backend raises instead of corrupting states; odd PCM formats are converted correctly."""
import numpy as np
import pytest

from llasa_search.audio import prepare_audio


def test_same_state_twice_in_one_extend_is_refused(backend, prompt_ids):
    [s] = backend.prefill([prompt_ids[0]], [0])
    before = list(s.ids)
    with pytest.raises(ValueError, match="twice"):
        backend.extend([s, s], 3)
    assert s.ids == before  # nothing was appended


def test_negative_fork_and_too_small_max_length_are_refused(backend, prompt_ids):
    a = prompt_ids[0]
    [s] = backend.prefill([a], [0])
    with pytest.raises(ValueError, match="children"):
        backend.fork(s, -1)
    with pytest.raises(ValueError, match="no room"):
        backend.prefill([a], [0], max_lengths=[len(a)])


def test_shared_prompt_is_charged_to_every_utterance(backend, prompt_ids):
    """An identical prompt is computed once, but each utterance's own ledger holds its whole prompt, so its costs do
    not depend on its batch; the batch ledger holds what was computed."""
    a = prompt_ids[0]
    backend.prefill([a, a], [0, 1], request_ids=["u1", "u2"])
    assert backend.ledger.prefilled_tokens == len(a)
    assert backend.request_ledgers["u1"].prefilled_tokens == backend.request_ledgers["u2"].prefilled_tokens == len(a)


def test_unsigned_8bit_audio_is_centred():
    t = np.arange(16000) / 16000
    wav = (128 + 100 * np.sin(2 * np.pi * 220 * t)).astype(np.uint8)
    out = prepare_audio(wav, 16000)
    assert abs(float(out.mean())) < 0.01 and 0.7 < float(np.abs(out).max()) <= 1.0


def test_micro_batches_give_the_same_tokens(lm, prompt_ids):
    """max_batch_rows splits LM batches; every row's tokens and the token counts stay the same."""
    from llasa_search.generation import TransformersBackend

    def run(max_rows):
        be = TransformersBackend(lm.model, lm.vocab, max_length=lm.max_length, max_batch_rows=max_rows)
        roots = be.prefill(list(prompt_ids), [5, 6])
        kids = [k for r in roots for k in be.fork(r, 3)]
        be.extend(kids, 12)
        return [k.ids for k in kids], be.ledger.forwarded_tokens, be.ledger.lm_calls

    whole, parts = run(None), run(2)
    assert whole[0] == parts[0] and whole[1] == parts[1]
    assert parts[2] > whole[2]  # it really ran in more, smaller forwards


def test_compact_frees_the_shared_buffer_and_keeps_the_cache_exact(lm, backend, prompt_ids):
    import torch

    def assert_cache_matches(state):
        idx = torch.tensor(backend._index_to_id)
        with torch.no_grad():
            full = lm.model(torch.tensor([state.ids])).logits[0, -1, idx].float()
        torch.testing.assert_close(state.next_logits.float(), full, atol=1e-4, rtol=1e-4)
        assert all(k.shape[2] == state.length for k, _ in state.kv.layers())

    [root] = backend.prefill([prompt_ids[0]], [0])
    kids = backend.fork(root, 6)
    backend.extend(kids, 5)
    shared_bytes = kids[0].kv.buf.untyped_storage().nbytes()
    keep = [k for k in kids if not k.finished][:1]
    backend.release([k for k in kids if k not in keep] + [root])
    backend.compact(keep)
    buf = keep[0].kv.buf  # the kept state's buffer holds exactly its data, not the 6-row packed buffer
    assert buf.untyped_storage().nbytes() == 2 * sum(k.numel() for k, _ in keep[0].kv.layers()) * buf.element_size()
    assert buf.untyped_storage().nbytes() < shared_bytes
    assert_cache_matches(keep[0])
    backend.extend(keep, 3)
    assert_cache_matches(keep[0])
