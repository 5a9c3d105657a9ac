"""Acceptance: a beam-style loop forwards each token through the LM once, counted at the model's forward
independently of the ledger."""
from __future__ import annotations

from contextlib import contextmanager

from llasa_search.generation import TransformersBackend, SamplingConfig


@contextmanager
def count_forwarded(lm):
    """Count input_ids.numel() at every call of the decoder (LlamaModel), whoever calls it."""
    counts = {"tokens": 0, "calls": 0}

    def hook(module, args, kwargs):
        ids = kwargs.get("input_ids")
        if ids is None and args:
            ids = args[0]
        if ids is None:  # inputs_embeds path: count positions
            ids = kwargs["inputs_embeds"][..., 0]
        counts["tokens"] += ids.numel()
        counts["calls"] += 1

    handle = lm.model.model.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield counts
    finally:
        handle.remove()


def beam_loop(backend, prompts, steps=8, width=2, children=4, step_tokens=5):
    """Prefill, then repeat: fork each kept state into `children`, extend a step, keep the best `width` per
    prompt by a function of the tokens, release the rest."""
    roots = backend.prefill(prompts, seeds=list(range(len(prompts))), request_ids=list(range(len(prompts))))
    kept = {i: [s] for i, s in enumerate(roots)}
    finished = []
    for _ in range(steps):
        batch = [c for states in kept.values() for s in states for c in backend.fork(s, children)]
        if not batch:
            break
        backend.extend(batch, step_tokens)
        backend.release([s for states in kept.values() for s in states])  # parents are no longer needed
        new_kept = {}
        for rid in kept:
            mine = [c for c in batch if c.request_id == rid]
            finished += [c for c in mine if c.finished]
            alive = sorted((c for c in mine if not c.finished), key=lambda c: -(sum(c.generated_ids) % 9973))
            new_kept[rid] = alive[:width]
            backend.release(alive[width:])
        kept = {rid: v for rid, v in new_kept.items() if v}
    return kept, finished


def test_beam_loop_forwards_each_token_once(lm, prompt_ids):
    backend = TransformersBackend(lm.model, lm.vocab, SamplingConfig(), max_length=lm.max_length)
    with count_forwarded(lm) as counted:
        kept, finished = beam_loop(backend, list(prompt_ids))
    led = backend.ledger
    # What reached the model = each token once (forwarded) + positions of rows masked after finishing mid-step.
    assert counted["tokens"] == led.forwarded_tokens + led.masked_tokens
    assert counted["calls"] == led.lm_calls
    assert led.prefilled_tokens == sum(len(p) for p in prompt_ids)
    # 2 prompts; step 1 forks 1 root each, later steps 2 kept states each; 4 children; 5 tokens per step.
    assert led.generated_tokens <= 2 * 4 * 5 * (1 + 2 * 7)
    assert led.generated_tokens > 2 * 4 * 5 * 8  # the loop ran for real
    ratio = led.forwarded_tokens / (led.prefilled_tokens + led.generated_tokens)
    assert ratio <= 1.02, ratio
    # Exact bookkeeping: every sampled token is forwarded once, except the last token of a finished state
    # (END, or the token that reached max_length), which is never forwarded.
    n_finished = len(finished)
    assert led.forwarded_tokens == led.prefilled_tokens + led.generated_tokens - n_finished
    # Per-request ledgers add up to the batch ledger.
    per = backend.request_ledgers
    assert sum(l.forwarded_tokens for l in per.values()) == led.forwarded_tokens
    assert sum(l.masked_tokens for l in per.values()) == led.masked_tokens
    assert sum(l.generated_tokens for l in per.values()) == led.generated_tokens
    assert sum(l.prefilled_tokens for l in per.values()) == led.prefilled_tokens
    assert all(s.kv is not None for states in kept.values() for s in states)


def test_naive_recompute_would_be_caught(lm, prompt_ids):
    """The counter sees re-forwarded prefixes: regenerating from the prompt forwards the prompt again."""
    backend = TransformersBackend(lm.model, lm.vocab, SamplingConfig(min_new_tokens=100), max_length=lm.max_length)
    a, _ = prompt_ids
    with count_forwarded(lm) as counted:
        (s,) = backend.prefill([a], seeds=[3])
        backend.extend([s], 10)
        backend.regenerate(a, s.lineage())
    led = backend.ledger
    assert counted["tokens"] == led.forwarded_tokens == 2 * (len(a) + 10)
    assert counted["tokens"] / (led.prefilled_tokens + led.generated_tokens) == 1.0
    assert led.prefilled_tokens == 2 * len(a)
