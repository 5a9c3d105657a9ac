"""The on-device decode loop (issue 10.1): same tokens as a plain reference loop, a constant number of host syncs
per extend whatever its length, honest token counts with masked rows, batched KV packing."""
from __future__ import annotations

import pytest
import torch

from llasa_search.generation import SamplingConfig, TransformersBackend
from llasa_search.generation.sampling import process_logits, sample
from llasa_search.generation.syncs import HostSyncCounter

CONFIGS = [SamplingConfig(),
           SamplingConfig(top_k=0, top_p=0.9, repetition_penalty=1.3, min_new_tokens=6, temperature=1.1)]


def reference_tokens(lm, prompt, lineage, cfg, max_length):
    """The textbook loop: forward the whole sequence (no cache, batch of one), restrict to [codes..., END],
    filter, draw with the position's seed; stop at END or max_length."""
    vocab = lm.vocab
    index_to_id = list(range(vocab.first_speech_id, vocab.first_speech_id + vocab.codebook_size)) + \
        [vocab.speech_generation_end]
    ids = list(prompt)
    seed_at = {p: seg["seed"] for seg in lineage for p in range(seg["start"], seg["end"])}
    while len(ids) - len(prompt) < len(seed_at):
        with torch.no_grad():
            logits = lm.model(torch.tensor([ids])).logits[0, -1, index_to_id].float()[None]
        seen = torch.zeros_like(logits, dtype=torch.bool)
        codes = vocab.ids_to_codes(ids)
        if codes:
            seen[0, codes] = True
        blocked = torch.tensor([len(ids) - len(prompt) < cfg.min_new_tokens])
        picked = sample(process_logits(logits, cfg, seen, blocked), torch.tensor([seed_at[len(ids)]]),
                        torch.tensor([len(ids)]), cfg.sampler)
        ids.append(index_to_id[int(picked)])
        if ids[-1] == vocab.speech_generation_end or len(ids) >= max_length:
            break
    return ids


@pytest.mark.parametrize("cfg", CONFIGS, ids=["official", "penalties"])
def test_same_tokens_as_the_reference_loop(lm, prompt_ids, cfg):
    """Forks of two prompts of different lengths, extended in uneven steps (rows finish mid-step and are masked;
    lineages switch seeds at forks): every candidate equals the reference regeneration of its lineage."""
    max_length = len(prompt_ids[1]) + 40
    backend = TransformersBackend(lm.model, lm.vocab, cfg, max_length=max_length)
    roots = backend.prefill(list(prompt_ids), [11, 12])
    backend.extend(roots, 7)
    kids = [k for r in roots if not r.finished for k in backend.fork(r, 3)]
    everyone = roots + kids
    for n in (9, 30):
        backend.extend(kids, n)
    assert any(k.finished for k in everyone)  # rows finished mid-step (END, or the length cap) and were masked
    for s in everyone:
        prompt = s.ids[:s.prompt_len]
        assert s.ids == reference_tokens(lm, prompt, s.lineage(), cfg, max_length), s.lineage()


def _extend_syncs(lm, prompt_ids, n, cfg):
    backend = TransformersBackend(lm.model, lm.vocab, cfg, max_length=lm.max_length)
    kids = [k for r in backend.prefill(list(prompt_ids), [1, 2]) for k in backend.fork(r, 2)]
    with HostSyncCounter() as counter:
        backend.extend(kids, n)
    return counter.calls


@pytest.mark.parametrize("cfg", CONFIGS, ids=["official", "penalties"])
def test_host_syncs_per_extend_do_not_grow_with_tokens(lm, prompt_ids, cfg):
    short, long = _extend_syncs(lm, prompt_ids, 10, cfg), _extend_syncs(lm, prompt_ids, 50, cfg)
    assert len(short) == len(long) <= 2, (short, long)


def test_masked_positions_are_counted_apart(lm, prompt_ids):
    """Generated tokens are exact per request; what reaches the model = forwarded (each token once) + masked."""
    from .test_token_count import count_forwarded

    backend = TransformersBackend(lm.model, lm.vocab, max_length=lm.max_length)
    states = backend.prefill(list(prompt_ids), [3, 4], request_ids=["a", "b"])
    kids = [k for s in states for k in backend.fork(s, 4)]
    with count_forwarded(lm) as counted:
        backend.extend(kids, 40)
    led = backend.ledger
    finished = [k for k in kids if k.finished]
    assert finished, "some rows finish inside the 40-token step on the tiny model"
    assert led.generated_tokens == sum(k.num_generated for k in kids)
    for rid in ("a", "b"):
        mine = [k for k in kids if k.request_id == rid]
        assert backend.request_ledgers[rid].generated_tokens == sum(k.num_generated for k in mine)
    decode_forwarded = led.forwarded_tokens - led.prefilled_tokens
    assert decode_forwarded == led.generated_tokens - len(finished)
    assert counted["tokens"] == decode_forwarded + led.masked_tokens == len(kids) * 40
    assert led.masked_tokens == sum(40 - (k.num_generated - 1) for k in finished)


def test_pack_gathers_per_source_buffer_not_per_row(lm, prompt_ids):
    """Packing 12 forks of 2 parents costs a constant number of copy kernels, not rows x layers."""
    from llasa_search.generation.kv import pack

    backend = TransformersBackend(lm.model, lm.vocab, max_length=lm.max_length)
    kids = [k for r in backend.prefill(list(prompt_ids), [1, 2]) for k in backend.fork(r, 6)]
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        buf, lmax = pack(lm.model, [k.kv for k in kids], 4, backend.dtype, backend.device)
    copies = sum(e.count for e in prof.key_averages() if e.key in ("aten::copy_", "aten::index_put_"))
    assert copies <= 4, copies
    for row, k in enumerate(kids):  # and the data landed where the attention mask expects it
        (k0, v0) = k.kv.layers()[-1]
        torch.testing.assert_close(buf[-1, 0, row, :, lmax - k.length:lmax], k0[0])
        torch.testing.assert_close(buf[-1, 1, row, :, lmax - k.length:lmax], v0[0])
