"""One ledger: the backend's, shared by the search context; one schema; FLOPs per component counted as
llasa_search/compute.py documents (checked against torch's own FLOP counter); the `flops` budget unit."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from search_helpers import FrameEnergyReward, text_requests

from llasa_search.compute import CodecCost, LMCost
from llasa_search.engine import SynthesisRequest
from llasa_search.generation import CostLedger
from llasa_search.search import SearchContext, run_search_with_ledger


class CostlyReward(FrameEnergyReward):
    """FrameEnergyReward that reports its own compute, as verifiers do through `flops_per_second()`."""
    name = "costly"

    def flops_per_second(self):
        return 1e9


class WindowedReward(FrameEnergyReward):
    """Costs the same per clip whatever its length, as Whisper encoding its fixed 30 s window."""
    name = "windowed"

    def flops_per_clip(self, seconds):
        return 1e9


def test_a_verifier_that_costs_per_clip_is_charged_per_clip(engine):
    results, batch = run_search_with_ledger(engine, text_requests(2), "best_of_n",
                                            {"n": 3, "verifiers": ["windowed"], "max_new_tokens": 20},
                                            verifiers={"windowed": WindowedReward()}, seed=2)
    for led in (results[0].ledger, batch):   # not per second of audio
        assert led["flops"]["verifier:windowed"] == pytest.approx(1e9 * led["verifier_calls"]["windowed"])
        assert led["verifier_calls"]["windowed"] > 0


def test_context_counts_into_the_backends_ledgers(engine):
    backend = engine.new_backend()
    ctx = SearchContext(engine, backend=backend)
    assert ctx.ledger is backend.ledger and ctx.request_ledgers is backend.request_ledgers
    with pytest.raises(ValueError, match="not both"):
        SearchContext(engine, ledger=CostLedger(), backend=engine.new_backend())


def test_one_schema_for_utterances_batches_and_records(engine):
    results, batch = run_search_with_ledger(engine, text_requests(2), "best_of_n",
                                            {"n": 2, "verifiers": ["costly"], "max_new_tokens": 20},
                                            verifiers={"costly": CostlyReward()}, seed=1)
    keys = set(CostLedger().to_dict())
    assert set(batch) == keys and all(set(r.ledger) == keys for r in results)
    assert CostLedger.from_dict(batch).to_dict() == batch          # the record schema reads back
    for k in ("generated_tokens", "forwarded_tokens", "candidates", "codec_calls"):
        assert sum(r.ledger[k] for r in results) >= batch[k] > 0, k
    assert batch["candidates"] == 4
    # components add up to the total; time_s.total is the measured search wall time, shared out by tokens
    assert batch["flops"]["total"] == pytest.approx(sum(v for k, v in batch["flops"].items() if k != "total"))
    assert sum(r.ledger["time_s"]["total"] for r in results) == pytest.approx(batch["time_s"]["total"], abs=1e-3)
    assert batch["time_s"]["total"] >= batch["time_s"]["lm"]


def test_flops_per_component(engine):
    [res], batch = run_search_with_ledger(engine, text_requests(1), "best_of_n",
                                          {"n": 3, "verifiers": ["costly"], "max_new_tokens": 20},
                                          verifiers={"costly": CostlyReward()}, seed=2)
    led = res.ledger
    assert led["flops"]["verifier:costly"] == pytest.approx(1e9 * led["verifier_audio_s"]["costly"])
    codec = engine.codec
    cost = CodecCost.from_model(codec.model, codec.sample_rate, codec.hop_length)
    decoded = [len(c.generated_ids) - (c.finish_reason == "end") for c in res.candidates if c.role == "final"]
    assert led["flops"]["codec"] == pytest.approx(sum(cost.decode_flops(n / 50) for n in decoded))
    # One utterance: the batch pays its own tokens plus the positions of rows masked after finishing mid-step.
    assert led["flops"]["lm"] > 0
    assert (batch["flops"]["lm"] == led["flops"]["lm"]) == (batch["masked_tokens"] == 0)


def test_codec_seconds_count_the_decoded_context(engine, espeak_prompt):
    req = SynthesisRequest(text="Hello there.", prompt_text=espeak_prompt["text"], prompt_audio=espeak_prompt["audio"],
                           request_id="clone")
    [res], _ = run_search_with_ledger(engine, [req], "sampling", {"max_new_tokens": 15}, seed=0)
    prepared = engine.prepare([req])[0]
    generated_s = len(res.codes) / 50
    assert res.ledger["codec_audio_s"] == pytest.approx((len(prepared.prompt_codes) + len(res.codes)) / 50, abs=1e-3)
    assert res.ledger["codec_audio_s"] > generated_s + 1.0          # the 1.6 s prompt was decoded in front


def test_lm_flops_match_torchs_flop_counter(engine):
    """Weights and LM head exactly as torch counts them; the attention term (which torch's counter does not see
    in CPU sdpa kernels) from the positions each forwarded token attends to."""
    from torch.utils.flop_counter import FlopCounterMode

    cfg = engine.lm.model.config
    layers = engine.lm.model.model.layers
    cost = LMCost.from_config(cfg, head_rows=engine.lm.vocab.codebook_size + 1)
    assert cost.body_params == sum(p.numel() for p in layers.parameters() if p.dim() == 2)
    backend = engine.new_backend()
    prompts = [r.prompt_ids for r in engine.prepare(text_requests(2))]
    with FlopCounterMode(display=False) as counter:
        roots = backend.prefill(prompts, [0, 1], request_ids=["a", "b"])
        kids = backend.fork(roots[0], 3) + backend.fork(roots[1], 2)
        backend.extend(kids, 6)
    keys = sum(len(p) * (len(p) + 1) // 2 for p in prompts)
    # A token forwarded at position p attends to p + 1 keys. A row that finishes inside the extend is masked, not
    # dropped, so every row is forwarded at all 6 positions; the batch pays that, each utterance only its own tokens.
    for k in kids:
        keys += sum(p + 1 for p in range(k.prompt_len, k.prompt_len + 6))
    attention = 4 * cfg.num_hidden_layers * cost.attn_width * keys
    assert backend.ledger.flops == pytest.approx(counter.get_total_flops() + attention, rel=1e-9)
    own = sum(led.flops for led in backend.request_ledgers.values())
    if backend.ledger.masked_tokens:
        assert own < backend.ledger.flops
    else:
        assert own == pytest.approx(backend.ledger.flops)


@pytest.mark.parametrize("strategy, options", [
    ("best_of_n", {"n": 2, "verifiers": ["costly"]}),
    ("beam", {"prm_verifier": "costly", "beam_width": 1, "expansions": 2, "step_tokens": 10}),
])
def test_flops_budget(engine, strategy, options):
    """A FLOPs budget stops the search as a token budget does, counting the verifier's and codec's FLOPs too."""
    opts = {**options, "max_new_tokens": 40}
    [free], _ = run_search_with_ledger(engine, text_requests(1), strategy, opts, verifiers={"costly": CostlyReward()})
    scale = 2.5 if strategy == "best_of_n" else 0.4
    budget = int(free.ledger["flops"]["total"] * scale)
    [capped], _ = run_search_with_ledger(engine, text_requests(1), strategy,
                                         {**opts, "budget_tokens": budget, "budget_unit": "flops"},
                                         verifiers={"costly": CostlyReward()})
    if strategy == "best_of_n":   # waves of n until the budget is spent: more than the one wave of the free run
        finals = [c for c in capped.candidates if c.role == "final"]
        assert len(finals) > 2 and len(finals) % 2 == 0
        assert 0.9 * budget <= capped.ledger["flops"]["total"] <= 1.3 * budget
    else:                         # branching stops once the budget is spent
        assert capped.ledger["flops"]["total"] < free.ledger["flops"]["total"]


def test_lm_cost_of_the_official_model_shape():
    """Llasa-1B's shape (Llama-3.2-1B): 2 * params per token dominates at short contexts."""
    from transformers import LlamaConfig

    cfg = LlamaConfig(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                      num_key_value_heads=8, head_dim=64, vocab_size=193800)
    cost = LMCost.from_config(cfg, head_rows=65537)
    assert cost.body_params == 16 * (2048 * 2048 * 2 + 2 * 2048 * 512 + 3 * 2048 * 8192)
    per_token = cost.forward_flops(500, 1)
    assert 2 * cost.body_params < per_token < 1.1 * 2 * (cost.body_params + 2048 * 65537)
    np.testing.assert_allclose(cost.forward_flops(0, 4), 2 * cost.body_params * 4 + 4 * 16 * 2048 * 10
                               + 2 * 2048 * 65537)
    torch.manual_seed(0)


