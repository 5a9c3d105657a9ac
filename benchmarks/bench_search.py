"""Search strategies on the tiny offline models: what each strategy costs, and what the search machinery adds.

    python benchmarks/bench_search.py [--budgets 2,4,8] [--utterances 4] [--max-new-tokens 100]
                                      [--step-tokens 25] [--codebook-size 65536] [--threads 1] [--json out.json]

Tables:
1. wall time and ledger per strategy across budgets (N = candidates per utterance; beam/staged use
   beam_width * expansions = N, dvts N/2 subtrees of width 1 with 2 expansions), plus forwarded/generated
   and forwarded/(prefilled + generated) (1.0 at most: no token through the LM twice);
2. overhead of the search loop against a raw decode loop at the same batch size: the same rows x tokens
   decoded (a) by a plain transformers loop (model + the same restricted head, no search), (b) by one
   backend.extend call, (c) by best_of_n and beam through run_search (END blocked, so every row makes
   exactly the same number of tokens);
3. batch-of-utterances speedup: U utterances in one run_search call against one call per utterance, and
   whether the tokens and choices came out the same (they can differ: batched float32 matmuls differ from
   single-row ones in the last bits, and inverse-CDF sampling over 65,537 entries flips a token when the
   uniform lands within ~1e-8 of a bucket edge, about once per 1,000 tokens with the real codebook).

The process/outcome reward is a cheap synthetic verifier (per-frame log energy of the decoded audio), so the
figures show the search machinery (LM, KV packing, codec decodes), not a verifier model's speed;
`--verifier sim_resemblyzer` uses the real speaker-similarity verifier with an espeak-ng voice prompt.
Times are wall seconds on this machine; compare ratios, not absolute numbers.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from llasa_search.engine import LlasaEngine, SynthesisRequest  # noqa: E402
from llasa_search.generation import SamplingConfig  # noqa: E402
from llasa_search.search import run_search_with_ledger  # noqa: E402
from verifiers.base import Verifier, VerifierResult  # noqa: E402

TEXTS = [
    "Hello world!", "The quick brown fox jumps over the lazy dog.", "How are you today?",
    "She sells sea shells by the sea shore.", "Numbers one two three four.", "Beam search with verifiers.",
    "I am fine, thank you.", "Speech synthesis with search at inference time.",
]


class FrameEnergy(Verifier):
    """Synthetic partial-capable reward: mean log energy of 320-sample frames (one per speech token)."""

    name = "frame_energy"
    supports_partial = True

    def score(self, waveforms, sample_rate, contexts):
        out = []
        for w in waveforms:
            n = len(w) // 320
            if n == 0:
                out.append(self.failure(("empty",)))
                continue
            f = np.asarray(w[: n * 320], np.float64).reshape(n, 320)
            out.append(VerifierResult(float(np.log(np.sqrt((f ** 2).mean(1)) + 1e-6).mean())))
        return out

    def identity(self):
        return {"name": self.name}


def strategy_configs(n: int, verifier: str, max_new: int, step: int) -> dict:
    width = 2 if n >= 4 else 1
    return {
        "best_of_n": {"n": n, "verifiers": [verifier], "max_new_tokens": max_new},
        "beam": {"prm_verifier": verifier, "beam_width": width, "expansions": n // width, "step_tokens": step,
                 "max_new_tokens": max_new},
        "dvts": {"prm_verifier": verifier, "subtrees": max(1, n // 2), "beam_width": 1, "expansions": 2,
                 "step_tokens": step, "max_new_tokens": max_new},
        "staged": {"prm_verifier": verifier, "beam_width": width, "expansions": n // width, "step_tokens": step,
                   "prm_seconds": max_new / 50 / 2, "n_final": n, "max_new_tokens": max_new},
    }


def make_requests(n: int, prompt: dict | None, prefix: str = "u") -> list:
    extra = {}
    if prompt is not None:
        extra = {"prompt_text": prompt["text"], "prompt_audio": prompt["audio"], "prompt_sample_rate": 16000}
    return [SynthesisRequest(text=TEXTS[i % len(TEXTS)], request_id=f"{prefix}{i}", **extra) for i in range(n)]


def timed_search(engine, reqs, strategy, cfg, verifiers, sampling=None, seed=0):
    t0 = time.perf_counter()
    results, ledger = run_search_with_ledger(engine, engine.prepare(reqs), strategy, cfg, verifiers, seed=seed,
                                             sampling=sampling)
    return time.perf_counter() - t0, results, ledger


def table(rows: list[dict], cols: list[str]) -> str:
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in cols}
    lines = ["  ".join(c.rjust(widths[c]) for c in cols)]
    lines += ["  ".join(_fmt(r.get(c)).rjust(widths[c]) for c in cols) for r in rows]
    return "\n".join(lines)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 100 else f"{v:.0f}"
    return "-" if v is None else str(v)


# -- 1. strategies x budgets ---------------------------------------------------------------------------
def bench_strategies(engine, args, verifiers, prompt) -> list[dict]:
    reqs = make_requests(args.utterances, prompt)
    rows = []
    wall, _, led = timed_search(engine, reqs, "sampling", {"max_new_tokens": args.max_new_tokens}, verifiers)
    rows.append(_ledger_row("sampling", 1, wall, led))
    for n in args.budgets:
        for name, cfg in strategy_configs(n, args.verifier, args.max_new_tokens, args.step_tokens).items():
            wall, _, led = timed_search(engine, reqs, name, cfg, verifiers)
            rows.append(_ledger_row(name, n, wall, led))
    return rows


def _ledger_row(name, n, wall, led) -> dict:
    w = led["time_s"]
    return {
        "strategy": name, "N": n, "wall_s": wall, "lm_s": w.get("lm", 0.0), "codec_s": w.get("codec", 0.0),
        "verifier_s": sum(v for k, v in w.items() if k.startswith("verifier:")),
        "prefilled": led["prefilled_tokens"], "generated": led["generated_tokens"],
        "forwarded": led["forwarded_tokens"], "lm_calls": led["lm_calls"], "cands": led["candidates"],
        "codec_calls": led["codec_calls"], "codec_audio_s": led["codec_audio_s"],
        "verifier_calls": sum(led["verifier_calls"].values()),
        "fwd/gen": led["forwarded_tokens"] / max(1, led["generated_tokens"]),
        "fwd/(pre+gen)": led["forwarded_tokens"] / max(1, led["prefilled_tokens"] + led["generated_tokens"]),
        "gen_tok/s": led["generated_tokens"] / wall,
    }


# -- 2. search loop vs raw decode loop --------------------------------------------------------------------
@torch.inference_mode()
def raw_transformers_loop(engine, prompt_ids, rows: int, tokens: int) -> float:
    """The plainest batched decode: prefill the prompt once per row, then one token per step for all rows,
    sampled from the same restricted head (codes + END, END masked) as the backend. No search, no bookkeeping."""
    from transformers import DynamicCache

    model = engine.lm.model
    vocab = engine.lm.vocab
    first, k = vocab.first_speech_id, vocab.codebook_size
    head = model.get_output_embeddings().weight[first:first + k]
    gen = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    ids = torch.tensor([prompt_ids] * rows)
    cache = DynamicCache()
    out = model.model(input_ids=ids, cache=cache, use_cache=True)
    for _ in range(tokens):
        logits = torch.nn.functional.linear(out.last_hidden_state[:, -1], head).float() / 0.8
        nxt = torch.multinomial(logits.softmax(-1), 1, generator=gen) + first
        out = model.model(input_ids=nxt, cache=cache, use_cache=True)
    return time.perf_counter() - t0


def backend_extend_loop(engine, prompt_ids, rows: int, tokens: int, sampling) -> tuple[float, dict]:
    backend = engine.new_backend(sampling=sampling)
    t0 = time.perf_counter()
    root = backend.prefill([prompt_ids], [0], max_lengths=[len(prompt_ids) + tokens])[0]
    kids = backend.fork(root, rows)
    backend.extend(kids, tokens)
    return time.perf_counter() - t0, backend.ledger.to_dict()


def bench_overhead(engine, args, verifiers, prompt) -> list[dict]:
    tokens = args.max_new_tokens
    sampling = SamplingConfig(min_new_tokens=tokens)  # every row makes exactly `tokens` tokens
    req = make_requests(1, prompt, prefix="ovh")
    prompt_ids = engine.prepare(req)[0].prompt_ids
    out = []
    for rows in args.overhead_rows:
        raw = min(raw_transformers_loop(engine, prompt_ids, rows, tokens) for _ in range(args.repeats))
        ext = min(backend_extend_loop(engine, prompt_ids, rows, tokens, sampling)[0] for _ in range(args.repeats))
        width = 2 if rows >= 4 else 1
        runs = {
            "best_of_n": ("best_of_n", {"n": rows, "verifiers": [args.verifier], "max_new_tokens": tokens}),
            "beam": ("beam", {"prm_verifier": args.verifier, "beam_width": width, "expansions": rows // width,
                              "step_tokens": args.step_tokens, "max_new_tokens": tokens}),
        }
        row = {"rows": rows, "tokens": tokens, "raw_loop_s": raw, "backend_extend_s": ext,
               "extend/raw": ext / raw}
        for label, (name, cfg) in runs.items():
            best = None
            for _ in range(args.repeats):
                wall, _, led = timed_search(engine, req, name, cfg, verifiers, sampling=sampling)
                if best is None or wall < best[0]:
                    best = (wall, led)
            wall, led = best
            row[f"{label}_s"] = wall
            row[f"{label}_lm_s"] = led["time_s"].get("lm", 0.0)
            row[f"{label}/raw"] = wall / raw
            row[f"{label}_lm/raw"] = led["time_s"].get("lm", 0.0) / raw
            row[f"{label}/extend"] = wall / ext  # the search loop's overhead over the backend's own decode loop
        out.append(row)
    return out


# -- 3. batch of utterances vs one at a time ------------------------------------------------------------
def bench_batching(engine, args, verifiers, prompt) -> list[dict]:
    reqs = make_requests(args.batch_utterances, prompt, prefix="b")
    n = args.batch_n
    out = []
    for name, cfg in [("sampling", {"max_new_tokens": args.max_new_tokens})] + \
            list({k: v for k, v in strategy_configs(n, args.verifier, args.max_new_tokens, args.step_tokens).items()
                  if k in ("best_of_n", "beam")}.items()):
        together, res_b, led_b = timed_search(engine, reqs, name, cfg, verifiers)
        alone, codes_same, gen = 0.0, True, 0
        for r, rb in zip(reqs, res_b):
            wall, res, led = timed_search(engine, [r], name, cfg, verifiers)
            alone += wall
            gen += led["generated_tokens"]
            codes_same &= res[0].codes == rb.codes
        out.append({"strategy": name, "N": 1 if name == "sampling" else n, "utterances": len(reqs),
                    "batched_s": together, "one_at_a_time_s": alone, "speedup": alone / together,
                    "same_tokens": gen == led_b["generated_tokens"], "same_choices": codes_same})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="LLM folder (default: build tiny models in a temp folder)")
    p.add_argument("--codec", default=None)
    p.add_argument("--codebook-size", type=int, default=65536, help="for the built tiny models (a power of 4)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1,
                   help="torch intra-op threads (1: stable on a small shared CPU; 0 keeps torch's default)")
    p.add_argument("--budgets", default="2,4,8")
    p.add_argument("--utterances", type=int, default=4, help="utterances per run_search call in table 1")
    p.add_argument("--max-new-tokens", type=int, default=100)
    p.add_argument("--step-tokens", type=int, default=25)
    p.add_argument("--overhead-rows", default="4,16", help="batch sizes (rows) for table 2")
    p.add_argument("--batch-utterances", type=int, default=8)
    p.add_argument("--batch-n", type=int, default=4)
    p.add_argument("--repeats", type=int, default=2, help="table 2 takes the best of this many runs")
    p.add_argument("--verifier", default="frame_energy", help="frame_energy (synthetic) or sim_resemblyzer")
    p.add_argument("--only", default="1,2,3", help="which tables")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    args.budgets = [int(x) for x in args.budgets.split(",")]
    args.overhead_rows = [int(x) for x in args.overhead_rows.split(",")]
    if args.threads:
        torch.set_num_threads(args.threads)

    if args.model is None:
        from llasa_search.tiny import make_tiny

        tmp = tempfile.mkdtemp(prefix="bench_search_")
        paths = make_tiny(tmp, codebook_size=args.codebook_size, eos_boost=3.0 if args.codebook_size > 4096 else 2.5)
        args.model, args.codec = paths["llm"], paths["codec"]
    engine = LlasaEngine.load(args.model, args.codec, device=args.device)

    prompt = None
    if args.verifier == "frame_energy":
        verifiers = {"frame_energy": FrameEnergy()}
    else:
        from verifiers import create_verifier
        from verifiers.synth import synthesize_espeak

        text = "She sells sea shells."
        prompt = {"text": text, "audio": synthesize_espeak(text, "en-us+f3")[0][: 16000 * 2]}
        verifiers = {args.verifier: create_verifier(args.verifier)}

    print(f"# bench_search: device={engine.lm.device} threads={torch.get_num_threads()} "
          f"codebook={engine.lm.vocab.codebook_size} verifier={args.verifier} max_new_tokens={args.max_new_tokens} "
          f"step_tokens={args.step_tokens}")
    timed_search(engine, make_requests(1, prompt, "warm"), "best_of_n",
                 {"n": 2, "verifiers": [args.verifier], "max_new_tokens": 10}, verifiers)  # warm-up
    report = {"settings": {k: v for k, v in vars(args).items()}, "torch_threads": torch.get_num_threads()}
    if "1" in args.only:
        rows = bench_strategies(engine, args, verifiers, prompt)
        report["strategies"] = rows
        print(f"\n## 1. strategies x budgets ({args.utterances} utterances per call)")
        print(table(rows, ["strategy", "N", "wall_s", "lm_s", "codec_s", "verifier_s", "prefilled", "generated",
                           "forwarded", "lm_calls", "cands", "codec_calls", "verifier_calls", "fwd/gen",
                           "fwd/(pre+gen)", "gen_tok/s"]))
    if "2" in args.only:
        rows = bench_overhead(engine, args, verifiers, prompt)
        report["overhead"] = rows
        print(f"\n## 2. search loop vs raw decode loop (1 utterance, rows x {args.max_new_tokens} tokens, "
              f"best of {args.repeats})")
        print(table(rows, ["rows", "tokens", "raw_loop_s", "backend_extend_s", "extend/raw", "best_of_n_s",
                           "best_of_n/raw", "best_of_n/extend", "beam_s", "beam/raw", "beam/extend", "beam_lm/raw"]))
    if "3" in args.only:
        rows = bench_batching(engine, args, verifiers, prompt)
        report["batching"] = rows
        print(f"\n## 3. {args.batch_utterances} utterances in one run_search call vs one at a time")
        print(table(rows, ["strategy", "N", "utterances", "batched_s", "one_at_a_time_s", "speedup", "same_tokens",
                           "same_choices"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
