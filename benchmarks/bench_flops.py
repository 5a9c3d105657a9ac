"""FLOPs per strategy at matched budgets, priced at the real models' sizes.

    python benchmarks/bench_flops.py [--budgets 400,800] [--utterances 4] [--max-new-tokens 150] [--step-tokens 25]
                                     [--verifier-flops 3.22e10] [--json out.json]

The searches run on the tiny offline models (so the token, decode and scoring trajectories are real), with the
ledger's cost models swapped for full-size ones (llasa_search/compute.py): the LM priced as Llasa-1B (the
Llama-3.2-1B shape, 65,537 head rows), the codec as the default X-codec2 (parameters counted on the meta device, no
weights), and the process/outcome verifier as WavLM-large + ECAPA (3.22e10 FLOPs per second of audio; the scoring
itself is a cheap synthetic reward). Tiny-model utterances are shorter than real speech, so absolute numbers are
indicative; the ratios between components and strategies are what this measures.

Tables, per utterance (mean over utterances):
1. budget_unit generated_tokens at each budget: tokens, LM / codec / verifier GFLOPs, (codec + verifier) / LM;
2. budget_unit flops, at the FLOPs best_of_n spent in table 1: tokens each strategy gets for the same compute.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.bench_search import FrameEnergy, make_requests, table  # noqa: E402
from llasa_search.compute import CodecCost, LMCost  # noqa: E402
from llasa_search.engine import LlasaEngine  # noqa: E402
from llasa_search.search import SearchContext, make_strategy  # noqa: E402


def llasa_1b_cost() -> LMCost:
    from transformers import LlamaConfig

    cfg = LlamaConfig(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                      num_key_value_heads=8, head_dim=64, vocab_size=193800)
    return LMCost.from_config(cfg, head_rows=65537)


def xcodec2_cost() -> CodecCost:
    from transformers import Xcodec2Config, Xcodec2Model

    with torch.device("meta"):
        model = Xcodec2Model(Xcodec2Config())
    return CodecCost.from_model(model, 16000, 320)


class PricedReward(FrameEnergy):
    def __init__(self, flops_per_second: float):
        self._fps = flops_per_second

    def flops_per_second(self):
        return self._fps


def strategies(args) -> dict:
    v, step, mx = "frame_energy", args.step_tokens, args.max_new_tokens
    return {
        "best_of_n": {"n": 4, "verifiers": [v], "max_new_tokens": mx},
        "beam": {"prm_verifier": v, "beam_width": 2, "expansions": 2, "step_tokens": step, "max_new_tokens": mx},
        "dvts": {"prm_verifier": v, "subtrees": 2, "beam_width": 1, "expansions": 2, "step_tokens": step,
                 "max_new_tokens": mx},
        "staged": {"prm_verifier": v, "beam_width": 2, "expansions": 2, "step_tokens": step, "n_final": 2,
                   "prm_seconds": 1.0, "max_new_tokens": mx},
    }


def run(engine, reqs, name, options, reward, lm_cost, codec_cost, seed=0) -> dict:
    ctx = SearchContext(engine, {"frame_energy": reward})
    ctx.backend.lm_cost = lm_cost          # price the trajectory at the full-size models
    ctx._codec_cost = codec_cost
    strat = make_strategy(name, options)
    strat.search(ctx, engine.prepare(reqs), seed)
    per = list(ctx.request_ledgers.values())
    f = [led.component_flops for led in per]
    lm = np.mean([x.get("lm", 0.0) for x in f])
    codec = np.mean([x.get("codec", 0.0) for x in f])
    ver = np.mean([sum(v for k, v in x.items() if k.startswith("verifier:")) for x in f])
    return {"strategy": name, "gen_tokens": float(np.mean([led.generated_tokens for led in per])),
            "codec_s": float(np.mean([led.codec_audio_seconds for led in per])),
            "scored_s": float(np.mean([sum(led.verifier_audio_seconds.values()) for led in per])),
            "lm_GF": lm / 1e9, "codec_GF": codec / 1e9, "verifier_GF": ver / 1e9, "total_GF": (lm + codec + ver) / 1e9,
            "(codec+ver)/lm": (codec + ver) / lm if lm else float("nan")}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budgets", default="400,800", help="generated-token budgets per utterance")
    p.add_argument("--utterances", type=int, default=4)
    p.add_argument("--max-new-tokens", type=int, default=150)
    p.add_argument("--step-tokens", type=int, default=25)
    p.add_argument("--verifier-flops", type=float, default=2 * 3.22e8 * 50, help="FLOPs per second of audio scored")
    p.add_argument("--codebook-size", type=int, default=4096)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    from llasa_search.tiny import make_tiny

    paths = make_tiny(tempfile.mkdtemp(prefix="bench_flops_"), codebook_size=args.codebook_size, eos_boost=1.5)
    engine = LlasaEngine.load(paths["llm"], paths["codec"], device="cpu")
    lm_cost, codec_cost = llasa_1b_cost(), xcodec2_cost()
    print(f"LM priced as Llasa-1B: {2 * lm_cost.body_params / 1e9:.2f} GFLOPs/token + attention + head; codec "
          f"X-codec2 decode: {codec_cost.decode_flops(1.0) / 1e9:.1f} GFLOPs per second decoded; verifier "
          f"{args.verifier_flops / 1e9:.1f} GFLOPs per second scored")
    reqs = make_requests(args.utterances, None)
    reward = PricedReward(args.verifier_flops)
    out = {"tokens": [], "flops": []}
    for b in [int(x) for x in args.budgets.split(",")]:
        rows = [{"budget": b, **run(engine, reqs, name, {**o, "budget_tokens": b}, reward, lm_cost, codec_cost)}
                for name, o in strategies(args).items()]
        print(f"\n1. budget {b} generated tokens per utterance (means per utterance)")
        print(table(rows, ["strategy", "gen_tokens", "codec_s", "scored_s", "lm_GF", "codec_GF", "verifier_GF",
                           "total_GF", "(codec+ver)/lm"]))
        out["tokens"] += rows
        matched = next(r["total_GF"] for r in rows if r["strategy"] == "best_of_n") * 1e9
        rows = [{"budget": matched, **run(engine, reqs, name, {**o, "budget_tokens": int(matched),
                                                                "budget_unit": "flops"}, reward, lm_cost, codec_cost)}
                for name, o in strategies(args).items()]
        print(f"\n2. budget {matched / 1e9:.0f} GFLOPs per utterance (what best_of_n spent at {b} tokens)")
        print(table(rows, ["strategy", "gen_tokens", "lm_GF", "codec_GF", "verifier_GF", "total_GF",
                           "(codec+ver)/lm"]))
        out["flops"] += rows
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