def test_flops_budget_sizes_generation_steps_in_tokens(engine):
    """A FLOPs budget is converted to tokens for the step size, so a sample stops within a token or two of the
    budget instead of at the next 1-second chunk."""
    from llasa_search.generation import SamplingConfig

    [req] = engine.prepare(text_requests(1))
    cost = engine.new_backend().lm_cost
    prompt = len(req.prompt_ids)
    target = 30
    budget = int(cost.forward_flops(0, prompt) + sum(cost.forward_flops(prompt + i, 1) for i in range(target)))
    [res], _ = run_search_with_ledger(engine, [req], "sampling", {"max_new_tokens": 120, "budget_tokens": budget,
                                                                  "budget_unit": "flops"},
                                      sampling=SamplingConfig(min_new_tokens=100))
    assert target <= res.ledger["generated_tokens"] <= target + 2


def test_flops_budget_counts_the_decoding_and_scoring_still_owed(engine):
    """best_of_n decodes and scores only after generating: without counting what its tokens still owe, a FLOPs
    budget would be checked against the LM alone and overshot by the codec and verifier share."""
    class Heavy(CostlyReward):
        def flops_per_second(self):
            return 5e10    # scoring dominates, as a large verifier's does on a real-size LM

    opts = {"n": 2, "verifiers": ["costly"], "max_new_tokens": 40}
    [free], _ = run_search_with_ledger(engine, text_requests(1), "best_of_n", opts, verifiers={"costly": Heavy()})
    budget = int(free.ledger["flops"]["total"] * 3)
    [capped], _ = run_search_with_ledger(engine, text_requests(1), "best_of_n",
                                         {**opts, "budget_tokens": budget, "budget_unit": "flops"},
                                         verifiers={"costly": Heavy()})
    assert capped.ledger["flops"]["total"] <= 1.3 * budget
